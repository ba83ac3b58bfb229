#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "secmem.h"
#include "totp.h"

/* Reads the throttling rows and the user in one statement: *wait is the seconds the address
 * or the name is locked for, *u the user (or NULL), *user_r as in struct sshcert_throttle,
 * *user_row whether the name has a failure row to clear after a success. Returns the store's
 * error, if any (the caller refuses without hashing: fail closed, as a 500). */
static int
locked_for(struct server *srv, const char *akey, const char *ukey, const char *username,
    uint64_t now, uint64_t *wait, struct sshcert_user **u, int *user_r, int *user_row)
{
    struct sshcert_throttle t;
    int r;

    *wait = 0;
    *user_row = 0;
    *user_r = SSHCERT_ERR_NOT_FOUND;
    if ((r = sshcert_store_login_get(srv->ca->store, akey, ukey, username, &t, u)) != 0)
        return r;
    *user_row = t.user_row;
    *user_r = t.user_r;
    if (t.addr_locked_until > now)
        *wait = t.addr_locked_until - now;
    else if (t.user_locked_until > now)
        *wait = t.user_locked_until - now;
    return 0;
}

/* A login refused because its name or address is locked: counted and logged every time
 * (audited once, when the lock began, by sshcert_store_login_failed). */
static enum auth_result
refuse_locked(struct server *srv, const char *username, const char *addr, uint64_t now,
    uint64_t locked_until, uint64_t *retry_after)
{
    *retry_after = locked_until > now ? locked_until - now : 1;
    atomic_fetch_add(&srv->metrics.auth_failures[AUTH_FAIL_LOCKED_OUT], 1);
    sshcert_log(LOG_WARNING, "login refused for %s from %s: locked out for %llus",
        username != NULL ? username : "(invalid name)", addr,
        (unsigned long long)*retry_after);
    return AUTH_LOCKED;
}

/* Counts the failure for the name and the address and audits it, in one transaction.
 * Returns AUTH_INVALID; AUTH_LOCKED (*retry_after set, nothing counted) when a concurrent
 * login's failure locked the name or the address since this login read them, so that a
 * burst of guesses in flight together gets no more answers than the limit; or AUTH_ERROR
 * when the store failed: a failure that cannot be counted must not be answered like one that
 * was (the caller answers 500), or guesses would go uncounted while the store cannot write. */
static enum auth_result
record_failure(struct server *srv, const char *ukey, const char *akey, const char *username,
    const char *addr, enum metrics_auth_reason reason, uint64_t now, uint64_t *retry_after)
{
    struct sshcert_login_failure f = {
        .now = now,
        .window = srv->cfg->lockout,
        .ukey = ukey,
        .akey = akey,
        .user_max = srv->cfg->max_failures,
        .addr_max = srv->cfg->client_max_failures,
        .username = ukey != NULL ? username : NULL,
        .addr = addr,
        .reason = metrics_reason_name(reason),
    };
    int r;

    r = sshcert_store_login_failed(srv->ca->store, &f);
    if (r == 0 && f.locked_until != 0)
        return refuse_locked(srv, ukey != NULL ? username : NULL, addr, now, f.locked_until,
            retry_after);
    atomic_fetch_add(&srv->metrics.auth_failures[reason], 1);
    sshcert_log(LOG_WARNING, "login failed for %s from %s: %s",
        ukey != NULL ? username : "(invalid name)", addr, metrics_reason_name(reason));
    if (r != 0)
        sshcert_log(LOG_ERR, "login from %s: cannot record the failure: %s", addr,
            sshcert_err_str(r));
    return r == 0 ? AUTH_INVALID : AUTH_ERROR;
}

/* Decrypts the user's TOTP secret and checks the code: AUTH_FAIL_REASONS (no refusal) and
 * *step, the oldest matching step newer than the last one the login read saw; or the
 * refusal's reason (a code that matches only used steps is a replay). The step is claimed
 * later, with the certificate (auth_pending), which is what refuses a replay raced by a
 * concurrent login. */
static enum metrics_auth_reason
check_totp(struct server *srv, const struct sshcert_user *u, const char *code, uint64_t now,
    uint64_t *step)
{
    uint8_t secret[64];
    size_t slen = 0;
    int r;

    *step = 0;
    r = sshcert_ca_unseal(srv->ca, u->totp_secret, u->totp_secret_len, secret, sizeof(secret),
        &slen);
    if (r == 0)
        r = sshcert_totp_verify(secret, slen, code, now, u->totp_last_step, step);
    sshcert_secmem_wipe(secret, sizeof(secret));
    if (r == SSHCERT_ERR_DUPLICATE)
        return AUTH_FAIL_REPLAYED_TOTP;
    return r == 0 ? AUTH_FAIL_REASONS : AUTH_FAIL_BAD_TOTP;
}

enum auth_result
auth_claim(struct server *srv, struct auth_pending *p, const char *username, const char *addr,
    uint64_t now, const char *refusal_event, const char *refusal_reason)
{
    int r;

    /* Only a step that is not newer is a replay; a failed write is the store's error. */
    p->claim.refusal_event = refusal_event;
    p->claim.refusal_reason = refusal_reason;
    r = sshcert_store_claim_step(srv->ca->store, &p->claim);
    p->claim.refusal_event = p->claim.refusal_reason = NULL;
    if (r != 0) {
        sshcert_log(LOG_ERR, "login for %s from %s: cannot record the TOTP step: store error",
            username, addr);
        return AUTH_ERROR;
    }
    /* The claim cleared the name's failure row too (claim.clear_key); a refusal is answered
     * as the issuance's claim's is (never SSHCERT_CLAIM_DISABLED here, so no recursion). */
    if (p->claim.refused != SSHCERT_CLAIM_OK)
        return auth_claim_refused(srv, p, username, addr, now);
    auth_claimed(p);
    return AUTH_OK;
}

void
auth_claimed(const struct auth_pending *p)
{
    if (p->claim.rehash != NULL)
        sshcert_log(LOG_NOTICE, "password hash of %s remade at the %s cost (auth.password_hash)",
            p->claim.username, p->claim.rehash_cost);
}

/* Both factors right on an account an operator has locked: the code is used up first, as on
 * every refusal after a right code, so a replayed code on a disabled account is a 401, not a
 * 403. */
static enum auth_result
auth_disabled(struct server *srv, struct auth_pending *p, const char *username,
    const char *addr, uint64_t now)
{
    enum auth_result ar;

    if ((ar = auth_claim(srv, p, username, addr, now, "login_refused", "account_disabled")) !=
        AUTH_OK)
        return ar;
    atomic_fetch_add(&srv->metrics.auth_failures[AUTH_FAIL_DISABLED], 1);
    sshcert_log(LOG_WARNING, "login refused for %s from %s: account locked by operator",
        username, addr);
    return AUTH_DISABLED;
}

enum auth_result
auth_claim_refused(struct server *srv, struct auth_pending *p, const char *username,
    const char *addr, uint64_t now)
{
    switch (p->claim.refused) {
    case SSHCERT_CLAIM_DISABLED:
        return auth_disabled(srv, p, username, addr, now);
    case SSHCERT_CLAIM_GONE:
        return record_failure(srv, p->claim.ukey, p->akey, username, addr,
            AUTH_FAIL_UNKNOWN_USER, now, &p->retry_after);
    case SSHCERT_CLAIM_REPLAYED:
        return record_failure(srv, p->claim.ukey, p->akey, username, addr,
            AUTH_FAIL_REPLAYED_TOTP, now, &p->retry_after);
    case SSHCERT_CLAIM_CHANGED:
        return record_failure(srv, p->claim.ukey, p->akey, username, addr,
            AUTH_FAIL_CREDENTIALS_CHANGED, now, &p->retry_after);
    case SSHCERT_CLAIM_LOCKED:
        return refuse_locked(srv, username, addr, now, p->claim.locked_until, &p->retry_after);
    case SSHCERT_CLAIM_OK:
    default:
        return AUTH_ERROR;
    }
}

/* Counts one argon2id run that began at t0 (CLOCK_MONOTONIC) in /metrics. */
static void
hash_done(struct server *srv, const struct timespec *t0)
{
    struct timespec t1;
    int64_t us;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = server_us_between(t0, &t1);
    metrics_password_hash(&srv->metrics, us > 0 ? (uint64_t)us : 0);
}

void
auth_hash_run(struct hash_job *job, void *ctx)
{
    struct server *srv = ctx;
    struct timespec t0;
    int r;

    job->rehash[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (job->stored[0] == '\0') {
        /* Same work as a real verify, so timing does not tell which names exist. */
        sshcert_password_dummy_verify(job->cost, job->password);
        hash_done(srv, &t0);
        job->r = SSHCERT_ERR_SIGNATURE;
        return;
    }
    job->r = sshcert_password_verify(job->stored, job->password);
    hash_done(srv, &t0);
    /* Made at another cost than auth.password_hash (the operator changed it): remade at the
     * configured one for the claim to write, so that from the next login on the name costs
     * what an unknown name's dummy hash costs and timing does not tell it exists. The pool
     * still bounds the hashes at once: this runs with the login's worker. A hash that cannot
     * be made is logged and the login goes on: the old one still protects. */
    if (!sshcert_password_needs_rehash(job->stored, job->cost))
        return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (job->r != 0) {
        /* A wrong password costs the same second hash (a dummy): otherwise a right password
         * with a wrong code would answer its 401 one hash later than a wrong one, and
         * /metrics would count one more hash, telling the password before the code is
         * known (for a disabled user, whose hash is never remade, for good). */
        sshcert_password_dummy_verify(job->cost, job->password);
        hash_done(srv, &t0);
        return;
    }
    r = sshcert_password_hash(job->password, job->cost, job->rehash);
    hash_done(srv, &t0);
    if (r != 0) {
        job->rehash[0] = '\0';
        sshcert_log(LOG_WARNING, "cannot remake a password hash at the %s cost: %s",
            sshcert_hash_cost_name(job->cost), sshcert_err_str(r));
    }
}

/* Takes a hash worker (none for a hash at "min", see below) and starts the login's hash
 * against the credentials of u as read now (NULL: an unknown name's dummy hash): on a hash
 * thread (AUTH_QUEUED: the request runs again on that thread, http_finish, and finds the
 * result with hashq_result), or inline (AUTH_OK: hw->job holds the result). AUTH_QUEUED also
 * while it waits for a worker; AUTH_BUSY when it cannot wait; AUTH_ERROR. */
static enum auth_result
hash_start(struct server *srv, const struct sshcert_user *u, const char *password,
    const char *addr, struct hash_wait *hw)
{
    struct hash_job *job = &hw->job;
    int r, unbounded;

    if (u != NULL && (strlen(u->password_hash) >= sizeof(job->stored) ||
                         u->totp_secret_len > sizeof(job->totp_secret))) {
        sshcert_log(LOG_ERR, "login for %s from %s: the stored credentials are malformed",
            u->username, addr);
        return AUTH_ERROR;
    }
    /* A hash at "min" (8 KiB, ~25 us, inline) takes no worker. The workers bound the memory
     * and the time of the real costs (64 MiB and ~75 ms at "interactive"); at "min" waiting
     * for one cost more than the hash, and a worker handed to a queued login idled until that
     * login's HTTP thread came back from the flush of another connection's issuance: with
     * more clients than threads nearly every login queued and the issuance rate halved
     * (tests/bench/README.md, seventeenth pass). A stored hash made at a higher cost still
     * takes one. A login back from the queue takes the worker it was handed, whatever its
     * hash is now (remade at "min" meanwhile), rather than leave it idle to the request's end. */
    unbounded = !hw->waited && srv->cfg->hash_cost == SSHCERT_HASH_MIN &&
                (u == NULL || !sshcert_password_needs_rehash(u->password_hash, SSHCERT_HASH_MIN));
    if (!unbounded && (r = hashq_take(&srv->hashq, hw)) != 0) {
        if (r > 0)
            return AUTH_QUEUED;
        sshcert_log(LOG_WARNING, "login from %s: no password worker free, 503", addr);
        return AUTH_BUSY;
    }
    if (job->password == NULL && (job->password = strdup(password)) == NULL) {
        if (!unbounded)
            hashq_release(&srv->hashq);
        return AUTH_ERROR;
    }
    job->cost = srv->cfg->hash_cost;
    job->stored[0] = '\0';
    job->totp_secret_len = 0;
    if (u != NULL) {
        memcpy(job->stored, u->password_hash, strlen(u->password_hash) + 1);
        memcpy(job->totp_secret, u->totp_secret, u->totp_secret_len);
        job->totp_secret_len = u->totp_secret_len;
    }
    if (!unbounded && hashq_run(&srv->hashq, hw))
        return AUTH_QUEUED;
    auth_hash_run(job, srv);
    if (!unbounded)
        hashq_release(&srv->hashq);
    return AUTH_OK;
}

/* Why the hash refuses the login (AUTH_FAIL_REASONS: it does not). The job was checked
 * against the credentials the request read when it began the hash; u is the user as read now,
 * which on a hash thread is a later read, in the same request run again there: a name unknown
 * then stays unknown, and credentials replaced meanwhile refuse the login as the claim would. */
static enum metrics_auth_reason
hash_verdict(const struct hash_job *job, const struct sshcert_user *u)
{
    if (job->stored[0] == '\0')
        return AUTH_FAIL_UNKNOWN_USER;
    if (job->r != 0)
        return AUTH_FAIL_BAD_PASSWORD;
    if (u == NULL)
        return AUTH_FAIL_UNKNOWN_USER; /* deleted meanwhile */
    if (strcmp(job->stored, u->password_hash) != 0 || job->totp_secret_len != u->totp_secret_len ||
        memcmp(job->totp_secret, u->totp_secret, job->totp_secret_len) != 0)
        return AUTH_FAIL_CREDENTIALS_CHANGED;
    return AUTH_FAIL_REASONS;
}

enum auth_result
auth_login(struct server *srv, const char *username, const char *password, const char *totp,
    const char *addr, uint64_t now, struct hash_wait *hw, struct sshcert_user **user,
    struct auth_pending *pending)
{
    struct sshcert_user *u = NULL;
    char *ukey = pending->ukey, *akey = pending->akey;
    const char *uk = NULL;
    uint64_t wait, step;
    struct hash_job *job;
    enum metrics_auth_reason reason;
    enum auth_result ar;
    int valid_name, r, user_row, user_r;

    *user = NULL;
    memset(pending, 0, sizeof(*pending));
    valid_name = sshcert_policy_check_username(username) == 0;
    sshcert_store_addr_key(akey, addr);
    if (valid_name) {
        sshcert_store_user_key(ukey, username);
        uk = ukey;
    }
    /* Throttle before any hashing, so a locked name or address costs no hash. The user is
     * read by the same statement (one read transaction, not two), so before the wait for a
     * hash worker rather than after it: still one consistent read within the request. */
    if ((r = locked_for(srv, akey, uk, uk != NULL ? username : NULL, now, &wait, &u, &user_r,
             &user_row)) != 0) {
        sshcert_log(LOG_ERR, "login from %s: cannot read the throttling state: %s", addr,
            sshcert_err_str(r));
        return AUTH_ERROR;
    }
    if (wait > 0) {
        sshcert_user_free(u);
        return refuse_locked(srv, uk != NULL ? username : NULL, addr, now, now + wait,
            &pending->retry_after);
    }
    if (user_r != 0 && user_r != SSHCERT_ERR_NOT_FOUND) {
        sshcert_log(LOG_ERR, "login from %s: store error: %s", addr, sshcert_err_str(user_r));
        return AUTH_ERROR;
    }
    if ((job = hashq_result(&srv->hashq, hw)) == NULL) {
        if ((ar = hash_start(srv, u, password, addr, hw)) != AUTH_OK) {
            sshcert_user_free(u);
            return ar;
        }
        job = &hw->job;
    }
    if ((reason = hash_verdict(job, u)) == AUTH_FAIL_REASONS)
        reason = check_totp(srv, u, totp, now, &step);
    if (reason != AUTH_FAIL_REASONS) {
        sshcert_user_free(u);
        return record_failure(srv, uk, akey, username, addr, reason, now,
            &pending->retry_after);
    }
    /* The claim also refuses the login if failures in flight with it locked the name or the
     * address since the read above (sshcert_store_claim_step, the issuance's claim). */
    pending->claim.user_id = u->id;
    pending->claim.username = u->username;
    pending->claim.password_hash = u->password_hash;
    pending->claim.totp_secret = u->totp_secret;
    pending->claim.totp_secret_len = u->totp_secret_len;
    pending->claim.totp_step = step;
    pending->claim.ukey = uk;
    pending->claim.akey = akey;
    pending->claim.now = now;
    /* Only a name with a failure row has one to clear: most logins skip that write. */
    pending->claim.clear_key = user_row ? ukey : NULL;
    pending->claim.addr = addr;
    if (job->rehash[0] != '\0' && !u->disabled) {
        pending->claim.rehash = job->rehash;
        pending->claim.rehash_cost = sshcert_hash_cost_name(job->cost);
    }
    if (u->disabled) {
        ar = auth_disabled(srv, pending, username, addr, now);
        pending->claim.username = NULL;
        pending->claim.password_hash = NULL;
        pending->claim.totp_secret = NULL;
        sshcert_user_free(u);
        return ar;
    }
    *user = u;
    return AUTH_OK;
}
