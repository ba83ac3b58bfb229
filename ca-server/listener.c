/* Why sshcert-server accepts its own connections: libmicrohttpd 0.9.75's thread pool lets
 * every worker accept from the shared listening socket, up to ten connections per wake-up,
 * so a burst of clients lands on one or two of the workers and stays there (measured: all 16
 * keep-alive clients of the benchmark on one thread while three idled, p99 twice p50).
 * MHD_add_connection instead places a connection on the worker its descriptor number picks,
 * which spreads a burst evenly. Connection limits, the per-address limit and timeouts stay
 * libmicrohttpd's: MHD_add_connection applies them and closes what it refuses.
 *
 * An IPv6 client holds a whole /64, so libmicrohttpd is handed the address with its last 64
 * bits cleared (a link-local one's scope written there: limit_key): its per-address limit
 * (max_connections/2) then counts each /64 once, as the failure throttle does (store.c),
 * instead of letting one host take every connection from two of its addresses. The server
 * reads the client's real address from the socket (http.c: http_connection). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

/* Pause after the process ran out of descriptors or memory, so accept does not spin. */
#define ACCEPT_BACKOFF_MS 50

struct listener {
    int fd;
    int stop[2]; /* a byte on stop[1] ends the accept thread */
    int started;
    pthread_t thread;
    struct MHD_Daemon *daemon;
};

struct listener *
listener_open(const struct sockaddr *sa, socklen_t salen)
{
    struct listener *l;
    int on = 1, eno;

    if ((l = calloc(1, sizeof(*l))) == NULL)
        return NULL;
    l->fd = l->stop[0] = l->stop[1] = -1;
    if ((l->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (sa->sa_family == AF_INET6 &&
            setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
        bind(l->fd, sa, salen) != 0 || listen(l->fd, SOMAXCONN) != 0 ||
        pipe2(l->stop, O_CLOEXEC | O_NONBLOCK) != 0) {
        eno = errno;
        listener_close(l);
        errno = eno;
        return NULL;
    }
    return l;
}

static void
backoff(void)
{
    struct timespec ts = { 0, ACCEPT_BACKOFF_MS * 1000000L };

    nanosleep(&ts, NULL);
}

/* libmicrohttpd closes a connection over its limits without a word when every worker is
 * full: say so, at most once a second, with how many were refused since. */
static void
log_refusal(const struct sockaddr_storage *ss, socklen_t len, time_t *last, unsigned *refused)
{
    char addr[LISTENER_ADDR_LEN];
    time_t now = time(NULL);

    (*refused)++;
    if (now == *last)
        return;
    if (getnameinfo((const struct sockaddr *)ss, len, addr, sizeof(addr), NULL, 0,
            NI_NUMERICHOST) != 0)
        snprintf(addr, sizeof(addr), "unknown");
    sshcert_log(LOG_WARNING, "refused %u connection%s (last from %s): max_connections reached, "
                             "or max_connections/2 from one address (IPv6: one /64)",
        *refused, *refused == 1 ? "" : "s", addr);
    *last = now;
    *refused = 0;
}

/* What libmicrohttpd counts a client by: an IPv6 address without its interface identifier
 * (the /64), anything else as it is. libmicrohttpd compares the address bytes only, so a
 * link-local address carries its scope (its link) in the cleared bits: "fe80::/64" of each
 * link counts apart, as the failure throttle counts it (store.c). An IPv4-mapped address
 * cannot come: the socket is IPv6-only. */
static void
limit_key(const struct sockaddr_storage *ss, struct sockaddr_storage *key)
{
    struct sockaddr_in6 *k6 = (struct sockaddr_in6 *)key;
    uint32_t scope;

    *key = *ss;
    if (key->ss_family != AF_INET6)
        return;
    scope = htonl(k6->sin6_scope_id);
    memset(&k6->sin6_addr.s6_addr[8], 0, 8);
    memcpy(&k6->sin6_addr.s6_addr[12], &scope, sizeof(scope));
}

/* Takes every connection queued on the listening socket; the descriptor number picks the
 * worker. */
static void
take_queued(struct listener *l, time_t *last_refusal, unsigned *refused)
{
    struct sockaddr_storage ss, key;
    socklen_t len;
    int c;

    for (;;) {
        len = sizeof(ss);
        c = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                sshcert_log(LOG_WARNING, "accept: %s", strerror(errno));
                backoff();
            }
            return; /* EAGAIN, or a connection that went away before it was taken */
        }
        /* Refused (connection or per-address limit, no memory): closed by libmicrohttpd. */
        limit_key(&ss, &key);
        if (MHD_add_connection(l->daemon, c, (struct sockaddr *)&key, len) != MHD_YES)
            log_refusal(&ss, len, last_refusal, refused);
    }
}

static void *
accept_loop(void *arg)
{
    struct listener *l = arg;
    struct pollfd pfd[2] = { { .fd = l->fd, .events = POLLIN },
        { .fd = l->stop[0], .events = POLLIN } };
    time_t last_refusal = 0;
    unsigned refused = 0;

    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno != EINTR)
                backoff();
            continue;
        }
        if (pfd[1].revents != 0) {
            /* Stopping: the connections the kernel has already queued are served (the
             * shutdown waits for them), not reset when the socket closes. */
            take_queued(l, &last_refusal, &refused);
            return NULL;
        }
        take_queued(l, &last_refusal, &refused);
    }
}

int
listener_start(struct listener *l, struct MHD_Daemon *daemon)
{
    int r;

    l->daemon = daemon;
    if ((r = pthread_create(&l->thread, NULL, accept_loop, l)) != 0) {
        errno = r;
        return -1;
    }
    l->started = 1;
    return 0;
}

void
listener_close(struct listener *l)
{
    if (l == NULL)
        return;
    if (l->started) {
        while (write(l->stop[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(l->thread, NULL);
    }
    if (l->fd >= 0)
        close(l->fd);
    if (l->stop[0] >= 0)
        close(l->stop[0]);
    if (l->stop[1] >= 0)
        close(l->stop[1]);
    free(l);
}
