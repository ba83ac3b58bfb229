/*
 * Durable commits without holding the store's lock through the disk flush (group commit).
 *
 * With synchronous=FULL, SQLite flushes the WAL inside COMMIT, so every writer waited for the
 * disk while holding the store's one lock, and concurrent issuances queued one flush each
 * (0.2 to 5 ms apiece on the benchmark VM's disk, depending on the host's load: at worst a
 * ceiling of ~200 commits/s, whatever the CPU).
 *
 * Instead the connection runs with synchronous=NORMAL, under which a commit only appends its
 * frames to the WAL (checkpoints still flush the WAL before copying it into the database, and
 * the database before the WAL is reused). Every write function then has the WAL flushed
 * (fdatasync) after releasing the lock and before returning: it still returns only once its
 * transaction is on disk, as under FULL, but the flush no longer blocks other callers, and
 * commits share flushes: a writer waits for a running flush that started after its commit,
 * and otherwise starts its own at once, even while an older flush still runs (the kernel
 * merges concurrent flushes of one file). Measured on the bench against the alternatives:
 * every writer calling fdatasync (same latency, more flushes, ~10% fewer issuances/s) and a
 * single leader running one flush at a time for everyone (p99 15-20 ms instead of ~12 ms).
 * Issuances are the exception: they are flushed batch by batch by the store's writer thread
 * (store_cert.c), which waits here like any writer.
 *
 * The commit counter comes from SQLite's WAL hook, called in the committing thread (under the
 * lock) after each commit that wrote to the WAL. The hook replaces SQLite's automatic
 * checkpoint, so it also runs that checkpoint, at SQLite's default size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "store_int.h"

/* WAL size (pages) that triggers a checkpoint: SQLite's default wal_autocheckpoint. It also
 * keeps the flushes cheap: a checkpointed WAL is rewritten from its start, in place, whereas a
 * growing one makes every fdatasync write the file's size too (measured: ~2,900 against ~2,200
 * issuances/s). 400 and 2,000 pages measured the same as 1,000. */
#define STORE_CHECKPOINT_PAGES 1000

static int
on_commit(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct sshcert_store *s = ctx;

    atomic_fetch_add(&s->commit_seq, 1);
    if (pages >= STORE_CHECKPOINT_PAGES)
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

int
store_sync_open(struct sshcert_store *s)
{
    const char *db = sqlite3_db_filename(s->db, "main");
    char *wal = NULL;
    int fd;

    s->wal_fd = -1;
    /* The WAL exists once the connection has run a transaction in WAL mode (the migration
     * check), and stays the same file while this connection is open. If it cannot be opened,
     * keep synchronous=FULL: slower, just as durable. */
    if (db == NULL || *db == '\0' || asprintf(&wal, "%s-wal", db) < 0)
        return 0;
    fd = open(wal, O_RDWR | O_CLOEXEC);
    free(wal);
    if (fd < 0)
        return 0;
    if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        close(fd);
        return SSHCERT_ERR_SYSTEM;
    }
    if (pthread_mutex_init(&s->flush_mu, NULL) != 0) {
        close(fd);
        return SSHCERT_ERR_SYSTEM;
    }
    if (pthread_cond_init(&s->flush_cv, NULL) != 0) {
        pthread_mutex_destroy(&s->flush_mu);
        close(fd);
        return SSHCERT_ERR_SYSTEM;
    }
    sqlite3_wal_hook(s->db, on_commit, s);
    s->wal_fd = fd;
    return 0;
}

void
store_sync_close(struct sshcert_store *s)
{
    if (s->wal_fd < 0)
        return;
    close(s->wal_fd);
    s->wal_fd = -1;
    pthread_cond_destroy(&s->flush_cv);
    pthread_mutex_destroy(&s->flush_mu);
}

int
sshcert_store_flush_failed(struct sshcert_store *s)
{
    return atomic_load(&s->flush_failed) != 0;
}

/* SQLite's own busy_timeout sleeps, in milliseconds; the last repeats. */
static const int busy_sleeps[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};

/* The writer's busy handler: another process holds the database. Sleeps and retries while the
 * caller's deadline (set by store_enter) has time left, then gives up (SQLITE_BUSY). */
static int
on_busy(void *ctx, int count)
{
    struct sshcert_store *s = ctx;
    int64_t left = sshcert_mono_ms_until(&s->deadline);
    size_t n = sizeof(busy_sleeps) / sizeof(busy_sleeps[0]);
    int ms = busy_sleeps[(size_t)count < n ? (size_t)count : n - 1];

    if (left <= 0)
        return 0;
    atomic_store(&s->busy_at_ms, sshcert_mono_ms());
    sqlite3_sleep(ms < left ? ms : (int)left);
    return 1;
}

void
store_busy_open(struct sshcert_store *s)
{
    sqlite3_busy_handler(s->db, on_busy, s);
    store_deadline(s, &s->deadline);
}

void
store_deadline(struct sshcert_store *s, struct timespec *t)
{
    sshcert_mono_after(t, (unsigned)atomic_load(&s->busy_ms));
}

int
store_enter_until(struct sshcert_store *s, const struct timespec *deadline)
{
    struct timespec by = *deadline;
    int e;

    /* The caller's whole wait, for the lock and then for the database, ends at one deadline:
     * callers queued behind a held database each fail when their own wait is over, not one
     * wait apiece after another. A lock free now is taken even past the deadline. When the
     * time is up but the holder is not waiting for another process (no busy wait lately: a
     * checkpoint on a slow disk, say), the caller goes on waiting, as it always did. */
    for (;;) {
        e = pthread_mutex_clocklock(&s->mu, CLOCK_MONOTONIC, &by);
        if (e != ETIMEDOUT && e != EINTR)
            break;
        if (e == ETIMEDOUT) {
            if (sshcert_mono_ms() - atomic_load(&s->busy_at_ms) <= STORE_BUSY_RECENT_MS)
                return SSHCERT_ERR_BUSY;
            store_deadline(s, &by);
        }
    }
    if (e != 0)
        return SSHCERT_ERR_SYSTEM;
    s->deadline = by;
    return 0;
}

int
store_enter(struct sshcert_store *s)
{
    struct timespec deadline;

    store_deadline(s, &deadline);
    return store_enter_until(s, &deadline);
}

int
store_lock(struct sshcert_store *s, const struct timespec *deadline, uint64_t *seq)
{
    int r;

    *seq = 0;
    if ((r = deadline != NULL ? store_enter_until(s, deadline) : store_enter(s)) != 0)
        return r;
    *seq = atomic_load(&s->commit_seq);
    return 0;
}

int
store_wait_durable(struct sshcert_store *s, uint64_t seq)
{
    uint64_t target;
    int r = 0;

    if (atomic_load(&s->flush_failed))
        return SSHCERT_ERR_SYSTEM;
    if (s->wal_fd < 0 || atomic_load(&s->synced_seq) >= seq)
        return 0;
    pthread_mutex_lock(&s->flush_mu);
    while (atomic_load(&s->synced_seq) < seq) {
        if (atomic_load(&s->flush_failed)) {
            r = SSHCERT_ERR_SYSTEM;
            break;
        }
        /* A flush that started after this commit is running: it covers us, wait for it. */
        if (s->started_seq >= seq) {
            pthread_cond_wait(&s->flush_cv, &s->flush_mu);
            continue;
        }
        /* Otherwise start one now, even while an older one runs: waiting for that one to end
         * first would add its remaining time to this caller's. Every commit counted so far
         * has its frames written, so this flush covers them all. */
        target = atomic_load(&s->commit_seq);
        s->started_seq = target;
        pthread_mutex_unlock(&s->flush_mu);
        r = fdatasync(s->wal_fd) == 0 ? 0 : SSHCERT_ERR_SYSTEM;
        pthread_mutex_lock(&s->flush_mu);
        /* After a failed flush Linux may report the next one of the same file as a success
         * although the pages it lost never reached the disk: nothing written since can be
         * called durable again, so every later flush fails too, until a restart reopens the
         * database (health answers 503 meanwhile). */
        if (r != 0)
            atomic_store(&s->flush_failed, 1);
        else if (atomic_load(&s->synced_seq) < target)
            atomic_store(&s->synced_seq, target);
        pthread_cond_broadcast(&s->flush_cv);
        if (r != 0)
            break;
    }
    pthread_mutex_unlock(&s->flush_mu);
    return r;
}

int
store_unlock_durable(struct sshcert_store *s, uint64_t seq, int r)
{
    uint64_t now = atomic_load(&s->commit_seq);

    pthread_mutex_unlock(&s->mu);
    /* Only this caller committed while it held the lock: a changed count is its commit. */
    if (r == 0 && now != seq)
        r = store_wait_durable(s, now);
    return r;
}
