#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "secmem.h"
#include "totp.h"

#define KEY_LEN (8 + SSHCERT_MAX_USERNAME + 64)

/* Waits for a hash worker; 0 when one was taken. */
static int
hash_slot_take(struct server *srv)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += SSHCERT_HASH_QUEUE_MS / 1000;
    ts.tv_nsec += (SSHCERT_HASH_QUEUE_MS % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (sem_timedwait(&srv->hash_slots, &ts) != 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* Seconds the address or the name is locked for. Reads the user in the same statement:
 * *u is the user (or NULL), *user_r as in struct sshcert_throttle, *user_row tells whether
 * the name has a failure row to clear after a success. */
static uint64_t
locked_for(struct server *srv, const char *akey, const char *ukey, const char *username,
    uint64_t now, struct sshcert_user **u, int *user_r, int *user_row)
{
    struct sshcert_throttle t;

    /* A store error counts as locked: fail closed. */
    *user_row = 0;
    *user_r = SSHCERT_ERR_NOT_FOUND;
    if (sshcert_store_login_get(srv->ca->store, akey, ukey, username, &t, u) != 0)
        return 60;
    *user_row = t.user_row;
    *user_r = t.user_r;
    if (t.addr_locked_until > now)
        return t.addr_locked_until - now;
    return t.user_locked_until > now ? t.user_locked_until - now : 0;
}

/* Counts the failure for the name and the address and audits it. Returns 0, or the store's
 * error: a failure that cannot be counted must not be answered like one that was (the caller
 * answers 500), or guesses would go uncounted while the store cannot write. */
static int
record_failure(struct server *srv, const char *ukey, const char *akey, const char *username,
    const char *addr, enum metrics_auth_reason reason, uint64_t now)
{
    uint64_t until = 0;
    int r = 0, r2;

    atomic_fetch_add(&srv->metrics.auth_failures[reason], 1);
    if (ukey != NULL)
        r = sshcert_store_failure_add(srv->ca->store, ukey, now, srv->cfg->lockout,
            srv->cfg->max_failures, &until);
    if ((r2 = sshcert_store_failure_add(srv->ca->store, akey, now, srv->cfg->lockout,
             srv->cfg->client_max_failures, &until)) != 0 && r == 0)
        r = r2;
    if ((r2 = sshcert_store_audit(srv->ca->store, now, "login_failed", "server",
             ukey != NULL ? username : NULL, 0, addr, metrics_reason_name(reason))) != 0 &&
        r == 0)
        r = r2;
    sshcert_log(LOG_WARNING, "login failed for %s from %s: %s",
        ukey != NULL ? username : "(invalid name)", addr, metrics_reason_name(reason));
    if (r != 0)
        sshcert_log(LOG_ERR, "login from %s: cannot record the failure: %s", addr,
            sshcert_err_str(r));
    return r;
}

/* Decrypts the user's TOTP secret, checks the code, and claims its time step. *ok is 1 when
 * accepted, 0 when refused (the reason is returned), -1 when the store failed. */
static enum metrics_auth_reason
check_totp(struct server *srv, const struct sshcert_user *u, const char *code, uint64_t now,
    int *ok)
{
    uint8_t secret[64];
    size_t slen = 0;
    uint64_t step = 0;
    int r;

    *ok = 0;
    r = sshcert_ca_unseal(srv->ca, u->totp_secret, u->totp_secret_len, secret, sizeof(secret),
        &slen);
    if (r == 0)
        r = sshcert_totp_verify(secret, slen, code, now, &step);
    sshcert_secmem_wipe(secret, sizeof(secret));
    if (r != 0)
        return AUTH_FAIL_BAD_TOTP;
    /* Only a step that is not newer is a replay; a failed write is the store's error. */
    if ((r = sshcert_store_totp_advance(srv->ca->store, u->id, step)) != 0) {
        if (r == SSHCERT_ERR_DUPLICATE)
            return AUTH_FAIL_REPLAYED_TOTP;
        *ok = -1;
        return AUTH_FAIL_REASONS;
    }
    *ok = 1;
    return AUTH_FAIL_REASONS;
}

enum auth_result
auth_login(struct server *srv, const char *username, const char *password, const char *totp,
    const char *addr, uint64_t now, struct sshcert_user **user, uint64_t *retry_after)
{
    struct sshcert_user *u = NULL;
    char ukey[KEY_LEN], akey[KEY_LEN];
    const char *uk = NULL;
    uint64_t wait;
    enum metrics_auth_reason reason;
    int valid_name, r, ok, user_row, user_r;

    *user = NULL;
    *retry_after = 0;
    valid_name = sshcert_policy_check_username(username) == 0;
    snprintf(akey, sizeof(akey), "addr:%s", addr);
    if (valid_name) {
        snprintf(ukey, sizeof(ukey), "user:%s", username);
        uk = ukey;
    }
    /* Throttle before any hashing, so a locked name or address costs no hash. The user is
     * read by the same statement (one read transaction, not two), so before the wait for a
     * hash worker rather than after it: still one consistent read within the request. */
    wait = locked_for(srv, akey, uk, uk != NULL ? username : NULL, now, &u, &user_r, &user_row);
    if (wait > 0) {
        sshcert_user_free(u);
        atomic_fetch_add(&srv->metrics.auth_failures[AUTH_FAIL_LOCKED_OUT], 1);
        (void)sshcert_store_audit(srv->ca->store, now, "login_refused", "server",
            uk != NULL ? username : NULL, 0, addr, "locked_out");
        sshcert_log(LOG_WARNING, "login refused for %s from %s: locked out for %llus",
            uk != NULL ? username : "(invalid name)", addr, (unsigned long long)wait);
        *retry_after = wait;
        return AUTH_LOCKED;
    }
    if (hash_slot_take(srv) != 0) {
        sshcert_user_free(u);
        sshcert_log(LOG_WARNING, "login from %s: no password worker free, 503", addr);
        return AUTH_BUSY;
    }
    if (user_r != 0 && user_r != SSHCERT_ERR_NOT_FOUND) {
        sem_post(&srv->hash_slots);
        sshcert_log(LOG_ERR, "login from %s: store error: %s", addr, sshcert_err_str(user_r));
        return AUTH_ERROR;
    }
    if (u == NULL) {
        /* Same work as a real verify, so timing does not tell which names exist. */
        sshcert_password_dummy_verify(srv->cfg->hash_cost, password);
        sem_post(&srv->hash_slots);
        return record_failure(srv, uk, akey, username, addr, AUTH_FAIL_UNKNOWN_USER, now) == 0
                   ? AUTH_INVALID
                   : AUTH_ERROR;
    }
    r = sshcert_password_verify(u->password_hash, password);
    sem_post(&srv->hash_slots);
    if (r != 0) {
        sshcert_user_free(u);
        return record_failure(srv, uk, akey, username, addr, AUTH_FAIL_BAD_PASSWORD, now) == 0
                   ? AUTH_INVALID
                   : AUTH_ERROR;
    }
    reason = check_totp(srv, u, totp, now, &ok);
    if (ok < 0) {
        sshcert_log(LOG_ERR, "login for %s from %s: cannot record the TOTP step: store error",
            username, addr);
        sshcert_user_free(u);
        return AUTH_ERROR;
    }
    if (!ok) {
        sshcert_user_free(u);
        return record_failure(srv, uk, akey, username, addr, reason, now) == 0 ? AUTH_INVALID
                                                                               : AUTH_ERROR;
    }
    /* Only a name with a failure row has one to clear: most logins skip that write. A failure
     * recorded by a concurrent request since the read above is kept (the stricter outcome). */
    if (user_row)
        (void)sshcert_store_failure_clear(srv->ca->store, ukey);
    if (u->disabled) {
        atomic_fetch_add(&srv->metrics.auth_failures[AUTH_FAIL_DISABLED], 1);
        (void)sshcert_store_audit(srv->ca->store, now, "login_refused", "server", username, 0,
            addr, "account_disabled");
        sshcert_log(LOG_WARNING, "login refused for %s from %s: account locked by operator",
            username, addr);
        sshcert_user_free(u);
        return AUTH_DISABLED;
    }
    *user = u;
    return AUTH_OK;
}
