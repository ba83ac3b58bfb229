/* sshcert-server: the context every handler receives, and the handlers' entry points. */
#ifndef SSHCERT_SERVER_H
#define SSHCERT_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

#include "ca.h"
#include "config.h"
#include "hashq.h"
#include "listener.h"
#include "metrics.h"

/* Largest request body (DESIGN: 16 KiB), enforced for chunked uploads too. */
#define SSHCERT_MAX_BODY (16u * 1024u)
/* How long a login waits for a free password-hash worker before 503 (its connection
 * suspended meanwhile: hashq.h). */
#define SSHCERT_HASH_QUEUE_MS 3000
/* Default HTTP threads: 8 per CPU, within these bounds ("threads" in the config overrides). */
#define SSHCERT_MIN_DEFAULT_THREADS 16u
#define SSHCERT_MAX_DEFAULT_THREADS 64u
/* CPUs counted for the defaults above and the hash workers. */
#define SSHCERT_MAX_CPUS 64u
/* libmicrohttpd's memory per connection (request line, headers, its buffers; the body is
 * ours, SSHCERT_MAX_BODY): a request whose headers do not fit is refused. */
#define SSHCERT_CONNECTION_MEMORY (32u * 1024u)

/* malloc's heap: grown by at least SSHCERT_MALLOC_TOP_PAD at a time, trimmed only when
 * SSHCERT_MALLOC_TRIM is free at its top (server.c says why). */
#define SSHCERT_MALLOC_TOP_PAD (4u * 1024u * 1024u)
#define SSHCERT_MALLOC_TRIM (16u * 1024u * 1024u)

struct sshcert_buf;

/* Microseconds from from to to (CLOCK_MONOTONIC readings; negative if to is earlier). */
static inline int64_t
server_us_between(const struct timespec *from, const struct timespec *to)
{
    return (int64_t)(to->tv_sec - from->tv_sec) * 1000000 + (to->tv_nsec - from->tv_nsec) / 1000;
}

struct krl_body;

struct server {
    struct sshcert_config *cfg;
    struct sshcert_ca *ca;
    struct MHD_Daemon *daemon;
    struct hashq hashq; /* bounds concurrent argon2id runs (each holds its memory cost) */
    struct metrics metrics;
    pthread_mutex_t krl_mu;
    struct krl_body *krl; /* cached KRL, rebuilt when the store's krl_version changes */
    uint64_t krl_version, krl_built_at;
    char krl_etag[24];
    /* GET /v1/health probes the store with a durable write at most once a second. */
    atomic_int_fast64_t health_at; /* Unix second of the last probe, 0: never */
    atomic_int health_r;           /* its result */
};

/* A response the handlers build; http.c queues it. */
struct reply {
    unsigned status;
    char *body; /* malloc'd; or shared, when release is set */
    size_t len;
    /* A shared body is another's: release(release_cls) once the reply no longer needs it. */
    void (*release)(void *cls);
    void *release_cls;
    const char *content_type;
    char retry_after[24]; /* "" when none */
    char etag[24];        /* "" when none */
    int suspended;        /* no answer yet: the request waits, its connection suspended */
};

/* {"error": code, "message": msg} with status. */
void reply_error(struct reply *rep, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct sshcert_cert_record;
struct sshcert_principals;
/* 201 with the issued certificate rec granted for pr, as DESIGN's POST /v1/certificates. */
void reply_issued(struct reply *rep, const struct sshcert_cert_record *rec,
    const struct sshcert_principals *pr);
/* That body (malloc'd, *len bytes) when it needs no escaping, written without jansson; NULL
 * when a string needs escaping or out of memory. reply_issued's first try, for its tests. */
char *reply_issued_direct(const struct sshcert_cert_record *rec,
    const struct sshcert_principals *pr, size_t *len);
/* Takes ownership of body. */
void reply_take(struct reply *rep, unsigned status, const char *type, char *body, size_t len);
/* Answers with a body that stays cls's: release(cls) is called once, when the reply (or the
 * response sent from it) is done with it. */
void reply_share(struct reply *rep, unsigned status, const char *type, const void *body,
    size_t len, void (*release)(void *cls), void *cls);
/* Frees or releases rep's body. */
void reply_drop(struct reply *rep);
/* Lets go of one hold on a cached KRL (struct krl_body): the last frees it. */
void krl_release(void *krl);

/* POST /v1/certificates: the issuance flow of DESIGN.md; start is when the request came
 * (CLOCK_MONOTONIC, for the latency histogram). With rep->suspended set on return the request
 * waits for a password-hash worker (hw) or for its hash, and is handled again from the start
 * once it has one or its wait is over (on its HTTP thread), or once its hash is done (on the
 * hash thread: http_finish). */
void handle_issue(struct server *srv, const char *body, size_t len, const char *addr,
    const struct timespec *start, struct hash_wait *hw, struct reply *rep);
void handle_health(struct server *srv, struct reply *rep);
void handle_ca(struct server *srv, int text, struct reply *rep);
void handle_krl(struct server *srv, const char *if_none_match, struct reply *rep);
void handle_metrics(struct server *srv, struct reply *rep);

/* The MHD access handler and completion callback. */
enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_size,
    void **con_cls);
void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe);
/* The MHD connection callback (MHD_OPTION_NOTIFY_CONNECTION): keeps each connection's client
 * address, as text, from its start to its close. */
void http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);
/* hashq.h's finish (ctx the server): on a hash thread, a login whose hash is done handled
 * (handle_issue) while its connection is still suspended; its handler sends the answer once
 * the connection is resumed. */
void http_finish(struct hash_wait *w, void *ctx);

#endif
