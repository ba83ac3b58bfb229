/*
 * Hash-chained audit log. Entry hash = hex(SHA-256(prev_hash_hex || encoding)), where the
 * encoding is the SSH wire form of (id, ts, event, actor, username, serial, client_address,
 * detail) with absent strings as a single 0xff marker byte, so no two entries can encode the
 * same. Editing, deleting or reordering a row breaks the chain at that row.
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"
#include "text.h"

#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
_Static_assert(HASH_HEX == SSHCERT_AUDIT_HASH_HEX, "the audit hash's hex size");
static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int
put_opt_str(struct sshcert_buf *b, const char *s)
{
    int r;

    if (s == NULL)
        return sshcert_buf_put_u8(b, 0xff);
    if ((r = sshcert_buf_put_u8(b, 0)) != 0)
        return r;
    return sshcert_buf_put_cstring(b, s);
}

void
store_text_hash(const char *text, size_t len, char out[SSHCERT_TEXT_HASH_HEX])
{
    uint8_t h[SSHCERT_TEXT_HASH_BYTES];

    /* BLAKE2b: libsodium's is vectorised, its SHA-256 is not (~4 k against ~36 k instructions
     * for a ~600-character certificate line: +1.4% against +5.4% per issuance; bench README,
     * twentieth pass). */
    crypto_generichash(h, sizeof(h), (const unsigned char *)text, len, NULL, 0);
    sodium_bin2hex(out, SSHCERT_TEXT_HASH_HEX, h, sizeof(h));
}

/* sshcert_text_hash(TEXT): store_text_hash of the text's bytes, as an issuance's event records
 * its certificate line; NULL for anything but text, which then matches no event. */
static void
sql_text_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char hex[SSHCERT_TEXT_HASH_HEX];
    const unsigned char *t;

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_null(ctx);
        return;
    }
    if ((t = sqlite3_value_text(argv[0])) == NULL) {
        sqlite3_result_error_nomem(ctx); /* not a mismatch: verify fails as out of memory */
        return;
    }
    store_text_hash((const char *)t, (size_t)sqlite3_value_bytes(argv[0]), hex);
    sqlite3_result_text(ctx, hex, SSHCERT_TEXT_HASH_HEX - 1, SQLITE_TRANSIENT);
}

/* sshcert_blob_hash(BLOB): the same over a blob's bytes (a sealed TOTP secret). */
static void
sql_blob_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char hex[SSHCERT_TEXT_HASH_HEX];
    const void *b;

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
        sqlite3_result_null(ctx);
        return;
    }
    b = sqlite3_value_blob(argv[0]);
    if (b == NULL && sqlite3_value_bytes(argv[0]) > 0) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    store_text_hash(b != NULL ? b : "", (size_t)sqlite3_value_bytes(argv[0]), hex);
    sqlite3_result_text(ctx, hex, SSHCERT_TEXT_HASH_HEX - 1, SQLITE_TRANSIENT);
}

/* sshcert_row_hash(V, ...): BLAKE2b-256 (a blob) over each value's type and contents, so that
 * two rows hash alike only when they hold the same values of the same types (a NULL, an
 * integer 5 and a text '5' all differ; each text and blob is length-prefixed). What the
 * cross-check sorts and compares instead of the rows themselves. */
static void
sql_row_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    crypto_generichash_state st;
    uint8_t h[crypto_generichash_BYTES], tag[9];
    const void *p;
    sqlite3_int64 v;
    int i, t, n;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    for (i = 0; i < argc; i++) {
        t = sqlite3_value_type(argv[i]);
        p = NULL;
        v = 0;
        if (t == SQLITE_INTEGER) {
            v = sqlite3_value_int64(argv[i]);
        } else if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
            /* The pointer first, then its length (SQLite's documented order). */
            p = t == SQLITE_TEXT ? (const void *)sqlite3_value_text(argv[i])
                                 : sqlite3_value_blob(argv[i]);
            v = sqlite3_value_bytes(argv[i]);
            if (p == NULL && v > 0) {
                sqlite3_result_error_nomem(ctx);
                return;
            }
        } /* NULL, or a float (no column compared holds one): its type alone */
        tag[0] = (uint8_t)t;
        for (n = 0; n < 8; n++)
            tag[1 + n] = (uint8_t)((uint64_t)v >> (8 * n));
        crypto_generichash_update(&st, tag, sizeof(tag));
        if (p != NULL && v > 0)
            crypto_generichash_update(&st, p, (unsigned long long)v);
    }
    crypto_generichash_final(&st, h, sizeof(h));
    sqlite3_result_blob(ctx, h, sizeof(h), SQLITE_TRANSIENT);
}

int
store_audit_functions(sqlite3 *db)
{
    /* DIRECTONLY: the schema (a view, a trigger) cannot call them, only our own statements. */
    static const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;

    return sqlite3_create_function_v2(db, "sshcert_text_hash", 1, flags, NULL, sql_text_hash,
               NULL, NULL, NULL) == SQLITE_OK &&
                   sqlite3_create_function_v2(db, "sshcert_blob_hash", 1, flags, NULL,
                       sql_blob_hash, NULL, NULL, NULL) == SQLITE_OK &&
                   sqlite3_create_function_v2(db, "sshcert_row_hash", -1, flags, NULL,
                       sql_row_hash, NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : SSHCERT_ERR_SYSTEM;
}

/* *text: the row's STORE_USER_STATE ("unreadable" when a column holds what no command writes,
 * say a hash that is not text), or NULL when there is no such row. Caller frees it. */
static int
user_state_text(struct sshcert_store *s, const char *username, char **text)
{
    static const char sql[] = "SELECT coalesce(" STORE_USER_STATE ", 'unreadable') FROM users "
                              "WHERE username = ?1";
    sqlite3_stmt *st;
    char *t = NULL;
    int rc, fail = 0, r = SSHCERT_ERR_SYSTEM;

    *text = NULL;
    if ((st = store_stmt(s, sql)) == NULL)
        goto out;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        t = store_col_str(st, 0, &fail);
        /* STORE_USER_STATE holds no NUL; were there one, C and SQL would read two texts. */
        if (t != NULL && strlen(t) != (size_t)sqlite3_column_bytes(st, 0)) {
            free(t);
            fail = (t = strdup("unreadable")) == NULL;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = store_err(rc);
        goto out;
    }
    if (fail || (rc == SQLITE_ROW && t == NULL)) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    *text = t;
    t = NULL;
    r = 0;
out:
    free(t);
    return r;
}

int
store_user_was(struct sshcert_store *s, const char *username, char was[STORE_USER_WAS_LEN])
{
    char hex[SSHCERT_TEXT_HASH_HEX], *text = NULL;
    int r;

    if ((r = user_state_text(s, username, &text)) != 0)
        return r;
    if (text == NULL) {
        snprintf(was, STORE_USER_WAS_LEN, "none");
        return 0;
    }
    store_text_hash(text, strlen(text), hex);
    free(text);
    snprintf(was, STORE_USER_WAS_LEN, "BLAKE2b-256:%s", hex);
    return 0;
}

int
store_audit_user_locked(struct sshcert_store *s, uint64_t now, const char *event,
    const char *actor, const char *username, const char *client_address, const char *prefix,
    const char *was)
{
    char *text = NULL, *detail = NULL;
    int r;

    if ((r = user_state_text(s, username, &text)) != 0)
        goto out;
    if (asprintf(&detail, "%s%sstate=%s was=%s", prefix != NULL ? prefix : "",
            prefix != NULL ? " " : "", text != NULL ? text : "deleted", was) < 0) {
        detail = NULL;
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    r = store_audit_locked(s, now, event, actor, username, 0, client_address, detail);
out:
    free(text);
    free(detail);
    return r;
}

static int
entry_hash(const char *prev, uint64_t id, uint64_t ts, const char *event, const char *actor,
    const char *username, uint64_t serial, const char *addr, const char *detail,
    char out[HASH_HEX])
{
    struct sshcert_buf *b;
    uint8_t h[crypto_hash_sha256_BYTES];
    int r;

    if ((b = sshcert_buf_new(1024 * 1024)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put(b, prev, strlen(prev))) == 0 &&
        (r = sshcert_buf_put_u64(b, id)) == 0 && (r = sshcert_buf_put_u64(b, ts)) == 0 &&
        (r = sshcert_buf_put_cstring(b, event)) == 0 &&
        (r = sshcert_buf_put_cstring(b, actor)) == 0 && (r = put_opt_str(b, username)) == 0 &&
        (r = sshcert_buf_put_u64(b, serial)) == 0 && (r = put_opt_str(b, addr)) == 0 &&
        (r = put_opt_str(b, detail)) == 0) {
        crypto_hash_sha256(h, sshcert_buf_ptr(b), sshcert_buf_len(b));
        sodium_bin2hex(out, HASH_HEX, h, sizeof(h));
    }
    sshcert_buf_free(b);
    return r;
}

int
store_audit_locked(struct sshcert_store *s, uint64_t now, const char *event, const char *actor,
    const char *username, uint64_t serial, const char *client_address, const char *detail)
{
    static const char last[] = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1";
    static const char ins[] =
        "INSERT INTO audit(id, ts, event, actor, username, serial, client_address, detail, "
        "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    sqlite3_stmt *st;
    char prev[HASH_HEX], hash[HASH_HEX];
    uint64_t id = 1;
    int rc, r;

    memcpy(prev, zero_hash, sizeof(zero_hash));
    if ((st = store_stmt(s, last)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        id = (uint64_t)sqlite3_column_int64(st, 0) + 1;
        if (h == NULL || strlen((const char *)h) != HASH_HEX - 1) {
            sqlite3_reset(st);
            return SSHCERT_ERR_INVALID_FORMAT;
        }
        memcpy(prev, h, HASH_HEX);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_err(rc);
    if ((r = entry_hash(prev, id, now, event, actor, username, serial, client_address, detail,
             hash)) != 0)
        return r;
    if ((st = store_stmt(s, ins)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
    if (username != NULL)
        sqlite3_bind_text(st, 5, username, -1, SQLITE_STATIC);
    if (serial != 0)
        sqlite3_bind_int64(st, 6, (sqlite3_int64)serial);
    if (client_address != NULL)
        sqlite3_bind_text(st, 7, client_address, -1, SQLITE_STATIC);
    if (detail != NULL)
        sqlite3_bind_text(st, 8, detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, hash, -1, SQLITE_STATIC);
    return store_step_done(st);
}

int
sshcert_store_audit(struct sshcert_store *s, uint64_t now, const char *event, const char *actor,
    const char *username, uint64_t serial, const char *client_address, const char *detail)
{
    uint64_t seq;
    int r;

    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) == 0) {
        r = store_audit_locked(s, now, event, actor, username, serial, client_address, detail);
        r = r == 0 ? store_commit(s) : (store_rollback(s), r);
    }
    return store_unlock_durable(s, seq, r);
}

static const char audit_all[] =
    "SELECT id, ts, event, actor, username, serial, client_address, detail, prev_hash, hash "
    "FROM audit WHERE ts >= ?1 AND id > ?2 ORDER BY id";

static void
event_from_row(sqlite3_stmt *st, struct sshcert_audit_event *e)
{
    e->id = (uint64_t)sqlite3_column_int64(st, 0);
    e->ts = (uint64_t)sqlite3_column_int64(st, 1);
    e->event = (char *)(uintptr_t)sqlite3_column_text(st, 2);
    e->actor = (char *)(uintptr_t)sqlite3_column_text(st, 3);
    e->username = (char *)(uintptr_t)sqlite3_column_text(st, 4);
    e->serial = (uint64_t)sqlite3_column_int64(st, 5);
    e->client_address = (char *)(uintptr_t)sqlite3_column_text(st, 6);
    e->detail = (char *)(uintptr_t)sqlite3_column_text(st, 7);
    e->prev_hash = (char *)(uintptr_t)sqlite3_column_text(st, 8);
    e->hash = (char *)(uintptr_t)sqlite3_column_text(st, 9);
}

/* A row whose columns hold what its hash does not see is broken too: text with a NUL in it
 * (the hash covers a C string, up to the NUL), or a column of another type than its own (a
 * number stored as text reads back as the same number). Looked at before any column is read,
 * which may convert it. */
static int
row_clean(sqlite3_stmt *st)
{
    static const int ints[] = {0, 1, 5}, texts[] = {2, 3, 4, 6, 7, 8, 9};
    const unsigned char *v;
    size_t i;
    int t;

    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        t = sqlite3_column_type(st, ints[i]);
        if (t != SQLITE_INTEGER && !(t == SQLITE_NULL && ints[i] == 5))
            return 0;
    }
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if ((t = sqlite3_column_type(st, texts[i])) == SQLITE_NULL)
            continue; /* the required ones are checked as NULL pointers */
        if (t != SQLITE_TEXT)
            return 0;
        v = sqlite3_column_text(st, texts[i]);
        if (v == NULL || strlen((const char *)v) != (size_t)sqlite3_column_bytes(st, texts[i]))
            return 0;
    }
    return 1;
}

int
sshcert_store_audit_verify(struct sshcert_store *s, uint64_t *bad_id, uint64_t *count,
    char head[SSHCERT_AUDIT_HASH_HEX])
{
    struct sshcert_audit_event e;
    sqlite3_stmt *st;
    char prev[HASH_HEX], h[HASH_HEX];
    uint64_t expect_id = 1;
    int rc, r = 0;

    *bad_id = 0;
    *count = 0;
    head[0] = '\0';
    memcpy(prev, zero_hash, sizeof(zero_hash));
    if ((r = store_enter(s)) != 0)
        return r;
    if ((st = store_stmt(s, audit_all)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    sqlite3_bind_int64(st, 1, 0); /* every entry: from time 0, after id 0 */
    sqlite3_bind_int64(st, 2, 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int clean = row_clean(st);

        memset(&e, 0, sizeof(e));
        event_from_row(st, &e);
        /* A deleted row shows as a gap in ids; a reordered or edited one as a hash mismatch. */
        if (!clean || e.id != expect_id || e.event == NULL || e.actor == NULL ||
            e.prev_hash == NULL || e.hash == NULL || strcmp(e.prev_hash, prev) != 0) {
            *bad_id = e.id;
            r = SSHCERT_ERR_SIGNATURE;
            break;
        }
        if ((r = entry_hash(prev, e.id, e.ts, e.event, e.actor, e.username, e.serial,
                 e.client_address, e.detail, h)) != 0)
            break;
        if (strcmp(h, e.hash) != 0) {
            *bad_id = e.id;
            r = SSHCERT_ERR_SIGNATURE;
            break;
        }
        memcpy(prev, h, HASH_HEX);
        memcpy(head, h, HASH_HEX);
        expect_id++;
        (*count)++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_err(rc);
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* The issuance event each certificate row implies (as store_cert.c writes it), and the
 * revocation event each revoked row implies; compared with what the log holds both ways by
 * sorting (ISSUE_DIFF, EXCEPT), which needs no index on audit.serial. Since schema 4
 * the event also names the key, valid_after and the certificate line's hash; the row derives
 * that longer form when the log holds it for its serial (ISSUE_LONG: it ends with the hash,
 * which a shorter event, ending with its ttl, cannot), else the form of the builds before
 * (a certificate issued before the upgrade, or by an older server still running then). The
 * log decides, and cannot be edited without breaking the chain, so a row edited afterwards
 * can never pass for an older one. */
#define ISSUE_EVENTS "event IN ('cert_issued', 'cert_signed_offline')"
#define ISSUE_LONG                                                                             \
    "SELECT serial FROM audit WHERE " ISSUE_EVENTS " AND length(detail) > 82 AND "               \
    "substr(detail, -82, 18) = ' cert=BLAKE2b-256:'"
#define CERT_AS_ISSUE                                                                          \
    "SELECT serial, CASE issued_by WHEN 'operator' THEN 'cert_signed_offline' "               \
    "ELSE 'cert_issued' END AS event, issued_by AS actor, username, issued_at AS ts, "         \
    "client_address, 'key_id=' || key_id || ' principals=' || principals || ' ttl=' || "      \
    "(valid_before - issued_at) || CASE WHEN serial IN (" ISSUE_LONG ") THEN ' key=' || "      \
    "key_fingerprint || ' valid_after=' || valid_after || ' cert=BLAKE2b-256:' || "            \
    "sshcert_text_hash(certificate) ELSE '' END AS detail FROM certificates"
/* A login's issuance event starts with the TOTP step it claimed (schema 5), which the
 * certificate's row does not hold: compared without it (issue_step reads it). */
#define LOG_ISSUES                                                                             \
    "SELECT serial, event, actor, username, ts, client_address, CASE WHEN substr(detail, 1, "  \
    "5) = 'step=' THEN substr(detail, instr(detail, ' ') + 1) ELSE detail END AS detail "      \
    "FROM audit WHERE " ISSUE_EVENTS
/* Both ways in one sort, of each row's serial and sshcert_row_hash rather than the row (two
 * EXCEPTs of the rows took 7 s each on 1,000,000 certificates, spilling ~500 MB to temporary
 * files): the rows only one side holds, the lowest serial first, a row (side 1) before an
 * event (side 2) of the same serial. */
#define ISSUE_DIFF                                                                             \
    "SELECT serial, min(side) FROM (SELECT 1 AS side, serial, sshcert_row_hash(event, actor, "  \
    "username, ts, client_address, detail) AS h FROM (" CERT_AS_ISSUE ") UNION ALL SELECT 2, " \
    "serial, sshcert_row_hash(event, actor, username, ts, client_address, detail) FROM ("      \
    LOG_ISSUES ")) GROUP BY serial, h HAVING count(DISTINCT side) = 1 ORDER BY 1, 2 LIMIT 1"
#define CERT_AS_REVOKE                                                                         \
    "SELECT serial, username, revoked_at, revoke_reason FROM certificates "                    \
    "WHERE revoked_at IS NOT NULL"
#define LOG_REVOKES                                                                            \
    "SELECT serial, username, ts, detail FROM audit WHERE event = 'cert_revoked'"
/* A restore's revoked range (sshcert_store_restored) as its store_restored event's detail
 * spells it; the serial reported is the range's first, read back from the detail. */
#define RANGE_AS_RESTORE                                                                       \
    "SELECT first_serial, revoked_at, 'revoked serials ' || first_serial || '-' || "          \
    "last_serial || ' until ' || valid_until || ' (issued after the backup, unknown to it); "  \
    "next serial ' || (last_serial + 1) FROM revoked_ranges"
#define LOG_RESTORES                                                                           \
    "SELECT CAST(substr(detail, 17) AS INTEGER), ts, detail FROM audit "                      \
    "WHERE event = 'store_restored'"

/* The user events (those that write a users row). Since schema 4 each records, after a
 * "cost=NAME " for a rehash, "state=" the row as it leaves it (STORE_USER_STATE; "deleted",
 * "unreadable") and " was=" what it found before writing ("none", or the BLAKE2b-256 of that
 * state's text). An event without both was written before schema 4 and holds neither. */
#define USER_EVENTS                                                                            \
    "event IN ('user_added', 'user_password_changed', 'user_totp_reset', 'user_locked', "      \
    "'user_unlocked', 'user_deleted', 'user_password_rehashed')"
#define USER_NEW(d) "(instr(" d ", 'state=') > 0 AND instr(" d ", ' was=') > 0)"
#define USER_STATE_OF(d)                                                                       \
    "substr(" d ", instr(" d ", 'state=') + 6, instr(" d ", ' was=') - instr(" d ", 'state=') - 6)"
#define USER_WAS_OF(d) "substr(" d ", instr(" d ", ' was=') + 5)"
#define USER_LATEST                                                                            \
    "WITH latest(username, id) AS (SELECT username, max(id) FROM audit WHERE username IS NOT "  \
    "NULL AND " USER_EVENTS " GROUP BY username) "
/* A row whose name's latest user event does not record it as it is (or none, or deleted); a
 * row holding what STORE_USER_STATE cannot read is always one. An older latest event only
 * says the row exists. */
#define USER_UNLOGGED                                                                          \
    USER_LATEST ", rows(username, state) AS (SELECT username, " STORE_USER_STATE               \
    " FROM users) SELECT r.username FROM rows AS r LEFT JOIN latest AS l USING (username) "     \
    "LEFT JOIN audit AS a ON a.id = l.id WHERE a.id IS NULL OR a.event = 'user_deleted' OR "    \
    "r.state IS NULL OR (" USER_NEW("a.detail") " AND " USER_STATE_OF("a.detail")              \
    " IS NOT r.state) ORDER BY r.username LIMIT 1"
#define USER_LOST                                                                              \
    USER_LATEST "SELECT l.username FROM latest AS l JOIN audit AS a ON a.id = l.id WHERE "      \
    "a.event != 'user_deleted' AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.username = "    \
    "l.username) ORDER BY l.username LIMIT 1"
/* An event that found the row other than the name's event before it left it: the row was
 * changed between the two without the log (an edit a later event would otherwise have taken
 * into the log as the row's state). After a deletion, or first, it must have found none;
 * after an older event there is nothing to compare. */
#define USER_CHANGED                                                                           \
    "WITH ev AS (SELECT id, username, detail, lag(event) OVER w AS pev, lag(detail) OVER w "    \
    "AS pdet FROM audit WHERE username IS NOT NULL AND " USER_EVENTS " WINDOW w AS "           \
    "(PARTITION BY username ORDER BY id)) SELECT username FROM ev WHERE " USER_NEW("detail")   \
    " AND CASE WHEN pev IS NULL OR pev = 'user_deleted' THEN " USER_WAS_OF("detail")           \
    " IS NOT 'none' WHEN " USER_NEW("pdet") " THEN " USER_WAS_OF("detail")                     \
    " IS NOT 'BLAKE2b-256:' || sshcert_text_hash(" USER_STATE_OF("pdet") ") ELSE 0 END "       \
    "ORDER BY id LIMIT 1"

/* x->username: the name in column col of st, made safe to show (lib/text.h's one rule). */
static void
xcheck_username(struct sshcert_audit_xcheck *x, sqlite3_stmt *st, int col)
{
    sshcert_text_sanitize(x->username, sizeof(x->username),
        (const char *)sqlite3_column_text(st, col), SSHCERT_TEXT_ASCII);
}

/* ---- The grant replay: each certificate the server issued, against its user's grant as the
 * log had it just before (a users row edited, used and put back before the next user event
 * leaves the table as the log says, but not the certificate it got). ---- */

/* A user as the log has it so far; principals NULL while unknown (an unreadable state). */
struct grant {
    char *name; /* the table's key */
    char *principals;
    uint64_t max_ttl;
    int disabled, exists;
    uint64_t step; /* the last TOTP step its logins logged since its secret was set; 0: none */
};

/* The text after key in d up to the next space or the end, copied (*fail set when out of
 * memory); NULL, *fail clear, when key is not there. A readable state, and the detail of an
 * issuance by the server (key id NAME#SERIAL), hold no space inside a field (principals and
 * names refuse it), so the first key is the field. */
static char *
field_dup(const char *d, const char *key, int *fail)
{
    const char *p = strstr(d, key), *e;
    char *c;

    if (p == NULL)
        return NULL;
    p += strlen(key);
    e = strchr(p, ' ');
    if ((c = strndup(p, e != NULL ? (size_t)(e - p) : strlen(p))) == NULL)
        *fail = 1;
    return c;
}

/* The decimal number after key in d, ending at a space or the end; -1 when there is none. */
static int
field_u64(const char *d, const char *key, uint64_t *v)
{
    const char *p = strstr(d, key);
    char *end;

    if (p == NULL || (p += strlen(key), *p < '0' || *p > '9'))
        return -1;
    errno = 0;
    *v = strtoull(p, &end, 10);
    return errno == 0 && (*end == ' ' || *end == '\0') ? 0 : -1;
}

/* g from a user event (d its detail, NULL allowed): a schema-4 state sets everything it says
 * ("unreadable": the principals unknown until a readable one); an older event what its kind
 * says (user_added's detail is the principals). */
static int
grant_apply(struct grant *g, const char *event, const char *d)
{
    const char *state = d != NULL && strstr(d, " was=") != NULL ? strstr(d, "state=") : NULL;
    uint64_t v;
    int fail = 0;

    /* A new secret (or none) starts with the row's step at 0. */
    if (strcmp(event, "user_added") == 0 || strcmp(event, "user_totp_reset") == 0 ||
        strcmp(event, "user_deleted") == 0)
        g->step = 0;
    if (strcmp(event, "user_deleted") == 0) {
        g->exists = 0;
        return 0;
    }
    g->exists = 1;
    if (strcmp(event, "user_added") == 0) {
        g->disabled = 0;
        g->max_ttl = 0;
    } else if (strcmp(event, "user_locked") == 0 || strcmp(event, "user_unlocked") == 0) {
        g->disabled = strcmp(event, "user_locked") == 0;
    }
    if (state == NULL && strcmp(event, "user_added") != 0)
        return 0;
    free(g->principals);
    g->principals = NULL;
    if (state == NULL) {
        g->principals = strdup(d != NULL ? d : "");
        return g->principals != NULL ? 0 : SSHCERT_ERR_ALLOC;
    }
    if (strncmp(state, "state=principals=", 17) != 0)
        return 0;
    g->max_ttl = field_u64(state, " max_ttl=", &v) == 0 ? v : 0;
    g->disabled = field_u64(state, " disabled=", &v) != 0 || v != 0;
    g->principals = field_dup(state, "state=principals=", &fail);
    return fail ? SSHCERT_ERR_ALLOC : 0;
}

/* 0 when a schema-4 cert_issued event's detail d (after its step, issue_step) is within g, 1
 * when beyond it, or SSHCERT_ERR_ALLOC. An unreadable user's grant is unknown: the users
 * checks before this one report that row. */
static int
grant_exceeded(const struct grant *g, const char *d)
{
    struct sshcert_principals want;
    char *list = NULL;
    uint64_t ttl;
    int fail = 0, r = SSHCERT_ERR_SYSTEM;

    if (g == NULL || !g->exists || g->disabled) {
        r = 1;
        goto out;
    }
    if (g->principals == NULL) {
        r = 0;
        goto out;
    }
    if (strncmp(d, "key_id=", 7) != 0 || field_u64(d, " ttl=", &ttl) != 0 ||
        (g->max_ttl > 0 && ttl > g->max_ttl)) {
        r = 1;
        goto out;
    }
    if ((list = field_dup(d, " principals=", &fail)) == NULL) {
        r = fail ? SSHCERT_ERR_ALLOC : 1;
        goto out;
    }
    if ((r = sshcert_policy_parse_principals(list, &want)) != 0) {
        r = r == SSHCERT_ERR_ALLOC ? r : 1;
        goto out;
    }
    r = sshcert_policy_principals_subset(&want, g->principals) != 0;
    sshcert_policy_principals_free(&want);
out:
    free(list);
    return r;
}

/* The detail d of a login's event after its "step=N " (schema 5: a certificate issued, or a
 * refusal after the code was used up), *step set to N; d itself, *step 0, when it does not
 * start with "step=" (before schema 5, or an operator's); NULL when it does but N is not a
 * number the server writes (the claim took N only if newer than the row's step, never below
 * 0, so N > 0). */
static const char *
issue_step(const char *d, uint64_t *step)
{
    char *end;
    uint64_t v;

    *step = 0;
    if (d == NULL || strncmp(d, "step=", 5) != 0)
        return d;
    if (d[5] < '1' || d[5] > '9')
        return NULL;
    errno = 0;
    v = strtoull(d + 5, &end, 10);
    if (errno != 0 || *end != ' ')
        return NULL;
    *step = v;
    return end + 1;
}

/* Whether an issuance's detail d has the schema-4 form, as ISSUE_LONG says in SQL: it ends
 * with " cert=BLAKE2b-256:" and 64 characters. */
static int
issue_long(const char *d)
{
    static const char tag[] = " cert=BLAKE2b-256:";
    size_t n = d != NULL ? strlen(d) : 0, t = sizeof(tag) - 1;

    return n > t + SSHCERT_TEXT_HASH_HEX - 1 &&
           memcmp(d + n - t - (SSHCERT_TEXT_HASH_HEX - 1), tag, t) == 0;
}

/* The grants' table: as many entries as names the user events hold (one read transaction:
 * no more can appear while the replay runs). */
static int
grant_table(struct sshcert_store *s, struct hsearch_data *tab, struct grant **all, size_t *cap)
{
    static const char names[] =
        "SELECT count(DISTINCT username) FROM audit WHERE username IS NOT NULL AND " USER_EVENTS;
    sqlite3_stmt *st;
    int rc;

    *all = NULL;
    *cap = 0;
    if ((st = store_stmt(s, names)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *cap = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_err(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
    memset(tab, 0, sizeof(*tab));
    if ((*all = calloc(*cap + 1, sizeof(**all))) == NULL || hcreate_r(*cap * 2 + 16, tab) == 0) {
        free(*all);
        *all = NULL;
        return SSHCERT_ERR_ALLOC;
    }
    return 0;
}

/* After the replay: no users row's step older than the last its logins logged since its secret
 * was set (a lowered step re-opens used codes); a step that is not an integer, or below 0,
 * counts as older. */
static int
steps_lowered(struct sshcert_store *s, struct hsearch_data *tab, struct sshcert_audit_xcheck *x)
{
    static const char rows[] = "SELECT username, totp_last_step FROM users ORDER BY username";
    ENTRY e = {0}, *found;
    const struct grant *g;
    sqlite3_stmt *st;
    int rc, r = 0;

    if ((st = store_stmt(s, rows)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((e.key = (char *)sqlite3_column_text(st, 0)) == NULL) {
            if (sqlite3_column_type(st, 0) == SQLITE_NULL)
                continue; /* a NULL name: the users checks before report that row */
            r = SSHCERT_ERR_ALLOC;
            break;
        }
        found = NULL;
        (void)hsearch_r(e, FIND, &found, tab);
        g = found != NULL ? found->data : NULL;
        if (g != NULL && g->exists && g->step > 0 &&
            (sqlite3_column_type(st, 1) != SQLITE_INTEGER || sqlite3_column_int64(st, 1) < 0 ||
                (uint64_t)sqlite3_column_int64(st, 1) < g->step)) {
            x->mismatch = SSHCERT_AUDIT_STEP_LOWERED;
            xcheck_username(x, st, 0);
            r = SSHCERT_ERR_SIGNATURE;
        }
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_err(rc);
    sqlite3_reset(st);
    return r;
}

/* Walks the user events and the schema-4 issuances of the server in log order. Issuances of
 * the builds before are left out: until the issuance's transaction checked the account
 * (8b01317), a lock could land between a login and its certificate. Since schema 5 each also
 * names its TOTP step, which must be newer than its user's last (its issuances' and its
 * refusals' after a right code): the claim refuses any other, so one that is not was taken
 * after the row's step was set back. */
static int
grant_replay(struct sshcert_store *s, struct sshcert_audit_xcheck *x)
{
    static const char events[] =
        "SELECT event, username, detail, serial FROM audit WHERE username IS NOT NULL AND ("
        USER_EVENTS " OR (event IN ('cert_issued', 'issue_refused', 'login_refused') AND "
        "actor = 'server')) ORDER BY id";
    struct hsearch_data tab;
    struct grant *all = NULL;
    ENTRY e = {0}, *found;
    sqlite3_stmt *st;
    size_t n = 0, cap, i;
    int rc = SQLITE_DONE, r;

    if ((r = grant_table(s, &tab, &all, &cap)) != 0)
        return r;
    if ((st = store_stmt(s, events)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ev = (const char *)sqlite3_column_text(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 2);

        e.key = (char *)sqlite3_column_text(st, 1);
        if (ev == NULL || e.key == NULL) {
            r = SSHCERT_ERR_ALLOC;
            break;
        }
        found = NULL;
        (void)hsearch_r(e, FIND, &found, &tab);
        if (strcmp(ev, "cert_issued") == 0) {
            struct grant *g = found != NULL ? found->data : NULL;
            uint64_t step;
            int reused;

            if (!issue_long(d))
                continue;
            if ((d = issue_step(d, &step)) == NULL) {
                r = 0; /* a step it cannot read cannot be newer */
                reused = 1;
            } else {
                r = grant_exceeded(g, d); /* 0: g is a user's */
                reused = r == 0 && step != 0 && step <= g->step;
            }
            if (r == 0 && step != 0 && !reused)
                g->step = step;
            if (r == 1 || reused) {
                x->mismatch = reused ? SSHCERT_AUDIT_STEP_REUSED : SSHCERT_AUDIT_GRANT_EXCEEDED;
                x->serial = (uint64_t)sqlite3_column_int64(st, 3);
                xcheck_username(x, st, 1);
                r = SSHCERT_ERR_SIGNATURE;
            }
            continue;
        }
        if (strcmp(ev, "issue_refused") == 0 || strcmp(ev, "login_refused") == 0) {
            /* A refusal after a right code used its step up (written after the claim, so it can
             * follow a later login's issuance: only a newer step counts). */
            uint64_t step;

            if (found != NULL && issue_step(d, &step) != NULL &&
                step > ((struct grant *)found->data)->step)
                ((struct grant *)found->data)->step = step;
            continue;
        }
        if (found == NULL) {
            /* A name first seen here; more names than counted cannot be (same snapshot). */
            if (n >= cap) {
                r = SSHCERT_ERR_SYSTEM;
                break;
            }
            if ((e.key = strdup(e.key)) == NULL) {
                r = SSHCERT_ERR_ALLOC;
                break;
            }
            e.data = &all[n];
            if (hsearch_r(e, ENTER, &found, &tab) == 0) {
                free(e.key);
                r = SSHCERT_ERR_ALLOC;
                break;
            }
            all[n++].name = e.key;
        }
        r = grant_apply(found->data, ev, d);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_err(rc);
    sqlite3_reset(st);
    if (r == 0)
        r = steps_lowered(s, &tab, x);
out:
    /* hdestroy_r frees neither keys nor data: each grant holds its key. */
    hdestroy_r(&tab);
    for (i = 0; i < n; i++) {
        free(all[i].name);
        free(all[i].principals);
    }
    free(all);
    return r;
}

int
sshcert_store_audit_crosscheck(struct sshcert_store *s, struct sshcert_audit_xcheck *x)
{
    static const char counts[] = "SELECT count(*), count(revoked_at), (SELECT count(*) FROM "
                                 "users) FROM certificates";
    static const struct {
        const char *sql;
        enum sshcert_audit_mismatch kind;
    } checks[] = {
        {ISSUE_DIFF, SSHCERT_AUDIT_CERT_UNLOGGED}, /* or ISSUE_NO_CERT: column 2 says */
        {CERT_AS_REVOKE " EXCEPT " LOG_REVOKES " ORDER BY 1 LIMIT 1",
            SSHCERT_AUDIT_REVOKE_UNLOGGED},
        {LOG_REVOKES " EXCEPT " CERT_AS_REVOKE " ORDER BY 1 LIMIT 1", SSHCERT_AUDIT_REVOKE_LOST},
        {RANGE_AS_RESTORE " EXCEPT " LOG_RESTORES " ORDER BY 1 LIMIT 1",
            SSHCERT_AUDIT_RANGE_UNLOGGED},
        {LOG_RESTORES " EXCEPT " RANGE_AS_RESTORE " ORDER BY 1 LIMIT 1", SSHCERT_AUDIT_RANGE_LOST},
        {USER_CHANGED, SSHCERT_AUDIT_USER_CHANGED},
        {USER_UNLOGGED, SSHCERT_AUDIT_USER_UNLOGGED},
        {USER_LOST, SSHCERT_AUDIT_USER_LOST},
    };
    sqlite3_stmt *st;
    size_t i;
    int rc, r = 0;

    memset(x, 0, sizeof(*x));
    if ((r = store_enter(s)) != 0)
        return r;
    /* One read transaction: the counts and the comparisons see the same snapshot. */
    if ((r = store_run(s, "BEGIN")) != 0)
        goto out;
    if ((st = store_stmt(s, counts)) == NULL || (rc = sqlite3_step(st)) != SQLITE_ROW) {
        r = st == NULL ? SSHCERT_ERR_SYSTEM : store_err(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
        goto end;
    }
    x->certs = (uint64_t)sqlite3_column_int64(st, 0);
    x->revoked = (uint64_t)sqlite3_column_int64(st, 1);
    x->users = (uint64_t)sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    for (i = 0; i < sizeof(checks) / sizeof(checks[0]) && r == 0; i++) {
        if ((st = store_stmt(s, checks[i].sql)) == NULL) {
            r = SSHCERT_ERR_SYSTEM;
            break;
        }
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            x->mismatch = checks[i].kind;
            if (x->mismatch == SSHCERT_AUDIT_CERT_UNLOGGED && sqlite3_column_int(st, 1) == 2)
                x->mismatch = SSHCERT_AUDIT_ISSUE_NO_CERT;
            if (sshcert_audit_names_user(x->mismatch))
                xcheck_username(x, st, 0);
            else
                x->serial = (uint64_t)sqlite3_column_int64(st, 0);
            r = SSHCERT_ERR_SIGNATURE;
        } else if (rc != SQLITE_DONE)
            r = store_err(rc);
        sqlite3_reset(st);
    }
    if (r == 0)
        r = grant_replay(s, x);
end:
    store_rollback(s);
out:
    pthread_mutex_unlock(&s->mu);
    return r;
}

int
sshcert_store_audit_each(struct sshcert_store *s, uint64_t since, uint64_t after_id,
    sshcert_store_audit_fn fn,
    void *ctx)
{
    struct sshcert_audit_event e;
    sqlite3_stmt *st;
    int rc = SQLITE_DONE, r;

    if ((r = store_enter(s)) != 0)
        return r;
    if ((st = store_stmt(s, audit_all)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)after_id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            memset(&e, 0, sizeof(e));
            event_from_row(st, &e);
            if ((r = fn(ctx, &e)) != 0)
                break;
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = store_err(rc);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}
