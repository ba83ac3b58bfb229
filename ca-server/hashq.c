/* The password-hash workers and the queue of logins waiting for one (hashq.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "clock.h"
#include "hashq.h"
#include "secmem.h"
#include "server.h"

static int
overdue(const struct hash_wait *w, const struct timespec *now)
{
    return server_us_between(&w->since, now) >= (int64_t)SSHCERT_HASH_QUEUE_MS * 1000;
}

/* Removes the head of the queue and resumes its request in state st. Caller holds mu. */
static void
wake_head(struct hashq *q, enum hash_wait_state st)
{
    struct hash_wait *w = q->head;

    q->head = w->next;
    if (q->head == NULL)
        q->tail = &q->head;
    w->next = NULL;
    w->state = st;
    atomic_fetch_sub(&q->waiting, 1);
    MHD_resume_connection(w->conn);
}

/* Ends the waits that are over, oldest first (the queue is in order of arrival). Waits are
 * checked whenever a worker changes hands while someone waits: a waiter hears about one hash
 * after SSHCERT_HASH_QUEUE_MS, plus the time the thread of the connection that holds the
 * worker takes to come back to it (a worker handed over waits for its connection's thread).
 * Caller holds mu. */
static void
expire(struct hashq *q)
{
    struct timespec now;

    if (q->head == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    while (q->head != NULL && (q->stopping || overdue(q->head, &now)))
        wake_head(q, HASH_WAIT_EXPIRED);
}

/* A hash thread: runs the jobs handed to it (hashq_run), each with the worker its login
 * took, gives the worker back, finishes the login and resumes its connection. */
static void *
hash_thread(void *arg)
{
    struct hashq *q = arg;
    struct hash_wait *w;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->jobs == NULL && !q->quit)
            pthread_cond_wait(&q->work, &q->mu);
        if ((w = q->jobs) == NULL)
            break;
        q->jobs = w->job_next;
        if (q->jobs == NULL)
            q->jobs_tail = &q->jobs;
        w->job_next = NULL;
        pthread_mutex_unlock(&q->mu);
        q->run(&w->job, q->ctx);
        hashq_release(q);
        pthread_mutex_lock(&q->mu);
        w->state = HASH_WAIT_HASHED;
        pthread_mutex_unlock(&q->mu);
        /* The connection stays suspended: its thread does not touch w meanwhile. */
        q->finish(w, q->ctx);
        pthread_mutex_lock(&q->mu);
        MHD_resume_connection(w->conn);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int
hashq_init(struct hashq *q, unsigned workers, void (*run)(struct hash_job *job, void *ctx),
    void (*finish)(struct hash_wait *w, void *ctx), void *ctx)
{
    sigset_t all, old;
    pthread_condattr_t ca;
    unsigned i, n = workers * HASHQ_THREADS_PER_WORKER;
    int r;

    atomic_init(&q->free, workers);
    q->suspended = 0;
    q->stopping = 0;
    q->head = NULL;
    q->tail = &q->head;
    atomic_init(&q->waiting, 0);
    atomic_init(&q->queued, 0);
    q->run = run;
    q->finish = finish;
    q->ctx = ctx;
    q->jobs = NULL;
    q->jobs_tail = &q->jobs;
    q->threads = NULL;
    q->nthreads = 0;
    q->quit = 0;
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        return -1;
    /* hashq_stop's wait is on the monotonic clock: a wall clock set forward must not cut it
     * short (the server then leaves without answering), nor one set back stretch it. */
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 ? pthread_cond_init(&q->idle, &ca)
                                                             : -1;
    pthread_condattr_destroy(&ca);
    if (r != 0) {
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    if (pthread_cond_init(&q->work, NULL) != 0) {
        pthread_cond_destroy(&q->idle);
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    if (run == NULL || finish == NULL)
        return 0;
    if ((q->threads = calloc(n, sizeof(*q->threads))) == NULL) {
        hashq_destroy(q);
        return -1;
    }
    /* Signals are for the main thread's sigwait, not for these. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (i = 0; i < n; i++)
        if (pthread_create(&q->threads[i], NULL, hash_thread, q) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    q->nthreads = i;
    if (i < n) {
        hashq_destroy(q); /* ends the threads that started */
        return -1;
    }
    return 0;
}

void
hashq_destroy(struct hashq *q)
{
    unsigned i;

    pthread_mutex_lock(&q->mu);
    q->quit = 1;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mu);
    for (i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    q->nthreads = 0;
    free(q->threads);
    q->threads = NULL;
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->idle);
    pthread_mutex_destroy(&q->mu);
}

/* Takes a free worker if there is one. */
static int
take_free(struct hashq *q)
{
    unsigned v = atomic_load(&q->free);

    while (v > 0)
        if (atomic_compare_exchange_weak(&q->free, &v, v - 1))
            return 1;
    return 0;
}

int
hashq_take(struct hashq *q, struct hash_wait *w)
{
    enum hash_wait_state st;
    int r;

    if (w->waited) {
        /* Back from the queue: a worker was handed over, or the wait is over. Anything else
         * cannot happen (a handler never runs while its connection is suspended); refuse
         * rather than queue the same request twice. */
        pthread_mutex_lock(&q->mu);
        st = w->state;
        if (st == HASH_WAIT_GRANTED || st == HASH_WAIT_EXPIRED)
            w->state = HASH_WAIT_NONE;
        expire(q);
        pthread_mutex_unlock(&q->mu);
        return st == HASH_WAIT_GRANTED ? 0 : -1; /* GRANTED: the worker is now the caller's */
    }
    if (take_free(q))
        return 0;
    pthread_mutex_lock(&q->mu);
    atomic_fetch_add(&q->waiting, 1); /* before looking again: see struct hashq */
    expire(q);
    if (take_free(q)) {
        atomic_fetch_sub(&q->waiting, 1);
        r = 0;
    } else if (q->stopping || w->conn == NULL) {
        atomic_fetch_sub(&q->waiting, 1);
        r = -1;
    } else {
        /* Suspended before it can be resumed: a release may hand it a worker the moment the
         * mutex is let go, before this handler returns (libmicrohttpd then resumes it once
         * the handler is done). */
        MHD_suspend_connection(w->conn);
        w->state = HASH_WAIT_QUEUED;
        w->back = 1;
        w->waited = 1;
        clock_gettime(CLOCK_MONOTONIC, &w->since);
        w->next = NULL;
        *q->tail = w;
        q->tail = &w->next;
        q->suspended++;
        atomic_fetch_add(&q->queued, 1);
        r = 1;
    }
    pthread_mutex_unlock(&q->mu);
    return r;
}

int
hashq_run(struct hashq *q, struct hash_wait *w)
{
    if (q->nthreads == 0 || w->conn == NULL)
        return 0;
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        /* hashq_stop has counted the suspended requests for the last time: one suspended
         * now (a login on a keep-alive connection the shutdown's grace let through) would
         * still be suspended when libmicrohttpd is stopped, which aborts. Inline instead:
         * libmicrohttpd's stop waits for its thread. */
        pthread_mutex_unlock(&q->mu);
        return 0;
    }
    /* Suspended before a hash thread can resume it, as in hashq_take. */
    MHD_suspend_connection(w->conn);
    w->state = HASH_WAIT_HASHING;
    w->back = 1;
    w->waited = 1;
    w->job_next = NULL;
    *q->jobs_tail = w;
    q->jobs_tail = &w->job_next;
    q->suspended++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    return 1;
}

struct hash_job *
hashq_result(struct hashq *q, struct hash_wait *w)
{
    int hashed;

    if (!w->waited)
        return NULL;
    pthread_mutex_lock(&q->mu);
    if ((hashed = w->state == HASH_WAIT_HASHED)) {
        w->state = HASH_WAIT_NONE;
        w->waited = 0; /* the hash thread gave the worker back: nothing held */
    }
    pthread_mutex_unlock(&q->mu);
    return hashed ? &w->job : NULL;
}

void
hashq_release(struct hashq *q)
{
    if (atomic_load(&q->waiting) == 0) {
        atomic_fetch_add(&q->free, 1);
        if (atomic_load(&q->waiting) == 0)
            return; /* the common case: nobody waits, no lock */
        /* Someone began to wait meanwhile and may not have seen this worker free. */
        pthread_mutex_lock(&q->mu);
        expire(q);
        if (q->head != NULL && take_free(q))
            wake_head(q, HASH_WAIT_GRANTED);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    pthread_mutex_lock(&q->mu);
    expire(q);
    if (q->head != NULL)
        wake_head(q, HASH_WAIT_GRANTED); /* the worker passes on without being freed */
    else
        atomic_fetch_add(&q->free, 1);
    pthread_mutex_unlock(&q->mu);
}

void
hashq_back(struct hashq *q, struct hash_wait *w)
{
    if (!w->back)
        return;
    w->back = 0;
    pthread_mutex_lock(&q->mu);
    if (--q->suspended == 0)
        pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->mu);
}

void
hashq_done(struct hashq *q, struct hash_wait *w)
{
    struct hash_wait **p;
    int held;

    if (w->job.password != NULL) {
        sshcert_secmem_free_str(w->job.password);
        w->job.password = NULL;
    }
    if (!w->waited)
        return; /* the common case: never queued, nothing to give back, no lock taken */
    w->waited = 0;
    pthread_mutex_lock(&q->mu);
    held = w->state == HASH_WAIT_GRANTED;
    if (w->state == HASH_WAIT_QUEUED) {
        /* Closed while it waited (libmicrohttpd stopped): out of the queue. */
        for (p = &q->head; *p != NULL && *p != w; p = &(*p)->next)
            ;
        if (*p == w) {
            *p = w->next;
            if (*p == NULL)
                q->tail = p;
            atomic_fetch_sub(&q->waiting, 1);
        }
        w->next = NULL;
    }
    w->state = HASH_WAIT_NONE;
    pthread_mutex_unlock(&q->mu);
    if (held)
        hashq_release(q);
}

int
hashq_stop(struct hashq *q, unsigned timeout_ms)
{
    struct timespec until;
    int r = 0;

    sshcert_mono_after(&until, timeout_ms); /* the clock of q->idle (hashq_init) */
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    expire(q);
    while (q->suspended > 0 && r != ETIMEDOUT)
        r = pthread_cond_timedwait(&q->idle, &q->mu, &until);
    r = q->suspended > 0 ? -1 : 0;
    pthread_mutex_unlock(&q->mu);
    return r;
}
