#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "migrations.h"
#include "store.h"
#include "store_int.h"

/* Migrations in order; migration N brings user_version from N-1 to N. */
static const char *const migrations[] = {sshcert_migration_001, sshcert_migration_002,
    sshcert_migration_003, sshcert_migration_004, sshcert_migration_005};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

void
sshcert_store_user_key(char key[SSHCERT_THROTTLE_KEY_LEN], const char *username)
{
    snprintf(key, SSHCERT_THROTTLE_KEY_LEN, "user:%s", username);
}

void
sshcert_store_addr_key(char key[SSHCERT_THROTTLE_KEY_LEN], const char *addr)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct in6_addr a;
    char net[INET6_ADDRSTRLEN], ip[INET6_ADDRSTRLEN];
    const char *scope = strchr(addr, '%');
    size_t iplen = scope != NULL ? (size_t)(scope - addr) : strlen(addr);

    /* A client holds a whole IPv6 /64 (2^64 addresses), so one address per key would let it
     * spread its failures past auth.client_max_failures: an IPv6 address counts by its /64
     * (a link-local one by its /64 on its link: "fe80::/64%eth0"). An IPv4-mapped one (a
     * dual-stack listener) counts as the IPv4 address it is. */
    if (scope == NULL)
        scope = "";
    if (iplen < sizeof(ip)) {
        memcpy(ip, addr, iplen);
        ip[iplen] = '\0';
    } else {
        ip[0] = '\0';
    }
    if (inet_pton(AF_INET6, ip, &a) == 1) {
        if (memcmp(a.s6_addr, v4mapped, sizeof(v4mapped)) == 0 &&
            inet_ntop(AF_INET, &a.s6_addr[12], net, sizeof(net)) != NULL) {
            snprintf(key, SSHCERT_THROTTLE_KEY_LEN, "addr:%s", net);
            return;
        }
        memset(&a.s6_addr[8], 0, 8);
        if (inet_ntop(AF_INET6, &a, net, sizeof(net)) != NULL) {
            snprintf(key, SSHCERT_THROTTLE_KEY_LEN, "addr:%s/64%s", net, scope);
            return;
        }
    }
    snprintf(key, SSHCERT_THROTTLE_KEY_LEN, "addr:%s", addr);
}

int
store_err(int rc)
{
    switch (rc) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return SSHCERT_ERR_ALLOC;
    case SQLITE_CONSTRAINT:
        return SSHCERT_ERR_DUPLICATE;
    case SQLITE_BUSY: /* the busy timeout ran out: another connection holds the write lock */
        return SSHCERT_ERR_BUSY;
    default:
        return SSHCERT_ERR_SYSTEM;
    }
}

sqlite3_stmt *
store_stmt_on(sqlite3 *db, struct store_stmts *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (c->sql[i] == sql) {
            sqlite3_reset(c->stmt[i]);
            sqlite3_clear_bindings(c->stmt[i]);
            return c->stmt[i];
        }
    }
    if (c->n == STORE_MAX_STMTS)
        return NULL; /* cannot happen with the fixed set of statements; fail closed */
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    c->sql[c->n] = sql;
    c->stmt[c->n++] = st;
    return st;
}

void
store_stmts_finalize(struct store_stmts *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        sqlite3_finalize(c->stmt[i]);
    c->n = 0;
}

sqlite3_stmt *
store_stmt(struct sshcert_store *s, const char *sql)
{
    return store_stmt_on(s->db, &s->stmts, sql);
}

int
store_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_err(rc == SQLITE_ROW ? SQLITE_ERROR : rc);
}

static int
exec_sql(struct sshcert_store *s, const char *sql)
{
    return store_err(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

/* BEGIN and COMMIT run for every write: prepared once, like the other statements, rather
 * than parsed again by sqlite3_exec each time. */
int
store_run(struct sshcert_store *s, const char *sql)
{
    sqlite3_stmt *st = store_stmt(s, sql);

    return st != NULL ? store_step_done(st) : SSHCERT_ERR_SYSTEM;
}

int
store_begin(struct sshcert_store *s)
{
    static const char sql[] = "BEGIN IMMEDIATE";

    return store_run(s, sql);
}

int
store_commit(struct sshcert_store *s)
{
    static const char sql[] = "COMMIT";
    int r = store_run(s, sql);

    if (r != 0)
        store_rollback(s);
    return r;
}

void
store_rollback(struct sshcert_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

char *
store_col_str(sqlite3_stmt *st, int col, int *fail)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    char *c;

    if (t == NULL)
        return NULL;
    if ((c = strdup((const char *)t)) == NULL)
        *fail = 1;
    return c;
}

int
store_meta_get(struct sshcert_store *s, const char *key, uint64_t *v)
{
    static const char sql[] = "SELECT value FROM meta WHERE key = ?1";
    sqlite3_stmt *st;
    int rc;

    *v = 0;
    if ((st = store_stmt(s, sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? SSHCERT_ERR_NOT_FOUND : store_err(rc);
}

int
store_meta_set(struct sshcert_store *s, const char *key, uint64_t v)
{
    static const char sql[] = "UPDATE meta SET value = ?2 WHERE key = ?1";
    sqlite3_stmt *st;

    if ((st = store_stmt(s, sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
    return store_step_done(st);
}

/* The schema's version (PRAGMA user_version), read in a transaction of its own or in the
 * caller's. */
static int
schema_version(struct sshcert_store *s, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return SSHCERT_ERR_SYSTEM;
    }
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return store_err(rc);
    /* A newer sshcert wrote this database: refuse rather than guess. */
    return *version < 0 || (size_t)*version > NMIGRATIONS ? SSHCERT_ERR_UNSUPPORTED : 0;
}

/* A current schema is only read (a read never waits for a writer in WAL mode, so sshcert-admin's
 * reports work while the server or another admin writes); an older one is migrated under the
 * write lock, its version read again there since another process may have migrated it first. */
static int
migrate(struct sshcert_store *s)
{
    int version = 0, r;
    char pragma[64];
    size_t i;

    if ((r = schema_version(s, &version)) != 0 || (size_t)version == NMIGRATIONS)
        return r;
    if ((r = store_begin(s)) != 0)
        return r;
    if ((r = schema_version(s, &version)) != 0) {
        store_rollback(s);
        return r;
    }
    for (i = (size_t)version; i < NMIGRATIONS; i++) {
        if ((r = exec_sql(s, migrations[i])) != 0) {
            store_rollback(s);
            return r;
        }
    }
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", NMIGRATIONS);
    if ((r = exec_sql(s, pragma)) != 0) {
        store_rollback(s);
        return r;
    }
    return store_commit(s);
}

static void
readers_close(struct store_reader *rd, unsigned n)
{
    unsigned i;

    if (rd == NULL)
        return;
    for (i = 0; i < n; i++) {
        store_stmts_finalize(&rd[i].stmts);
        if (rd[i].db != NULL)
            sqlite3_close(rd[i].db);
        pthread_mutex_destroy(&rd[i].mu);
    }
    free(rd);
}

int
sshcert_store_open(const char *path, int create, struct sshcert_store **out)
{
    struct sshcert_store *s;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, r;

    *out = NULL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return SSHCERT_ERR_ALLOC;
    s->wal_fd = -1;
    atomic_init(&s->reader_busy_ms, SSHCERT_STORE_BUSY_MS);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->batch_mu, NULL);
    s->batch_tail = &s->batch_head;
    if (create)
        flags |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        r = s->db == NULL ? SSHCERT_ERR_ALLOC : SSHCERT_ERR_SYSTEM;
        sshcert_store_close(s);
        return r == SSHCERT_ERR_SYSTEM && !create ? SSHCERT_ERR_NOT_FOUND : r;
    }
    atomic_init(&s->busy_ms, SSHCERT_STORE_BUSY_MS);
    atomic_init(&s->busy_at_ms, 0);
    if ((r = store_audit_functions(s->db)) != 0) {
        sshcert_store_close(s);
        return r;
    }
    store_busy_open(s);
    sqlite3_extended_result_codes(s->db, 0);
    /* WAL for concurrent readers (sshcert-admin while the server runs); FULL so a commit is
     * on disk before the certificate leaves the server, until store_sync_open moves the
     * flush out of the lock (same guarantee, see store_sync.c). */
    if ((r = exec_sql(s, "PRAGMA journal_mode=WAL")) != 0 ||
        (r = exec_sql(s, "PRAGMA synchronous=FULL")) != 0 ||
        (r = exec_sql(s, "PRAGMA foreign_keys=ON")) != 0 ||
        (r = exec_sql(s, "PRAGMA secure_delete=ON")) != 0 ||
        (r = migrate(s)) != 0 || (r = store_sync_open(s)) != 0 ||
        (r = store_batch_start(s)) != 0) {
        sshcert_store_close(s);
        return r;
    }
    *out = s;
    return 0;
}

void
sshcert_store_close(struct sshcert_store *s)
{
    if (s == NULL)
        return;
    store_batch_stop(s);
    readers_close(s->readers, s->nreaders);
    free(s->reader_path);
    store_sync_close(s);
    store_stmts_finalize(&s->stmts);
    if (s->db != NULL)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->batch_mu);
    free(s);
}

int
sshcert_store_backup(struct sshcert_store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    int fd, rc, r, e;

    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return errno == EEXIST ? SSHCERT_ERR_DUPLICATE : SSHCERT_ERR_SYSTEM;
    if ((r = store_enter(s)) != 0) {
        close(fd);
        unlink(path);
        return r;
    }
    /* VACUUM INTO takes an empty file as new; the one made above keeps the copy 0600. */
    if ((rc = sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &st, NULL)) == SQLITE_OK &&
        (rc = sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    r = store_err(rc);
    if (r == 0 && fsync(fd) != 0)
        r = SSHCERT_ERR_SYSTEM;
    e = errno;
    close(fd);
    if (r != 0)
        unlink(path);
    errno = e;
    return r;
}

void
sshcert_store_set_busy_timeout(struct sshcert_store *s, int ms)
{
    unsigned i;

    atomic_store(&s->busy_ms, ms);
    atomic_store(&s->reader_busy_ms, ms);
    for (i = 0; i < s->nreaders; i++) {
        pthread_mutex_lock(&s->readers[i].mu);
        if (s->readers[i].db != NULL)
            sqlite3_busy_timeout(s->readers[i].db, ms);
        pthread_mutex_unlock(&s->readers[i].mu);
    }
}

int
sshcert_store_writable(struct sshcert_store *s)
{
    /* Only a committed change reaches the disk: a rolled-back transaction never writes the
     * WAL, and SQLite does not rewrite a page whose content is unchanged. So bump a counter
     * that nothing else reads, and commit it (durably, like an issuance). */
    static const char sql[] = "INSERT INTO meta(key, value) VALUES ('health_probe', 1) "
                              "ON CONFLICT(key) DO UPDATE SET value = value + 1";
    sqlite3_stmt *st;
    uint64_t seq;
    int r;

    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) == 0) {
        if ((st = store_stmt(s, sql)) == NULL)
            r = SSHCERT_ERR_SYSTEM;
        else
            r = store_step_done(st);
        r = r == 0 ? store_commit(s) : (store_rollback(s), r);
    }
    return store_unlock_durable(s, seq, r);
}

/* ---- users ---- */

void
sshcert_user_free(struct sshcert_user *u)
{
    if (u == NULL)
        return;
    free(u->username);
    if (u->password_hash != NULL) {
        sodium_memzero(u->password_hash, strlen(u->password_hash));
        free(u->password_hash);
    }
    if (u->totp_secret != NULL) {
        sodium_memzero(u->totp_secret, u->totp_secret_len);
        free(u->totp_secret);
    }
    free(u->principals);
    free(u);
}

void
sshcert_store_users_free(struct sshcert_user **u, size_t n)
{
    size_t i;

    if (u == NULL)
        return;
    for (i = 0; i < n; i++)
        sshcert_user_free(u[i]);
    free(u);
}

#define USER_COLS                                                                              \
    "id, username, password_hash, totp_secret, principals, max_ttl, disabled, totp_last_step, " \
    "created_at, updated_at"

static int
user_from_row(sqlite3_stmt *st, struct sshcert_user **out)
{
    struct sshcert_user *u;
    const void *blob;
    int fail = 0, n;

    *out = NULL;
    if ((u = calloc(1, sizeof(*u))) == NULL)
        return SSHCERT_ERR_ALLOC;
    u->id = sqlite3_column_int64(st, 0);
    u->username = store_col_str(st, 1, &fail);
    u->password_hash = store_col_str(st, 2, &fail);
    blob = sqlite3_column_blob(st, 3);
    n = sqlite3_column_bytes(st, 3);
    if (blob != NULL && n > 0) {
        if ((u->totp_secret = malloc((size_t)n)) == NULL)
            fail = 1;
        else {
            memcpy(u->totp_secret, blob, (size_t)n);
            u->totp_secret_len = (size_t)n;
        }
    }
    u->principals = store_col_str(st, 4, &fail);
    u->max_ttl = (uint64_t)sqlite3_column_int64(st, 5);
    u->disabled = sqlite3_column_int(st, 6);
    u->totp_last_step = (uint64_t)sqlite3_column_int64(st, 7);
    u->created_at = (uint64_t)sqlite3_column_int64(st, 8);
    u->updated_at = (uint64_t)sqlite3_column_int64(st, 9);
    if (fail || u->username == NULL || u->password_hash == NULL || u->principals == NULL) {
        sshcert_user_free(u);
        return SSHCERT_ERR_ALLOC;
    }
    *out = u;
    return 0;
}

int
sshcert_store_user_add(struct sshcert_store *s, const struct sshcert_user *u, uint64_t now)
{
    static const char sql[] =
        "INSERT INTO users(username, password_hash, totp_secret, principals, max_ttl, disabled, "
        "totp_last_step, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?6)";
    sqlite3_stmt *st;
    uint64_t seq;
    int r;

    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) != 0)
        goto out;
    if ((st = store_stmt(s, sql)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    sqlite3_bind_text(st, 1, u->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, u->totp_secret, (int)u->totp_secret_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, u->principals, -1, SQLITE_STATIC);
    if (u->max_ttl > 0)
        sqlite3_bind_int64(st, 5, (sqlite3_int64)u->max_ttl);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
    if ((r = store_step_done(st)) != 0)
        goto out;
    if ((r = store_audit_user_locked(s, now, "user_added", "operator", u->username, NULL,
             NULL, "none")) != 0)
        goto out;
    r = store_commit(s);
out:
    if (r != 0)
        store_rollback(s);
    return store_unlock_durable(s, seq, r);
}

int
sshcert_store_user_get(struct sshcert_store *s, const char *username, struct sshcert_user **out)
{
    static const char sql[] = "SELECT " USER_COLS " FROM users WHERE username = ?1";
    sqlite3_stmt *st;
    int rc, r;

    *out = NULL;
    if ((r = store_enter(s)) != 0)
        return r;
    if ((st = store_stmt(s, sql)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = user_from_row(st, out);
    else
        r = rc == SQLITE_DONE ? SSHCERT_ERR_NOT_FOUND : store_err(rc);
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    return r;
}

int
sshcert_store_user_list(struct sshcert_store *s, struct sshcert_user ***out, size_t *n)
{
    static const char sql[] = "SELECT " USER_COLS " FROM users ORDER BY username";
    struct sshcert_user **arr = NULL, **na, *u;
    sqlite3_stmt *st;
    size_t cnt = 0;
    int rc, r = 0;

    *out = NULL;
    *n = 0;
    if ((r = store_enter(s)) != 0)
        return r;
    if ((st = store_stmt(s, sql)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = user_from_row(st, &u)) != 0)
            break;
        if ((na = realloc(arr, (cnt + 1) * sizeof(*na))) == NULL) {
            sshcert_user_free(u);
            r = SSHCERT_ERR_ALLOC;
            break;
        }
        arr = na;
        arr[cnt++] = u;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_err(rc);
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    if (r != 0) {
        sshcert_store_users_free(arr, cnt);
        return r;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

/* The value a user change writes as ?2 (the username is ?1, the time ?3). */
struct user_value {
    enum { UV_NONE, UV_TEXT, UV_BLOB, UV_INT } kind;
    const char *text;
    const void *blob;
    size_t len;
    int ival;
};

/* What user_write does besides its row and its audit event. */
enum {
    USER_CLEAR_LOCKOUT = 1, /* the user's failure lockout goes */
    USER_REVOKE_CERTS = 2,  /* the user's unexpired certificates are revoked (*revoked: how many) */
};

/*
 * One single-row UPDATE/DELETE keyed by username, its audit event and what flags ask for: one
 * durable transaction. SSHCERT_ERR_NOT_FOUND when no such user.
 */
static int
user_write(struct sshcert_store *s, const char *sql, const char *username,
    const struct user_value *v, uint64_t now, const char *event, unsigned flags,
    uint64_t *revoked)
{
    static const char clear[] = "DELETE FROM failures WHERE key = ?1";
    char key[SSHCERT_THROTTLE_KEY_LEN], was[STORE_USER_WAS_LEN];
    sqlite3_stmt *st;
    uint64_t seq;
    int r;

    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) != 0)
        return store_unlock_durable(s, seq, r);
    if ((r = store_user_was(s, username, was)) != 0)
        goto out;
    if ((st = store_stmt(s, sql)) == NULL) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    /* Statements without ?2 or ?3 ignore those bindings (SQLITE_RANGE). */
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    if (v->kind == UV_TEXT)
        sqlite3_bind_text(st, 2, v->text, -1, SQLITE_STATIC);
    else if (v->kind == UV_BLOB)
        sqlite3_bind_blob(st, 2, v->blob, (int)v->len, SQLITE_STATIC);
    else if (v->kind == UV_INT)
        sqlite3_bind_int(st, 2, v->ival);
    (void)sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
    if ((r = store_step_done(st)) != 0)
        goto out;
    if (sqlite3_changes(s->db) != 1) {
        r = SSHCERT_ERR_NOT_FOUND;
        goto out;
    }
    if ((r = store_audit_user_locked(s, now, event, "operator", username, NULL, NULL, was)) != 0)
        goto out;
    if ((flags & USER_REVOKE_CERTS) &&
        (r = store_revoke_user_locked(s, username, "user deleted", now, "operator", revoked)) != 0)
        goto out;
    if (flags & USER_CLEAR_LOCKOUT) {
        sshcert_store_user_key(key, username);
        if ((st = store_stmt(s, clear)) == NULL) {
            r = SSHCERT_ERR_SYSTEM;
            goto out;
        }
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if ((r = store_step_done(st)) != 0)
            goto out;
    }
    r = store_commit(s);
out:
    if (r != 0)
        store_rollback(s);
    return store_unlock_durable(s, seq, r);
}

int
sshcert_store_user_set_password(struct sshcert_store *s, const char *username, const char *hash,
    uint64_t now)
{
    static const char sql[] =
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE username = ?1";
    struct user_value v = {.kind = UV_TEXT, .text = hash};

    return user_write(s, sql, username, &v, now, "user_password_changed", 0, NULL);
}

int
sshcert_store_user_set_totp(struct sshcert_store *s, const char *username, const uint8_t *sealed,
    size_t len, uint64_t now)
{
    static const char sql[] = "UPDATE users SET totp_secret = ?2, totp_last_step = 0, "
                              "updated_at = ?3 WHERE username = ?1";
    struct user_value v = {.kind = UV_BLOB, .blob = sealed, .len = len};

    return user_write(s, sql, username, &v, now, "user_totp_reset", 0, NULL);
}

int
sshcert_store_user_set_disabled(struct sshcert_store *s, const char *username, int disabled,
    uint64_t now)
{
    static const char sql[] =
        "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE username = ?1";
    struct user_value v = {.kind = UV_INT, .ival = disabled ? 1 : 0};

    /* Unlock also lifts a failure lockout. */
    return user_write(s, sql, username, &v, now, disabled ? "user_locked" : "user_unlocked",
        disabled ? 0u : USER_CLEAR_LOCKOUT, NULL);
}

int
sshcert_store_user_delete(struct sshcert_store *s, const char *username, uint64_t now,
    uint64_t *revoked)
{
    static const char sql[] = "DELETE FROM users WHERE username = ?1";
    struct user_value v = {.kind = UV_NONE};
    int r;

    *revoked = 0;
    if ((r = user_write(s, sql, username, &v, now, "user_deleted",
             USER_REVOKE_CERTS | USER_CLEAR_LOCKOUT, revoked)) != 0)
        *revoked = 0;
    return r;
}

/* ---- throttling ---- */

int
sshcert_store_failure_get(struct sshcert_store *s, const char *key, uint64_t *locked_until)
{
    static const char sql[] = "SELECT locked_until FROM failures WHERE key = ?1";
    sqlite3_stmt *st;
    int rc, r = 0;

    *locked_until = 0;
    if ((r = store_enter(s)) != 0)
        return r;
    if ((st = store_stmt(s, sql)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *locked_until = (uint64_t)sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            r = store_err(rc);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* The two throttling rows and the user in one statement, so one read transaction per login
 * instead of two. The one-row base yields a row even when none of the three exists; each
 * join is one lookup in a primary-key or unique index. */
static const char login_sql[] =
    "SELECT " USER_COLS ", a.locked_until, f.locked_until, f.key IS NOT NULL "
    "FROM (SELECT 1) LEFT JOIN users ON username = ?3 "
    "LEFT JOIN failures AS a ON a.key = ?1 LEFT JOIN failures AS f ON f.key = ?2";

/* Opens rd's connection; the caller holds rd->mu. On failure rd is left closed. */
static int
reader_open(struct sshcert_store *s, struct store_reader *rd)
{
    /* Read-write, then query_only: a read-only connection cannot open a WAL database's
     * shared-memory index when it is the first to need it. Its own lock: no SQLite mutex. */
    if (sqlite3_open_v2(s->reader_path, &rd->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
            NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(rd->db, atomic_load(&s->reader_busy_ms));
        sqlite3_extended_result_codes(rd->db, 0);
        if (sqlite3_exec(rd->db, "PRAGMA query_only=ON", NULL, NULL, NULL) == SQLITE_OK &&
            sqlite3_exec(rd->db, "PRAGMA cache_size=" STORE_READER_CACHE_PAGES, NULL, NULL,
                NULL) == SQLITE_OK &&
            store_stmt_on(rd->db, &rd->stmts, login_sql) != NULL)
            return 0;
    }
    store_stmts_finalize(&rd->stmts);
    sqlite3_close(rd->db); /* db may hold an error handle */
    rd->db = NULL;
    return SSHCERT_ERR_SYSTEM;
}

int
sshcert_store_open_readers(struct sshcert_store *s, unsigned n)
{
    const char *path = sqlite3_db_filename(s->db, "main");
    struct store_reader *rd;
    unsigned i, inited = 0;
    int r = SSHCERT_ERR_SYSTEM;

    if (n == 0 || n > SSHCERT_STORE_MAX_READERS || s->nreaders != 0)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (path == NULL || *path == '\0')
        return SSHCERT_ERR_SYSTEM;
    if ((s->reader_path = strdup(path)) == NULL || (rd = calloc(n, sizeof(*rd))) == NULL) {
        free(s->reader_path);
        s->reader_path = NULL;
        return SSHCERT_ERR_ALLOC;
    }
    for (i = 0; i < n; i++, inited++)
        if (pthread_mutex_init(&rd[i].mu, NULL) != 0)
            goto out;
    /* The first now, so that a database readers cannot open shows at start; the others when
     * a thread first needs one (each costs ~100 KiB, and an idle server uses one). */
    if ((r = reader_open(s, &rd[0])) != 0)
        goto out;
    s->readers = rd;
    s->nreaders = n;
    return 0;
out:
    readers_close(rd, inited);
    free(s->reader_path);
    s->reader_path = NULL;
    return r;
}

/* A reader nobody is using, else (all busy) one to wait for. Returned locked. */
static struct store_reader *
reader_take(struct sshcert_store *s)
{
    unsigned start, i;
    struct store_reader *rd;

    /* The first free one: readers open on first use, so the server opens only as many as
     * logins ever ran at once. */
    for (i = 0; i < s->nreaders; i++) {
        rd = &s->readers[i];
        if (pthread_mutex_trylock(&rd->mu) == 0)
            return rd;
    }
    start = atomic_fetch_add(&s->next_reader, 1u) % s->nreaders;
    rd = &s->readers[start];
    pthread_mutex_lock(&rd->mu);
    return rd;
}

/* A reader for a read outside the writer's lock, returned locked and open; NULL when the
 * store has none (sshcert-admin) or the one taken cannot be opened: the caller then reads on
 * the writer's connection, under mu. */
static struct store_reader *
reader_acquire(struct sshcert_store *s)
{
    struct store_reader *rd;

    if (s->nreaders == 0)
        return NULL;
    rd = reader_take(s);
    if (rd->db != NULL || reader_open(s, rd) == 0)
        return rd;
    pthread_mutex_unlock(&rd->mu);
    return NULL;
}

int
store_read(struct sshcert_store *s, store_read_fn fn, void *ctx)
{
    struct store_reader *rd;
    int r;

    if ((rd = reader_acquire(s)) != NULL) {
        r = fn(rd->db, &rd->stmts, ctx);
        pthread_mutex_unlock(&rd->mu);
        return r;
    }
    if ((r = store_enter(s)) != 0)
        return r;
    r = fn(s->db, &s->stmts, ctx);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* Runs the login statement; the caller holds the statement's connection. */
static int
login_row(sqlite3_stmt *st, const char *akey, const char *ukey, const char *username,
    struct sshcert_throttle *t, struct sshcert_user **user)
{
    int rc, r = 0;

    sqlite3_bind_text(st, 1, akey, -1, SQLITE_STATIC);
    if (ukey != NULL)
        sqlite3_bind_text(st, 2, ukey, -1, SQLITE_STATIC);
    if (username != NULL)
        sqlite3_bind_text(st, 3, username, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        t->addr_locked_until = (uint64_t)sqlite3_column_int64(st, 10);
        t->user_locked_until = (uint64_t)sqlite3_column_int64(st, 11);
        t->user_row = sqlite3_column_int(st, 12);
        t->user_r = sqlite3_column_type(st, 0) == SQLITE_NULL ? SSHCERT_ERR_NOT_FOUND
                                                              : user_from_row(st, user);
    } else
        r = store_err(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

int
sshcert_store_login_get(struct sshcert_store *s, const char *akey, const char *ukey,
    const char *username, struct sshcert_throttle *t, struct sshcert_user **user)
{
    struct store_reader *rd;
    sqlite3_stmt *st;
    int r;

    memset(t, 0, sizeof(*t));
    *user = NULL;
    if ((rd = reader_acquire(s)) != NULL) {
        r = (st = store_stmt_on(rd->db, &rd->stmts, login_sql)) == NULL
                ? SSHCERT_ERR_SYSTEM
                : login_row(st, akey, ukey, username, t, user);
        pthread_mutex_unlock(&rd->mu);
    } else if ((r = store_enter(s)) == 0) {
        r = (st = store_stmt(s, login_sql)) == NULL
                ? SSHCERT_ERR_SYSTEM
                : login_row(st, akey, ukey, username, t, user);
        pthread_mutex_unlock(&s->mu);
    }
    if (r != 0)
        memset(t, 0, sizeof(*t));
    return r;
}

int
store_locked_until(struct sshcert_store *s, const char *ukey, const char *akey, uint64_t now,
    uint64_t *until)
{
    /* Two lookups by the primary key: "key IN (?1, ?2)" built an ephemeral table for its two
     * values on every run, 4.3 us against 1.7 (20,000 rows, in a transaction). */
    static const char sql[] =
        "SELECT max(locked_until) FROM (SELECT locked_until FROM failures WHERE key = ?1 "
        "UNION ALL SELECT locked_until FROM failures WHERE key = ?2) WHERE locked_until > ?3";
    sqlite3_stmt *st;
    int rc;

    *until = 0;
    if ((st = store_stmt(s, sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    if (ukey != NULL)
        sqlite3_bind_text(st, 1, ukey, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, akey, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *until = (uint64_t)sqlite3_column_int64(st, 0);
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_err(rc == SQLITE_ROW ? SQLITE_ERROR : rc);
}

/* Counts one failure for key within window; a count reaching max locks it for one window.
 * *started is 1 when this failure began the lock. Caller holds mu inside a transaction. */
static int
failure_add_locked(struct sshcert_store *s, const char *key, uint64_t now, uint64_t window,
    unsigned max, int *started)
{
    /* A window that has passed starts a fresh count; reaching max locks for one window. */
    static const char sql[] =
        "INSERT INTO failures(key, count, first_at, locked_until) VALUES (?1, 1, ?2, "
        "CASE WHEN ?4 <= 1 THEN ?2 + ?3 ELSE 0 END) "
        "ON CONFLICT(key) DO UPDATE SET "
        "count = CASE WHEN first_at + ?3 <= ?2 THEN 1 ELSE count + 1 END, "
        "first_at = CASE WHEN first_at + ?3 <= ?2 THEN ?2 ELSE first_at END, "
        "locked_until = CASE WHEN (CASE WHEN first_at + ?3 <= ?2 THEN 1 ELSE count + 1 END) >= ?4 "
        "THEN ?2 + ?3 ELSE locked_until END "
        "RETURNING count";
    sqlite3_stmt *st;
    uint64_t count = 0;
    int rc;

    *started = 0;
    if ((st = store_stmt(s, sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)window);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        count = (uint64_t)sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_err(rc);
    /* Failures are counted only while unlocked (a locked key is refused before any check),
     * so the lock begins with the failure that brings the count to max. */
    *started = count == (max > 1 ? max : 1);
    return 0;
}

int
sshcert_store_login_failed(struct sshcert_store *s, struct sshcert_login_failure *f)
{
    static const char prune[] =
        "DELETE FROM failures WHERE first_at + ?2 <= ?1 AND locked_until <= ?1";
    char detail[64];
    sqlite3_stmt *st;
    uint64_t seq;
    int r, name_locked = 0, addr_locked = 0;

    f->locked_until = 0;
    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) != 0)
        goto out;
    /* Locked since this login read the rows: counted and audited by the failure that locked. */
    if ((r = store_locked_until(s, f->ukey, f->akey, f->now, &f->locked_until)) != 0 ||
        f->locked_until != 0)
        goto out;
    if (f->ukey != NULL &&
        (r = failure_add_locked(s, f->ukey, f->now, f->window, f->user_max, &name_locked)) != 0)
        goto out;
    if ((r = failure_add_locked(s, f->akey, f->now, f->window, f->addr_max, &addr_locked)) != 0)
        goto out;
    if ((r = store_audit_locked(s, f->now, "login_failed", "server", f->username, 0, f->addr,
             f->reason)) != 0)
        goto out;
    /* A lock is audited once, when it begins; the refusals while it lasts are only counted
     * and logged, so a flood against a locked name or address cannot grow the audit log. */
    snprintf(detail, sizeof(detail), "name locked for %llus", (unsigned long long)f->window);
    if (name_locked && (r = store_audit_locked(s, f->now, "lockout", "server", f->username, 0,
                            f->addr, detail)) != 0)
        goto out;
    snprintf(detail, sizeof(detail), "address locked for %llus", (unsigned long long)f->window);
    if (addr_locked && (r = store_audit_locked(s, f->now, "lockout", "server", NULL, 0, f->addr,
                            detail)) != 0)
        goto out;
    /* Every name sprayed at the server leaves a row: drop rows whose window and lock are
     * over, now and then, so the table stays the size of the recent attack. */
    s->failures_since_prune += f->ukey != NULL ? 2u : 1u; /* failures counted, one per key */
    if (s->failures_since_prune >= STORE_FAILURE_PRUNE_EVERY) {
        s->failures_since_prune = 0;
        if ((st = store_stmt(s, prune)) == NULL) {
            r = SSHCERT_ERR_SYSTEM;
            goto out;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)f->now);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)f->window);
        if ((r = store_step_done(st)) != 0)
            goto out;
    }
    r = store_commit(s);
out:
    if (r != 0 || f->locked_until != 0)
        store_rollback(s);
    return store_unlock_durable(s, seq, r);
}

/* The live figures in one statement; each count reads an index of what it counts (migration
 * 002), named so that a missing one is an error rather than a scan of the whole history. The
 * failures range is the 'user:' keys ('user;' is the next key after every 'user:...'). */
const char store_sql_counts[] =
    "SELECT (SELECT count(*) FROM certificates INDEXED BY certificates_unrevoked "
    "WHERE revoked_at IS NULL AND valid_before > ?1 AND valid_after <= ?1), "
    "(SELECT count(*) FROM certificates INDEXED BY certificates_revoked_serial "
    "WHERE revoked_at IS NOT NULL), "
    "(SELECT count(*) FROM failures WHERE key >= 'user:' AND key < 'user;' "
    "AND locked_until > ?1) + "
    "(SELECT count(*) FROM users INDEXED BY users_disabled WHERE disabled = 1)";

struct counts_read {
    uint64_t now;
    struct sshcert_store_counts *c;
};

static int
counts_read(sqlite3 *db, struct store_stmts *stmts, void *ctx)
{
    struct counts_read *q = ctx;
    struct sshcert_store_counts *c = q->c;
    sqlite3_stmt *st;
    int rc;

    if ((st = store_stmt_on(db, stmts, store_sql_counts)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)q->now);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        c->active = (uint64_t)sqlite3_column_int64(st, 0);
        c->revoked = (uint64_t)sqlite3_column_int64(st, 1);
        c->locked = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_err(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
}

int
sshcert_store_counts(struct sshcert_store *s, uint64_t now, struct sshcert_store_counts *c)
{
    struct counts_read q = {.now = now, .c = c};
    int r;

    memset(c, 0, sizeof(*c));
    if ((r = store_read(s, counts_read, &q)) != 0) {
        memset(c, 0, sizeof(*c));
        return r;
    }
    c->issue_batches = atomic_load(&s->issue_batches);
    c->issue_batched = atomic_load(&s->issue_batched);
    return 0;
}
