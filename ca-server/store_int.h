/* Internals shared by store.c, store_cert.c and store_audit.c. Not for other modules. */
#ifndef SSHCERT_STORE_INT_H
#define SSHCERT_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <sqlite3.h>

#include "store.h"

/* Prepared statements kept for a connection's life, keyed by their SQL text's address (each
 * is a string literal). The writer and every reader has one such cache. */
#define STORE_MAX_STMTS 64
struct store_stmts {
    const char *sql[STORE_MAX_STMTS];
    sqlite3_stmt *stmt[STORE_MAX_STMTS];
    size_t n;
};

/* A reader's page cache, in pages (SQLite's default is 2 MiB per connection). Its reads are
 * point lookups (a login) and scans read once (/metrics, the KRL), and any write by another
 * connection empties it anyway; with the default, /metrics and KRL rebuilds on a large store
 * left up to 2 MiB in each of the server's (up to 64) readers. */
#define STORE_READER_CACHE_PAGES "64"
/* A read-only connection of its own (sshcert_store_open_readers); db is NULL until first
 * used. */
struct store_reader {
    pthread_mutex_t mu;
    sqlite3 *db;
    struct store_stmts stmts;
};

/* A holder whose busy handler began a sleep this recently (ms) is waiting for another
 * process: more than the handler's longest sleep (100 ms), so a wait in progress always
 * counts. */
#define STORE_BUSY_RECENT_MS 250

struct sshcert_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    struct store_stmts stmts;
    /* Group commit (store_sync.c): commits counted by the WAL hook, the count finished
     * flushes cover, the WAL file flushed outside the lock (-1: synchronous=FULL), and the
     * count the latest started flush covers (under flush_mu; flush_cv signals each end). */
    atomic_uint_fast64_t commit_seq, synced_seq;
    int wal_fd;
    atomic_int flush_failed; /* sticky: see store_wait_durable */
    pthread_mutex_t flush_mu;
    pthread_cond_t flush_cv;
    uint64_t started_seq;
    /* Reader connections (none in sshcert-admin), and where the next search for a free one
     * starts. */
    struct store_reader *readers; /* each opened on first use */
    unsigned nreaders;
    atomic_uint next_reader;
    char *reader_path;
    atomic_int reader_busy_ms;
    /* How long one call waits, for the lock and then for a database another process holds
     * (milliseconds), and the lock holder's deadline for it (under mu; on_busy reads it). */
    atomic_int busy_ms;
    struct timespec deadline;
    /* When the holder last began a sleep in the busy handler (CLOCK_MONOTONIC, ms): a waiter
     * whose time is up gives up only if that was within STORE_BUSY_RECENT_MS. */
    atomic_int_fast64_t busy_at_ms;
    /* Failures recorded since the last prune of stale throttling rows (under mu). */
    unsigned failures_since_prune;
    /* Issuance (store_cert.c): the next serial to hand out (0: not read from meta yet), and
     * the queue of issuances waiting for a transaction, under batch_mu, which the writer thread
     * (batch_thread, waiting on batch_cv) writes batch by batch; batch_busy is 1 while it
     * writes one, batch_stop asks it to end once the queue is empty. */
    atomic_uint_fast64_t serial_next;
    pthread_mutex_t batch_mu;
    pthread_cond_t batch_cv;
    pthread_t batch_thread;
    struct store_issue_job *batch_head, **batch_tail;
    int batch_busy, batch_stop, batch_started;
    /* Batches committed, and the issuances they recorded (sshcert_store_counts). */
    atomic_uint_fast64_t issue_batches, issue_batched;
};

/* *until: the later end of the locks on ukey (may be NULL) and akey still running at now, or 0
 * when neither is locked. Caller holds mu. */
int store_locked_until(struct sshcert_store *s, const char *ukey, const char *akey, uint64_t now,
    uint64_t *until);

/* After the database is open and migrated: synchronous=NORMAL plus our own WAL flush in
 * store_unlock_durable (or, if the WAL cannot be opened, synchronous=FULL as before). */
int store_sync_open(struct sshcert_store *s);
void store_sync_close(struct sshcert_store *s);
/* Takes the lock (mu) by the deadline busy_ms from now, and leaves that deadline for SQLite's
 * busy handler: the call's whole wait, for the lock and for another process's hold on the
 * database, ends there. 0, or SSHCERT_ERR_BUSY when the lock did not come in time (nothing
 * taken). */
int store_enter(struct sshcert_store *s);
/* store_enter with a deadline of the caller's (store_deadline, taken earlier). */
int store_enter_until(struct sshcert_store *s, const struct timespec *deadline);
/* *t: busy_ms from now, on CLOCK_MONOTONIC. */
void store_deadline(struct sshcert_store *s, struct timespec *t);
/* store_enter (deadline NULL) or store_enter_until, and *seq: the commit count for
 * store_unlock_durable. */
int store_lock(struct sshcert_store *s, const struct timespec *deadline, uint64_t *seq);
/* Installs the writer's busy handler and starts a deadline for what the opening does (the
 * pragmas and migrations run before any store_enter). */
void store_busy_open(struct sshcert_store *s);
/* Releases the lock. When r is 0 and the caller committed a write since store_lock, returns
 * only once that write is on disk (0) or the flush failed (SSHCERT_ERR_SYSTEM); else r. */
int store_unlock_durable(struct sshcert_store *s, uint64_t seq, int r);
/* Returns once every commit up to seq is on disk. Any thread, without the lock. */
int store_wait_durable(struct sshcert_store *s, uint64_t seq);
/* A reset, unbound cached statement for sql (a string literal), or NULL. Caller holds mu. */
sqlite3_stmt *store_stmt(struct sshcert_store *s, const char *sql);
/* Executes a statement that returns no rows; SQLITE_DONE -> 0. Resets it. */
int store_step_done(sqlite3_stmt *st);
/* Runs a cached statement without parameters that returns no rows (BEGIN, SAVEPOINT...). */
int store_run(struct sshcert_store *s, const char *sql);
int store_begin(struct sshcert_store *s);
int store_commit(struct sshcert_store *s);
void store_rollback(struct sshcert_store *s);
/* A reset, unbound statement for sql (a string literal) from db's cache c, prepared on first
 * use; NULL when it cannot be prepared. The caller holds the connection's lock. */
sqlite3_stmt *store_stmt_on(sqlite3 *db, struct store_stmts *c, const char *sql);
void store_stmts_finalize(struct store_stmts *c);
/* Runs fn(db, stmts, ctx) on a reader connection when the store has one (no writer lock taken
 * or waited for), else on the writer's connection under mu; returns fn's result. fn takes its
 * statements from stmts (store_stmt_on), resets them, and leaves no transaction open. */
typedef int (*store_read_fn)(sqlite3 *db, struct store_stmts *stmts, void *ctx);
int store_read(struct sshcert_store *s, store_read_fn fn, void *ctx);
/* The statements of sshcert_store_counts and sshcert_store_krl_read (named for the unit test
 * that checks their query plans). */
extern const char store_sql_counts[];
extern const char store_sql_krl_serials[];
extern const char *const store_sql_cert_list[4];
/* Maps an SQLite result to an SSHCERT_ERR_*. */
int store_err(int rc);
/* Column text copy (NULL for SQL NULL); sets *fail on allocation failure. */
char *store_col_str(sqlite3_stmt *st, int col, int *fail);
/* out: lowercase hex BLAKE2b-256 of len bytes of text, as `b2sum -l 256` prints it (an
 * issuance event's cert=, a user event's password=, totp= and was=). */
#define SSHCERT_TEXT_HASH_BYTES 32
#define SSHCERT_TEXT_HASH_HEX (SSHCERT_TEXT_HASH_BYTES * 2 + 1)
void store_text_hash(const char *text, size_t len, char out[SSHCERT_TEXT_HASH_HEX]);
/* Registers on db the SQL functions the audit uses: sshcert_text_hash(TEXT) and
 * sshcert_blob_hash(BLOB), each the hex of store_text_hash (NULL for any other type), and
 * sshcert_row_hash(V, ...), a 32-byte blob over the values' types and contents (equal only for
 * equal values of equal types), which the cross-check sorts instead of whole rows. */
int store_audit_functions(sqlite3 *db);
/* What a user event records of the users row it leaves (schema 4), as SQL over that row: its
 * principals, max_ttl (0: the config's), disabled, and the hashes of its password hash and of
 * its sealed TOTP secret (which tell nothing of either, only whether the row still holds what
 * the log says); NULL when a column holds what no command writes: principals not text, or
 * with a NUL (which C would cut the text at, and SQL not) or a space (which would blur where
 * the state ends), a max_ttl or disabled not an integer, a password hash not text, a TOTP
 * secret not a blob. sshcert-admin audit verify compares each row with its name's latest
 * event. */
#define STORE_USER_STATE                                                                       \
    "CASE WHEN typeof(principals) = 'text' AND instr(CAST(principals AS BLOB), x'00') = 0 "     \
    "AND instr(principals, ' ') = 0 AND typeof(max_ttl) IN ('integer', 'null') AND "            \
    "typeof(disabled) = 'integer' THEN 'principals=' || principals || ' max_ttl=' || "         \
    "coalesce(max_ttl, 0) || ' disabled=' || disabled || ' password=BLAKE2b-256:' || "         \
    "sshcert_text_hash(password_hash) || ' totp=BLAKE2b-256:' || "                             \
    "sshcert_blob_hash(totp_secret) END"
/* *was: what a user event about to change username's row records it found: "none" (no such
 * row) or "BLAKE2b-256:" and the hash of its STORE_USER_STATE text. Call before the change.
 * Caller holds mu. */
#define STORE_USER_WAS_LEN (12 + SSHCERT_TEXT_HASH_HEX)
int store_user_was(struct sshcert_store *s, const char *username, char was[STORE_USER_WAS_LEN]);
/* Appends a user event whose detail is [prefix " "] "state=" STORE_USER_STATE of username's
 * row as the caller's transaction has it now ("deleted" once the row is gone, "unreadable"
 * when the state is NULL) and " was=" was (store_user_was, taken before the change). Caller
 * holds mu. */
int store_audit_user_locked(struct sshcert_store *s, uint64_t now, const char *event,
    const char *actor, const char *username, const char *client_address, const char *prefix,
    const char *was);
/* Appends one audit event inside the caller's transaction. Caller holds mu. */
int store_audit_locked(struct sshcert_store *s, uint64_t now, const char *event,
    const char *actor, const char *username, uint64_t serial, const char *client_address,
    const char *detail);
int store_meta_get(struct sshcert_store *s, const char *key, uint64_t *v);
/* Revokes username's unexpired, unrevoked certificates (each audited as cert_revoked) and
 * bumps the KRL's version when there were any, inside the caller's transaction; *count: how
 * many (0 unless 0 is returned). Caller holds mu. */
int store_revoke_user_locked(struct sshcert_store *s, const char *username, const char *reason,
    uint64_t now, const char *actor, uint64_t *count);
/* The batch queue as the unit test watches it: issuances queued behind the writer, and
 * whether it is writing a batch. */
unsigned store_batch_queued(struct sshcert_store *s);
int store_batch_writing(struct sshcert_store *s);
/* Starts the store's writer thread (named SSHCERT_STORE_WRITER_NAME, every signal blocked),
 * at the end of sshcert_store_open. 0 or SSHCERT_ERR_SYSTEM. */
int store_batch_start(struct sshcert_store *s);
/* Has the writer write what is queued, then end; waits for it. Harmless if not started. */
void store_batch_stop(struct sshcert_store *s);
int store_meta_set(struct sshcert_store *s, const char *key, uint64_t v);

#endif
