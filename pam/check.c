/*
 * pam_sshcert's checks on the certificates an agent offers, and the whole authentication.
 * Nothing here knows about libpam; the glue in pam_sshcert.c maps the outcome.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "cert.h"
#include "check.h"
#include "check_int.h"
#include "err.h"
#include "key.h"
#include "krl.h"
#include "text.h"

void
sshcert_pam_refuse(struct sshcert_pam_result *res, enum sshcert_pam_stage stage, const char *fmt,
    ...)
{
    char tmp[SSHCERT_PAM_REASON_LEN];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    sshcert_text_sanitize(res->reason, sizeof(res->reason), tmp, SSHCERT_TEXT_ASCII);
    res->stage = stage;
}

/* ---- the checks ---- */

static void
utc(uint64_t t, char out[32])
{
    struct tm tm;
    time_t tt;

    if (t > (uint64_t)INT64_MAX) {
        snprintf(out, 32, "forever");
        return;
    }
    tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, 32, "%" PRIu64, t);
}

/* The certificate's principals, comma-separated, for a refusal reason. */
static void
principal_list(const struct sshcert_cert *c, char *out, size_t n)
{
    size_t i, used = 0;
    int w;

    out[0] = '\0';
    for (i = 0; i < sshcert_cert_principal_count(c) && used < n; i++) {
        w = snprintf(out + used, n - used, "%s%s", i > 0 ? "," : "", sshcert_cert_principal(c, i));
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int
sshcert_pam_check_cert(const struct sshcert_pam_config *cfg, const struct sshcert_cert *c,
    uint64_t now, struct sshcert_pam_result *res)
{
    const struct sshcert_pubkey *ca;
    char when[32], have[SSHCERT_PAM_REASON_LEN / 2];
    size_t i;
    int r;

    if (res == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(res, 0, sizeof(*res));
    if (cfg == NULL || c == NULL || (ca = sshcert_cert_ca_key(c)) == NULL) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "invalid arguments");
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    res->stage = SSHCERT_PAM_STAGE_CHECK;
    res->serial = sshcert_cert_serial(c);
    sshcert_text_sanitize(res->key_id, sizeof(res->key_id), sshcert_cert_key_id(c),
        SSHCERT_TEXT_ASCII);
    if (sshcert_pubkey_fingerprint(ca, res->ca_fp) != 0 ||
        sshcert_pubkey_fingerprint(sshcert_cert_key(c), res->key_fp) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "cannot compute fingerprints");
        return SSHCERT_ERR_INTERNAL;
    }
    if (sshcert_cert_type(c) != SSHCERT_CERT_TYPE_USER) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK,
            "a host certificate, not a user certificate");
        return SSHCERT_ERR_CERT_TYPE;
    }
    /* The CA key itself must be one we trust; a valid signature by any key proves nothing. */
    for (i = 0; i < cfg->nca; i++)
        if (sshcert_pubkey_equal(&cfg->ca[i], ca))
            break;
    if (i == cfg->nca) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "signed by CA %s, which is not in ca_keys",
            res->ca_fp);
        return SSHCERT_ERR_KEY_MISMATCH;
    }
    if ((r = sshcert_cert_verify(c)) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "the CA signature does not verify: %s",
            sshcert_err_str(r));
        return SSHCERT_ERR_SIGNATURE;
    }
    if ((r = sshcert_cert_check_time(c, now)) != 0) {
        if (r == SSHCERT_ERR_NOT_YET_VALID) {
            utc(sshcert_cert_valid_after(c), when);
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "not valid before %s", when);
        } else {
            utc(sshcert_cert_valid_before(c), when);
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "expired at %s", when);
        }
        return r;
    }
    if (cfg->krl != NULL && (r = sshcert_krl_check_cert(cfg->krl, c)) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "revoked by revoked_keys");
        return SSHCERT_ERR_REVOKED; /* an error in the check counts as revoked */
    }
    /* force-command and source-address restrict what the key may do; sudo cannot honour
     * either, so a restricted certificate does not unlock it. */
    if (sshcert_cert_option_count(c) > 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK,
            "carries the critical option %s, which "
            "pam_sshcert cannot honour",
            sshcert_cert_option_name(c, 0));
        return SSHCERT_ERR_UNSUPPORTED;
    }
    for (i = 0; i < cfg->nallowed; i++)
        if (sshcert_cert_check_principal(c, cfg->allowed[i]) == 0)
            break;
    if (i == cfg->nallowed) {
        principal_list(c, have, sizeof(have));
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK,
            "no principal matches (certificate has %s; "
            "allowed: %s)",
            have, cfg->allowed_from);
        return SSHCERT_ERR_PRINCIPAL;
    }
    sshcert_text_sanitize(res->principal, sizeof(res->principal), cfg->allowed[i],
        SSHCERT_TEXT_ASCII);
    res->stage = SSHCERT_PAM_STAGE_NONE;
    return 0;
}

int
sshcert_pam_sign_agent(void *ctx, const uint8_t *blob, size_t blob_len, const uint8_t *data,
    size_t data_len, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    return sshcert_agent_sign(ctx, blob, blob_len, data, data_len, sig);
}

/* How far a refusal got: later checks tell the user more about what to fix. */
#define PROGRESS_CHALLENGE 8

static int
progress(int r)
{
    switch (r) {
    case SSHCERT_ERR_CERT_TYPE:
        return 1;
    case SSHCERT_ERR_KEY_MISMATCH:
        return 2;
    case SSHCERT_ERR_SIGNATURE:
        return 3;
    case SSHCERT_ERR_NOT_YET_VALID:
    case SSHCERT_ERR_EXPIRED:
        return 4;
    case SSHCERT_ERR_REVOKED:
        return 5;
    case SSHCERT_ERR_UNSUPPORTED:
        return 6;
    case SSHCERT_ERR_PRINCIPAL:
        return 7;
    default:
        return 0;
    }
}

/* Proves the agent holds the certificate's private key. */
static int
challenge(const struct sshcert_cert *c, const struct sshcert_agent_identity *id,
    sshcert_pam_sign_fn sign, void *sign_ctx, struct sshcert_pam_result *res)
{
    uint8_t nonce[SSHCERT_PAM_CHALLENGE_LEN], sig[SSHCERT_ED25519_SIG_LEN];
    int r;

    randombytes_buf(nonce, sizeof(nonce));
    if ((r = sign(sign_ctx, id->blob, id->blob_len, nonce, sizeof(nonce), sig)) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "the agent did not sign the challenge: %s",
            sshcert_err_str(r));
        return r;
    }
    if ((r = sshcert_pubkey_verify(sshcert_cert_key(c), sig, nonce, sizeof(nonce))) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK,
            "the challenge signature does not verify with "
            "the certificate's key");
        return SSHCERT_ERR_SIGNATURE;
    }
    return 0;
}

static void note(const struct sshcert_pam_log *log, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(const struct sshcert_pam_log *log, int prio, const char *fmt, ...)
{
    char raw[SSHCERT_PAM_REASON_LEN * 2], msg[SSHCERT_PAM_REASON_LEN * 2];
    va_list ap;

    if (log == NULL || log->fn == NULL || (prio == LOG_DEBUG && !log->debug))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    sshcert_text_sanitize(msg, sizeof(msg), raw, SSHCERT_TEXT_ASCII);
    log->fn(log->ctx, prio, msg);
}

int
sshcert_pam_check_identities(const struct sshcert_pam_config *cfg,
    const struct sshcert_agent_identities *ids, sshcert_pam_sign_fn sign, void *sign_ctx,
    uint64_t now, const struct sshcert_pam_log *log, struct sshcert_pam_result *res)
{
    struct sshcert_pam_result cur;
    struct sshcert_cert *c = NULL;
    size_t i, certs = 0;
    unsigned challenges = 0;
    int r, p, best = SSHCERT_ERR_NOT_FOUND, best_progress = -1;

    if (res == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(res, 0, sizeof(*res));
    if (cfg == NULL || ids == NULL || sign == NULL) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "invalid arguments");
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < ids->count; i++) {
        const struct sshcert_agent_identity *id = &ids->ids[i];

        sshcert_cert_free(c);
        c = NULL;
        if ((r = sshcert_cert_parse_blob(id->blob, id->blob_len, &c)) != 0) {
            note(log, LOG_DEBUG, "identity %zu is not an ssh-ed25519 certificate (%s)", i + 1,
                sshcert_err_str(r));
            continue;
        }
        certs++;
        if ((r = sshcert_pam_check_cert(cfg, c, now, &cur)) == 0) {
            /* Each challenge may wait for the agent; a hostile one must not hold us long. */
            if (challenges == SSHCERT_PAM_MAX_CHALLENGES) {
                note(log, LOG_INFO, "stopping after %u failed challenges",
                    SSHCERT_PAM_MAX_CHALLENGES);
                break;
            }
            challenges++;
            if ((r = challenge(c, id, sign, sign_ctx, &cur)) == 0) {
                *res = cur;
                res->identities = ids->count;
                best = 0;
                goto out;
            }
            p = PROGRESS_CHALLENGE;
        } else {
            p = progress(r);
        }
        note(log, LOG_INFO, "certificate serial %" PRIu64 " key id \"%s\" (CA %s): %s", cur.serial,
            cur.key_id, cur.ca_fp, cur.reason);
        if (p > best_progress) {
            char tmp[2 * SSHCERT_PAM_REASON_LEN];

            best_progress = p;
            best = r;
            snprintf(tmp, sizeof(tmp), "certificate serial %" PRIu64 " key id \"%s\": %s",
                cur.serial, cur.key_id, cur.reason);
            *res = cur;
            sshcert_text_sanitize(res->reason, sizeof(res->reason), tmp, SSHCERT_TEXT_ASCII);
        }
    }
    if (certs == 0) {
        if (ids->count == 0)
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK, "the agent holds no identities");
        else
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CHECK,
                "the agent holds no ssh-ed25519 certificate "
                "(%zu other identities)",
                ids->count);
        best = SSHCERT_ERR_NOT_FOUND;
    }
    res->stage = SSHCERT_PAM_STAGE_CHECK;
    res->identities = ids->count;
out:
    sshcert_cert_free(c);
    return best;
}

/* getpwnam_r with a buffer that grows until the entry fits. *buf is the caller's to free, also
 * on failure. 0, SSHCERT_ERR_NOT_FOUND, SSHCERT_ERR_ALLOC, or SSHCERT_ERR_SYSTEM with *e. */
static int
find_passwd(const char *name, struct passwd *pw, char **buf, int *e)
{
    struct passwd *found = NULL;
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t n = hint > 0 ? (size_t)hint : 4096;

    *buf = NULL;
    *e = 0;
    for (;;) {
        free(*buf);
        if ((*buf = malloc(n)) == NULL)
            return SSHCERT_ERR_ALLOC;
        *e = getpwnam_r(name, pw, *buf, n, &found);
        if (*e != ERANGE || n >= SSHCERT_PAM_MAX_FILE)
            break;
        n *= 2;
    }
    if (*e != 0)
        return SSHCERT_ERR_SYSTEM;
    return found == NULL ? SSHCERT_ERR_NOT_FOUND : 0;
}

static int
lookup_user(const char *user, struct passwd *pw, char **buf, struct sshcert_pam_result *res)
{
    int e, r;

    if ((r = find_passwd(user, pw, buf, &e)) == SSHCERT_ERR_ALLOC)
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_USER, "out of memory");
    else if (r != 0)
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_USER, "no such user%s%s", e != 0 ? ": " : "",
            e != 0 ? strerror(e) : "");
    return r;
}

int
sshcert_pam_check_requester(uid_t ruid, const char *ruser, uid_t uid, const char *user,
    struct sshcert_pam_result *res)
{
    struct passwd pw;
    char *pwbuf = NULL, name[SSHCERT_PAM_KEY_ID_LEN], who[2 * SSHCERT_PAM_KEY_ID_LEN];
    uid_t requester = ruid;
    int e, r = SSHCERT_ERR_INTERNAL;

    if (res == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    /* A non-root real uid is the caller of a setuid program and cannot be faked by it;
     * PAM_RUSER is whatever the application set, so it only speaks for root applications. */
    if (ruid != 0) {
        snprintf(who, sizeof(who), "(real uid %lu)", (unsigned long)ruid);
    } else if (ruser == NULL) {
        snprintf(who, sizeof(who), "root (real uid 0, no PAM_RUSER)");
    } else {
        sshcert_text_sanitize(name, sizeof(name), ruser, SSHCERT_TEXT_ASCII);
        if ((r = find_passwd(ruser, &pw, &pwbuf, &e)) != 0) {
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_REQUESTER,
                "the requesting user PAM_RUSER=\"%s\" is not a known user%s%s", name,
                e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
            goto out;
        }
        requester = pw.pw_uid;
        snprintf(who, sizeof(who), "%s (uid %lu, PAM_RUSER)", name, (unsigned long)requester);
    }
    if (requester != uid) {
        sshcert_text_sanitize(name, sizeof(name), user, SSHCERT_TEXT_ASCII);
        r = SSHCERT_ERR_PERMISSIONS;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_REQUESTER,
            "the requesting user %s is not the user being authenticated, %s (uid %lu)", who,
            name, (unsigned long)uid);
        goto out;
    }
    r = 0;
out:
    free(pwbuf);
    return r;
}

int
sshcert_pam_authenticate(const struct sshcert_pam_opts *o, const char *user, uid_t ruid,
    const char *ruser, const char *sock_path, uint64_t now, const struct sshcert_pam_log *log,
    struct sshcert_pam_result *res)
{
    struct sshcert_pam_config *cfg = NULL;
    struct sshcert_agent *agent = NULL;
    struct sshcert_agent_identities *ids = NULL;
    struct passwd pw;
    char *pwbuf = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if (res == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(res, 0, sizeof(*res));
    if (o == NULL || user == NULL || user[0] == '\0') {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_USER, "no user name");
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    if ((r = lookup_user(user, &pw, &pwbuf, res)) != 0)
        goto out;
    /* SSH_AUTH_SOCK is the requester's to choose: only the user may point us at the user's
     * agent, and for root nothing below drops privileges at all. */
    if ((r = sshcert_pam_check_requester(ruid, ruser, pw.pw_uid, user, res)) != 0)
        goto out;
    if ((r = sshcert_pam_config_load(o, user, &cfg, res)) != 0)
        goto out;
    note(log, LOG_DEBUG, "%zu CA key(s), %s, allowed principals: %s", cfg->nca,
        cfg->krl != NULL ? "a KRL" : "no KRL", cfg->allowed_from);
    if ((r = sshcert_pam_agent_connect_as(sock_path, user, pw.pw_uid, pw.pw_gid, &agent, res)) != 0)
        goto out;
    if ((r = sshcert_agent_list(agent, &ids)) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_AGENT,
            "cannot list the agent's identities: "
            "%s",
            sshcert_err_str(r));
        goto out;
    }
    note(log, LOG_DEBUG, "the agent at %s holds %zu identities", sock_path, ids->count);
    r = sshcert_pam_check_identities(cfg, ids, sshcert_pam_sign_agent, agent, now, log, res);
out:
    sshcert_agent_identities_free(ids);
    sshcert_agent_close(agent);
    sshcert_pam_config_free(cfg);
    free(pwbuf);
    return r;
}
