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

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "clock.h"
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

/* The credentials raw_user stores, for a claim that read them. */
static const uint8_t RAW_TOTP_SECRET[1] = {0};

static void
claim_credentials(struct sshcert_store_claim *cl)
{
    cl->password_hash = "h";
    cl->totp_secret = RAW_TOTP_SECRET;
    cl->totp_secret_len = sizeof(RAW_TOTP_SECRET);
}

/* A login's claim of step for a raw_user, from 127.0.0.1 at NOW. */
static void
claim_init(struct sshcert_store_claim *cl, int64_t user_id, const char *username,
    uint64_t step)
{
    memset(cl, 0, sizeof(*cl));
    cl->user_id = user_id;
    cl->username = username;
    claim_credentials(cl);
    cl->totp_step = step;
    cl->akey = "addr:127.0.0.1";
    cl->now = NOW;
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

/* SSHCERT_STORE_MAX_READERS reader connections open (the server asks for one per HTTP thread,
 * at most this many); one more, or none, is refused and leaves the store as it was. */
static void
test_readers_cap(void **state)
{
    struct sshcert_store *s = NULL;

    (void)state;
    assert_int_equal(sshcert_store_open(dbpath, 1, &s), 0);
    assert_int_equal(sshcert_store_open_readers(s, SSHCERT_STORE_MAX_READERS + 1),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_store_open_readers(s, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_store_open_readers(s, SSHCERT_STORE_MAX_READERS), 0);
    /* Once open, a second set is refused. */
    assert_int_equal(sshcert_store_open_readers(s, 1), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_store_close(s);
    check_counts(SSHCERT_STORE_MAX_READERS);
}

static void
check_krl(unsigned readers)
{
    struct sshcert_store *s = open_store(readers);
    struct sshcert_serial_range *ranges = NULL;
    uint64_t *serials = NULL, version = 99, v2 = 0;
    size_t n = 99, nr = 99;

    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &ranges, &nr, &version), 0);
    assert_null(serials);
    assert_int_equal(n, 0);
    assert_null(ranges);
    assert_int_equal(nr, 0);
    assert_int_equal(version, 0);
    fill();
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &ranges, &nr, &version), 0);
    assert_int_equal(n, 3);
    assert_int_equal(serials[0], 5);
    assert_int_equal(serials[1], 6);
    assert_int_equal(serials[2], 9);
    free(serials);
    /* Serial 6 leaves the list when it expires. */
    assert_int_equal(sshcert_store_krl_read(s, NOW + 1, &serials, &n, &ranges, &nr, &version), 0);
    assert_int_equal(n, 2);
    assert_int_equal(serials[0], 5);
    assert_int_equal(serials[1], 9);
    free(serials);
    /* A revocation: the new version and the new serial arrive together. */
    {
        const uint64_t one[] = {1};
        int res[1];

        assert_int_equal(sshcert_store_cert_revoke(s, one, 1, "test", NOW, "operator", res), 0);
        assert_int_equal(res[0], 0);
    }
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &ranges, &nr, &version), 0);
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

/* sshcert-admin cert list: each filter, at the expiry boundary, in serial order. */
static void
check_list(struct sshcert_store *s, const char *user, int active, const char *want)
{
    struct sshcert_cert_record *recs = NULL;
    char got[128] = "";
    size_t n = 0, i;

    assert_int_equal(sshcert_store_cert_list(s, user, active, NOW, &recs, &n), 0);
    for (i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%llu", i ? "," : "",
            (unsigned long long)recs[i].serial);
    sshcert_cert_records_free(recs, n);
    if (strcmp(got, want) != 0)
        fail_msg("list user=%s active=%d: %s, want %s", user ? user : "(all)", active, got,
            want);
}

static void
test_cert_list(void **state)
{
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();

    (void)state;
    fill();
    raw_exec(db, "UPDATE certificates SET username = 'w' WHERE serial IN (2, 5)");
    sqlite3_close(db);
    check_list(s, NULL, 0, "1,2,3,4,5,6,7,9");
    check_list(s, "u", 0, "1,3,4,6,7,9");
    check_list(s, "w", 0, "2,5");
    check_list(s, "x", 0, "");
    /* active: not expired (valid_before > now; 3 ends now) and not revoked; 4 (valid from
     * the next second) is listed, as before */
    check_list(s, NULL, 1, "1,2,4");
    check_list(s, "u", 1, "1,4");
    check_list(s, "w", 1, "2");
    sshcert_store_close(s);
}

/* Each live statement reads its index: a scan of certificates or of users would read the
 * whole history. */
static void
check_plan_sort(sqlite3 *db, const char *sql, const char *const *want, size_t nwant,
    int may_sort)
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
    if (!may_sort && strstr(plan, "TEMP B-TREE") != NULL)
        fail_msg("plan of %s sorts: %s", sql, plan);
}

static void
check_plan(sqlite3 *db, const char *sql, const char *const *want, size_t nwant)
{
    check_plan_sort(db, sql, want, nwant, 0);
}

static void
test_plans(void **state)
{
    static const char *const counts[] = {
        "SEARCH certificates USING COVERING INDEX certificates_unrevoked (valid_before>?)",
        "SCAN certificates USING COVERING INDEX certificates_revoked_serial",
        "SEARCH failures USING INDEX sqlite_autoindex_failures_1 (key>? AND key<?)",
        "SCAN users USING INDEX users_disabled"};
    static const char *const krl[] = {
        "SCAN certificates USING COVERING INDEX certificates_revoked_serial"};
    static const char *const by_user[] = {
        "SEARCH certificates USING INDEX certificates_by_user (username=?)"};
    static const char *const active[] = {
        "SEARCH certificates USING INDEX certificates_unrevoked (valid_before>?)"};
    static const char *const by_user_active[] = {
        "SEARCH certificates USING INDEX certificates_by_user (username=? AND valid_before>?)"};
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();

    (void)state;
    fill();
    check_plan(db, store_sql_counts, counts, sizeof(counts) / sizeof(counts[0]));
    check_plan(db, store_sql_krl_serials, krl, 1);
    /* sshcert-admin cert list: a user's certificates and the active ones come from their
     * index (then sorted by serial: only the listed rows). */
    check_plan_sort(db, store_sql_cert_list[1], by_user, 1, 1);
    check_plan_sort(db, store_sql_cert_list[2], active, 1, 1);
    check_plan_sort(db, store_sql_cert_list[3], by_user_active, 1, 1);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A missing index is an error, never a silent scan. */
static void
test_missing_index_fails(void **state)
{
    struct sshcert_store *s = open_store(1);
    struct sshcert_store_counts c = {.active = 7, .revoked = 7, .locked = 7};
    struct sshcert_serial_range *ranges = NULL;
    uint64_t *serials = NULL, version = 7;
    size_t n = 7, nr = 7;
    sqlite3 *db = raw_open();

    (void)state;
    fill();
    raw_exec(db, "DROP INDEX certificates_unrevoked");
    assert_int_equal(sshcert_store_counts(s, NOW, &c), SSHCERT_ERR_SYSTEM);
    assert_int_equal(c.active + c.revoked + c.locked, 0);
    raw_exec(db, "DROP INDEX certificates_revoked_serial");
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &ranges, &nr, &version),
        SSHCERT_ERR_SYSTEM);
    assert_null(serials);
    assert_int_equal(n, 0);
    assert_null(ranges);
    assert_int_equal(nr, 0);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* sshcert_store_restored: the serials from the backup's next one on, a day's worth plus the
 * time since its last audit event at SSHCERT_RESTORE_SERIALS_PER_SECOND, revoked as one range
 * until valid_until and skipped; audited; the KRL's version moved. At the end of the serial
 * space (serials stay below INT64_MAX) it refuses and changes nothing. */
static void
test_restored(void **state)
{
    const uint64_t rate = SSHCERT_RESTORE_SERIALS_PER_SECOND;
    const uint64_t margin = SSHCERT_RESTORE_MARGIN_SECONDS;
    struct sshcert_store *s = open_store(1);
    struct sshcert_store_restored res;
    struct sshcert_serial_range *ranges = NULL;
    uint64_t *serials = NULL, version = 0, next = 0, bad = 0, events = 0;
    size_t n = 0, nr = 0;
    sqlite3 *db = raw_open();
    char sql[128], head[SSHCERT_AUDIT_HASH_HEX];

    (void)state;
    fill();
    raw_exec(db, "UPDATE meta SET value = 10 WHERE key = 'next_serial'");
    /* The backup's last event 100 s before the restore. */
    assert_int_equal(sshcert_store_audit(s, NOW - 100, "test", "operator", NULL, 0, NULL, NULL), 0);
    assert_int_equal(sshcert_store_restored(s, NOW, NOW + 500, &res), 0);
    assert_int_equal(res.first, 10);
    assert_int_equal(res.last, 10 + (100 + margin) * rate - 1);
    assert_int_equal(res.next, res.last + 1);
    assert_int_equal(res.until, NOW + 500);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'next_serial'"), res.next);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'krl_version'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE event = 'store_restored' "
                                 "AND actor = 'operator' AND serial IS NULL"),
        1);
    assert_int_equal(sshcert_store_krl_read(s, NOW, &serials, &n, &ranges, &nr, &version), 0);
    assert_int_equal(version, 1);
    assert_int_equal(n, 3);
    assert_int_equal(nr, 1);
    assert_int_equal(ranges[0].first, res.first);
    assert_int_equal(ranges[0].last, res.last);
    free(serials);
    free(ranges);
    /* Out of the KRL at valid_until, when every certificate it can cover has expired. */
    assert_int_equal(sshcert_store_krl_read(s, NOW + 499, &serials, &n, &ranges, &nr, &version), 0);
    assert_int_equal(nr, 1);
    free(serials);
    free(ranges);
    assert_int_equal(sshcert_store_krl_read(s, NOW + 500, &serials, &n, &ranges, &nr, &version), 0);
    assert_int_equal(nr, 0);
    assert_null(ranges);
    free(serials);
    /* A clock behind the last event: the margin alone. Then the end of the serial space: a
     * next serial with exactly the margin's worth left is taken, one more is refused. */
    assert_int_equal(sshcert_store_restored(s, NOW - 1000, NOW + 500, &res), 0);
    assert_int_equal(res.last - res.first + 1, margin * rate);
    next = (uint64_t)INT64_MAX - 1 - margin * rate;
    snprintf(sql, sizeof(sql), "UPDATE meta SET value = %" PRIu64 " WHERE key = 'next_serial'",
        next + 1);
    raw_exec(db, sql);
    assert_int_equal(sshcert_store_restored(s, 1, NOW + 500, &res), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(res.first + res.last + res.next + res.until, 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM revoked_ranges"), 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE event = 'store_restored'"), 2);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'next_serial'"), next + 1);
    snprintf(sql, sizeof(sql), "UPDATE meta SET value = %" PRIu64 " WHERE key = 'next_serial'",
        next);
    raw_exec(db, sql);
    assert_int_equal(sshcert_store_restored(s, 1, NOW + 500, &res), 0);
    assert_int_equal(res.first, next);
    assert_int_equal(res.last, (uint64_t)INT64_MAX - 2);
    assert_int_equal(res.next, (uint64_t)INT64_MAX - 1); /* the last serial issuance takes */
    assert_int_equal(sshcert_store_audit_verify(s, &bad, &events, head), 0);
    assert_int_equal(events, raw_int(db, "SELECT count(*) FROM audit"));
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
    struct sshcert_serial_range *ranges = NULL;
    uint64_t *serials = NULL, version = 0;
    size_t nr = 0;

    q->r_counts = sshcert_store_counts(q->s, NOW, &q->c);
    q->r_krl = sshcert_store_krl_read(q->s, NOW, &serials, &q->n, &ranges, &nr, &version);
    q->r_version = sshcert_store_krl_version(q->s, &version);
    free(serials);
    free(ranges);
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

/* A database written by the first release (schema 1) gains the indexes and the table of
 * revoked ranges at open and keeps every row; opening it again changes nothing. */
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
        assert_int_equal(raw_int(db, "PRAGMA user_version"), 5);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 8);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                     "AND name = 'revoked_ranges'"),
            1);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                     "AND name IN ('certificates_unrevoked', "
                                     "'certificates_revoked_serial', 'users_disabled')"),
            3);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master "
                                     "WHERE name = 'certificates_revoked'"),
            0);
        sqlite3_close(db);
    }
}


/* Deletes a certificate's row and its events behind the store's back. */
static void
drop_issuance(sqlite3 *db, uint64_t serial)
{
    char sql[160];

    snprintf(sql, sizeof(sql),
        "DELETE FROM certificates WHERE serial = %llu; DELETE FROM audit WHERE serial = %llu",
        (unsigned long long)serial, (unsigned long long)serial);
    raw_exec(db, sql);
}

/* ---- Issuance in batches (group commit) ---- */

struct job {
    struct sshcert_store *s;
    const char *username;
    const char *principals; /* NULL: "p" */
    uint64_t ttl;           /* 0: 60 s */
    struct sshcert_store_claim claim;
    struct sshcert_cert_record rec;
    atomic_int signs;
    uint64_t first_serial;
    int r;
    pthread_t t;
};

/* Fills the record as the server's signer would; the "certificate" names the serial it was
 * signed with, so a row whose serial differs from its certificate's shows. */
static int
job_sign(void *ctx, uint64_t serial, struct sshcert_cert_record *rec)
{
    struct job *j = ctx;
    char cert[64];

    if (atomic_fetch_add(&j->signs, 1) == 0)
        j->first_serial = serial;
    snprintf(cert, sizeof(cert), "cert-%llu", (unsigned long long)serial);
    rec->key_id = strdup(j->username);
    rec->username = strdup(j->username);
    rec->principals = strdup(j->principals != NULL ? j->principals : "p");
    rec->key_fingerprint = strdup("SHA256:x");
    rec->client_address = strdup("127.0.0.1");
    rec->issued_by = strdup("server");
    rec->certificate = strdup(cert);
    rec->valid_after = NOW;
    rec->issued_at = NOW;
    rec->valid_before = NOW + (j->ttl != 0 ? j->ttl : 60);
    return 0;
}

static void *
job_run(void *arg)
{
    struct job *j = arg;

    j->r = sshcert_store_issue(j->s, job_sign, j, &j->claim, &j->rec);
    return NULL;
}

static void
job_init(struct job *j, struct sshcert_store *s, const char *username, int64_t user_id,
    uint64_t step)
{
    memset(j, 0, sizeof(*j));
    j->s = s;
    j->username = username;
    j->claim.user_id = user_id;
    j->claim.username = username;
    claim_credentials(&j->claim);
    j->claim.totp_step = step;
    j->claim.now = NOW;
    j->r = -1;
}

/* Waits (up to 10 s) until the store reports n issuances queued behind the writer's batch. */
static void
wait_queued(struct sshcert_store *s, unsigned n)
{
    int i;

    for (i = 0; i < 10000; i++) {
        if (store_batch_queued(s) == n)
            return;
        usleep(1000);
    }
    fail_msg("%u issuances never queued (%u)", n, store_batch_queued(s));
}

/* The cross-check fails with a mismatch of kind; x holds the rest of what it found. */
static void
expect_mismatch(struct sshcert_store *s, struct sshcert_audit_xcheck *x,
    enum sshcert_audit_mismatch kind)
{
    assert_int_equal(sshcert_store_audit_crosscheck(s, x), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(x->mismatch, kind);
}

/* The cross-check finds a mismatch of kind at user name. */
static void
expect_user_mismatch(struct sshcert_store *s, enum sshcert_audit_mismatch kind, const char *name)
{
    struct sshcert_audit_xcheck x;

    expect_mismatch(s, &x, kind);
    assert_string_equal(x.username, name);
}

/* Appends an event as the builds before schema 4 wrote it (actor "server" for cert_issued,
 * else "operator"; no client address), asserting it is written. */
static void
event_v3(struct sshcert_store *s, uint64_t ts, const char *event, const char *user,
    uint64_t serial, const char *detail)
{
    assert_int_equal(sshcert_store_audit(s, ts, event,
                         strcmp(event, "cert_issued") == 0 ? "server" : "operator", user, serial,
                         NULL, detail),
        0);
}

/* The user_added events raw_user's rows lack, in the form of the build before schema 4 (the
 * principals alone): audit verify checks their rows only to exist, and the grant replay takes
 * those principals as the user's. */
static void
user_events_v3(struct sshcert_store *s, unsigned users)
{
    char name[32];
    unsigned i;

    for (i = 0; i < users; i++) {
        snprintf(name, sizeof(name), "u%u", i);
        event_v3(s, NOW, "user_added", name, 0, "p");
    }
}

/* Waits until the store's writer thread has taken its batch and is waiting for the lock. */
static void
wait_writing(struct sshcert_store *s)
{
    int i;

    for (i = 0; i < 10000; i++) {
        if (store_batch_queued(s) == 0 && store_batch_writing(s))
            return;
        usleep(1000);
    }
    fail_msg("the writer took no batch");
}

static struct sshcert_store *
batch_store(sqlite3 **db, unsigned users)
{
    struct sshcert_store *s = open_store(2);
    char name[32];
    unsigned i;
    struct job warm;

    *db = raw_open();
    for (i = 0; i < users; i++) {
        snprintf(name, sizeof(name), "u%u", i);
        raw_user(*db, name, 0); /* ids 1..users */
    }
    user_events_v3(s, users);
    /* One issuance first, so the serial counter is read before the lock is held. */
    job_init(&warm, s, "u0", 1, 1);
    job_run(&warm);
    assert_int_equal(warm.r, 0);
    assert_int_equal(warm.rec.serial, 1);
    sshcert_cert_record_clear(&warm.rec);
    return s;
}

/* The test holds the store's lock; the writer takes the first job and waits for it, the others
 * queue behind it one by one (so their serials are in order); then the lock is released. The
 * queued jobs are written as one batch. */
static void
run_held(struct sshcert_store *s, struct job *jobs, unsigned n, void (*while_held)(void *),
    void *arg)
{
    unsigned i;

    pthread_mutex_lock(&s->mu);
    assert_int_equal(pthread_create(&jobs[0].t, NULL, job_run, &jobs[0]), 0);
    wait_writing(s);
    for (i = 1; i < n; i++) {
        assert_int_equal(pthread_create(&jobs[i].t, NULL, job_run, &jobs[i]), 0);
        wait_queued(s, i);
    }
    if (while_held != NULL)
        while_held(arg);
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < n; i++)
        pthread_join(jobs[i].t, NULL);
}

static int64_t
user_step(sqlite3 *db, int64_t id)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT totp_last_step FROM users WHERE id = %lld", (long long)id);
    return raw_int(db, sql);
}

static void
check_row(sqlite3 *db, const struct job *j)
{
    char want[64], sql[160];
    sqlite3_stmt *st;

    snprintf(want, sizeof(want), "cert-%llu", (unsigned long long)j->rec.serial);
    assert_string_equal(j->rec.certificate, want);
    snprintf(sql, sizeof(sql), "SELECT certificate, username FROM certificates WHERE serial = %llu",
        (unsigned long long)j->rec.serial);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), j->username);
    sqlite3_finalize(st);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE event = 'cert_issued' AND "
        "serial = %llu", (unsigned long long)j->rec.serial);
    assert_int_equal(raw_int(db, sql), 1);
}

/* How many of this process's threads are store writers (SSHCERT_STORE_WRITER_NAME), and
 * whether every one of them blocks SIGHUP, SIGINT and SIGTERM. A thread that ends during the
 * scan is not counted. */
static unsigned
writer_threads(int *blocked)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    char path[300], line[128];
    unsigned n = 0;
    unsigned long long mask;
    int found;
    FILE *f;

    assert_non_null(d);
    *blocked = 1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        line[0] = '\0';
        if (fgets(line, sizeof(line), f) == NULL)
            line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, SSHCERT_STORE_WRITER_NAME) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        found = 0;
        while (!found && fgets(line, sizeof(line), f) != NULL)
            found = sscanf(line, "SigBlk: %llx", &mask) == 1;
        fclose(f);
        if (!found)
            continue;
        n++;
        if ((mask & (1ull << (SIGHUP - 1))) == 0 || (mask & (1ull << (SIGINT - 1))) == 0 ||
            (mask & (1ull << (SIGTERM - 1))) == 0)
            *blocked = 0;
    }
    closedir(d);
    return n;
}

/* Waits (up to 2 s) until n writer threads are listed: a joined thread leaves the list a
 * little after pthread_join returns. */
static void
expect_writers(unsigned n)
{
    int blocked, i;

    for (i = 0; i < 2000 && writer_threads(&blocked) != n; i++)
        usleep(1000);
    assert_int_equal(writer_threads(&blocked), n);
    assert_true(blocked);
}

/* A store has one writer thread from open to close, and it never takes the signals a
 * server's main thread waits for. */
static void
test_writer_thread(void **state)
{
    struct sshcert_store *s, *t;

    (void)state;
    expect_writers(0);
    s = open_store(0);
    expect_writers(1);
    t = open_store(0);
    expect_writers(2);
    sshcert_store_close(s);
    expect_writers(1);
    sshcert_store_close(t);
    expect_writers(0);
}

static void
test_batch_shares_commit(void **state)
{
    static const char *const names[] = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"};
    struct sshcert_store_counts c;
    struct job jobs[8];
    sqlite3 *db;
    struct sshcert_store *s = batch_store(&db, 8);
    uint64_t bad = 0, events = 0;
    char head[SSHCERT_AUDIT_HASH_HEX];
    unsigned i;

    (void)state;
    for (i = 0; i < 8; i++)
        job_init(&jobs[i], s, names[i], (int64_t)i + 1, 2);
    run_held(s, jobs, 8, NULL, NULL);
    for (i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].r, 0);
        assert_int_equal(jobs[i].rec.serial, i + 2); /* in the order they queued */
        assert_int_equal(atomic_load(&jobs[i].signs), 1);
        check_row(db, &jobs[i]);
        assert_int_equal(user_step(db, (int64_t)i + 1), 2);
        sshcert_cert_record_clear(&jobs[i].rec);
    }
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'next_serial'"), 10);
    assert_int_equal(sshcert_store_counts(s, NOW, &c), 0);
    /* The warm-up alone, the first job alone, then the seven that queued: one transaction. */
    assert_int_equal(c.issue_batches, 3);
    assert_int_equal(c.issue_batched, 9);
    assert_int_equal(sshcert_store_audit_verify(s, &bad, &events, head), 0);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* While the batch waits: another process signs offline the serial the fourth queued job was
 * given, an operator locks u5's account, and failures of other logins lock the name u2 and
 * the address 192.0.2.7. */
static void
meanwhile(void *arg)
{
    sqlite3 *db = arg;
    char sql[256];

    raw_cert(db, 5, NOW, NOW + 60, 0);
    raw_exec(db, "UPDATE meta SET value = max(value, 6) WHERE key = 'next_serial'");
    raw_exec(db, "UPDATE users SET disabled = 1 WHERE username = 'u5'");
    snprintf(sql, sizeof(sql),
        "INSERT INTO failures(key, count, first_at, locked_until) VALUES "
        "('user:u2', 5, %llu, %llu), ('addr:192.0.2.7', 100, %llu, %llu)",
        NOW - 100, NOW + 900, NOW - 100, NOW + 500);
    raw_exec(db, sql);
}

/* Refusals inside a batch undo their own issuance only. */
static void
test_batch_refusals_alone(void **state)
{
    struct sshcert_store_counts c;
    struct job jobs[11];
    sqlite3 *db;
    struct sshcert_store *s = batch_store(&db, 7);
    unsigned i;

    (void)state;
    job_init(&jobs[0], s, "u0", 1, 2); /* a batch alone */
    job_init(&jobs[1], s, "u1", 2, 2);
    job_init(&jobs[2], s, "u1", 2, 2); /* u1's step again, in the same batch: a replay */
    job_init(&jobs[3], s, "u3", 4, 2); /* serial 5: taken meanwhile, signed again */
    job_init(&jobs[4], s, "u5", 6, 2); /* locked meanwhile */
    job_init(&jobs[5], s, "gone", 99, 2); /* no such user */
    job_init(&jobs[6], s, "u0", 1, 1); /* older than u0's step 2, committed by the first batch */
    job_init(&jobs[7], s, "u6", 7, 2);
    job_init(&jobs[8], s, "u2", 3, 2); /* the name locked meanwhile */
    jobs[8].claim.ukey = "user:u2";
    jobs[8].claim.akey = "addr:127.0.0.1";
    job_init(&jobs[9], s, "u4", 5, 2); /* the address locked meanwhile */
    jobs[9].claim.ukey = "user:u4";
    jobs[9].claim.akey = "addr:192.0.2.7";
    job_init(&jobs[10], s, "ghost", 7, 3); /* u6's id under another name: a reused id */
    run_held(s, jobs, 11, meanwhile, db);
    assert_int_equal(jobs[0].r, 0);
    assert_int_equal(jobs[1].r, 0);
    assert_int_equal(jobs[2].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[2].claim.refused, SSHCERT_CLAIM_REPLAYED);
    assert_int_equal(jobs[3].r, 0);
    assert_int_equal(jobs[3].first_serial, 5);
    assert_int_equal(atomic_load(&jobs[3].signs), 2);
    assert_true(jobs[3].rec.serial > 9);
    assert_int_equal(jobs[4].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[4].claim.refused, SSHCERT_CLAIM_DISABLED);
    assert_int_equal(jobs[5].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[5].claim.refused, SSHCERT_CLAIM_GONE);
    assert_int_equal(jobs[6].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[6].claim.refused, SSHCERT_CLAIM_REPLAYED);
    assert_int_equal(jobs[7].r, 0);
    assert_int_equal(jobs[8].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[8].claim.refused, SSHCERT_CLAIM_LOCKED);
    assert_int_equal(jobs[8].claim.locked_until, NOW + 900);
    assert_int_equal(jobs[9].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[9].claim.refused, SSHCERT_CLAIM_LOCKED);
    assert_int_equal(jobs[9].claim.locked_until, NOW + 500);
    assert_int_equal(jobs[10].r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(jobs[10].claim.refused, SSHCERT_CLAIM_GONE);
    /* Neither locked login moved its user's step; the reused id did not move u6's past 2. */
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE username = 'u2'"), 0);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE username = 'u4'"), 0);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE username = 'u6'"), 2);
    for (i = 0; i < 11; i++) {
        if (jobs[i].r == 0)
            check_row(db, &jobs[i]);
        else
            assert_null(jobs[i].rec.certificate); /* nothing leaves */
        sshcert_cert_record_clear(&jobs[i].rec);
    }
    /* Recorded: the warm-up, 4 issuances and the offline certificate; no row for a refusal. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 6);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE event = 'cert_issued'"), 5);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE username = 'u5'"), 0);
    assert_int_equal(sshcert_store_counts(s, NOW, &c), 0);
    /* The warm-up, the first job, the queued batch, and the fourth job signed again. */
    assert_int_equal(c.issue_batches, 4);
    assert_int_equal(c.issue_batched, 5);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* Any other store error fails the whole batch: nothing of it is recorded, no certificate
 * leaves, and every code in it stays usable. */
static void
test_batch_failure_fails_all(void **state)
{
    struct sshcert_store_counts c;
    struct sshcert_audit_xcheck x;
    struct job jobs[4], again;
    sqlite3 *db;
    struct sshcert_store *s = batch_store(&db, 4);
    uint64_t bad = 0, events = 0;
    char head[SSHCERT_AUDIT_HASH_HEX];
    unsigned i;

    (void)state;
    /* The audit append fails for u2 (as a full disk or an I/O error would fail a write). */
    raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON audit WHEN NEW.username = 'u2' "
                 "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    job_init(&jobs[0], s, "u0", 1, 2); /* a batch alone: recorded */
    job_init(&jobs[1], s, "u1", 2, 2);
    job_init(&jobs[2], s, "u2", 3, 2);
    job_init(&jobs[3], s, "u3", 4, 2);
    run_held(s, jobs, 4, NULL, NULL);
    assert_int_equal(jobs[0].r, 0);
    sshcert_cert_record_clear(&jobs[0].rec);
    for (i = 1; i < 4; i++) {
        assert_int_equal(jobs[i].r, SSHCERT_ERR_SYSTEM);
        assert_null(jobs[i].rec.certificate);
        assert_int_equal(user_step(db, (int64_t)i + 1), 0);
    }
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE serial IS NOT NULL"), 2);
    assert_int_equal(sshcert_store_counts(s, NOW, &c), 0);
    assert_int_equal(c.issue_batches, 2);
    assert_int_equal(c.issue_batched, 2);
    /* The same code of u1 again, once the store is healthy: accepted. */
    raw_exec(db, "DROP TRIGGER boom");
    job_init(&again, s, "u1", 2, 2);
    job_run(&again);
    assert_int_equal(again.r, 0);
    check_row(db, &again);
    sshcert_cert_record_clear(&again.rec);
    assert_int_equal(sshcert_store_audit_verify(s, &bad, &events, head), 0);
    /* The failed batch left no row without its event, nor an event without its row. */
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    assert_int_equal(x.certs, 3);
    assert_int_equal(x.revoked, 0);
    assert_int_equal(x.mismatch, SSHCERT_AUDIT_MATCH);
    raw_exec(db, "UPDATE certificates SET username = 'u9' WHERE serial = 2");
    expect_mismatch(s, &x, SSHCERT_AUDIT_CERT_UNLOGGED);
    assert_int_equal(x.serial, 2);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* Schema 4: a certificate's issuance event also names its key, valid_after and the hash of
 * its certificate line, so that audit verify's cross-check finds an edit of any of them. A
 * certificate whose event has the form of the builds before (issued before the upgrade, or by
 * an older server still running then) is compared in that form, whatever its serial: the log
 * decides which, not anything the database could change. */
static void
test_event_key(void **state)
{
    static const char *const v3[] = {SSHCERT_SQL_DIR "/001_init.sql",
        SSHCERT_SQL_DIR "/002_live_indexes.sql", SSHCERT_SQL_DIR "/003_revoked_ranges.sql"};
    static const struct {
        const char *edit, *undo;
    } edits[] = {
        {"UPDATE certificates SET key_fingerprint = 'SHA256:y' WHERE serial = 2",
            "UPDATE certificates SET key_fingerprint = 'SHA256:x' WHERE serial = 2"},
        {"UPDATE certificates SET valid_after = valid_after - 3600 WHERE serial = 2",
            "UPDATE certificates SET valid_after = valid_after + 3600 WHERE serial = 2"},
        {"UPDATE certificates SET certificate = 'cert-1' WHERE serial = 2",
            "UPDATE certificates SET certificate = 'cert-2' WHERE serial = 2"},
        {"UPDATE certificates SET certificate = CAST(certificate || X'00' || 'x' AS TEXT) "
         "WHERE serial = 2",
            "UPDATE certificates SET certificate = 'cert-2' WHERE serial = 2"},
        {"UPDATE certificates SET certificate = CAST(certificate AS BLOB) WHERE serial = 2",
            "UPDATE certificates SET certificate = 'cert-2' WHERE serial = 2"},
    };
    struct sshcert_audit_xcheck x;
    struct sshcert_store *s;
    struct job j;
    uint8_t h[32];
    char hex[sizeof(h) * 2 + 1], want[256], *sql;
    sqlite3 *db = raw_open();
    sqlite3_stmt *st;
    size_t i;

    (void)state;
    /* A store of schema 3 with one certificate, serial 1. */
    raw_exec(db, "PRAGMA journal_mode=WAL");
    raw_exec(db, "BEGIN");
    for (i = 0; i < sizeof(v3) / sizeof(v3[0]); i++) {
        sql = read_text(v3[i]);
        raw_exec(db, sql);
        free(sql);
    }
    raw_exec(db, "PRAGMA user_version = 3");
    raw_cert(db, 1, NOW - 10, NOW + 50, 0);
    raw_exec(db, "UPDATE meta SET value = 2 WHERE key = 'next_serial'");
    raw_user(db, "ann", 0);
    raw_user(db, "u", 0);
    raw_exec(db, "COMMIT");
    s = open_store(1);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 5);
    /* The user's event and the certificate's as the build before wrote them (raw_cert: key
     * id k, principal u, 60 s). */
    event_v3(s, NOW - 30, "user_added", "u", 0, "u");
    event_v3(s, NOW - 20, "user_added", "ann", 0, "p");
    /* A lock between a login and its certificate: a history the builds before the issuance's
     * transaction checked the account could write. Their issuances are not replayed. */
    event_v3(s, NOW - 15, "user_locked", "u", 0, NULL);
    event_v3(s, NOW - 10, "cert_issued", "u", 1, "key_id=k principals=u ttl=60");
    event_v3(s, NOW - 5, "user_unlocked", "u", 0, NULL);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* Serial 2, issued now. */
    job_init(&j, s, "ann", 1, 1);
    job_run(&j);
    assert_int_equal(j.r, 0);
    assert_int_equal(j.rec.serial, 2);
    sshcert_cert_record_clear(&j.rec);
    crypto_generichash(h, sizeof(h), (const unsigned char *)"cert-2", 6, NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(want, sizeof(want),
        "step=1 key_id=ann principals=p ttl=60 key=SHA256:x valid_after=%lld "
        "cert=BLAKE2b-256:%s",
        (long long)NOW, hex);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT detail FROM audit WHERE serial = 2", -1, &st,
                         NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    assert_int_equal(x.certs, 2);
    /* Each edit of serial 2 shows there, and only there. */
    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        raw_exec(db, edits[i].edit);
        expect_mismatch(s, &x, SSHCERT_AUDIT_CERT_UNLOGGED);
        assert_int_equal(x.serial, 2);
        raw_exec(db, edits[i].undo);
        assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    }
    /* ann's only user event is of the form before schema 4: her row is checked to exist,
     * not compared. */
    raw_exec(db, "UPDATE users SET principals = 'root' WHERE username = 'ann'");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    raw_exec(db, "CREATE TABLE saved AS SELECT * FROM users; DELETE FROM users");
    expect_user_mismatch(s, SSHCERT_AUDIT_USER_LOST, "ann");
    raw_exec(db, "INSERT INTO users SELECT * FROM saved; DROP TABLE saved");
    /* What the short event of serial 1 cannot show: its key (README, "Audit"). */
    raw_exec(db, "UPDATE certificates SET key_fingerprint = 'SHA256:y' WHERE serial = 1");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* A short event after a long one (an older server still running at the upgrade): serial
     * 3 is compared in its own form, and an edit of what that form holds still shows. */
    raw_exec(db, "INSERT INTO certificates(serial, key_id, username, principals, key_fingerprint, "
                 "valid_after, valid_before, issued_at, issued_by, certificate) VALUES (3, "
                 "'old key id', 'u', 'u', 'SHA256:z', 100, 160, 100, 'server', 'c3')");
    event_v3(s, 100, "cert_issued", "u", 3, "key_id=old key id principals=u ttl=60");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    raw_exec(db, "UPDATE certificates SET principals = 'root' WHERE serial = 3");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(x.serial, 3);
    raw_exec(db, "UPDATE certificates SET principals = 'u' WHERE serial = 3");
    /* The hash function is ours to call, not the schema's: a view that calls it fails. */
    raw_exec(db, "CREATE VIEW v AS SELECT sshcert_text_hash(certificate) FROM certificates");
    assert_int_equal(sqlite3_exec(s->db, "SELECT * FROM v", NULL, NULL, NULL), SQLITE_ERROR);
    raw_exec(db, "DROP VIEW v");
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* Schema 4: every user event records the row as it leaves it, so audit verify finds a users
 * row edited, added or deleted without the log: principals, max ttl, locked, and whether the
 * password hash and the sealed TOTP secret are the ones the log last recorded. */
static void
test_user_events(void **state)
{
    static const char *const edits[][2] = {
        {"UPDATE users SET principals = principals || ',root' WHERE username = 'ann'",
            "UPDATE users SET principals = 'a,b' WHERE username = 'ann'"},
        {"UPDATE users SET max_ttl = 86400 WHERE username = 'ann'",
            "UPDATE users SET max_ttl = 600 WHERE username = 'ann'"},
        {"UPDATE users SET max_ttl = NULL WHERE username = 'ann'",
            "UPDATE users SET max_ttl = 600 WHERE username = 'ann'"},
        {"UPDATE users SET disabled = 1 WHERE username = 'ann'",
            "UPDATE users SET disabled = 0 WHERE username = 'ann'"},
        /* bob's credentials copied over ann's: a login as ann with bob's password and code. */
        {"CREATE TABLE saved AS SELECT password_hash, totp_secret FROM users WHERE username = "
         "'ann'; UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE "
         "username = 'bob') WHERE username = 'ann'",
            "UPDATE users SET password_hash = (SELECT password_hash FROM saved) WHERE username = "
            "'ann'; DROP TABLE saved"},
        {"CREATE TABLE saved AS SELECT totp_secret FROM users WHERE username = 'ann'; UPDATE "
         "users SET totp_secret = (SELECT totp_secret FROM users WHERE username = 'bob') WHERE "
         "username = 'ann'",
            "UPDATE users SET totp_secret = (SELECT totp_secret FROM saved) WHERE username = "
            "'ann'; DROP TABLE saved"},
        /* The same bytes as text: no blob, no hash, and never a match. */
        {"CREATE TABLE saved AS SELECT totp_secret FROM users WHERE username = 'ann'; UPDATE "
         "users SET totp_secret = CAST(totp_secret AS TEXT) WHERE username = 'ann'",
            "UPDATE users SET totp_secret = (SELECT totp_secret FROM saved) WHERE username = "
            "'ann'; DROP TABLE saved"},
        /* What C and SQL would read differently (text cut at a NUL), or what blurs where
         * the state ends (a space), or a type no command writes: never a match. */
        {"UPDATE users SET principals = 'a,b' || char(0) || ',root' WHERE username = 'ann'",
            "UPDATE users SET principals = 'a,b' WHERE username = 'ann'"},
        {"UPDATE users SET principals = 'a,b was=none' WHERE username = 'ann'",
            "UPDATE users SET principals = 'a,b' WHERE username = 'ann'"},
        {"UPDATE users SET max_ttl = CAST('600' AS BLOB) WHERE username = 'ann'",
            "UPDATE users SET max_ttl = 600 WHERE username = 'ann'"},
        {"UPDATE users SET disabled = CAST(0 AS BLOB) WHERE username = 'ann'",
            "UPDATE users SET disabled = 0 WHERE username = 'ann'"},
        {"INSERT INTO users(username, password_hash, totp_secret, principals, created_at, "
         "updated_at) VALUES ('carl', 'h', x'00', 'root', 0, 0)",
            "DELETE FROM users WHERE username = 'carl'"},
    };
    static const uint8_t sealed_a[3] = {1, 2, 3}, sealed_b[3] = {4, 5, 6}, sealed_c[2] = {7, 8};
    struct sshcert_user ann = {.username = "ann", .password_hash = "$h-ann",
        .totp_secret = (uint8_t *)sealed_a, .totp_secret_len = sizeof(sealed_a),
        .principals = "a,b", .max_ttl = 600};
    struct sshcert_user bob = {.username = "bob", .password_hash = "$h-bob",
        .totp_secret = (uint8_t *)sealed_b, .totp_secret_len = sizeof(sealed_b),
        .principals = "bob"};
    struct sshcert_audit_xcheck x;
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();
    uint8_t h1[32], h2[32];
    char x1[65], x2[65], want[512];
    sqlite3_stmt *st;
    uint64_t revoked;
    size_t i;

    (void)state;
    assert_int_equal(sshcert_store_user_add(s, &ann, NOW), 0);
    assert_int_equal(sshcert_store_user_add(s, &bob, NOW), 0);
    /* bob's user_added event, exactly. */
    crypto_generichash(h1, sizeof(h1), (const unsigned char *)"$h-bob", 6, NULL, 0);
    crypto_generichash(h2, sizeof(h2), sealed_b, sizeof(sealed_b), NULL, 0);
    sodium_bin2hex(x1, sizeof(x1), h1, sizeof(h1));
    sodium_bin2hex(x2, sizeof(x2), h2, sizeof(h2));
    snprintf(want, sizeof(want),
        "state=principals=bob max_ttl=0 disabled=0 password=BLAKE2b-256:%s "
        "totp=BLAKE2b-256:%s was=none",
        x1, x2);
    assert_int_equal(sqlite3_prepare_v2(db,
                         "SELECT detail FROM audit WHERE event = 'user_added' AND username = "
                         "'bob'",
                         -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    /* Each command's event leaves the log and the table in step. */
    assert_int_equal(sshcert_store_user_set_password(s, "ann", "$h-ann2", NOW), 0);
    assert_int_equal(sshcert_store_user_set_totp(s, "bob", sealed_c, sizeof(sealed_c), NOW), 0);
    assert_int_equal(sshcert_store_user_set_disabled(s, "bob", 1, NOW), 0);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    assert_int_equal(x.users, 2);
    /* A login's step is not recorded by user events: it moves with every login. */
    raw_exec(db, "UPDATE users SET totp_last_step = 99 WHERE username = 'ann'");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        raw_exec(db, edits[i][0]);
        expect_mismatch(s, &x, SSHCERT_AUDIT_USER_UNLOGGED);
        assert_string_equal(x.username, i + 1 == sizeof(edits) / sizeof(edits[0]) ? "carl" : "ann");
        raw_exec(db, edits[i][1]);
        assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    }
    /* An edit that a later event takes in as the row's state (an operator's lock, a login's
     * rehash) is still found: that event recorded the row it found, which the event before
     * did not leave. Then the log itself is at odds, so it stays found. */
    raw_exec(db, "CREATE TABLE saved AS SELECT principals FROM users WHERE username = 'ann'; "
                 "UPDATE users SET principals = 'a,b,root' WHERE username = 'ann'");
    assert_int_equal(sshcert_store_user_set_disabled(s, "ann", 1, NOW), 0);
    expect_user_mismatch(s, SSHCERT_AUDIT_USER_CHANGED, "ann");
    assert_int_equal(sshcert_store_user_set_disabled(s, "ann", 0, NOW), 0);
    raw_exec(db, "UPDATE users SET principals = (SELECT principals FROM saved) WHERE username = "
                 "'ann'; DROP TABLE saved");
    expect_mismatch(s, &x, SSHCERT_AUDIT_USER_CHANGED);
    /* A row the state cannot read: its event says so, and is never a match, nor older. */
    raw_exec(db, "DELETE FROM audit WHERE username = 'ann' AND id > (SELECT id FROM audit "
                 "WHERE username = 'ann' AND event = 'user_password_changed')");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    raw_exec(db, "CREATE TABLE saved AS SELECT totp_secret FROM users WHERE username = 'ann'; "
                 "UPDATE users SET totp_secret = CAST(totp_secret AS TEXT) WHERE username = "
                 "'ann'");
    /* An event of the form before schema 4 just before, so that its was= is not compared:
     * the unreadable state alone must not match the row once it reads again. */
    event_v3(s, NOW, "user_totp_reset", "ann", 0, NULL);
    assert_int_equal(sshcert_store_user_set_disabled(s, "ann", 1, NOW), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE username = 'ann' AND event = "
                                 "'user_locked' AND detail LIKE 'state=unreadable was=%'"),
        1);
    expect_user_mismatch(s, SSHCERT_AUDIT_USER_UNLOGGED, "ann");
    raw_exec(db, "UPDATE users SET totp_secret = (SELECT totp_secret FROM saved) WHERE "
                 "username = 'ann'; DROP TABLE saved");
    expect_user_mismatch(s, SSHCERT_AUDIT_USER_UNLOGGED, "ann");
    raw_exec(db, "DELETE FROM audit WHERE username = 'ann' AND event IN ('user_locked', "
                 "'user_totp_reset')");
    raw_exec(db, "UPDATE users SET disabled = 0 WHERE username = 'ann'");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* bob's row deleted without the log, then put back. */
    raw_exec(db, "CREATE TABLE saved AS SELECT * FROM users WHERE username = 'bob'; "
                 "DELETE FROM users WHERE username = 'bob'");
    expect_user_mismatch(s, SSHCERT_AUDIT_USER_LOST, "bob");
    raw_exec(db, "INSERT INTO users SELECT * FROM saved");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* Deleted as the log records it; the row put back after: found. */
    assert_int_equal(sshcert_store_user_delete(s, "bob", NOW, &revoked), 0);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    assert_int_equal(x.users, 1);
    raw_exec(db, "INSERT INTO users SELECT * FROM saved; DROP TABLE saved");
    expect_user_mismatch(s, SSHCERT_AUDIT_USER_UNLOGGED, "bob");
    /* A name a mismatch reports is made printable. */
    raw_exec(db, "UPDATE users SET username = 'b' || char(10) || 'ob' WHERE username = 'bob'");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), SSHCERT_ERR_SIGNATURE);
    assert_string_equal(x.username, "b?ob");
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A users row edited, used and put back before the next user event leaves the table as the
 * log says; the certificate it got does not: verify replays each certificate the server
 * issued against its user's grant as the log had it then. */
static void
test_grant_replay(void **state)
{
    static const uint8_t sealed[3] = {1, 2, 3};
    static const struct {
        const char *edit, *principals, *undo;
        uint64_t ttl;
    } cases[] = {
        {"UPDATE users SET principals = 'a,b,root' WHERE username = 'ann'", "a,root",
            "UPDATE users SET principals = 'a,b' WHERE username = 'ann'", 60},
        {"UPDATE users SET max_ttl = 86400 WHERE username = 'ann'", "a",
            "UPDATE users SET max_ttl = 600 WHERE username = 'ann'", 3600},
        {"UPDATE users SET disabled = 0 WHERE username = 'bob'", NULL,
            "UPDATE users SET disabled = 1 WHERE username = 'bob'", 60},
    };
    struct sshcert_user ann = {.username = "ann", .password_hash = "$h",
        .totp_secret = (uint8_t *)sealed, .totp_secret_len = sizeof(sealed),
        .principals = "a,b", .max_ttl = 600};
    struct sshcert_user bob = {.username = "bob", .password_hash = "$h",
        .totp_secret = (uint8_t *)sealed, .totp_secret_len = sizeof(sealed), .principals = "p"};
    struct sshcert_audit_xcheck x;
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();
    struct job j;
    uint64_t step = 1;
    size_t i;

    (void)state;
    assert_int_equal(sshcert_store_user_add(s, &ann, NOW), 0);
    assert_int_equal(sshcert_store_user_add(s, &bob, NOW), 0);
    /* Within the grant: a subset of the principals, up to the max ttl. */
    job_init(&j, s, "ann", 1, step++);
    j.claim.password_hash = "$h";
    j.claim.totp_secret = sealed;
    j.claim.totp_secret_len = sizeof(sealed);
    j.principals = "b";
    j.ttl = 600;
    job_run(&j);
    assert_int_equal(j.r, 0);
    sshcert_cert_record_clear(&j.rec);
    assert_int_equal(sshcert_store_user_set_disabled(s, "bob", 1, NOW), 0);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int bob_case = cases[i].principals == NULL;

        raw_exec(db, cases[i].edit);
        job_init(&j, s, bob_case ? "bob" : "ann", bob_case ? 2 : 1, step++);
        j.claim.password_hash = "$h";
        j.claim.totp_secret = sealed;
        j.claim.totp_secret_len = sizeof(sealed);
        j.principals = cases[i].principals;
        j.ttl = cases[i].ttl;
        job_run(&j);
        assert_int_equal(j.r, 0);
        raw_exec(db, cases[i].undo);
        /* The table as the log says, the certificate and its event in step: only the replay
         * finds it. */
        expect_mismatch(s, &x, SSHCERT_AUDIT_GRANT_EXCEEDED);
        assert_int_equal(x.serial, j.rec.serial);
        assert_string_equal(x.username, bob_case ? "bob" : "ann");
        /* Taken out again (row and event), for the next case. */
        drop_issuance(db, j.rec.serial);
        sshcert_cert_record_clear(&j.rec);
        assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    }
    /* A certificate for a name the log never added (a row inserted and taken out again). */
    raw_exec(db, "UPDATE audit SET username = 'zed' WHERE event = 'cert_issued'");
    raw_exec(db, "UPDATE certificates SET username = 'zed'");
    expect_user_mismatch(s, SSHCERT_AUDIT_GRANT_EXCEEDED, "zed");
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A login's issuance as the server's: ann's credentials, step, principals "a"; its serial. */
static uint64_t
step_issue(struct job *j, struct sshcert_store *s, const uint8_t *sealed, size_t sealed_len,
    uint64_t step)
{
    uint64_t serial;

    job_init(j, s, "ann", 1, step);
    j->claim.password_hash = "$h";
    j->claim.totp_secret = sealed;
    j->claim.totp_secret_len = sealed_len;
    j->principals = "a";
    job_run(j);
    assert_int_equal(j->r, 0);
    assert_int_equal(j->claim.refused, SSHCERT_CLAIM_OK);
    serial = j->rec.serial;
    sshcert_cert_record_clear(&j->rec);
    return serial;
}

/* A claim of step for ann that issues nothing (a refusal after a right code), from
 * 127.0.0.1, with the server's issue_refused event for reason (NULL: none); its refusal, or
 * SSHCERT_CLAIM_OK. */
static enum sshcert_claim_refusal
step_claim(struct sshcert_store *s, const uint8_t *sealed, size_t sealed_len, uint64_t step,
    const char *reason)
{
    struct sshcert_store_claim cl;

    claim_init(&cl, 1, "ann", step);
    cl.password_hash = "$h";
    cl.totp_secret = sealed;
    cl.totp_secret_len = sealed_len;
    cl.addr = "127.0.0.1";
    cl.refusal_event = reason != NULL ? "issue_refused" : NULL;
    cl.refusal_reason = reason;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    return cl.refused;
}

/* Verify names serial as ann's reuse of a step; then the certificate and its event are taken
 * out again, and verify passes. */
static void
expect_step_reused(struct sshcert_store *s, sqlite3 *db, uint64_t serial)
{
    struct sshcert_audit_xcheck x;

    expect_mismatch(s, &x, SSHCERT_AUDIT_STEP_REUSED);
    assert_int_equal(x.serial, serial);
    assert_string_equal(x.username, "ann");
    drop_issuance(db, serial);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
}

/* ann's row's step set to value (SQL). */
static void
set_step(sqlite3 *db, const char *value)
{
    char sql[96];

    snprintf(sql, sizeof(sql), "UPDATE users SET totp_last_step = %s WHERE username = 'ann'",
        value);
    raw_exec(db, sql);
}

/* ann's row's step set to value (SQL), which verify must find set back; then to restore (SQL,
 * NULL: left so). */
static void
expect_step_lowered(struct sshcert_store *s, sqlite3 *db, const char *value, const char *restore)
{
    set_step(db, value);
    expect_user_mismatch(s, SSHCERT_AUDIT_STEP_LOWERED, "ann");
    if (restore != NULL)
        set_step(db, restore);
}

/* ann's row set back one below step, her last: found before a code is used again, by the row;
 * the code of step used again: found after, by its issuance (then taken out); then the row's
 * step set to bad (SQL), found too, and step put back. */
static void
expect_set_back(struct sshcert_store *s, sqlite3 *db, const uint8_t *sealed, size_t sealed_len,
    uint64_t step, const char *bad)
{
    char prev[24], last[24];
    struct job j;

    snprintf(prev, sizeof(prev), "%llu", (unsigned long long)(step - 1));
    snprintf(last, sizeof(last), "%llu", (unsigned long long)step);
    expect_step_lowered(s, db, prev, NULL);
    expect_step_reused(s, db, step_issue(&j, s, sealed, sealed_len, step));
    expect_step_lowered(s, db, bad, last);
}

/* Schema 5: each login's issuance names its TOTP step; verify finds a users row whose step was
 * set back, before a code is used again (lowered) and after (a step used twice). A new secret
 * starts over; a claim without a certificate only raises the row's step. */
static void
test_totp_steps(void **state)
{
    static const uint8_t sealed[3] = {1, 2, 3}, sealed2[3] = {4, 5, 6};
    struct sshcert_user ann = {.username = "ann", .password_hash = "$h",
        .totp_secret = (uint8_t *)sealed, .totp_secret_len = sizeof(sealed), .principals = "a"};
    struct sshcert_audit_xcheck x;
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();
    struct job j;

    (void)state;
    assert_int_equal(sshcert_store_user_add(s, &ann, NOW), 0);
    step_issue(&j, s, sealed, sizeof(sealed), 100);
    step_issue(&j, s, sealed, sizeof(sealed), 101);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE event = 'cert_issued' AND "
                                 "detail LIKE 'step=10_ key_id=ann principals=a %'"),
        2);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* Set back below 101, and 101 used again; then not an integer any more: read as set
     * back. */
    expect_set_back(s, db, sealed, sizeof(sealed), 101, "'x'");
    /* A claim that issues nothing (a refusal after a right code) raises the row's step. */
    assert_int_equal(step_claim(s, sealed, sizeof(sealed), 150, NULL), SSHCERT_CLAIM_OK);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* Its event, as the server writes it, names the step: set back below it is found, and the
     * code it used up, used again for a certificate (found in review: the refusal's event did
     * not name its step, and that replay passed). */
    assert_int_equal(step_claim(s, sealed, sizeof(sealed), 160, "principal_not_allowed"),
        SSHCERT_CLAIM_OK);
    /* The event is the claim's own (one transaction); a refused claim writes none. */
    assert_int_equal(step_claim(s, sealed, sizeof(sealed), 160, "principal_not_allowed"),
        SSHCERT_CLAIM_REPLAYED);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE event = 'issue_refused' AND "
                                 "actor = 'server' AND username = 'ann' AND client_address = "
                                 "'127.0.0.1' AND detail = 'step=160 principal_not_allowed'"),
        1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE event = 'issue_refused'"), 1);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* Then below 0 (logins would read it as the largest step): counts as set back. */
    expect_set_back(s, db, sealed, sizeof(sealed), 160, "-1");
    /* An issuance whose step is not a number the server writes cannot be shown newer. */
    raw_exec(db, "UPDATE audit SET detail = 'step=0' || substr(detail, 9) WHERE id = (SELECT "
                 "max(id) FROM audit WHERE event = 'cert_issued')");
    expect_mismatch(s, &x, SSHCERT_AUDIT_STEP_REUSED);
    raw_exec(db, "UPDATE audit SET detail = 'step=101' || substr(detail, 7) WHERE id = (SELECT "
                 "max(id) FROM audit WHERE event = 'cert_issued')");
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    /* A new secret starts at 0: an older step is no reuse. */
    assert_int_equal(sshcert_store_user_set_totp(s, "ann", sealed2, sizeof(sealed2), NOW), 0);
    step_issue(&j, s, sealed2, sizeof(sealed2), 90);
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    expect_step_lowered(s, db, "89", NULL);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* ---- One deadline per call while another process holds the database ---- */

/* The wait under test: long enough to tell one wait from two on a loaded machine, and what
 * each call may take at most (one wait plus slack, well short of two). */
#define BUSY_TEST_MS 500
#define BUSY_TEST_MAX_MS 850

struct busy_call {
    struct sshcert_store *s;
    struct job *job; /* NULL: an audit append instead of an issuance */
    int r;
    int64_t ms;
    pthread_t t;
};

static void *
busy_run(void *arg)
{
    struct busy_call *c = arg;
    int64_t t0 = sshcert_mono_ms();

    if (c->job != NULL) {
        job_run(c->job);
        c->r = c->job->r;
    } else
        c->r = sshcert_store_audit(c->s, NOW, "user_locked", "operator", "busy", 0, NULL, NULL);
    c->ms = sshcert_mono_ms() - t0;
    return NULL;
}

/* Five writes at once while another connection holds the write lock: each fails with BUSY
 * once its own wait is over. Before, they queued for the store's lock and then each waited
 * the whole time again: the fifth failed after five waits. */
static void
test_busy_one_deadline(void **state)
{
    struct busy_call calls[5];
    struct sshcert_store *s = open_store(2);
    sqlite3 *db = raw_open();
    unsigned i;

    (void)state;
    sshcert_store_set_busy_timeout(s, BUSY_TEST_MS);
    raw_exec(db, "BEGIN EXCLUSIVE");
    for (i = 0; i < 5; i++) {
        calls[i] = (struct busy_call){.s = s, .r = -1};
        assert_int_equal(pthread_create(&calls[i].t, NULL, busy_run, &calls[i]), 0);
    }
    for (i = 0; i < 5; i++)
        pthread_join(calls[i].t, NULL);
    for (i = 0; i < 5; i++) {
        assert_int_equal(calls[i].r, SSHCERT_ERR_BUSY);
        if (calls[i].ms < BUSY_TEST_MS || calls[i].ms >= BUSY_TEST_MAX_MS)
            fail_msg("call %u failed after %lld ms, not within [%d, %d)", i,
                (long long)calls[i].ms, BUSY_TEST_MS, BUSY_TEST_MAX_MS);
    }
    raw_exec(db, "ROLLBACK");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE username = 'busy'"), 0);
    /* The lock gone, the same write succeeds at once. */
    calls[0].r = -1;
    busy_run(&calls[0]);
    assert_int_equal(calls[0].r, 0);
    assert_true(calls[0].ms < BUSY_TEST_MS);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE username = 'busy'"), 1);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A holder busy with its own work (a checkpoint on a slow disk, say), not waiting for another
 * process, is waited for past the deadline: the write behind it succeeds. */
static void
test_busy_holder_working(void **state)
{
    struct busy_call call;
    struct sshcert_store *s = open_store(2);
    sqlite3 *db = raw_open();

    (void)state;
    sshcert_store_set_busy_timeout(s, BUSY_TEST_MS);
    call = (struct busy_call){.s = s, .r = -1};
    pthread_mutex_lock(&s->mu);
    assert_int_equal(pthread_create(&call.t, NULL, busy_run, &call), 0);
    usleep(BUSY_TEST_MS * 1000 * 8 / 5);
    pthread_mutex_unlock(&s->mu);
    pthread_join(call.t, NULL);
    assert_int_equal(call.r, 0);
    if (call.ms < BUSY_TEST_MS * 8 / 5)
        fail_msg("the write ended after %lld ms, before the holder let go", (long long)call.ms);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE username = 'busy'"), 1);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* The same for issuances: the writer's first batch fails when its wait is over, and those that
 * queued behind it meanwhile fail when theirs is, not after a second wait of their own
 * batch. Nothing is recorded and no TOTP step is used up. */
static void
test_busy_batch_deadline(void **state)
{
    static const char *const names[] = {"u0", "u1", "u2", "u3"};
    struct busy_call calls[4];
    struct job jobs[4], again;
    sqlite3 *db;
    struct sshcert_store *s = batch_store(&db, 4);
    unsigned i;

    (void)state;
    sshcert_store_set_busy_timeout(s, BUSY_TEST_MS);
    raw_exec(db, "BEGIN EXCLUSIVE");
    for (i = 0; i < 4; i++) {
        job_init(&jobs[i], s, names[i], (int64_t)i + 1, 2);
        calls[i] = (struct busy_call){.s = s, .job = &jobs[i], .r = -1};
        assert_int_equal(pthread_create(&calls[i].t, NULL, busy_run, &calls[i]), 0);
        if (i == 0)
            wait_writing(s);
        else
            wait_queued(s, i);
    }
    for (i = 0; i < 4; i++)
        pthread_join(calls[i].t, NULL);
    /* The first job, and the oldest of those that queued behind it (the second batch waits until
     * its time is up), wait the whole time; the younger ones of that batch fail with it, a
     * little early rather than late. */
    for (i = 0; i < 4; i++) {
        assert_int_equal(calls[i].r, SSHCERT_ERR_BUSY);
        assert_null(jobs[i].rec.certificate);
        if ((i < 2 && calls[i].ms < BUSY_TEST_MS) || calls[i].ms >= BUSY_TEST_MAX_MS)
            fail_msg("issuance %u failed after %lld ms (the wait: %d ms, at most: %d)", i,
                (long long)calls[i].ms, BUSY_TEST_MS, BUSY_TEST_MAX_MS);
    }
    raw_exec(db, "ROLLBACK");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), 1);
    for (i = 0; i < 4; i++) /* u0's step 1: batch_store's first issuance */
        assert_int_equal(user_step(db, (int64_t)i + 1), i == 0 ? 1 : 0);
    job_init(&again, s, "u3", 4, 2);
    job_run(&again);
    assert_int_equal(again.r, 0);
    /* Serials 2-5 were handed out and none recorded; one comes back only while it is still the
     * last handed out, so the next is one of them or 6 (gaps are allowed, reuse is not). */
    assert_in_range(again.rec.serial, 2, 6);
    check_row(db, &again);
    sshcert_cert_record_clear(&again.rec);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* ---- Throttling keys ---- */

/* An IPv6 client counts by its /64, an IPv4-mapped address as its IPv4 address, anything else
 * as it is written. */
static void
test_addr_key(void **state)
{
    static const struct {
        const char *addr, *key;
    } cases[] = {
        {"192.0.2.1", "addr:192.0.2.1"},
        {"127.0.0.1", "addr:127.0.0.1"},
        {"2001:db8::1", "addr:2001:db8::/64"},
        {"2001:db8::ffff:ffff:ffff:ffff", "addr:2001:db8::/64"},
        {"2001:db8:0:0:8000::", "addr:2001:db8::/64"},
        {"2001:db8:0:1::1", "addr:2001:db8:0:1::/64"},
        {"2001:db8:1234:5678:9abc:def0:1:2", "addr:2001:db8:1234:5678::/64"},
        {"::1", "addr:::/64"},
        {"::ffff:192.0.2.7", "addr:192.0.2.7"},
        {"::ffff:c000:207", "addr:192.0.2.7"},
        {"fe80::1%eth0", "addr:fe80::/64%eth0"},
        {"fe80::2:3:4:5%eth0", "addr:fe80::/64%eth0"},
        {"fe80::1%eth1", "addr:fe80::/64%eth1"},
        {"192.0.2.1%eth0", "addr:192.0.2.1%eth0"}, /* not an IPv6 address: as it is */
        {"unknown", "addr:unknown"},
        {"", "addr:"},
    };
    char key[SSHCERT_THROTTLE_KEY_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sshcert_store_addr_key(key, cases[i].addr);
        assert_string_equal(key, cases[i].key);
    }
    /* The longest IPv6 text still fits with its /64. */
    sshcert_store_addr_key(key, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
    assert_string_equal(key, "addr:ffff:ffff:ffff:ffff::/64");
}

/* ---- Logins that a lock began under (failures in flight together) ---- */

/* A name locked after a login read it unlocked: its claim and its failure change nothing. */
static void
test_locked_meanwhile(void **state)
{
    struct sshcert_store *s = open_store(0);
    sqlite3 *db = raw_open();
    struct sshcert_store_claim cl;
    struct sshcert_login_failure f;
    char sql[256];
    int64_t audit;

    (void)state;
    raw_user(db, "ann", 0); /* id 1 */
    raw_user(db, "bob", 0); /* id 2 */
    snprintf(sql, sizeof(sql),
        "INSERT INTO failures(key, count, first_at, locked_until) VALUES "
        "('user:ann', 5, %llu, %llu), ('user:old', 5, %llu, %llu), "
        "('addr:192.0.2.9', 100, %llu, %llu)",
        NOW - 10, NOW + 60, NOW - 2000, NOW, /* old's lock ended at NOW */
        NOW - 10, NOW + 30);
    raw_exec(db, sql);
    audit = raw_int(db, "SELECT count(*) FROM audit");

    /* The claim of a right password and code: refused, the step not taken. */
    claim_init(&cl, 1, "ann", 7);
    cl.ukey = "user:ann";
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_LOCKED);
    assert_int_equal(cl.locked_until, NOW + 60);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE id = 1"), 0);
    /* Name and address both locked: the later lock is the answer, whichever key holds it. */
    cl.akey = "addr:192.0.2.9";
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_LOCKED);
    assert_int_equal(cl.locked_until, NOW + 60);
    cl.ukey = NULL; /* a name with no failure key: the address's lock alone */
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_LOCKED);
    assert_int_equal(cl.locked_until, NOW + 30);
    cl.ukey = "user:old"; /* a lock that ended at NOW does not count */
    cl.akey = "addr:127.0.0.1";
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_OK);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE id = 1"), 7);
    raw_exec(db, "UPDATE users SET totp_last_step = 0 WHERE id = 1");
    cl.ukey = "user:ann";
    /* The lock's last second still locks; from its end on, the claim goes through. */
    cl.now = NOW + 59;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_LOCKED);
    /* ... on an account an operator has locked too (the code is used up whatever the
     * answer), clearing the name's failure row, whose lock has ended. */
    raw_exec(db, "UPDATE users SET disabled = 1 WHERE id = 1");
    cl.now = NOW + 60;
    cl.clear_key = "user:ann";
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_OK);
    assert_int_equal(cl.locked_until, 0);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE id = 1"), 7);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM failures WHERE key = 'user:ann'"), 0);
    cl.clear_key = NULL;
    snprintf(sql, sizeof(sql),
        "INSERT INTO failures(key, count, first_at, locked_until) VALUES ('user:ann', 5, %llu, "
        "%llu)",
        NOW - 10, NOW + 60); /* the lock again, for the failures below */
    raw_exec(db, sql);
    /* The same step again is a replay; bob's id under ann's name is another user's. */
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_REPLAYED);
    cl.user_id = 2;
    cl.totp_step = 9;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_GONE);
    assert_int_equal(raw_int(db, "SELECT totp_last_step FROM users WHERE id = 2"), 0);
    /* An address lock refuses too, with no name (an invalid one). */
    cl.ukey = NULL;
    cl.akey = "addr:192.0.2.9";
    cl.now = NOW;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_LOCKED);
    assert_int_equal(cl.locked_until, NOW + 30);

    /* A wrong password for the locked name: nothing counted, audited or created. */
    memset(&f, 0, sizeof(f));
    f.now = NOW;
    f.window = 900;
    f.ukey = "user:ann";
    f.akey = "addr:192.0.2.1";
    f.user_max = 5;
    f.addr_max = 100;
    f.username = "ann";
    f.addr = "192.0.2.1";
    f.reason = "bad_password";
    assert_int_equal(sshcert_store_login_failed(s, &f), 0);
    assert_int_equal(f.locked_until, NOW + 60);
    assert_int_equal(raw_int(db, "SELECT count FROM failures WHERE key = 'user:ann'"), 5);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM failures WHERE key = 'addr:192.0.2.1'"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), audit);
    /* A lock that has ended counts again: a fresh window for old, and the address. */
    f.ukey = "user:old";
    f.username = "old";
    assert_int_equal(sshcert_store_login_failed(s, &f), 0);
    assert_int_equal(f.locked_until, 0);
    assert_int_equal(raw_int(db, "SELECT count FROM failures WHERE key = 'user:old'"), 1);
    assert_int_equal(raw_int(db, "SELECT count FROM failures WHERE key = 'addr:192.0.2.1'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), audit + 1);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A password or TOTP secret replaced while a login was checked against the old one: its
 * claim (alone, or in an issuance's batch) is refused as CHANGED and writes nothing; a claim
 * that carries no credentials matches nothing (fail closed). */
static void
test_credentials_changed(void **state)
{
    static const uint8_t other_secret[1] = {1};
    struct sshcert_store_claim cl;
    struct job j;
    sqlite3 *db;
    struct sshcert_store *s = batch_store(&db, 2); /* u0, u1; u0 issued serial 1 at step 1 */
    int64_t certs = raw_int(db, "SELECT count(*) FROM certificates");
    int64_t audit = raw_int(db, "SELECT count(*) FROM audit");

    (void)state;
    claim_init(&cl, 2, "u1", 5);
    /* passwd since the login read the row */
    raw_exec(db, "UPDATE users SET password_hash = 'h2' WHERE id = 2");
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_CHANGED);
    assert_int_equal(user_step(db, 2), 0);
    /* totp-reset since: a new sealed secret, the last step back to 0 */
    raw_exec(db, "UPDATE users SET password_hash = 'h', totp_secret = x'01' WHERE id = 2");
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_CHANGED);
    assert_int_equal(user_step(db, 2), 0);
    /* No credentials in the claim: refused too. */
    cl.totp_secret = other_secret;
    cl.password_hash = NULL;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_CHANGED);
    cl.password_hash = "h";
    cl.totp_secret = NULL;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_CHANGED);
    assert_int_equal(user_step(db, 2), 0);
    /* The issuance of a login checked against the old secret: refused, nothing recorded. */
    job_init(&j, s, "u1", 2, 5);
    job_run(&j);
    assert_int_equal(j.r, SSHCERT_ERR_DUPLICATE);
    assert_int_equal(j.claim.refused, SSHCERT_CLAIM_CHANGED);
    assert_int_equal(user_step(db, 2), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM certificates"), certs);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), audit);
    sshcert_cert_record_clear(&j.rec);
    /* Against the credentials as they are now, the same login goes through. */
    job_init(&j, s, "u1", 2, 5);
    j.claim.totp_secret = other_secret;
    job_run(&j);
    assert_int_equal(j.r, 0);
    assert_int_equal(user_step(db, 2), 5);
    check_row(db, &j);
    sshcert_cert_record_clear(&j.rec);
    sqlite3_close(db);
    sshcert_store_close(s);
}

/* A login whose stored hash was made at another cost carries a new one in its claim
 * (auth.c rehash): written and audited only with a claim that succeeds. */
static void
test_rehash_with_claim(void **state)
{
    static const char rehashed[] =
        "SELECT count(*) FROM audit WHERE event = 'user_password_rehashed' AND actor = 'server' "
        "AND username = 'u1' AND client_address = '127.0.0.1' AND detail LIKE "
        "'cost=interactive state=principals=p max_ttl=0 disabled=0 password=BLAKE2b-256:% "
        "totp=BLAKE2b-256:% was=BLAKE2b-256:%'";
    struct sshcert_audit_xcheck x;
    struct sshcert_store_claim cl;
    struct job j;
    sqlite3 *db;
    struct sshcert_store *s = batch_store(&db, 2); /* u0, u1; u0 issued serial 1 at step 1 */
    int64_t audit;

    (void)state;
    audit = raw_int(db, "SELECT count(*) FROM audit");
    claim_init(&cl, 2, "u1", 5);
    cl.rehash = "h-new";
    cl.rehash_cost = "interactive";
    cl.addr = "127.0.0.1";
    /* passwd since the login read the row: refused, the operator's hash stays. */
    raw_exec(db, "UPDATE users SET password_hash = 'h2' WHERE id = 2");
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_CHANGED);
    assert_int_equal(raw_int(db, "SELECT password_hash = 'h2' FROM users WHERE id = 2"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), audit);
    /* The issuance's claim succeeds: the new hash and its audit event, with the certificate. */
    raw_exec(db, "UPDATE users SET password_hash = 'h' WHERE id = 2");
    job_init(&j, s, "u1", 2, 5);
    j.claim.rehash = "h-new";
    j.claim.rehash_cost = "interactive";
    j.claim.addr = "127.0.0.1";
    job_run(&j);
    assert_int_equal(j.r, 0);
    assert_int_equal(user_step(db, 2), 5);
    check_row(db, &j);
    sshcert_cert_record_clear(&j.rec);
    assert_int_equal(raw_int(db, "SELECT password_hash = 'h-new' FROM users WHERE id = 2"), 1);
    assert_int_equal(raw_int(db, rehashed), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), audit + 2);
    /* A replay of that step with another hash: refused, nothing written. */
    cl.password_hash = "h-new";
    cl.rehash = "h-3";
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_REPLAYED);
    assert_int_equal(raw_int(db, "SELECT password_hash = 'h-new' FROM users WHERE id = 2"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), audit + 2);
    /* A claim on its own (a refusal by policy after a right login) writes it too. */
    cl.totp_step = 6;
    assert_int_equal(sshcert_store_claim_step(s, &cl), 0);
    assert_int_equal(cl.refused, SSHCERT_CLAIM_OK);
    assert_int_equal(user_step(db, 2), 6);
    assert_int_equal(raw_int(db, "SELECT password_hash = 'h-3' FROM users WHERE id = 2"), 1);
    assert_int_equal(raw_int(db, rehashed), 2);
    /* The rehash event records the row as it left it: audit verify compares the two. */
    assert_int_equal(sshcert_store_audit_crosscheck(s, &x), 0);
    raw_exec(db, "UPDATE users SET password_hash = 'h-new' WHERE id = 2");
    expect_mismatch(s, &x, SSHCERT_AUDIT_USER_UNLOGGED);
    assert_string_equal(x.username, "u1");
    sqlite3_close(db);
    sshcert_store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_krl_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_krl_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_index_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_skip_writer_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totp_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_shares_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_refusals_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_failure_fails_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_one_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_holder_working, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_batch_deadline, setup, teardown),
        cmocka_unit_test(test_addr_key),
        cmocka_unit_test_setup_teardown(test_locked_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehash_with_claim, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
