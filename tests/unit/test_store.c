/*
 * ca-server/store: the live reads behind /metrics and the KRL. Each reads an index of what it
 * counts (migration 002) and never the whole history, runs on a reader connection without
 * waiting for or holding the writer's lock, and sees one committed state; every count at its
 * time boundary. Migration 1 -> 2 of an existing database keeps its rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

#define NOW 1800000000ull

static char dir[512];
static char dbpath[600];

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int
setup(void **state)
{
    const char *tmp = getenv("SSHCERT_TEST_TMP");

    (void)state;
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    (void)mkdir(tmp, 0700);
    snprintf(dir, sizeof(dir), "%s/store.XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(dbpath, sizeof(dbpath), "%s/sshcert.db", dir);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A connection of the test's own, as another process (sshcert-admin, sqlite3) would have. */
static sqlite3 *
raw_open(void)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err != NULL ? err : "?");
}

static void
raw_cert(sqlite3 *db, int64_t serial, int64_t valid_after, int64_t valid_before,
    int64_t revoked_at)
{
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(db,
                         "INSERT INTO certificates(serial, key_id, username, principals, "
                         "key_fingerprint, valid_after, valid_before, issued_at, issued_by, "
                         "certificate, revoked_at) VALUES (?1, 'k', 'u', 'u', 'SHA256:x', ?2, "
                         "?3, ?2, 'server', 'c', ?4)",
                         -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, serial);
    sqlite3_bind_int64(st, 2, valid_after);
    sqlite3_bind_int64(st, 3, valid_before);
    if (revoked_at != 0)
        sqlite3_bind_int64(st, 4, revoked_at);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void
raw_user(sqlite3 *db, const char *name, int disabled)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
        "INSERT INTO users(username, password_hash, totp_secret, principals, disabled, "
        "created_at, updated_at) VALUES ('%s', 'h', x'00', 'p', %d, 0, 0)",
        name, disabled);
    raw_exec(db, sql);
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The rows every count test starts from; the expected figures are in the comments. */
static void
fill(void)
{
    sqlite3 *db = raw_open();

    raw_exec(db, "BEGIN");
    raw_cert(db, 1, NOW - 10, NOW + 10, 0);     /* active */
    raw_cert(db, 2, NOW, NOW + 1, 0);           /* active: valid_after == now counts */
    raw_cert(db, 3, NOW - 10, NOW, 0);          /* expired: valid_before == now does not */
    raw_cert(db, 4, NOW + 1, NOW + 10, 0);      /* not valid yet */
    raw_cert(db, 5, NOW - 10, NOW + 10, NOW);   /* revoked, in the KRL */
    raw_cert(db, 6, NOW - 10, NOW + 1, NOW);    /* revoked, in the KRL (expires next second) */
    raw_cert(db, 7, NOW - 10, NOW, NOW - 5);    /* revoked, expired: counted, not in the KRL */
    raw_cert(db, 9, NOW - 10, NOW + 99, NOW);   /* revoked, in the KRL (a gap before it) */
    raw_user(db, "ann", 0);
    raw_user(db, "bob", 1); /* locked by an operator */
    raw_user(db, "cat", 1);
    raw_exec(db,
        "INSERT INTO failures(key, count, first_at, locked_until) VALUES "
        "('user:dan', 5, 0, 1800000001), " /* locked: counted */
        "('user:eve', 5, 0, 1800000000), " /* lock ends now: not */
        "('user:fay', 2, 0, 0), "          /* failures, no lock */
        "('usera', 5, 0, 1800000099), "    /* not a user key (no colon) */
        "('user;', 5, 0, 1800000099), "    /* the first key after the range */
        "('addr:127.0.0.1', 9, 0, 1800000099)");
    raw_exec(db, "COMMIT");
    sqlite3_close(db);
}

static struct sshcert_store *
open_store(unsigned readers)
{
    struct sshcert_store *s = NULL;

    assert_int_equal(sshcert_store_open(dbpath, 1, &s), 0);
    if (readers > 0)
        assert_int_equal(sshcert_store_open_readers(s, readers), 0);
    return s;
}

static void
check_counts(unsigned readers)
{
    struct sshcert_store *s = open_store(readers);
    struct sshcert_store_counts c;

    fill();
    assert_int_equal(sshcert_store_counts(s, NOW + 10, &c), 0);
    assert_int_equal(c.active, 0); /* everything unrevoked has expired */
    assert_int_equal(sshcert_store_counts(s, NOW, &c), 0);
    assert_int_equal(c.active, 2);
    assert_int_equal(c.revoked, 4);
    assert_int_equal(c.locked, 3); /* bob, cat (operator) + dan (throttle) */
    /* One second later: serial 2 has expired, serial 4 has become valid, dan's lock has
     * ended. */
    assert_int_equal(sshcert_store_counts(s, NOW + 1, &c), 0);
    assert_int_equal(c.active, 2);
    assert_int_equal(c.locked, 2);
    sshcert_store_close(s);
}

static void
test_counts_writer(void **state)
{
    (void)state;
    check_counts(0); /* sshcert-admin: no readers, the writer's connection */
}

static void
test_counts_reader(void **state)
{
    (void)state;
    check_counts(2);
}

static void
check_krl(unsigned readers)
{
    struct sshcert_store *s = open_store(readers);
    uint64_t *serials = NULL, version = 99, v2 = 0;
    size_t n = 99;

    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &version), 0);
    assert_null(serials);
    assert_int_equal(n, 0);
    assert_int_equal(version, 0);
    fill();
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &version), 0);
    assert_int_equal(n, 3);
    assert_int_equal(serials[0], 5);
    assert_int_equal(serials[1], 6);
    assert_int_equal(serials[2], 9);
    free(serials);
    /* Serial 6 leaves the list when it expires. */
    assert_int_equal(sshcert_store_krl_read(s, NOW + 1, &serials, &n, &version), 0);
    assert_int_equal(n, 2);
    assert_int_equal(serials[0], 5);
    assert_int_equal(serials[1], 9);
    free(serials);
    /* A revocation: the new version and the new serial arrive together. */
    assert_int_equal(sshcert_store_cert_revoke(s, 1, "test", NOW, "operator"), 0);
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &version), 0);
    assert_int_equal(version, 1);
    assert_int_equal(n, 4);
    assert_int_equal(serials[0], 1);
    free(serials);
    assert_int_equal(sshcert_store_krl_version(s, &v2), 0);
    assert_int_equal(v2, 1);
    sshcert_store_close(s);
}

static void
test_krl_writer(void **state)
{
    (void)state;
    check_krl(0);
}

static void
test_krl_reader(void **state)
{
    (void)state;
    check_krl(2);
}

/* Each live statement reads its index: a scan of certificates or of users would read the
 * whole history. */
static void
check_plan(sqlite3 *db, const char *sql, const char *const *want, size_t nwant)
{
    char q[2048], plan[2048] = "";
    sqlite3_stmt *st;
    size_t i;

    snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        strncat(plan, (const char *)sqlite3_column_text(st, 3), sizeof(plan) - strlen(plan) - 2);
        strcat(plan, "|");
    }
    sqlite3_finalize(st);
    for (i = 0; i < nwant; i++)
        if (strstr(plan, want[i]) == NULL)
            fail_msg("plan of %s lacks \"%s\": %s", sql, want[i], plan);
    if (strstr(plan, "SCAN certificates|") != NULL || strstr(plan, "SCAN users|") != NULL)
        fail_msg("plan of %s scans a table: %s", sql, plan);
}

static void
test_plans(void **state)
{
    static const char *const counts[] = {
        "SEARCH certificates USING COVERING INDEX certificates_unrevoked (valid_before>?)",
        "SCAN certificates USING INDEX certificates_revoked_live",
        "SEARCH failures USING INDEX sqlite_autoindex_failures_1 (key>? AND key<?)",
        "SCAN users USING INDEX users_disabled"};
    static const char *const krl[] = {
        "SEARCH certificates USING INDEX certificates_revoked_live (valid_before>?)"};
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();

    (void)state;
    fill();
    check_plan(db, store_sql_counts, counts, sizeof(counts) / sizeof(counts[0]));
    check_plan(db, store_sql_krl_serials, krl, 1);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A missing index is an error, never a silent scan. */
static void
test_missing_index_fails(void **state)
{
    struct sshcert_store *s = open_store(1);
    struct sshcert_store_counts c = {7, 7, 7};
    uint64_t *serials = NULL, version = 7;
    size_t n = 7;
    sqlite3 *db = raw_open();

    (void)state;
    fill();
    raw_exec(db, "DROP INDEX certificates_unrevoked");
    assert_int_equal(sshcert_store_counts(s, NOW, &c), SSHCERT_ERR_SYSTEM);
    assert_int_equal(c.active + c.revoked + c.locked, 0);
    raw_exec(db, "DROP INDEX certificates_revoked_live");
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &version), SSHCERT_ERR_SYSTEM);
    assert_null(serials);
    assert_int_equal(n, 0);
    sqlite3_close(db);
    sshcert_store_close(s);
}

struct reads {
    struct sshcert_store *s;
    int r_counts, r_krl, r_version;
    struct sshcert_store_counts c;
    size_t n;
};

static void *
reads_run(void *arg)
{
    struct reads *q = arg;
    uint64_t *serials = NULL, version = 0;

    q->r_counts = sshcert_store_counts(q->s, NOW, &q->c);
    q->r_krl = sshcert_store_krl_read(q->s, NOW, &serials, &q->n, &version);
    q->r_version = sshcert_store_krl_version(q->s, &version);
    free(serials);
    return NULL;
}

/* With readers, the live reads neither wait for the writer's lock (held here for the whole
 * read, as a long write would) nor see what it has not committed. */
static void
test_reads_skip_writer_lock(void **state)
{
    struct sshcert_store *s = open_store(2);
    struct reads q = {.s = s, .r_counts = -1, .r_krl = -1, .r_version = -1};
    struct timespec until;
    pthread_t t;
    sqlite3 *db = raw_open();
    int jr;

    (void)state;
    fill();
    /* Another connection's write in progress: not visible to the reads. */
    raw_exec(db, "BEGIN IMMEDIATE");
    raw_cert(db, 100, NOW - 1, NOW + 100, NOW);
    raw_cert(db, 101, NOW - 1, NOW + 100, 0);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(pthread_create(&t, NULL, reads_run, &q), 0);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    jr = pthread_timedjoin_np(t, NULL, &until);
    pthread_mutex_unlock(&s->mu);
    if (jr != 0) {
        pthread_join(t, NULL);
        fail_msg("the live reads waited for the writer's lock (%s)", strerror(jr));
    }
    assert_int_equal(q.r_counts, 0);
    assert_int_equal(q.r_krl, 0);
    assert_int_equal(q.r_version, 0);
    assert_int_equal(q.c.active, 2);
    assert_int_equal(q.c.revoked, 4);
    assert_int_equal(q.n, 3);
    raw_exec(db, "COMMIT");
    reads_run(&q);
    assert_int_equal(q.c.active, 3);
    assert_int_equal(q.c.revoked, 5);
    assert_int_equal(q.n, 4);
    sqlite3_close(db);
    sshcert_store_close(s);
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* A database written by the previous release (schema 1) gains the indexes at open and keeps
 * every row; opening it again changes nothing. */
static void
test_migrate_from_1(void **state)
{
    struct sshcert_store *s;
    struct sshcert_store_counts c;
    char *sql = read_text(SSHCERT_SQL_DIR "/001_init.sql");
    sqlite3 *db = raw_open();
    int i;

    (void)state;
    raw_exec(db, "PRAGMA journal_mode=WAL");
    raw_exec(db, "BEGIN");
    raw_exec(db, sql);
    raw_exec(db, "PRAGMA user_version = 1");
    raw_exec(db, "COMMIT");
    free(sql);
    sqlite3_close(db);
    fill();
    for (i = 0; i < 2; i++) {
        assert_int_equal(sshcert_store_open(dbpath, 0, &s), 0);
        assert_int_equal(sshcert_store_counts(s, NOW, &c), 0);
        assert_int_equal(c.active, 2);
        assert_int_equal(c.revoked, 4);
        assert_int_equal(c.locked, 3);
        sshcert_store_close(s);
        db = raw_open();
        assert_int_equal(raw_int(db, "PRAGMA user_version"), 2);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 8);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                     "AND name IN ('certificates_unrevoked', "
                                     "'certificates_revoked_live', 'users_disabled')"),
            3);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master "
                                     "WHERE name = 'certificates_revoked'"),
            0);
        sqlite3_close(db);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_krl_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_krl_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_index_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_skip_writer_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_1, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
