#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

void
sshcert_cert_record_clear(struct sshcert_cert_record *rec)
{
    if (rec == NULL)
        return;
    free(rec->key_id);
    free(rec->username);
    free(rec->principals);
    free(rec->key_fingerprint);
    free(rec->client_address);
    free(rec->issued_by);
    free(rec->certificate);
    free(rec->revoke_reason);
    memset(rec, 0, sizeof(*rec));
}

void
sshcert_cert_records_free(struct sshcert_cert_record *r, size_t n)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < n; i++)
        sshcert_cert_record_clear(&r[i]);
    free(r);
}

int
sshcert_store_issue(struct sshcert_store *s, sshcert_store_sign_fn sign, void *ctx,
    struct sshcert_cert_record *rec)
{
    static const char ins[] =
        "INSERT INTO certificates(serial, key_id, username, principals, key_fingerprint, "
        "valid_after, valid_before, issued_at, client_address, issued_by, certificate) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    sqlite3_stmt *st;
    uint64_t serial, seq;
    char detail[256];
    int r;

    memset(rec, 0, sizeof(*rec));
    seq = store_lock(s);
    if ((r = store_begin(s)) != 0)
        goto out;
    if ((r = store_meta_get(s, "next_serial", &serial)) != 0)
        goto out;
    if (serial == 0 || serial >= INT64_MAX) {
        r = SSHCERT_ERR_INTERNAL;
        goto out;
    }
    if ((r = sign(ctx, serial, rec)) != 0)
        goto out;
    rec->serial = serial;
    if ((st = store_stmt(s, ins)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)serial);
    sqlite3_bind_text(st, 2, rec->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rec->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, rec->principals, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, rec->key_fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)rec->valid_after);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)rec->valid_before);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)rec->issued_at);
    if (rec->client_address != NULL)
        sqlite3_bind_text(st, 9, rec->client_address, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_text(st, 10, rec->issued_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, rec->certificate, -1, SQLITE_STATIC);
    if ((r = store_step_done(st)) != 0)
        goto out;
    if ((r = store_meta_set(s, "next_serial", serial + 1)) != 0)
        goto out;
    snprintf(detail, sizeof(detail), "key_id=%.64s principals=%.120s ttl=%llu", rec->key_id,
        rec->principals, (unsigned long long)(rec->valid_before - rec->issued_at));
    if ((r = store_audit_locked(s, rec->issued_at,
             strcmp(rec->issued_by, "operator") == 0 ? "cert_signed_offline" : "cert_issued",
             rec->issued_by, rec->username, serial, rec->client_address, detail)) != 0)
        goto out;
    r = store_commit(s);
out:
    if (r != 0)
        store_rollback(s);
    /* The certificate goes back to the caller only once its row is on disk. */
    if ((r = store_unlock_durable(s, seq, r)) != 0)
        sshcert_cert_record_clear(rec);
    return r;
}

#define CERT_COLS                                                                              \
    "serial, key_id, username, principals, key_fingerprint, valid_after, valid_before, "        \
    "issued_at, client_address, issued_by, certificate, revoked_at, revoke_reason"

static int
record_from_row(sqlite3_stmt *st, struct sshcert_cert_record *rec)
{
    int fail = 0;

    memset(rec, 0, sizeof(*rec));
    rec->serial = (uint64_t)sqlite3_column_int64(st, 0);
    rec->key_id = store_col_str(st, 1, &fail);
    rec->username = store_col_str(st, 2, &fail);
    rec->principals = store_col_str(st, 3, &fail);
    rec->key_fingerprint = store_col_str(st, 4, &fail);
    rec->valid_after = (uint64_t)sqlite3_column_int64(st, 5);
    rec->valid_before = (uint64_t)sqlite3_column_int64(st, 6);
    rec->issued_at = (uint64_t)sqlite3_column_int64(st, 7);
    rec->client_address = store_col_str(st, 8, &fail);
    rec->issued_by = store_col_str(st, 9, &fail);
    rec->certificate = store_col_str(st, 10, &fail);
    rec->revoked_at = (uint64_t)sqlite3_column_int64(st, 11);
    rec->revoke_reason = store_col_str(st, 12, &fail);
    if (fail) {
        sshcert_cert_record_clear(rec);
        return SSHCERT_ERR_ALLOC;
    }
    return 0;
}

int
sshcert_store_cert_get(struct sshcert_store *s, uint64_t serial, struct sshcert_cert_record *out)
{
    static const char sql[] = "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1";
    sqlite3_stmt *st;
    int rc, r;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&s->mu);
    if ((st = store_stmt(s, sql)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)serial);
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? record_from_row(st, out)
            : rc == SQLITE_DONE ? SSHCERT_ERR_NOT_FOUND : store_err(rc);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

int
sshcert_store_cert_list(struct sshcert_store *s, const char *username, int active, uint64_t now,
    struct sshcert_cert_record **out, size_t *n)
{
    static const char sql[] =
        "SELECT " CERT_COLS " FROM certificates WHERE (?1 IS NULL OR username = ?1) AND "
        "(?2 = 0 OR (valid_before > ?3 AND revoked_at IS NULL)) ORDER BY serial";
    struct sshcert_cert_record *arr = NULL, *na;
    sqlite3_stmt *st;
    size_t cnt = 0;
    int rc = SQLITE_DONE, r = 0;

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    if ((st = store_stmt(s, sql)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        if (username != NULL)
            sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, active ? 1 : 0);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if ((na = realloc(arr, (cnt + 1) * sizeof(*na))) == NULL) {
                r = SSHCERT_ERR_ALLOC;
                break;
            }
            arr = na;
            if ((r = record_from_row(st, &arr[cnt])) != 0)
                break;
            cnt++;
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = store_err(rc);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    if (r != 0) {
        sshcert_cert_records_free(arr, cnt);
        return r;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

/* Marks one row revoked and audits it; caller holds mu inside a transaction. */
static int
revoke_locked(struct sshcert_store *s, uint64_t serial, const char *reason, uint64_t now,
    const char *actor)
{
    static const char get[] =
        "SELECT username, valid_before, revoked_at FROM certificates WHERE serial = ?1";
    static const char upd[] =
        "UPDATE certificates SET revoked_at = ?2, revoke_reason = ?3 WHERE serial = ?1";
    sqlite3_stmt *st;
    char *user = NULL;
    int rc, r, fail = 0;
    uint64_t valid_before = 0, revoked_at = 0;

    if ((st = store_stmt(s, get)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)serial);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user = store_col_str(st, 0, &fail);
        valid_before = (uint64_t)sqlite3_column_int64(st, 1);
        revoked_at = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        free(user);
        return rc == SQLITE_DONE ? SSHCERT_ERR_NOT_FOUND : store_err(rc);
    }
    if (fail)
        r = SSHCERT_ERR_ALLOC;
    else if (revoked_at != 0)
        r = SSHCERT_ERR_DUPLICATE;
    else if (valid_before <= now)
        r = SSHCERT_ERR_EXPIRED;
    else if ((st = store_stmt(s, upd)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)serial);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
        if (reason != NULL)
            sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        if ((r = store_step_done(st)) == 0)
            r = store_audit_locked(s, now, "cert_revoked", actor, user, serial, NULL, reason);
    }
    free(user);
    return r;
}

static int
bump_krl_version(struct sshcert_store *s)
{
    uint64_t v;
    int r;

    if ((r = store_meta_get(s, "krl_version", &v)) != 0)
        return r;
    return store_meta_set(s, "krl_version", v + 1);
}

int
sshcert_store_cert_revoke(struct sshcert_store *s, uint64_t serial, const char *reason,
    uint64_t now, const char *actor)
{
    uint64_t seq;
    int r;

    seq = store_lock(s);
    if ((r = store_begin(s)) == 0) {
        if ((r = revoke_locked(s, serial, reason, now, actor)) == 0)
            r = bump_krl_version(s);
        r = r == 0 ? store_commit(s) : (store_rollback(s), r);
    }
    return store_unlock_durable(s, seq, r);
}

int
sshcert_store_cert_revoke_user(struct sshcert_store *s, const char *username, const char *reason,
    uint64_t now, const char *actor, uint64_t *count)
{
    static const char sql[] = "SELECT serial FROM certificates WHERE username = ?1 AND "
                              "valid_before > ?2 AND revoked_at IS NULL ORDER BY serial";
    sqlite3_stmt *st;
    uint64_t *serials = NULL, *ns, seq;
    size_t n = 0, i;
    int rc, r;

    *count = 0;
    seq = store_lock(s);
    if ((r = store_begin(s)) != 0)
        goto out;
    if ((st = store_stmt(s, sql)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((ns = realloc(serials, (n + 1) * sizeof(*ns))) == NULL) {
            r = SSHCERT_ERR_ALLOC;
            break;
        }
        serials = ns;
        serials[n++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_err(rc);
    sqlite3_reset(st);
    for (i = 0; r == 0 && i < n; i++)
        r = revoke_locked(s, serials[i], reason, now, actor);
    if (r == 0 && n > 0)
        r = bump_krl_version(s);
    if (r == 0)
        r = store_commit(s);
    if (r == 0)
        *count = n;
out:
    if (r != 0)
        store_rollback(s);
    free(serials);
    if ((r = store_unlock_durable(s, seq, r)) != 0)
        *count = 0;
    return r;
}

int
sshcert_store_revoked_serials(struct sshcert_store *s, uint64_t now, uint64_t **out, size_t *n)
{
    static const char sql[] = "SELECT serial FROM certificates WHERE revoked_at IS NOT NULL "
                              "AND valid_before > ?1 ORDER BY serial";
    sqlite3_stmt *st;
    uint64_t *arr = NULL, *na;
    size_t cnt = 0, cap = 0;
    int rc = SQLITE_DONE, r = 0;

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    if ((st = store_stmt(s, sql)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (cnt == cap) {
                cap = cap == 0 ? 64 : cap * 2;
                if ((na = realloc(arr, cap * sizeof(*na))) == NULL) {
                    r = SSHCERT_ERR_ALLOC;
                    break;
                }
                arr = na;
            }
            arr[cnt++] = (uint64_t)sqlite3_column_int64(st, 0);
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = store_err(rc);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    if (r != 0) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

int
sshcert_store_krl_version(struct sshcert_store *s, uint64_t *version)
{
    int r;

    pthread_mutex_lock(&s->mu);
    r = store_meta_get(s, "krl_version", version);
    pthread_mutex_unlock(&s->mu);
    return r;
}

int
sshcert_store_active_count(struct sshcert_store *s, uint64_t now, uint64_t *n)
{
    static const char sql[] = "SELECT count(*) FROM certificates WHERE valid_before > ?1 "
                              "AND valid_after <= ?1 AND revoked_at IS NULL";

    return store_count(s, sql, now, n);
}

int
sshcert_store_revoked_count(struct sshcert_store *s, uint64_t *n)
{
    static const char sql[] = "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL";

    return store_count(s, sql, 0, n);
}
