/* sshcert-admin sign, cert, krl and audit commands. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "buf.h"
#include "cert.h"
#include "err.h"
#include "file.h"
#include "krl.h"
#include "policy.h"

/* Why a change that failed after its commit may hold (sshcert_store_flush_failed). */
#define UNFLUSHED                                                                              \
    "it was committed, but the disk failed to flush it; see cert show (or cert list) for "     \
    "what holds, and fix the disk: nothing written since is known to be on disk"

/* 0 when path's folder exists and can be written into, and path is not a folder; else -1 with
 * errno set. */
static int
out_writable(const char *path)
{
    const char *slash = strrchr(path, '/');
    struct stat st;
    char *dir;
    int r;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    if (slash == NULL)
        return access(".", W_OK | X_OK);
    if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
        return -1;
    r = access(dir, W_OK | X_OK);
    free(dir);
    return r;
}

/* "key.pub" -> "key-cert.pub"; anything else -> "NAME-cert.pub". */
static char *
cert_path_for(const char *pub)
{
    size_t n = strlen(pub);
    char *out;

    if ((out = malloc(n + 16)) == NULL)
        return NULL;
    if (n > 4 && strcmp(pub + n - 4, ".pub") == 0)
        snprintf(out, n + 16, "%.*s-cert.pub", (int)(n - 4), pub);
    else
        snprintf(out, n + 16, "%s-cert.pub", pub);
    return out;
}

int
admin_cmd_sign(struct admin *a, int argc, char **argv)
{
    static const char *const with_value[] = {"--principals", "--ttl", "--key-id",
        "--force-command", "--source-address", "-o", NULL};
    struct sshcert_principals pr = {0};
    struct sshcert_pubkey key;
    struct sshcert_cert_record rec;
    struct sshcert_issue_req req;
    const char *principals, *ttl_s, *key_id, *fc, *sa, *outp;
    char *pos[2], *text = NULL, *comment = NULL, *outfile = NULL, *line = NULL;
    uint64_t ttl;
    size_t len;
    int bad = 0, r, rc = ADMIN_FAIL;

    if ((r = admin_check_opts(argc, argv, with_value, NULL)) != 0)
        return r;
    if (admin_positional(argc, argv, with_value, pos, 2) != 1)
        return admin_usage("sign needs exactly one PUBKEY_FILE");
    principals = admin_opt(argc, argv, "--principals", 1, &bad);
    ttl_s = admin_opt(argc, argv, "--ttl", 1, &bad);
    key_id = admin_opt(argc, argv, "--key-id", 1, &bad);
    fc = admin_opt(argc, argv, "--force-command", 1, &bad);
    sa = admin_opt(argc, argv, "--source-address", 1, &bad);
    outp = admin_opt(argc, argv, "-o", 1, &bad);
    if (bad)
        return admin_usage("an option is missing its value");
    if (principals == NULL || *principals == '\0')
        return admin_err("refusing to sign: --principals is required and may not be empty");
    if (!admin_text_ok(principals) || (key_id != NULL && !admin_text_ok(key_id)) ||
        (fc != NULL && !admin_text_ok(fc)) || (sa != NULL && !admin_text_ok(sa)))
        return admin_err("refusing to sign: --principals, --key-id, --force-command and "
                         "--source-address must be UTF-8 text without control characters");
    if ((r = sshcert_policy_parse_principals(principals, &pr)) != 0)
        return admin_err("refusing to sign: bad --principals \"%s\": %s", principals,
            r == SSHCERT_ERR_DUPLICATE ? "a principal is listed twice"
            : r == SSHCERT_ERR_TOO_LARGE ? "more than 256 principals"
                                         : "empty or non-printable principal");
    ttl = a->cfg->default_ttl;
    if (ttl_s != NULL && (sshcert_config_parse_duration(ttl_s, &ttl) != 0 || ttl == 0)) {
        admin_err("refusing to sign: --ttl \"%s\" is not a positive duration (90s, 15m, 1h)",
            ttl_s);
        goto out;
    }
    if (ttl > a->cfg->max_ttl) {
        admin_err("refusing to sign: --ttl %s exceeds cert.max_ttl (%" PRIu64 "s)", ttl_s,
            a->cfg->max_ttl);
        goto out;
    }
    if (key_id != NULL && (strlen(key_id) == 0 || strlen(key_id) > SSHCERT_MAX_KEY_ID)) {
        admin_err("refusing to sign: --key-id must be 1..%u characters", SSHCERT_MAX_KEY_ID);
        goto out;
    }
    if (fc != NULL && (*fc == '\0' || strlen(fc) > SSHCERT_MAX_FORCE_COMMAND)) {
        admin_err("refusing to sign: --force-command must be 1..%u characters",
            SSHCERT_MAX_FORCE_COMMAND);
        goto out;
    }
    if (sa != NULL && sshcert_policy_check_cidr_list(sa) != 0) {
        admin_err("refusing to sign: --source-address \"%s\" is not a list of addresses or "
                  "CIDR blocks like 192.0.2.0/24,2001:db8::/32",
            sa);
        goto out;
    }
    if ((r = sshcert_file_read(pos[0], SSHCERT_MAX_KEY_LINE, &text, &len)) != 0) {
        admin_err("%s: %s", pos[0], r == SSHCERT_ERR_SYSTEM ? strerror(errno) : sshcert_err_str(r));
        goto out;
    }
    if ((r = sshcert_pubkey_parse_line(text, len, &key, &comment)) != 0) {
        admin_err("refusing to sign %s: %s", pos[0],
            r == SSHCERT_ERR_KEY_TYPE ? "only ssh-ed25519 keys are supported"
                                      : "not a valid OpenSSH public key line");
        goto out;
    }
    if ((outfile = outp != NULL ? strdup(outp) : cert_path_for(pos[0])) == NULL)
        goto out;
    /* A certificate that no file can take would be recorded and held by nobody: a folder that
     * is missing or not writable is refused before signing (the write can still fail after,
     * and then says so). */
    if (out_writable(outfile) != 0) {
        admin_err("refusing to sign: cannot write %s: %s; nothing issued", outfile,
            strerror(errno));
        goto out;
    }
    if (admin_open(a) != 0)
        goto out;
    memset(&req, 0, sizeof(req));
    req.key = &key;
    req.username = pr.v[0];
    req.principals = (const char *const *)pr.v;
    req.nprincipals = pr.n;
    req.ttl = ttl;
    req.key_id = key_id;
    req.force_command = fc;
    req.source_address = sa;
    req.issued_by = "operator";
    req.now = admin_now();
    if ((r = sshcert_ca_issue(a->ca, &req, &rec)) != 0) {
        admin_err("signing failed, nothing issued: %s", sshcert_err_str(r));
        goto out;
    }
    if (asprintf(&line, "%s\n", rec.certificate) < 0 ||
        (r = sshcert_file_write_atomic(outfile, line, strlen(line), 0644)) != 0) {
        admin_err("certificate serial %" PRIu64 " was recorded but %s could not be written: %s",
            rec.serial, outfile, strerror(errno));
        sshcert_cert_record_clear(&rec);
        goto out;
    }
    {
        char t1[32], t2[32];
        fprintf(stderr,
            "sshcert-admin: signed %s: serial %" PRIu64 ", key id \"%s\", principals %s, "
            "valid %s to %s\n",
            outfile, rec.serial, rec.key_id, rec.principals,
            admin_time(rec.valid_after, t1, sizeof(t1)),
            admin_time(rec.valid_before, t2, sizeof(t2)));
    }
    sshcert_cert_record_clear(&rec);
    rc = ADMIN_OK;
out:
    sshcert_policy_principals_free(&pr);
    free(text);
    free(comment);
    free(outfile);
    free(line);
    return rc;
}

static const char *
cert_status(const struct sshcert_cert_record *c, uint64_t now)
{
    if (c->revoked_at != 0)
        return "revoked";
    if (c->valid_before <= now)
        return "expired";
    if (c->valid_after > now)
        return "not-yet-valid";
    return "active";
}

static json_t *
cert_json(const struct sshcert_cert_record *c, uint64_t now)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s?, s:s, s:s, s:o, s:s?, s:s}",
        "serial", (json_int_t)c->serial, "key_id", c->key_id, "username", c->username,
        "principals", c->principals, "key_fingerprint", c->key_fingerprint, "valid_after",
        (json_int_t)c->valid_after, "valid_before", (json_int_t)c->valid_before, "issued_at",
        (json_int_t)c->issued_at, "client_address", c->client_address, "issued_by", c->issued_by,
        "certificate", c->certificate, "revoked_at",
        c->revoked_at ? json_integer((json_int_t)c->revoked_at) : json_null(), "revoke_reason",
        c->revoke_reason, "status", cert_status(c, now));
}

static int
cert_list(struct admin *a, int argc, char **argv)
{
    static const char *const with_value[] = {"--user", NULL};
    static const char *const flags[] = {"--active", "--json", NULL};
    struct sshcert_cert_record *recs = NULL;
    const char *user;
    char *pos[1], t[32];
    size_t n = 0, i;
    uint64_t now = admin_now();
    int bad = 0, json, r;
    json_t *arr;

    if ((r = admin_check_opts(argc, argv, with_value, flags)) != 0)
        return r;
    if (admin_positional(argc, argv, with_value, pos, 1) != 0)
        return admin_usage("cert list takes no arguments");
    user = admin_opt(argc, argv, "--user", 1, &bad);
    json = admin_opt(argc, argv, "--json", 0, &bad) != NULL;
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if ((r = sshcert_store_cert_list(a->ca->store, user,
             admin_opt(argc, argv, "--active", 0, &bad) != NULL, now, &recs, &n)) != 0)
        return admin_err("cannot list certificates: %s", sshcert_err_str(r));
    if (json) {
        arr = json_array();
        for (i = 0; i < n; i++) {
            /* A row that JSON cannot carry (not UTF-8) fails the list: never a partial one. */
            if (arr == NULL || json_array_append_new(arr, cert_json(&recs[i], now)) != 0) {
                r = admin_err("cannot list certificates as JSON: serial %" PRIu64
                              " holds text that is not UTF-8",
                    recs[i].serial);
                json_decref(arr);
                sshcert_cert_records_free(recs, n);
                return r;
            }
        }
        sshcert_cert_records_free(recs, n);
        return admin_print_json(arr);
    }
    printf("%-8s %-16s %-14s %-20s %-13s %s\n", "SERIAL", "USER", "STATUS", "VALID_BEFORE",
        "ISSUED_BY", "PRINCIPALS");
    for (i = 0; i < n; i++)
        printf("%-8" PRIu64 " %-16s %-14s %-20s %-13s %s\n", recs[i].serial, recs[i].username,
            cert_status(&recs[i], now), admin_time(recs[i].valid_before, t, sizeof(t)),
            recs[i].issued_by, recs[i].principals);
    sshcert_cert_records_free(recs, n);
    return ADMIN_OK;
}

/* A whole number 0 .. INT64_MAX, digits only (no sign, no space). */
static int
parse_u63(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

/* A serial: 1 .. INT64_MAX. */
static int
parse_serial(const char *s, uint64_t *out)
{
    uint64_t v;

    if (parse_u63(s, &v) != 0 || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int
cert_show(struct admin *a, int argc, char **argv)
{
    static const char *const flags[] = {"--json", NULL};
    struct sshcert_cert_record rec;
    char *pos[1], t1[32], t2[32], t3[32];
    uint64_t serial, now = admin_now();
    int bad = 0, r;

    if ((r = admin_check_opts(argc, argv, NULL, flags)) != 0)
        return r;
    if (admin_positional(argc, argv, NULL, pos, 1) != 1 || parse_serial(pos[0], &serial) != 0)
        return admin_usage("cert show needs one SERIAL (a positive number)");
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if ((r = sshcert_store_cert_get(a->ca->store, serial, &rec)) != 0)
        return admin_err(r == SSHCERT_ERR_NOT_FOUND ? "no certificate with serial %" PRIu64
                                                    : "cannot read certificate %" PRIu64,
            serial);
    if (admin_opt(argc, argv, "--json", 0, &bad) != NULL) {
        r = admin_print_json(cert_json(&rec, now));
        sshcert_cert_record_clear(&rec);
        return r;
    }
    printf("serial:          %" PRIu64 "\nkey id:          %s\nuser:            %s\n"
           "principals:      %s\nkey fingerprint: %s\nvalid:           %s to %s\n"
           "issued:          %s by %s%s%s\nstatus:          %s\n",
        rec.serial, rec.key_id, rec.username, rec.principals, rec.key_fingerprint,
        admin_time(rec.valid_after, t1, sizeof(t1)), admin_time(rec.valid_before, t2, sizeof(t2)),
        admin_time(rec.issued_at, t3, sizeof(t3)), rec.issued_by,
        rec.client_address ? " from " : "", rec.client_address ? rec.client_address : "",
        cert_status(&rec, now));
    if (rec.revoked_at != 0)
        printf("revoked:         %s (%s)\n", admin_time(rec.revoked_at, t1, sizeof(t1)),
            rec.revoke_reason ? rec.revoke_reason : "no reason given");
    printf("certificate:     %s\n", rec.certificate);
    sshcert_cert_record_clear(&rec);
    return ADMIN_OK;
}

static int
refused_count(const int *results, int n)
{
    int i, c = 0;

    for (i = 0; i < n; i++)
        c += results[i] != 0;
    return c;
}

static int
cert_revoke(struct admin *a, int argc, char **argv)
{
    static const char *const with_value[] = {"--reason", "--user", NULL};
    const char *reason, *user;
    char *pos[256];
    uint64_t serials[256], count, now = admin_now();
    int results[256], bad = 0, n, i, j, r, nref;

    if ((r = admin_check_opts(argc, argv, with_value, NULL)) != 0)
        return r;
    n = admin_positional(argc, argv, with_value, pos, 256);
    reason = admin_opt(argc, argv, "--reason", 1, &bad);
    user = admin_opt(argc, argv, "--user", 1, &bad);
    if (n > 256)
        return admin_usage("at most 256 serials at once");
    if ((user != NULL) == (n > 0))
        return admin_usage("cert revoke needs SERIAL... or --user NAME (not both)");
    if (reason != NULL && strlen(reason) > 1024)
        return admin_usage("--reason is limited to 1024 characters");
    if (reason != NULL && !admin_text_ok(reason))
        return admin_usage("--reason must be UTF-8 text without control characters");
    for (i = 0; i < n; i++) {
        if (parse_serial(pos[i], &serials[i]) != 0)
            return admin_usage("\"%s\" is not a serial number", pos[i]);
        for (j = 0; j < i; j++)
            if (serials[j] == serials[i])
                return admin_usage("serial %" PRIu64 " is listed twice", serials[i]);
    }
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if (user != NULL) {
        if ((r = sshcert_store_cert_revoke_user(a->ca->store, user, reason, now, "operator",
                 &count)) != 0) {
            if (sshcert_store_flush_failed(a->ca->store))
                return admin_err("%s's certificates may or may not be revoked: %s", user,
                    UNFLUSHED);
            return admin_err("cannot revoke %s's certificates: %s", user, sshcert_err_str(r));
        }
        if (count == 0)
            return admin_err("user %s has no unexpired, unrevoked certificates; nothing revoked",
                user);
        printf("revoked %" PRIu64 " certificate(s) of %s\n", count, user);
        return ADMIN_OK;
    }
    /* All or none: a typo in a list revokes nothing, and the corrected list then runs whole. */
    r = sshcert_store_cert_revoke(a->ca->store, serials, (size_t)n, reason, now, "operator",
        results);
    if (r != 0 && r != SSHCERT_ERR_INVALID_ARGUMENT) {
        /* Committed, then the flush failed (another process kept the WAL, so the store
         * flushes after the commit): "nothing revoked" would be false. */
        if (sshcert_store_flush_failed(a->ca->store))
            return admin_err("the revocation may or may not hold: %s", UNFLUSHED);
        return admin_err("cannot revoke: %s; nothing revoked", sshcert_err_str(r));
    }
    for (i = 0; i < n; i++) {
        if (r == 0)
            printf("revoked serial %" PRIu64 "\n", serials[i]);
        else if (results[i] != 0)
            admin_err("serial %" PRIu64 ": %s", serials[i],
                results[i] == SSHCERT_ERR_NOT_FOUND ? "no such certificate"
                : results[i] == SSHCERT_ERR_EXPIRED
                    ? "already expired; revoking it changes nothing"
                    : "already revoked");
    }
    if (r != 0) {
        nref = refused_count(results, n);
        return admin_err("nothing revoked (%d serial%s refused)", nref, nref == 1 ? "" : "s");
    }
    return ADMIN_OK;
}

int
admin_cmd_cert(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return admin_usage("cert needs list, show or revoke");
    if (strcmp(argv[1], "list") == 0)
        return cert_list(a, argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return cert_show(a, argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return cert_revoke(a, argc - 1, argv + 1);
    return admin_usage("unknown cert command %s", argv[1]);
}

int
admin_cmd_krl(struct admin *a, int argc, char **argv)
{
    static const char *const with_value[] = {"-o", NULL};
    struct sshcert_buf *b = NULL;
    const char *outp;
    char *pos[1];
    int bad = 0, r;

    if ((r = admin_check_opts(argc, argv, with_value, NULL)) != 0)
        return r;
    if (admin_positional(argc, argv, with_value, pos, 1) != 0)
        return admin_usage("krl takes only -o FILE");
    outp = admin_opt(argc, argv, "-o", 1, &bad);
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if ((r = sshcert_ca_build_krl(a->ca, admin_now(), &b)) != 0)
        return admin_err("cannot build the KRL: %s", sshcert_err_str(r));
    if (outp != NULL)
        r = sshcert_file_write_atomic(outp, sshcert_buf_ptr(b), sshcert_buf_len(b), 0644);
    else
        r = fwrite(sshcert_buf_ptr(b), 1, sshcert_buf_len(b), stdout) == sshcert_buf_len(b) &&
                    fflush(stdout) == 0
                ? 0
                : SSHCERT_ERR_SYSTEM;
    sshcert_buf_free(b);
    if (r != 0)
        return admin_err("cannot write the KRL: %s", strerror(errno));
    return ADMIN_OK;
}

static int
export_one(void *ctx, const struct sshcert_audit_event *e)
{
    json_t *j;
    char *s;

    (void)ctx;
    j = json_pack("{s:I, s:I, s:s, s:s, s:s?, s:o, s:s?, s:s?, s:s}", "id", (json_int_t)e->id,
        "ts", (json_int_t)e->ts, "event", e->event, "actor", e->actor, "username", e->username,
        "serial", e->serial ? json_integer((json_int_t)e->serial) : json_null(), "client_address",
        e->client_address, "detail", e->detail, "hash", e->hash);
    if (j == NULL || (s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(j);
        return SSHCERT_ERR_ALLOC;
    }
    printf("%s\n", s);
    free(s);
    json_decref(j);
    return 0;
}

int
admin_xcheck_text(const struct sshcert_audit_xcheck *x, char *out, size_t n)
{
    static const char *const why[] = {
        [SSHCERT_AUDIT_CERT_UNLOGGED] = "its row matches no issuance event in the audit log "
                                        "(the row edited, or added without the log)",
        [SSHCERT_AUDIT_ISSUE_NO_CERT] = "its issuance event matches no row in the certificates "
                                        "table (the row edited or deleted)",
        [SSHCERT_AUDIT_REVOKE_UNLOGGED] = "its row says revoked, but no cert_revoked event in "
                                          "the audit log matches (the row edited)",
        [SSHCERT_AUDIT_REVOKE_LOST] = "the audit log has it revoked, but its row does not say so "
                                      "as logged (the row edited; the KRL may leave it out)",
        [SSHCERT_AUDIT_RANGE_UNLOGGED] = "a revoked range starting there matches no store_restored "
                                         "event in the audit log (the range edited or added)",
        [SSHCERT_AUDIT_RANGE_LOST] = "a restore revoked a range starting there, but revoked_ranges "
                                     "no longer holds it as logged (the range edited or deleted; "
                                     "the KRL leaves its serials out)",
        [SSHCERT_AUDIT_USER_UNLOGGED] =
            "its row is not as the name's latest user event in the audit log records it "
            "(principals, max ttl, locked, password or TOTP secret edited; or the row added, "
            "or kept after user_deleted, without the log)",
        [SSHCERT_AUDIT_USER_LOST] = "the audit log has the user, but the users table does not "
                                    "(the row deleted without the log)",
        [SSHCERT_AUDIT_USER_CHANGED] =
            "a user event found the row other than the event before it left it (the row "
            "edited between them, without the log)",
        [SSHCERT_AUDIT_GRANT_EXCEEDED] =
            "the server issued it beyond what the audit log had its user hold then (a "
            "principal, a longer lifetime, or a locked or unknown user: the users row edited, "
            "used and put back)",
        [SSHCERT_AUDIT_STEP_REUSED] =
            "the server issued it for a TOTP code of a time step its user had already used, "
            "as the audit log records (the users row's last step set back, then a code used "
            "again)",
        [SSHCERT_AUDIT_STEP_LOWERED] =
            "its last TOTP step is older than the last one the audit log records for its "
            "logins (the row's step set back: a used code would be accepted again)",
    };

    if (x->mismatch <= SSHCERT_AUDIT_MATCH || x->mismatch > SSHCERT_AUDIT_STEP_LOWERED)
        return -1;
    if (sshcert_audit_names_user(x->mismatch))
        snprintf(out, n, "users table does not match the audit log at user %s: %s", x->username,
            why[x->mismatch]);
    else
        snprintf(out, n, "certificates table does not match the audit log at serial %" PRIu64
                 ": %s", x->serial, why[x->mismatch]);
    return 0;
}

/* audit verify's second half: the certificates and users tables against the (intact) log. */
static int
audit_crosscheck(struct admin *a)
{
    char msg[ADMIN_XCHECK_TEXT_MAX];
    struct sshcert_audit_xcheck x;
    int r = sshcert_store_audit_crosscheck(a->ca->store, &x);

    if (r == SSHCERT_ERR_SIGNATURE && admin_xcheck_text(&x, msg, sizeof(msg)) == 0)
        return admin_err("%s", msg);
    if (r != 0)
        return admin_err("cannot compare the certificates and users with the audit log: %s",
            sshcert_err_str(r));
    printf("certificates match the audit log: %" PRIu64 " certificates, %" PRIu64
           " revoked\n",
        x.certs, x.revoked);
    printf("users match the audit log: %" PRIu64 " users\n", x.users);
    return ADMIN_OK;
}

int
admin_cmd_audit(struct admin *a, int argc, char **argv)
{
    static const char *const with_value[] = {"--since", "--after-id", NULL};
    const char *since_s, *after_s;
    char *pos[1];
    uint64_t bad_id = 0, count = 0, since = 0, after = 0;
    char head[SSHCERT_AUDIT_HASH_HEX];
    int bad = 0, r;

    if (argc < 2)
        return admin_usage("audit needs verify or export");
    argc--;
    argv++;
    if ((r = admin_check_opts(argc, argv, with_value, NULL)) != 0)
        return r;
    if (admin_positional(argc, argv, with_value, pos, 1) != 0)
        return admin_usage("unexpected argument");
    if (strcmp(argv[0], "verify") == 0) {
        if (argc != 1)
            return admin_usage("audit verify takes no options");
        if (admin_open(a) != 0)
            return ADMIN_FAIL;
        r = sshcert_store_audit_verify(a->ca->store, &bad_id, &count, head);
        if (r == SSHCERT_ERR_SIGNATURE)
            return admin_err("audit log broken at entry %" PRIu64
                             " (changed, deleted or reordered); %" PRIu64
                             " entries before it are intact",
                bad_id, count);
        if (r != 0)
            return admin_err("cannot read the audit log: %s", sshcert_err_str(r));
        printf("audit log intact: %" PRIu64 " entries%s%s\n", count, *head ? ", last " : "",
            head);
        return audit_crosscheck(a);
    }
    if (strcmp(argv[0], "export") == 0) {
        since_s = admin_opt(argc, argv, "--since", 1, &bad);
        if (since_s != NULL && parse_u63(since_s, &since) != 0)
            return admin_usage("--since needs Unix seconds (0 to %" PRId64 ")", INT64_MAX);
        /* The cursor for shipping the log: ids rise with every entry, whereas an entry's time
         * is taken before it waits for the lock and can be earlier than the entry before. */
        after_s = admin_opt(argc, argv, "--after-id", 1, &bad);
        if (after_s != NULL && parse_u63(after_s, &after) != 0)
            return admin_usage("--after-id needs an entry id (0 to %" PRId64 ")", INT64_MAX);
        if (admin_open(a) != 0)
            return ADMIN_FAIL;
        if ((r = sshcert_store_audit_each(a->ca->store, since, after, export_one, NULL)) != 0)
            return admin_err("cannot export the audit log: %s", sshcert_err_str(r));
        return ADMIN_OK;
    }
    return admin_usage("unknown audit command %s", argv[0]);
}
