/* libmicrohttpd glue: bounded bodies, routing, JSON errors, one log line per request. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "server.h"

enum route { R_NONE, R_ISSUE, R_HEALTH, R_CA, R_CA_PUB, R_KRL, R_METRICS };

struct request {
    enum route route;
    int is_get, is_head, is_post;
    char *body; /* SSHCERT_MAX_BODY + 1 bytes, only for a POST being read */
    size_t len;
    int too_large;
    int replied; /* a response is queued; ignore whatever else arrives */
    struct hash_wait hw; /* a login waiting for a password-hash worker (hashq.h) */
    int finished;        /* a hash thread handled it (http_finish): done is the answer */
    struct reply done;
    struct timespec start;
    char addr[LISTENER_ADDR_LEN];
};

static enum route
route_of(const char *url)
{
    if (strcmp(url, "/v1/certificates") == 0)
        return R_ISSUE;
    if (strcmp(url, "/v1/health") == 0)
        return R_HEALTH;
    if (strcmp(url, "/v1/ca") == 0)
        return R_CA;
    if (strcmp(url, "/v1/ca.pub") == 0)
        return R_CA_PUB;
    if (strcmp(url, "/v1/krl") == 0)
        return R_KRL;
    if (strcmp(url, "/metrics") == 0)
        return R_METRICS;
    return R_NONE;
}

/* The client's address as text, from the connection's socket: libmicrohttpd holds the key
 * listener.c counts connections by instead (an IPv6 address's /64, with a link-local one's
 * scope in its last bits). */
static void
peer_addr(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL || getpeername(ci->connect_fd, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, out, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, len, "unknown");
}

/* libmicrohttpd's connection callback: the client's address is read once per connection,
 * when it starts, and kept as its socket context until it closes. */
void
http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
    char *addr;

    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        if ((addr = malloc(LISTENER_ADDR_LEN)) != NULL)
            peer_addr(conn, addr, LISTENER_ADDR_LEN);
        *socket_context = addr;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        free(*socket_context);
        *socket_context = NULL;
    }
}

/* The client's address for a request: its connection's (http_connection), or read from the
 * socket now if there was no memory for it then. */
static void
client_addr(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci != NULL && ci->socket_context != NULL)
        snprintf(out, len, "%s", (const char *)ci->socket_context);
    else
        peer_addr(conn, out, len);
}

static int
json_content_type(struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = strlen("application/json");

    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static enum MHD_Result
send_reply(struct server *srv, struct MHD_Connection *conn, struct request *rq, const char *method,
    const char *url, struct reply *rep)
{
    struct MHD_Response *resp;
    struct timespec end;
    enum MHD_Result ret;
    long ms;

    if (rep->body == NULL && rep->status == 0)
        reply_error(rep, 500, "internal", "no response");
    /* libmicrohttpd only reads a buffer it is given; a shared one it hands back through the
     * callback when the response is destroyed (after the last connection sent it). */
    resp = rep->release != NULL
               ? MHD_create_response_from_buffer_with_free_callback_cls(rep->len, rep->body,
                     rep->release, rep->release_cls)
               : MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        reply_drop(rep);
        return MHD_NO;
    }
    rep->body = NULL;
    rep->release = NULL;
    rep->release_cls = NULL;
    if (rep->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (rep->retry_after[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, rep->retry_after);
    if (rep->etag[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rep->etag);
    if (rep->status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
            rq != NULL && rq->route == R_ISSUE ? "POST" : "GET, HEAD");
    ret = MHD_queue_response(conn, rep->status, resp);
    MHD_destroy_response(resp);
    metrics_http(&srv->metrics, rep->status);
    clock_gettime(CLOCK_MONOTONIC, &end);
    ms = rq != NULL ? (long)(server_us_between(&rq->start, &end) / 1000) : 0;
    sshcert_log(LOG_INFO, "http %s %s %u %ldms from %s", method,
        route_of(url) != R_NONE ? url : "(other)", rep->status, ms,
        rq != NULL ? rq->addr : "unknown");
    return ret;
}

static void
dispatch(struct server *srv, struct MHD_Connection *conn, struct request *rq, struct reply *rep)
{
    switch (rq->route) {
    case R_ISSUE:
        if (rq->too_large)
            reply_error(rep, 413, "payload_too_large", "request body exceeds %u bytes",
                SSHCERT_MAX_BODY);
        else
            handle_issue(srv, rq->body, rq->len, rq->addr, &rq->start, &rq->hw, rep);
        break;
    case R_HEALTH:
        handle_health(srv, rep);
        break;
    case R_CA:
        handle_ca(srv, 0, rep);
        break;
    case R_CA_PUB:
        handle_ca(srv, 1, rep);
        break;
    case R_KRL:
        handle_krl(srv, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match"),
            rep);
        break;
    case R_METRICS:
        handle_metrics(srv, rep);
        break;
    case R_NONE:
        reply_error(rep, 404, "not_found", "no such endpoint");
        break;
    }
}

/* A request that announces a body (any but POST is answered without reading it). */
static int
has_body(struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding") != NULL ||
           (cl != NULL && strtoull(cl, NULL, 10) != 0);
}

/* The answer to a request without a body (GET, HEAD, or a method not allowed), once MHD has
 * all of it. */
static void
answer_bodyless(struct server *srv, struct MHD_Connection *conn, struct request *rq,
    struct reply *rep)
{
    if (rq->route == R_NONE)
        reply_error(rep, 404, "not_found", "no such endpoint");
    else if (rq->route == R_ISSUE || (!rq->is_get && !rq->is_head))
        reply_error(rep, 405, "method_not_allowed", "method %s not allowed here",
            rq->route == R_ISSUE ? "other than POST" : "other than GET");
    else
        dispatch(srv, conn, rq, rep);
}

void
http_finish(struct hash_wait *w, void *ctx)
{
    struct request *rq = (struct request *)(void *)((char *)w - offsetof(struct request, hw));

    memset(&rq->done, 0, sizeof(rq->done));
    handle_issue(ctx, rq->body, rq->len, rq->addr, &rq->start, &rq->hw, &rq->done);
    if (rq->done.suspended) {
        /* Cannot happen (the hash's result is there, so nothing waits again): answer rather
         * than leave the connection without one. */
        reply_drop(&rq->done);
        memset(&rq->done, 0, sizeof(rq->done));
        reply_error(&rq->done, 500, "internal", "internal error");
    }
    rq->finished = 1;
}

enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct server *srv = cls;
    struct request *rq = *con_cls;
    struct reply rep;
    const char *cl;

    (void)version;
    memset(&rep, 0, sizeof(rep));
    if (rq == NULL) {
        /* First call: headers only. Refuse now what must not have its body read; answer
         * everything else on a later call: libmicrohttpd keeps the connection open (HTTP
         * keep-alive) only for an answer queued once the whole request is in. */
        if ((rq = calloc(1, sizeof(*rq))) == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &rq->start);
        client_addr(conn, rq->addr, sizeof(rq->addr));
        rq->hw.conn = conn;
        rq->route = route_of(url);
        *con_cls = rq;
        rq->is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        rq->is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        rq->is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
        if (!rq->is_post && !has_body(conn))
            return MHD_YES;
        if (!rq->is_post)
            answer_bodyless(srv, conn, rq, &rep); /* without reading the body, then close */
        else if (rq->route == R_NONE)
            reply_error(&rep, 404, "not_found", "no such endpoint");
        else if (rq->route != R_ISSUE)
            reply_error(&rep, 405, "method_not_allowed", "method %s not allowed here",
                "other than GET");
        else if (!json_content_type(conn))
            reply_error(&rep, 415, "unsupported_media_type",
                "Content-Type must be application/json");
        else if ((cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length")) !=
                     NULL &&
                 strtoull(cl, NULL, 10) > SSHCERT_MAX_BODY)
            reply_error(&rep, 413, "payload_too_large", "request body exceeds %u bytes",
                SSHCERT_MAX_BODY);
        else if ((rq->body = malloc(SSHCERT_MAX_BODY + 1)) == NULL)
            reply_error(&rep, 500, "internal", "out of memory");
        else
            return MHD_YES; /* wait for the body */
        rq->replied = 1;
        return send_reply(srv, conn, rq, method, url, &rep);
    }
    if (rq->replied) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* Count every byte, chunked or not; past the cap keep discarding. */
        if (!rq->too_large && rq->body != NULL && *upload_size <= SSHCERT_MAX_BODY - rq->len) {
            memcpy(rq->body + rq->len, upload_data, *upload_size);
            rq->len += *upload_size;
        } else {
            rq->too_large = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    /* Here once the request is whole, and again for a login that waited for a hash worker
     * (its connection suspended, then resumed): it is handled from the start, unless a hash
     * thread handled it meanwhile. */
    hashq_back(&srv->hashq, &rq->hw);
    if (rq->finished) {
        rep = rq->done;
        memset(&rq->done, 0, sizeof(rq->done));
        rq->finished = 0;
    } else if (rq->is_post) {
        rq->body[rq->len] = '\0';
        dispatch(srv, conn, rq, &rep);
    } else {
        answer_bodyless(srv, conn, rq, &rep);
    }
    if (rep.suspended)
        return MHD_YES;
    hashq_done(&srv->hashq, &rq->hw);
    rq->replied = 1;
    return send_reply(srv, conn, rq, method, url, &rep);
}

void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct request *rq = *con_cls;

    (void)conn;
    (void)toe;
    if (rq == NULL)
        return;
    /* Closed while it waited for a hash worker, or before it used one handed over. */
    hashq_back(&srv->hashq, &rq->hw);
    hashq_done(&srv->hashq, &rq->hw);
    reply_drop(&rq->done); /* an answer a hash thread made for a connection closed since */
    /* The body held a password and a TOTP code: wipe what was written of it. */
    if (rq->body != NULL) {
        explicit_bzero(rq->body, rq->len + 1);
        free(rq->body);
    }
    explicit_bzero(rq, sizeof(*rq));
    free(rq);
    *con_cls = NULL;
}
