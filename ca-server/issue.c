/* POST /v1/certificates, step by step as in DESIGN.md: decode, throttle and authenticate,
 * policy, sign and record, reply. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "log.h"
#include "policy.h"
#include "secmem.h"
#include "server.h"
#include "totp.h"

struct issue_request {
    const char *username, *password, *totp, *public_key; /* point into the JSON tree */
    int64_t ttl;                                          /* -1: not given */
    struct sshcert_principals principals;                 /* n == 0: not given */
    struct sshcert_pubkey key;
};

static int
is_text(json_t *v)
{
    /* Strings with an embedded NUL would be cut short by C code: refuse them. */
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* Strict decode: only known fields, right types, sane sizes. 0 or fills rep with a 400. */
static int
decode(json_t *root, struct issue_request *req, struct reply *rep)
{
    const char *k;
    json_t *v, *e;
    size_t i;
    char *joined = NULL;
    int r;

    memset(req, 0, sizeof(*req));
    req->ttl = -1;
    if (!json_is_object(root)) {
        reply_error(rep, 400, "bad_request", "the body must be a JSON object");
        return -1;
    }
    json_object_foreach(root, k, v) {
        if (strcmp(k, "username") == 0 || strcmp(k, "password") == 0 ||
            strcmp(k, "totp") == 0 || strcmp(k, "public_key") == 0) {
            if (!is_text(v) || json_string_length(v) == 0) {
                reply_error(rep, 400, "bad_request", "field \"%s\" must be a non-empty string", k);
                return -1;
            }
            if (k[0] == 'u')
                req->username = json_string_value(v);
            else if (k[0] == 'p' && k[1] == 'a')
                req->password = json_string_value(v);
            else if (k[0] == 't')
                req->totp = json_string_value(v);
            else
                req->public_key = json_string_value(v);
        } else if (strcmp(k, "ttl") == 0) {
            if (!json_is_integer(v)) {
                reply_error(rep, 400, "bad_request", "field \"ttl\" must be whole seconds");
                return -1;
            }
            req->ttl = json_integer_value(v) < 0 ? 0 : json_integer_value(v);
        } else if (strcmp(k, "principals") == 0) {
            size_t total = 1;
            if (!json_is_array(v) || json_array_size(v) == 0 ||
                json_array_size(v) > SSHCERT_MAX_PRINCIPALS) {
                reply_error(rep, 400, "bad_request",
                    "field \"principals\" must be a list of 1 to %u names",
                    SSHCERT_MAX_PRINCIPALS);
                return -1;
            }
            json_array_foreach(v, i, e) {
                if (!is_text(e) || json_string_length(e) == 0 ||
                    strchr(json_string_value(e), ',') != NULL) {
                    reply_error(rep, 400, "bad_request",
                        "field \"principals\" must hold non-empty names without commas");
                    return -1;
                }
                total += json_string_length(e) + 1;
            }
            if ((joined = calloc(1, total)) == NULL) {
                reply_error(rep, 500, "internal", "out of memory");
                return -1;
            }
            json_array_foreach(v, i, e) {
                if (i > 0)
                    strcat(joined, ",");
                strcat(joined, json_string_value(e));
            }
            r = sshcert_policy_parse_principals(joined, &req->principals);
            free(joined);
            if (r != 0) {
                reply_error(rep, 400, "bad_request", "field \"principals\": %s",
                    r == SSHCERT_ERR_DUPLICATE ? "a name is listed twice" : "invalid name");
                return -1;
            }
        } else {
            reply_error(rep, 400, "bad_request", "unknown field \"%.64s\"", k);
            return -1;
        }
    }
    if (req->username == NULL || req->password == NULL || req->totp == NULL ||
        req->public_key == NULL) {
        reply_error(rep, 400, "bad_request", "missing field \"%s\"",
            req->username == NULL   ? "username"
            : req->password == NULL ? "password"
            : req->totp == NULL     ? "totp"
                                    : "public_key");
        return -1;
    }
    if (strlen(req->username) > 256 || strlen(req->password) > SSHCERT_MAX_PASSWORD) {
        reply_error(rep, 400, "bad_request", "username or password too long");
        return -1;
    }
    r = sshcert_pubkey_parse_line(req->public_key, strlen(req->public_key), &req->key, NULL);
    if (r == SSHCERT_ERR_KEY_TYPE) {
        reply_error(rep, 400, "unsupported_key_type", "only ssh-ed25519 public keys are accepted");
        return -1;
    }
    if (r != 0) {
        reply_error(rep, 400, "bad_request", "public_key is not an OpenSSH public key line");
        return -1;
    }
    return 0;
}

static void
issued_reply(const struct sshcert_cert_record *rec, const struct sshcert_principals *pr,
    struct reply *rep)
{
    json_t *j, *arr;
    size_t i;
    char *s;

    arr = json_array();
    for (i = 0; i < pr->n; i++)
        json_array_append_new(arr, json_string(pr->v[i]));
    j = json_pack("{s:s, s:I, s:s, s:o, s:I, s:I}", "certificate", rec->certificate, "serial",
        (json_int_t)rec->serial, "key_id", rec->key_id, "principals", arr, "valid_after",
        (json_int_t)rec->valid_after, "valid_before", (json_int_t)rec->valid_before);
    if (j == NULL || (s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(j);
        reply_error(rep, 500, "internal", "out of memory");
        return;
    }
    json_decref(j);
    reply_take(rep, 201, "application/json", s, strlen(s));
}

/* Wipes the secrets' copies inside the JSON tree before it is freed. */
static void
wipe_secrets(json_t *root)
{
    const char *names[] = {"password", "totp"};
    json_t *v;
    size_t i;

    for (i = 0; i < 2; i++)
        if ((v = json_object_get(root, names[i])) != NULL && json_is_string(v))
            sshcert_secmem_wipe((char *)(uintptr_t)json_string_value(v), json_string_length(v));
}

void
handle_issue(struct server *srv, const char *body, size_t len, const char *addr, struct reply *rep)
{
    struct issue_request req;
    struct sshcert_user *user = NULL;
    struct sshcert_principals granted = {0};
    struct sshcert_cert_record rec = {0};
    struct sshcert_issue_req ir;
    struct timespec t0, t1;
    enum auth_result ar;
    json_error_t jerr;
    json_t *root;
    uint64_t now = (uint64_t)time(NULL), retry = 0, ceiling, ttl;
    size_t i;
    int r;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&req, 0, sizeof(req));
    /* 1. decode */
    if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        reply_error(rep, 400, "bad_request", "malformed JSON: %s", jerr.text);
        return;
    }
    if (decode(root, &req, rep) != 0)
        goto out;
    /* 2. throttle and authenticate */
    ar = auth_login(srv, req.username, req.password, req.totp, addr, now, &user, &retry);
    switch (ar) {
    case AUTH_OK:
        break;
    case AUTH_INVALID:
        reply_error(rep, 401, "invalid_credentials", "invalid username, password or code");
        goto out;
    case AUTH_LOCKED:
        snprintf(rep->retry_after, sizeof(rep->retry_after), "%" PRIu64, retry);
        reply_error(rep, 429, "too_many_attempts", "too many failed attempts; retry in %" PRIu64
            " seconds", retry);
        goto out;
    case AUTH_DISABLED:
        reply_error(rep, 403, "account_disabled", "this account is disabled");
        goto out;
    case AUTH_BUSY:
        snprintf(rep->retry_after, sizeof(rep->retry_after), "1");
        reply_error(rep, 503, "unavailable", "server busy; retry shortly");
        goto out;
    case AUTH_ERROR:
    default:
        reply_error(rep, 500, "internal", "internal error");
        goto out;
    }
    /* 3. policy */
    if (req.principals.n > 0) {
        if (sshcert_policy_principals_subset(&req.principals, user->principals) != 0) {
            reply_error(rep, 403, "principal_not_allowed",
                "a requested principal is not among this user's principals");
            sshcert_log(LOG_WARNING, "refused %s from %s: principal not allowed", user->username,
                addr);
            goto out;
        }
        granted = req.principals;
        memset(&req.principals, 0, sizeof(req.principals));
    } else if ((r = sshcert_policy_parse_principals(user->principals, &granted)) != 0) {
        reply_error(rep, 500, "internal", "stored principals are invalid");
        goto out;
    }
    ceiling = sshcert_policy_ttl_ceiling(srv->cfg, user->max_ttl);
    ttl = req.ttl < 0 ? (srv->cfg->default_ttl < ceiling ? srv->cfg->default_ttl : ceiling)
                      : (uint64_t)req.ttl;
    if (ttl < 1 || ttl > ceiling) {
        reply_error(rep, 400, "bad_request", "ttl must be between 1 and %" PRIu64 " seconds",
            ceiling);
        goto out;
    }
    /* 4. sign and record: nothing leaves unless it was committed */
    memset(&ir, 0, sizeof(ir));
    ir.key = &req.key;
    ir.username = user->username;
    ir.principals = (const char *const *)granted.v;
    ir.nprincipals = granted.n;
    ir.ttl = ttl;
    ir.client_address = addr;
    ir.issued_by = "server";
    ir.now = now;
    if ((r = sshcert_ca_issue(srv->ca, &ir, &rec)) != 0) {
        sshcert_log(LOG_ERR, "issuing for %s from %s failed, nothing issued: %s",
            user->username, addr, sshcert_err_str(r));
        reply_error(rep, 500, "internal", "the certificate could not be recorded; none issued");
        goto out;
    }
    atomic_fetch_add(&srv->metrics.issued, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_issue_latency(&srv->metrics, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000L +
                                                    (t1.tv_nsec - t0.tv_nsec) / 1000L));
    sshcert_log(LOG_INFO, "issued serial %" PRIu64 " key id %s to %s for %s from %s, %" PRIu64
        "s", rec.serial, rec.key_id, user->username, rec.principals, addr, ttl);
    /* 5. reply */
    issued_reply(&rec, &granted, rep);
out:
    for (i = 0; i < granted.n; i++)
        free(granted.v[i]);
    sshcert_policy_principals_free(&req.principals);
    sshcert_cert_record_clear(&rec);
    sshcert_user_free(user);
    wipe_secrets(root);
    json_decref(root);
}
