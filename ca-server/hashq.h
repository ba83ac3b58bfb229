/* The password-hash workers: a bounded number of argon2id runs at once, and a queue of the
 * logins that wait for one. A waiting login's connection is suspended, so it holds no HTTP
 * thread: the thread serves its other connections (GET /v1/krl, /v1/ca) meanwhile. With hash
 * threads (hashq_init with run), the hash itself runs on one of them too, its login's
 * connection suspended, so no HTTP thread spends a hash's time (~0.1 s at "interactive");
 * and so does the rest of the login (finish: the TOTP check and the durable write, whose
 * flush can take a slow disk's 100 ms and more). */
#ifndef SSHCERT_HASHQ_H
#define SSHCERT_HASHQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include "totp.h"

enum hash_wait_state {
    HASH_WAIT_NONE,    /* holds nothing, waits for nothing */
    HASH_WAIT_QUEUED,  /* suspended until a worker is handed over or the wait is over */
    HASH_WAIT_GRANTED, /* a worker was handed over: the request holds it */
    HASH_WAIT_EXPIRED, /* waited SSHCERT_HASH_QUEUE_MS in vain, or the server is stopping */
    HASH_WAIT_HASHING, /* suspended while a hash thread runs its job (the job holds the worker) */
    HASH_WAIT_HASHED,  /* its job's result is ready (for finish, on the hash thread) */
};

/* Longest sealed TOTP secret a job keeps (nonce, 20-byte secret and MAC take 60). */
#define SSHCERT_HASH_JOB_TOTP 128

/* Hash threads per worker: a thread finishing a login (its durable write) after giving its
 * worker back leaves a thread for the next hash. */
#define HASHQ_THREADS_PER_WORKER 2u

/* One password hash: filled by the login's thread, run by run (hashq_init) on a hash thread
 * or inline, read by the login's request (finish on the hash thread, or the login's thread). */
struct hash_job {
    char *password;                         /* malloc'd copy: hashq_done wipes and frees it */
    char stored[SSHCERT_PASSWORD_HASH_LEN]; /* the user's hash; "": an unknown name's dummy */
    uint8_t totp_secret[SSHCERT_HASH_JOB_TOTP]; /* the user's sealed secret, as read with it */
    size_t totp_secret_len;
    enum sshcert_hash_cost cost;            /* the dummy's, and a remade hash's */
    int r;                                  /* 0: the password matches stored */
    char rehash[SSHCERT_PASSWORD_HASH_LEN]; /* with r == 0: stored remade at cost, or "" */
};

/* One per request (in http.c's request). state is under the queue's mutex. */
struct hash_wait {
    struct MHD_Connection *conn; /* NULL: the caller cannot be suspended (never queued) */
    enum hash_wait_state state;
    /* Touched by the request's own thread only (libmicrohttpd runs a connection's handler
     * and its completion on the thread that owns it), or by the hash thread that finishes it
     * while its connection is suspended: */
    int back;   /* was queued; its handler has not run again yet */
    int waited; /* joined the queue during this request: only then can state change */
    struct timespec since; /* CLOCK_MONOTONIC, when it joined the queue */
    struct hash_wait *next;     /* in the queue of waiting logins */
    struct hash_job job;
    struct hash_wait *job_next; /* in the hash threads' list */
};

/* A free worker is taken and given back with one atomic operation when nobody waits (the
 * common case: no lock); the mutex guards the queue. waiting is raised before a taker
 * looks at free a second time under the mutex, and a giver looks at waiting after raising
 * free, so one of the two always sees the other and no waiter is left with a worker free. */
struct hashq {
    pthread_mutex_t mu;
    pthread_cond_t idle;  /* signalled when the last suspended request came back */
    atomic_uint free;     /* workers nobody holds */
    unsigned suspended;   /* queued or handed a worker, handler not run again yet */
    int stopping;
    struct hash_wait *head, **tail;
    atomic_uint_fast64_t waiting; /* queued now, or about to be (the /metrics gauge) */
    atomic_uint_fast64_t queued;  /* ever queued (a counter) */
    /* The hash threads (none: jobs run inline) and their list of jobs, under mu. */
    void (*run)(struct hash_job *job, void *ctx);
    void (*finish)(struct hash_wait *w, void *ctx);
    void *ctx;
    pthread_cond_t work;
    struct hash_wait *jobs, **jobs_tail;
    pthread_t *threads;
    unsigned nthreads;
    int quit;
};

/* workers bounds the hashes at once. With run, HASHQ_THREADS_PER_WORKER hash threads per
 * worker run the jobs (hashq_run): each runs run(job, ctx), gives the worker back, then, the
 * job's result ready for hashq_result, finish(w, ctx) (the rest of the request, its connection
 * still suspended), then resumes the connection. Without run (or finish), hashq_run runs
 * nothing and the caller hashes inline. */
int hashq_init(struct hashq *q, unsigned workers, void (*run)(struct hash_job *job, void *ctx),
    void (*finish)(struct hash_wait *w, void *ctx), void *ctx);
/* After hashq_stop: ends the hash threads. */
void hashq_destroy(struct hashq *q);
/* Takes a worker for the caller: 0 when it now holds one (hash, then hashq_release); 1 when
 * it joined the queue and its connection is suspended (return without an answer: the
 * handler runs again once a worker is handed over or the wait is over, and calls this
 * again); -1 when none is free and it cannot wait (waited too long, stopping, no
 * connection): answer 503. */
int hashq_take(struct hashq *q, struct hash_wait *w);
/* With the worker the caller holds (hashq_take): hands w->job to a hash thread, which gives
 * the worker back when the hash is done, runs finish and resumes the connection: 1 (return
 * without an answer; finish's hashq_result hands over the job, and the handler runs again to
 * send what finish answered). 0 when there are no hash threads, the request cannot be
 * suspended or hashq_stop has begun: the caller runs the job and gives the worker back
 * itself. */
int hashq_run(struct hashq *q, struct hash_wait *w);
/* Back from a hash thread: the job it ran (the request owns it until hashq_done), else NULL. */
struct hash_job *hashq_result(struct hashq *q, struct hash_wait *w);
/* Hands the worker to the oldest waiter, or frees it. */
void hashq_release(struct hashq *q);
/* A queued request's handler runs again (or its connection closed): counts it back. */
void hashq_back(struct hashq *q, struct hash_wait *w);
/* The request has its answer (or its connection closed): gives back a worker it was handed
 * but did not take, leaves the queue if it is still in it, and wipes its job's password. */
void hashq_done(struct hashq *q, struct hash_wait *w);
/* Ends every wait (503) and waits, at most timeout_ms, until every suspended request came
 * back: libmicrohttpd must not be stopped with a suspended connection. -1 when some did not
 * come back in time. */
int hashq_stop(struct hashq *q, unsigned timeout_ms);

#endif
