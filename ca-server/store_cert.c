#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
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

/*
 * Issuance, batched (group commit). A login's certificate is signed outside the store's lock
 * (the ed25519 signature and the certificate's encoding were most of the time the lock was
 * held), then joins a queue. The store's writer thread takes everything queued, writes it in
 * one transaction, commits, waits for the flush, and only then takes what queued meanwhile.
 * The transaction, its file locks, the WAL pages that the issuances share (the certificates
 * and audit leaves, meta, the users' pages) and the flush are paid once per batch instead of
 * once per certificate, and the TOTP step claim is part of it rather than a transaction of
 * its own. Measured: tests/bench/README.md, fifth pass; the writer thread, twenty-second.
 *
 * Each issuance runs inside a savepoint of the batch: a refused claim (a replayed code, an
 * account locked or deleted since the login), a serial taken by another process or a refused
 * certificate row (a constraint or trigger on the insert) undoes that issuance alone. Any other
 * error (I/O, disk full, out of memory, a constraint elsewhere) rolls back the whole batch, and
 * every issuance in it fails: nothing of it is recorded and no certificate leaves. A reply
 * leaves only once its batch is on disk.
 *
 * Serials for logins come from a counter read once from meta (next_serial) and kept in memory,
 * so that a serial is known before the lock is taken; they are therefore committed roughly,
 * not strictly, in audit order. sshcert-admin sign (another process, without a claim) reads
 * and signs its serial inside its own write transaction, as before; when it took one the
 * server had handed out, the server's insert fails on the primary key, its counter catches up
 * with meta, and its certificate is signed again with the next free serial. next_serial in
 * meta only ever rises to the highest recorded serial + 1. A failed issuance gives its serial
 * back when nothing was committed and no later one was handed out (a serial is never reused:
 * one that was not recorded never left the server).
 */
enum job_outcome { JOB_OK, JOB_CLAIM_REFUSED, JOB_SERIAL_TAKEN, JOB_REFUSED };

struct store_issue_job {
    struct sshcert_cert_record *rec;
    char *detail; /* its issuance event's (job_detail), made before the lock */
    struct sshcert_store_claim *claim;
    enum job_outcome outcome;
    int r;
    int done, committed;
    struct timespec deadline; /* store_deadline when it joined the queue */
    pthread_cond_t cv;        /* under batch_mu */
    struct store_issue_job *next;
};

/* Raises the serial counter to meta's next_serial (another process may have issued). */
static int
serial_sync(struct sshcert_store *s)
{
    uint_fast64_t cur;
    uint64_t next;
    int r;

    if ((r = store_enter(s)) != 0)
        return r;
    r = store_meta_get(s, "next_serial", &next);
    pthread_mutex_unlock(&s->mu);
    if (r != 0)
        return r;
    if (next == 0 || next >= INT64_MAX)
        return SSHCERT_ERR_INTERNAL;
    cur = atomic_load(&s->serial_next);
    while (cur < next && !atomic_compare_exchange_weak(&s->serial_next, &cur, next))
        ;
    return 0;
}

static int
serial_take(struct sshcert_store *s, uint64_t *serial)
{
    int r;

    if (atomic_load(&s->serial_next) == 0 && (r = serial_sync(s)) != 0)
        return r;
    *serial = atomic_fetch_add(&s->serial_next, 1);
    return *serial == 0 || *serial >= INT64_MAX ? SSHCERT_ERR_INTERNAL : 0;
}

/* Gives an unrecorded serial back if it is still the last one handed out. */
static void
serial_return(struct sshcert_store *s, uint64_t serial)
{
    uint_fast64_t expect = serial + 1;

    (void)atomic_compare_exchange_strong(&s->serial_next, &expect, serial);
}

/* Binds ?5 and ?6 of a claim statement: the password hash and sealed TOTP secret the login was
 * checked against. A claim without them binds NULL, which matches no row (fail closed). */
static void
claim_bind_credentials(sqlite3_stmt *st, const struct sshcert_store_claim *cl)
{
    sqlite3_bind_text(st, 5, cl->password_hash, -1, SQLITE_STATIC);
    if (cl->totp_secret != NULL && cl->totp_secret_len <= INT_MAX)
        sqlite3_bind_blob(st, 6, cl->totp_secret, (int)cl->totp_secret_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
}

/* Writes a successful claim's new password hash (cl->rehash) and audits it. Caller holds mu
 * inside the claim's transaction. */
static int
rehash_write(struct sshcert_store *s, const struct sshcert_store_claim *cl)
{
    static const char upd[] = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
    sqlite3_stmt *st;
    char detail[48], was[STORE_USER_WAS_LEN];
    int r;

    if ((r = store_user_was(s, cl->username, was)) != 0)
        return r;
    if ((st = store_stmt(s, upd)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, cl->user_id);
    sqlite3_bind_text(st, 2, cl->rehash, -1, SQLITE_STATIC);
    if ((r = store_step_done(st)) != 0)
        return r;
    snprintf(detail, sizeof(detail), "cost=%s", cl->rehash_cost != NULL ? cl->rehash_cost : "");
    return store_audit_user_locked(s, cl->now, "user_password_rehashed", "server",
        cl->username, cl->addr, detail, was);
}

/* Claims the step (while the account is enabled, unless any_state) and clears the name's
 * failure row when clear_key is set, unless a lock began on it; on a refusal, reads why.
 * Caller holds mu inside a transaction. */
static int
claim_write(struct sshcert_store *s, struct sshcert_store_claim *cl, int any_state,
    enum job_outcome *out)
{
    static const char claim[] =
        "UPDATE users SET totp_last_step = ?2 "
        "WHERE id = ?1 AND username = ?3 AND totp_last_step < ?2 AND (disabled = 0 OR ?4) "
        "AND password_hash = ?5 AND totp_secret = ?6";
    static const char clear[] = "DELETE FROM failures WHERE key = ?1 AND locked_until <= ?2";
    static const char why[] =
        "SELECT disabled, totp_last_step < ?2, "
        "password_hash IS ?5 AND totp_secret IS ?6 AND ?5 IS NOT NULL AND ?6 IS NOT NULL "
        "FROM users WHERE id = ?1 AND username = ?3";
    sqlite3_stmt *st;
    int rc, r;

    cl->refused = SSHCERT_CLAIM_OK;
    cl->locked_until = 0;
    if ((r = store_locked_until(s, cl->ukey, cl->akey, cl->now, &cl->locked_until)) != 0)
        return r;
    if (cl->locked_until != 0) {
        cl->refused = SSHCERT_CLAIM_LOCKED;
        *out = JOB_CLAIM_REFUSED;
        return 0;
    }
    if ((st = store_stmt(s, claim)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, cl->user_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cl->totp_step);
    sqlite3_bind_text(st, 3, cl->username, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, any_state != 0);
    claim_bind_credentials(st, cl);
    if ((r = store_step_done(st)) != 0)
        return r;
    if (sqlite3_changes(s->db) == 1) {
        if (cl->rehash != NULL && (r = rehash_write(s, cl)) != 0)
            return r;
        if (cl->clear_key == NULL)
            return 0;
        if ((st = store_stmt(s, clear)) == NULL)
            return SSHCERT_ERR_SYSTEM;
        sqlite3_bind_text(st, 1, cl->clear_key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)cl->now);
        return store_step_done(st);
    }
    *out = JOB_CLAIM_REFUSED;
    if ((st = store_stmt(s, why)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, cl->user_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cl->totp_step);
    sqlite3_bind_text(st, 3, cl->username, -1, SQLITE_STATIC);
    claim_bind_credentials(st, cl);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int(st, 2) == 0)
        cl->refused = SSHCERT_CLAIM_CHANGED;
    else if (rc == SQLITE_ROW)
        cl->refused = sqlite3_column_int(st, 0) != 0 && sqlite3_column_int(st, 1) != 0
                          ? SSHCERT_CLAIM_DISABLED
                          : SSHCERT_CLAIM_REPLAYED;
    else if (rc == SQLITE_DONE)
        cl->refused = SSHCERT_CLAIM_GONE;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_err(rc);
}

/* job->detail for job->rec, signed: whole, not cut, the chained event, not only the
 * certificate's row, says what was granted (up to SSHCERT_MAX_PRINCIPALS names and a
 * SSHCERT_MAX_KEY_ID key id), to which key, from when, and which certificate line (schema 4;
 * the cross-check in store_audit.c derives the same text from the row), and, for a login's
 * issuance, the TOTP step it claimed, first (schema 5: the users row keeps only the last, and
 * the cross-check finds a step used twice or a row's step set back). Made outside the store's
 * lock: the hash and the text are each issuance's own. */
static int
job_detail(struct store_issue_job *job)
{
    const struct sshcert_cert_record *rec = job->rec;
    char cert_hash[SSHCERT_TEXT_HASH_HEX], step[SSHCERT_AUDIT_STEP_MAX] = "";

    store_text_hash(rec->certificate, strlen(rec->certificate), cert_hash);
    if (job->claim != NULL)
        snprintf(step, sizeof(step), SSHCERT_AUDIT_STEP_FMT,
            (unsigned long long)job->claim->totp_step);
    if (asprintf(&job->detail,
            "%skey_id=%s principals=%s ttl=%llu key=%s valid_after=%llu cert=BLAKE2b-256:%s",
            step, rec->key_id, rec->principals,
            (unsigned long long)(rec->valid_before - rec->issued_at), rec->key_fingerprint,
            (unsigned long long)rec->valid_after, cert_hash) < 0) {
        job->detail = NULL;
        return SSHCERT_ERR_ALLOC;
    }
    return 0;
}

/* One issuance's statements, inside the caller's transaction. Caller holds mu. Returns 0 with
 * job->outcome set (JOB_OK or a refusal that only this issuance's savepoint undoes), or an
 * error that fails the transaction. */
static int
job_write(struct sshcert_store *s, struct store_issue_job *job)
{
    static const char ins[] =
        "INSERT INTO certificates(serial, key_id, username, principals, key_fingerprint, "
        "valid_after, valid_before, issued_at, client_address, issued_by, certificate) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    static const char next[] =
        "UPDATE meta SET value = max(value, ?1) WHERE key = 'next_serial'";
    const struct sshcert_cert_record *rec = job->rec;
    sqlite3_stmt *st;
    int rc, r;

    job->outcome = JOB_OK;
    if (job->claim != NULL &&
        ((r = claim_write(s, job->claim, 0, &job->outcome)) != 0 || job->outcome != JOB_OK))
        return r;
    if ((st = store_stmt(s, ins)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)rec->serial);
    sqlite3_bind_text(st, 2, rec->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rec->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, rec->principals, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, rec->key_fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)rec->valid_after);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)rec->valid_before);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)rec->issued_at);
    if (rec->client_address != NULL)
        sqlite3_bind_text(st, 9, rec->client_address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, rec->issued_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, rec->certificate, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT) {
        /* The statement alone was undone; the transaction goes on. */
        job->outcome = sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY
                           ? JOB_SERIAL_TAKEN
                           : JOB_REFUSED;
        return 0;
    }
    if (rc != SQLITE_DONE)
        return store_err(rc == SQLITE_ROW ? SQLITE_ERROR : rc);
    if ((st = store_stmt(s, next)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(rec->serial + 1));
    if ((r = store_step_done(st)) != 0)
        return r;
    return store_audit_locked(s, rec->issued_at,
        strcmp(rec->issued_by, "operator") == 0 ? "cert_signed_offline" : "cert_issued",
        rec->issued_by, rec->username, rec->serial, rec->client_address, job->detail);
}

int
sshcert_store_claim_step(struct sshcert_store *s, struct sshcert_store_claim *cl)
{
    enum job_outcome out = JOB_OK;
    char *detail = NULL;
    int r;

    if (cl->refusal_event != NULL &&
        asprintf(&detail, SSHCERT_AUDIT_STEP_FMT "%s", (unsigned long long)cl->totp_step,
            cl->refusal_reason != NULL ? cl->refusal_reason : "") < 0)
        return SSHCERT_ERR_ALLOC;
    if ((r = store_enter(s)) != 0) {
        free(detail);
        return r;
    }
    if ((r = store_begin(s)) == 0 && (r = claim_write(s, cl, 1, &out)) == 0 && out == JOB_OK &&
        (detail == NULL || (r = store_audit_locked(s, cl->now, cl->refusal_event, "server",
                                cl->username, 0, cl->addr, detail)) == 0))
        r = store_commit(s);
    if (r != 0 || out != JOB_OK)
        store_rollback(s);
    pthread_mutex_unlock(&s->mu);
    free(detail);
    return r;
}

/* Writes a batch in one transaction. Sets each job's r (0 or the error that failed the batch)
 * and outcome; returns the commit count to wait for on disk, or 0 when nothing was committed. */
static uint64_t
batch_write(struct sshcert_store *s, struct store_issue_job *batch)
{
    static const char sp[] = "SAVEPOINT issue", rel[] = "RELEASE issue",
                      undo[] = "ROLLBACK TO issue";
    struct store_issue_job *j;
    uint64_t seq, after;
    int r, any = 0;

    /* The batch waits for the lock and the database until its oldest job's (the queue's
     * head: jobs queue in arrival order) time is up, so that no job waits longer. */
    if ((r = store_lock(s, &batch->deadline, &seq)) != 0) {
        for (j = batch; j != NULL; j = j->next)
            j->r = r;
        return 0;
    }
    r = store_begin(s);
    for (j = batch; r == 0 && j != NULL; j = j->next) {
        if ((r = store_run(s, sp)) != 0 || (r = job_write(s, j)) != 0)
            break;
        if (j->outcome != JOB_OK && (r = store_run(s, undo)) != 0)
            break;
        if ((r = store_run(s, rel)) != 0)
            break;
        any |= j->outcome == JOB_OK;
    }
    if (r == 0 && any)
        r = store_commit(s);
    if (r != 0 || !any)
        store_rollback(s);
    if (r == 0 && any) {
        atomic_fetch_add(&s->issue_batches, 1);
        for (j = batch; j != NULL; j = j->next)
            if (j->outcome == JOB_OK)
                atomic_fetch_add(&s->issue_batched, 1);
    }
    after = atomic_load(&s->commit_seq);
    pthread_mutex_unlock(&s->mu);
    /* A constraint outside the certificate's insert fails the batch like any store error:
     * it must not read as one issuance's refusal (SSHCERT_ERR_DUPLICATE is a refused claim). */
    if (r == SSHCERT_ERR_DUPLICATE)
        r = SSHCERT_ERR_SYSTEM;
    for (j = batch; j != NULL; j = j->next)
        j->r = r;
    /* Only the writer committed while it held the lock: a changed count is its commit. */
    return r == 0 && after != seq ? after : 0;
}

/* Writes the queued batch: everything queued so far is one transaction and one flush; then
 * wakes each of its jobs. Called by the writer with batch_mu held and the queue not empty;
 * returns with batch_mu held. What queues meanwhile waits and makes the next batch larger,
 * rather than a transaction and a flush of its own. */
static void
batch_next(struct sshcert_store *s)
{
    struct store_issue_job *batch, *j, *next;
    uint64_t seq;
    int rf;

    s->batch_busy = 1;
    batch = s->batch_head;
    s->batch_head = NULL;
    s->batch_tail = &s->batch_head;
    pthread_mutex_unlock(&s->batch_mu);
    seq = batch_write(s, batch);
    rf = seq != 0 ? store_wait_durable(s, seq) : 0;
    pthread_mutex_lock(&s->batch_mu);
    for (j = batch; j != NULL; j = next) {
        next = j->next;
        if (j->r == 0 && j->outcome == JOB_OK) {
            j->committed = 1;
            j->r = rf;
        }
        j->done = 1;
        pthread_cond_signal(&j->cv);
    }
    s->batch_busy = 0;
}

/* The store's writer thread: one per store, from open to close. It writes every batch, and
 * goes on to the next as soon as a flush ends. Before it, the request thread that had led a
 * batch woke the oldest queued one to lead the next, and that thread had to be scheduled
 * behind the others, hashing and signing, before the next batch was written: measured, the
 * CPUs idled 18-24% under load, 9-13% with the writer (tests/bench/README.md,
 * twenty-second pass). At close it writes what is still queued, then ends. */
static void *
batch_writer(void *arg)
{
    struct sshcert_store *s = arg;

    pthread_mutex_lock(&s->batch_mu);
    for (;;) {
        if (s->batch_head != NULL)
            batch_next(s);
        else if (s->batch_stop)
            break;
        else
            pthread_cond_wait(&s->batch_cv, &s->batch_mu);
    }
    pthread_mutex_unlock(&s->batch_mu);
    return NULL;
}

int
store_batch_start(struct sshcert_store *s)
{
    sigset_t all, old;
    int e;

    if (pthread_cond_init(&s->batch_cv, NULL) != 0)
        return SSHCERT_ERR_SYSTEM;
    /* The thread inherits a mask that blocks every signal: a signal meant for the server's
     * own handling (SIGTERM to sigwait in main) must never be taken by this thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&s->batch_thread, NULL, batch_writer, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        pthread_cond_destroy(&s->batch_cv);
        return SSHCERT_ERR_SYSTEM;
    }
    (void)pthread_setname_np(s->batch_thread, SSHCERT_STORE_WRITER_NAME);
    s->batch_started = 1;
    return 0;
}

void
store_batch_stop(struct sshcert_store *s)
{
    if (!s->batch_started)
        return;
    pthread_mutex_lock(&s->batch_mu);
    s->batch_stop = 1;
    pthread_cond_signal(&s->batch_cv);
    pthread_mutex_unlock(&s->batch_mu);
    pthread_join(s->batch_thread, NULL);
    pthread_cond_destroy(&s->batch_cv);
    s->batch_started = 0;
}

/* Queues job and returns once its batch is written and on disk (or failed). Each waiter
 * sleeps on its own condition and is woken only when its job is done: no thundering herd. */
static int
batch_join(struct sshcert_store *s, struct store_issue_job *job)
{
    job->next = NULL;
    job->done = 0;
    job->committed = 0;
    store_deadline(s, &job->deadline);
    if (pthread_cond_init(&job->cv, NULL) != 0)
        return SSHCERT_ERR_SYSTEM;
    pthread_mutex_lock(&s->batch_mu);
    if (s->batch_stop) { /* the store is closing: no writer would ever take it */
        pthread_mutex_unlock(&s->batch_mu);
        pthread_cond_destroy(&job->cv);
        return SSHCERT_ERR_SYSTEM;
    }
    *s->batch_tail = job;
    s->batch_tail = &job->next;
    pthread_cond_signal(&s->batch_cv);
    while (!job->done)
        pthread_cond_wait(&job->cv, &s->batch_mu);
    pthread_mutex_unlock(&s->batch_mu);
    pthread_cond_destroy(&job->cv);
    return 0;
}

unsigned
store_batch_queued(struct sshcert_store *s)
{
    const struct store_issue_job *j;
    unsigned n = 0;

    pthread_mutex_lock(&s->batch_mu);
    for (j = s->batch_head; j != NULL; j = j->next)
        n++;
    pthread_mutex_unlock(&s->batch_mu);
    return n;
}

int
store_batch_writing(struct sshcert_store *s)
{
    int v;

    pthread_mutex_lock(&s->batch_mu);
    v = s->batch_busy;
    pthread_mutex_unlock(&s->batch_mu);
    return v;
}

/* Offline signing (no claim): the serial is read and signed inside the write transaction, so
 * a busy server cannot take it first; the server catches up instead. */
static int
issue_locked(struct sshcert_store *s, sshcert_store_sign_fn sign, void *ctx,
    struct sshcert_cert_record *rec)
{
    struct store_issue_job job;
    uint64_t seq, serial = 0;
    int r;

    memset(&job, 0, sizeof(job));
    job.rec = rec;
    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) == 0 && (r = store_meta_get(s, "next_serial", &serial)) == 0 &&
        (serial == 0 || serial >= INT64_MAX))
        r = SSHCERT_ERR_INTERNAL;
    if (r == 0 && (r = sign(ctx, serial, rec)) == 0) {
        rec->serial = serial;
        if ((r = job_detail(&job)) == 0 && (r = job_write(s, &job)) == 0 &&
            job.outcome != JOB_OK)
            r = SSHCERT_ERR_SYSTEM; /* refused by a constraint or trigger */
    }
    free(job.detail);
    if (r == 0)
        r = store_commit(s);
    if (r == SSHCERT_ERR_DUPLICATE)
        r = SSHCERT_ERR_SYSTEM;
    if (r != 0)
        store_rollback(s);
    return store_unlock_durable(s, seq, r);
}

int
sshcert_store_issue(struct sshcert_store *s, sshcert_store_sign_fn sign, void *ctx,
    struct sshcert_store_claim *claim, struct sshcert_cert_record *rec)
{
    struct store_issue_job job;
    uint64_t serial = 0;
    int attempt, r = SSHCERT_ERR_INTERNAL;

    memset(rec, 0, sizeof(*rec));
    if (claim == NULL) {
        r = issue_locked(s, sign, ctx, rec);
        goto out;
    }
    for (attempt = 0; attempt < STORE_ISSUE_ATTEMPTS; attempt++) {
        if ((r = serial_take(s, &serial)) != 0)
            goto out;
        if ((r = sign(ctx, serial, rec)) != 0) {
            serial_return(s, serial);
            goto out;
        }
        rec->serial = serial;
        memset(&job, 0, sizeof(job));
        job.rec = rec;
        job.claim = claim;
        if ((r = job_detail(&job)) == 0 && (r = batch_join(s, &job)) == 0)
            r = job.r;
        free(job.detail);
        job.detail = NULL;
        if (r == 0 && job.outcome == JOB_OK)
            goto out; /* on disk */
        /* Not recorded (or not known to be on disk): the certificate never leaves. */
        sshcert_cert_record_clear(rec);
        if (r != 0 || job.outcome != JOB_SERIAL_TAKEN) {
            if (!job.committed)
                serial_return(s, serial);
            if (r == 0)
                r = job.outcome == JOB_CLAIM_REFUSED ? SSHCERT_ERR_DUPLICATE : SSHCERT_ERR_SYSTEM;
            goto out;
        }
        if ((r = serial_sync(s)) != 0)
            goto out;
        r = SSHCERT_ERR_INTERNAL;
    }
out:
    if (r != 0)
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
    if ((r = store_enter(s)) != 0)
        return r;
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

/* One statement per filter, so that each reads only its rows through an index rather than
 * every certificate ever issued: one statement with "?1 IS NULL OR username = ?1" read the
 * whole table, ~80 ms for one user's list on a store of 1,000,000 certificates (a warm cache),
 * against ~7 ms now, most of it the process's start. Index: user (1), active (2). */
const char *const store_sql_cert_list[4] = {
    "SELECT " CERT_COLS " FROM certificates ORDER BY serial",
    "SELECT " CERT_COLS " FROM certificates INDEXED BY certificates_by_user "
    "WHERE username = ?1 ORDER BY serial",
    "SELECT " CERT_COLS " FROM certificates INDEXED BY certificates_unrevoked "
    "WHERE revoked_at IS NULL AND valid_before > ?2 ORDER BY serial",
    "SELECT " CERT_COLS " FROM certificates INDEXED BY certificates_by_user "
    "WHERE username = ?1 AND valid_before > ?2 AND revoked_at IS NULL ORDER BY serial",
};

int
sshcert_store_cert_list(struct sshcert_store *s, const char *username, int active, uint64_t now,
    struct sshcert_cert_record **out, size_t *n)
{
    const char *sql = store_sql_cert_list[(username != NULL) | (active ? 2 : 0)];
    struct sshcert_cert_record *arr = NULL, *na;
    sqlite3_stmt *st;
    size_t cnt = 0;
    int rc = SQLITE_DONE, r = 0;

    *out = NULL;
    *n = 0;
    if ((r = store_enter(s)) != 0)
        return r;
    if ((st = store_stmt(s, sql)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    else {
        if (username != NULL)
            sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
        if (active)
            sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
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
sshcert_store_cert_revoke(struct sshcert_store *s, const uint64_t *serials, size_t n,
    const char *reason, uint64_t now, const char *actor, int *results)
{
    uint64_t seq;
    size_t i;
    int r, refused = 0;

    for (i = 0; i < n; i++)
        results[i] = SSHCERT_ERR_INTERNAL;
    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) == 0) {
        /* Every serial is tried, so that each refusal can be named; a refusal is kept apart
         * from a failure of the store, which ends the loop. */
        for (i = 0; r == 0 && i < n; i++) {
            results[i] = revoke_locked(s, serials[i], reason, now, actor);
            if (results[i] == SSHCERT_ERR_NOT_FOUND || results[i] == SSHCERT_ERR_EXPIRED ||
                results[i] == SSHCERT_ERR_DUPLICATE)
                refused = 1;
            else if (results[i] != 0)
                r = results[i];
        }
        if (r == 0 && refused)
            r = SSHCERT_ERR_INVALID_ARGUMENT;
        if (r == 0)
            r = bump_krl_version(s);
        r = r == 0 ? store_commit(s) : (store_rollback(s), r);
    }
    return store_unlock_durable(s, seq, r);
}

int
store_revoke_user_locked(struct sshcert_store *s, const char *username, const char *reason,
    uint64_t now, const char *actor, uint64_t *count)
{
    static const char sql[] = "SELECT serial FROM certificates WHERE username = ?1 AND "
                              "valid_before > ?2 AND revoked_at IS NULL ORDER BY serial";
    sqlite3_stmt *st;
    uint64_t *serials = NULL, *ns;
    size_t n = 0, i;
    int rc, r = 0;

    *count = 0;
    if ((st = store_stmt(s, sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
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
        *count = n;
    free(serials);
    return r;
}

int
sshcert_store_cert_revoke_user(struct sshcert_store *s, const char *username, const char *reason,
    uint64_t now, const char *actor, uint64_t *count)
{
    uint64_t seq;
    int r;

    *count = 0;
    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) == 0) {
        r = store_revoke_user_locked(s, username, reason, now, actor, count);
        r = r == 0 ? store_commit(s) : (store_rollback(s), r);
    }
    if ((r = store_unlock_durable(s, seq, r)) != 0)
        *count = 0;
    return r;
}

/* The KRL's serials: revocations still in force, in serial order, from the index of
 * revocations (migration 002). */
const char store_sql_krl_serials[] =
    "SELECT serial FROM certificates INDEXED BY certificates_revoked_serial "
    "WHERE revoked_at IS NOT NULL AND valid_before > ?1 ORDER BY serial";

static const char krl_version_sql[] = "SELECT value FROM meta WHERE key = 'krl_version'";

static int
version_read(sqlite3 *db, struct store_stmts *stmts, uint64_t *v)
{
    sqlite3_stmt *st;
    int rc;

    *v = 0;
    if ((st = store_stmt_on(db, stmts, krl_version_sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_err(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
}

struct krl_read {
    uint64_t now;
    uint64_t *serials;
    size_t n;
    struct sshcert_serial_range *ranges;
    size_t nranges;
    uint64_t version;
};

static const char krl_ranges_sql[] =
    "SELECT first_serial, last_serial FROM revoked_ranges WHERE valid_until > ?1 "
    "ORDER BY first_serial";

/* The ranges still in force: a handful at most (one per restore within the longest ttl). */
static int
ranges_read(sqlite3 *db, struct store_stmts *stmts, struct krl_read *q)
{
    struct sshcert_serial_range *na;
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    if ((st = store_stmt_on(db, stmts, krl_ranges_sql)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)q->now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((na = sshcert_array_grow(q->ranges, &cap, q->nranges, sizeof(*na))) == NULL) {
            sqlite3_reset(st);
            return SSHCERT_ERR_ALLOC;
        }
        q->ranges = na;
        q->ranges[q->nranges].first = (uint64_t)sqlite3_column_int64(st, 0);
        q->ranges[q->nranges++].last = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_err(rc);
}

static int
serials_read(sqlite3 *db, struct store_stmts *stmts, struct krl_read *q)
{
    sqlite3_stmt *st;
    uint64_t *na;
    size_t cap = 0;
    int rc;

    if ((st = store_stmt_on(db, stmts, store_sql_krl_serials)) == NULL)
        return SSHCERT_ERR_SYSTEM;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)q->now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((na = sshcert_array_grow(q->serials, &cap, q->n, sizeof(*na))) == NULL) {
            sqlite3_reset(st);
            return SSHCERT_ERR_ALLOC;
        }
        q->serials = na;
        q->serials[q->n++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_err(rc);
}

/* The version and the list in one read transaction: a revocation committed between two
 * separate reads could otherwise give a KRL that carries its new version without its serial,
 * and a cache keyed by the version would keep serving it. */
static int
krl_read(sqlite3 *db, struct store_stmts *stmts, void *ctx)
{
    struct krl_read *q = ctx;
    int rc, r;

    if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
        return store_err(rc);
    if ((r = version_read(db, stmts, &q->version)) == 0 && (r = serials_read(db, stmts, q)) == 0)
        r = ranges_read(db, stmts, q);
    if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (r == 0)
            r = store_err(rc);
    }
    return r;
}

int
sshcert_store_krl_read(struct sshcert_store *s, uint64_t now, uint64_t **serials, size_t *n,
    struct sshcert_serial_range **ranges, size_t *nranges, uint64_t *version)
{
    struct krl_read q = {.now = now};
    int r;

    *serials = NULL;
    *n = 0;
    *ranges = NULL;
    *nranges = 0;
    *version = 0;
    if ((r = store_read(s, krl_read, &q)) != 0) {
        free(q.serials);
        free(q.ranges);
        return r;
    }
    *serials = q.serials;
    *n = q.n;
    *ranges = q.ranges;
    *nranges = q.nranges;
    *version = q.version;
    return 0;
}

int
sshcert_store_restored(struct sshcert_store *s, uint64_t now, uint64_t valid_until,
    struct sshcert_store_restored *out)
{
    static const char last_sql[] = "SELECT coalesce(max(ts), 0) FROM audit";
    static const char range_sql[] =
        "INSERT INTO revoked_ranges(first_serial, last_serial, revoked_at, valid_until, reason) "
        "VALUES (?1, ?2, ?3, ?4, 'issued after the backup, unknown to the restored CA')";
    uint64_t seq, next = 0, last_ts = 0, seconds, room;
    sqlite3_stmt *st;
    char *detail = NULL;
    int r, rc;

    memset(out, 0, sizeof(*out));
    if ((r = store_lock(s, NULL, &seq)) != 0)
        return r;
    if ((r = store_begin(s)) == 0 && (r = store_meta_get(s, "next_serial", &next)) == 0 &&
        (st = store_stmt(s, last_sql)) == NULL)
        r = SSHCERT_ERR_SYSTEM;
    if (r == 0) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            last_ts = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        r = rc == SQLITE_ROW ? 0 : store_err(rc);
    }
    if (r == 0) {
        /* A clock behind the backup's last event counts as no time passed: the margin stays. */
        seconds = (now > last_ts ? now - last_ts : 0);
        /* Serials stay below INT64_MAX (serial_take): at least one is left to issue. */
        room = next >= 1 && next < (uint64_t)INT64_MAX - 1 ? (uint64_t)INT64_MAX - 1 - next : 0;
        room /= SSHCERT_RESTORE_SERIALS_PER_SECOND; /* in seconds' worth of serials */
        if (room < SSHCERT_RESTORE_MARGIN_SECONDS ||
            seconds > room - SSHCERT_RESTORE_MARGIN_SECONDS)
            r = SSHCERT_ERR_TOO_LARGE;
    }
    if (r == 0) {
        out->first = next;
        seconds += SSHCERT_RESTORE_MARGIN_SECONDS;
        out->last = next + seconds * SSHCERT_RESTORE_SERIALS_PER_SECOND - 1;
        out->until = valid_until;
        out->next = out->last + 1;
        if ((st = store_stmt(s, range_sql)) == NULL)
            r = SSHCERT_ERR_SYSTEM;
    }
    if (r == 0) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)out->first);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)out->last);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)valid_until);
        r = store_step_done(st);
    }
    if (r == 0 && (r = store_meta_set(s, "next_serial", out->next)) == 0 &&
        (r = bump_krl_version(s)) == 0) {
        if (asprintf(&detail,
                "revoked serials %" PRIu64 "-%" PRIu64 " until %" PRIu64
                " (issued after the backup, unknown to it); next serial %" PRIu64,
                out->first, out->last, out->until, out->next) < 0) {
            detail = NULL;
            r = SSHCERT_ERR_ALLOC;
        } else
            r = store_audit_locked(s, now, "store_restored", "operator", NULL, 0, NULL, detail);
        free(detail);
    }
    if (r == 0)
        r = store_commit(s);
    if (r != 0)
        store_rollback(s);
    /* Issuance in this process, if any, continues past the range too. */
    if ((r = store_unlock_durable(s, seq, r)) == 0)
        r = serial_sync(s);
    if (r != 0)
        memset(out, 0, sizeof(*out));
    return r;
}

static int
krl_version_read(sqlite3 *db, struct store_stmts *stmts, void *ctx)
{
    return version_read(db, stmts, ctx);
}

int
sshcert_store_krl_version(struct sshcert_store *s, uint64_t *version)
{
    return store_read(s, krl_version_read, version);
}
