/* POST /v1/certificates, step by step as in DESIGN.md: decode, throttle and authenticate,
 * policy, sign and record, reply. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "auth.h"
#include "cert.h"
#include "err.h"
#include "issue_decode.h"
#include "key.h"
#include "log.h"
#include "policy.h"
#include "secmem.h"
#include "server.h"
#include "totp.h"

/* The store reports a failed commit as a bare system error (SQLite does not log commit-time
 * ENOSPC or EROFS): name the two causes an operator can fix at once. */
static const char *
store_hint(const struct server *srv)
{
    struct statvfs fs;

    if (statvfs(srv->cfg->data_dir, &fs) != 0)
        return "";
    if (fs.f_flag & ST_RDONLY)
        return " (data_dir is on a read-only file system)";
    if ((uint64_t)fs.f_bavail * fs.f_frsize < 256u * 1024u)
        return " (the file system holding data_dir is full)";
    return "";
}

/* The answer to a login that did not succeed. */
static void
auth_reply(enum auth_result ar, uint64_t retry, struct reply *rep)
{
    switch (ar) {
    case AUTH_INVALID:
        reply_error(rep, 401, "invalid_credentials", "invalid username, password or code");
        break;
    case AUTH_LOCKED:
        snprintf(rep->retry_after, sizeof(rep->retry_after), "%" PRIu64, retry);
        reply_error(rep, 429, "too_many_attempts", "too many failed attempts; retry in %" PRIu64
            " seconds", retry);
        break;
    case AUTH_DISABLED:
        reply_error(rep, 403, "account_disabled", "this account is disabled");
        break;
    case AUTH_BUSY:
        snprintf(rep->retry_after, sizeof(rep->retry_after), "1");
        reply_error(rep, 503, "unavailable", "server busy; retry shortly");
        break;
    case AUTH_OK:
    case AUTH_QUEUED:
    case AUTH_ERROR:
    default:
        reply_error(rep, 500, "internal", "internal error");
        break;
    }
}

/* 3. policy, after a successful login: the principals and the ttl to grant. On a refusal,
 * the code is used up first (auth_claim) and *rep holds the answer: 0. */
static int
issue_allowed(struct server *srv, struct issue_request *req, const struct sshcert_user *user,
    struct auth_pending *pending, const char *addr, uint64_t now,
    struct sshcert_principals *granted, uint64_t *ttl, struct reply *rep)
{
    const char *why = NULL;
    enum auth_result ar;
    uint64_t ceiling;
    int status = 0;

    ceiling = sshcert_policy_ttl_ceiling(srv->cfg, user->max_ttl);
    if (req->principals.n > 0) {
        if (sshcert_policy_principals_subset(&req->principals, user->principals) != 0) {
            status = 403;
            why = "principal_not_allowed";
        } else {
            *granted = req->principals;
            memset(&req->principals, 0, sizeof(req->principals));
        }
    } else if (sshcert_policy_parse_principals(user->principals, granted) != 0)
        status = 500;
    if (status == 0) {
        *ttl = req->ttl < 0 ? (srv->cfg->default_ttl < ceiling ? srv->cfg->default_ttl : ceiling)
                            : (uint64_t)req->ttl;
        if (*ttl < 1 || *ttl > ceiling) {
            status = 400;
            why = "ttl_not_allowed";
        }
    }
    if (status == 0)
        return 1;
    /* A refusal by policy after a successful login uses the code up and is audited like login
     * failures, in the claim's transaction, so an authenticated user probing for more (another
     * principal, a longer ttl) leaves a trace. */
    ar = auth_claim(srv, pending, user->username, addr, now,
        why != NULL ? "issue_refused" : NULL, why);
    if (ar != AUTH_OK)
        auth_reply(ar, pending->retry_after, rep);
    else if (status == 403)
        reply_error(rep, 403, "principal_not_allowed",
            "a requested principal is not among this user's principals");
    else if (status == 400)
        reply_error(rep, 400, "bad_request", "ttl must be between 1 and %" PRIu64 " seconds",
            ceiling);
    else
        reply_error(rep, 500, "internal", "stored principals are invalid");
    if (ar == AUTH_OK && why != NULL)
        sshcert_log(LOG_WARNING, "refused %s from %s: %s", user->username, addr, why);
    return 0;
}

void
handle_issue(struct server *srv, const char *body, size_t len, const char *addr,
    const struct timespec *start, struct hash_wait *hw, struct reply *rep)
{
    struct issue_request req;
    struct sshcert_user *user = NULL;
    struct sshcert_principals granted = {0};
    struct sshcert_cert_record rec = {0};
    struct sshcert_issue_req ir;
    struct auth_pending pending;
    struct timespec t1;
    enum auth_result ar;
    uint64_t now = (uint64_t)time(NULL), ttl = 0;
    size_t i;
    int r;

    /* 1. decode */
    if (issue_decode(body, len, &req, rep) != 0)
        goto out;
    /* 2. throttle and authenticate */
    ar = auth_login(srv, req.username, req.password, req.totp, addr, now, hw, &user, &pending);
    if (ar == AUTH_QUEUED) {
        rep->suspended = 1;
        goto out;
    }
    if (ar != AUTH_OK) {
        auth_reply(ar, pending.retry_after, rep);
        goto out;
    }
    /* 3. policy */
    if (!issue_allowed(srv, &req, user, &pending, addr, now, &granted, &ttl, rep))
        goto out;
    /* 4. sign and record, claiming the code's step in the certificate's own transaction:
     * nothing leaves unless it was committed */
    memset(&ir, 0, sizeof(ir));
    ir.key = &req.key;
    ir.username = user->username;
    ir.principals = (const char *const *)granted.v;
    ir.nprincipals = granted.n;
    ir.ttl = ttl;
    ir.client_address = addr;
    ir.issued_by = "server";
    ir.now = now;
    ir.claim = &pending.claim;
    if ((r = sshcert_ca_issue(srv->ca, &ir, &rec)) == SSHCERT_ERR_DUPLICATE) {
        auth_reply(auth_claim_refused(srv, &pending, user->username, addr, now),
            pending.retry_after, rep);
        goto out;
    }
    if (r != 0) {
        sshcert_log(LOG_ERR, "issuing for %s from %s failed, nothing issued: %s%s",
            user->username, addr, sshcert_err_str(r), store_hint(srv));
        reply_error(rep, 500, "internal", "the certificate could not be recorded; none issued");
        goto out;
    }
    auth_claimed(&pending);
    atomic_fetch_add(&srv->metrics.issued, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_issue_latency(&srv->metrics, (uint64_t)server_us_between(start, &t1));
    sshcert_log(LOG_INFO, "issued serial %" PRIu64 " key id %s to %s for %s from %s, %" PRIu64
        "s", rec.serial, rec.key_id, user->username, rec.principals, addr, ttl);
    /* 5. reply */
    reply_issued(rep, &rec, &granted);
out:
    for (i = 0; i < granted.n; i++)
        free(granted.v[i]);
    sshcert_cert_record_clear(&rec);
    sshcert_user_free(user);
    issue_request_free(&req);
}
