/*
 * sshcert-bench-load: a small closed-loop HTTP/1.1 load generator for sshcert-server on
 * 127.0.0.1. Each client is one keep-alive connection that sends a request, waits for the whole
 * answer, records the latency and sends the next; a few threads drive all clients with epoll,
 * so the generator spends little of the CPU it shares with the server.
 *
 *   sshcert-bench-load -p PORT [-c CLIENTS] [-d SECONDS] [-n MAX_REQUESTS] [-T THREADS]
 *                      (-g PATH | -u USERS_FILE -k PUBKEY_FILE [-w PASSWORD])
 *
 * -g PATH: GET PATH, 200 expected. -u: POST /v1/certificates, 201 expected, logging in as the
 * users of USERS_FILE ("NAME BASE32_SECRET" lines from sshcert-bench-mkusers) with TOTP codes
 * computed here. The server accepts the codes of steps now-1, now and now+1, each step newer
 * than the last one it accepted for that user, so each user serves at most three logins per
 * 30 s; a client takes the next unused user when its user has no usable step left. No user is
 * shared between clients, so their steps reach the server in order.
 *
 * Prints `name: value` lines: requests, errors, rate_per_s, p50_ms, p99_ms, max_ms, reconnects
 * (new connections after the server closed one: 0 when keep-alive works), exhausted (1 when
 * the users ran out before the time did: the figures then undercount).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <oath.h>

#define MAX_CLIENTS 4096u
#define MAX_THREADS 16u
#define MAX_USERS 1000000u
/* Longest request and answer handled (an issuance answer is about 1 KiB). */
#define REQ_MAX 4096u
#define RESP_MAX 65536u
#define MAX_NAME 64u
#define MAX_SECRET 64u
#define MAX_PUBKEY 1024u
/* How long outstanding requests may take to finish once the time is up. */
#define DRAIN_S 10.0

struct user {
    char name[MAX_NAME + 1];
    char secret[MAX_SECRET];
    size_t secret_len;
};

struct shared {
    uint16_t port;
    const char *path;       /* GET mode */
    struct user *users;     /* issue mode when non-NULL */
    size_t nusers;
    atomic_size_t next_user;
    atomic_long budget;     /* requests still allowed to start; LONG_MAX-ish when unbounded */
    atomic_int exhausted;
    char pubkey[MAX_PUBKEY];
    const char *password;
    double t0, deadline;
    pthread_barrier_t ready;
};

struct conn {
    int fd;
    char req[REQ_MAX];
    size_t req_len, req_off;
    char resp[RESP_MAX];
    size_t resp_len, need;
    int status, busy, close_after; /* close_after: the server said "Connection: close" */
    double start;
    long user; /* -1: none yet */
    uint64_t last_step;
};

struct worker {
    struct shared *sh;
    struct conn *conns;
    size_t nconns;
    int ep;
    double *lat; /* milliseconds */
    size_t nlat, alat;
    unsigned long errors, reconnects, by_status[600];
    double last_done;
    char first_error[256];
    int failed;
};

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
dial(uint16_t port)
{
    struct sockaddr_in a;
    int fd, one = 1;

    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The code of the next step this client's user may use, taking a fresh user when needed. */
static int
next_login(struct shared *sh, struct conn *c, char code[8])
{
    time_t t = time(NULL);
    uint64_t cur = (uint64_t)t / 30, lo, s;
    size_t u;

    /* Near the end of a step the server may already be in the next one when the request
     * arrives, and step now-1 would then be out of its window. */
    lo = (uint64_t)t % 30 >= 28 ? cur : cur - 1;
    for (;;) {
        if (c->user >= 0) {
            s = c->last_step + 1 > lo ? c->last_step + 1 : lo;
            if (s <= cur + 1) {
                c->last_step = s;
                return oath_totp_generate(sh->users[c->user].secret,
                           sh->users[c->user].secret_len, (time_t)(s * 30), 30, 0, 6, code) ==
                               OATH_OK
                           ? 0
                           : -1;
            }
        }
        if ((u = atomic_fetch_add(&sh->next_user, 1)) >= sh->nusers) {
            atomic_store(&sh->exhausted, 1);
            return -1;
        }
        c->user = (long)u;
        c->last_step = 0;
    }
}

static int
build_request(struct shared *sh, struct conn *c)
{
    char body[REQ_MAX], code[8];
    int n, b;

    if (sh->users == NULL) {
        n = snprintf(c->req, sizeof(c->req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            sh->path);
    } else {
        if (next_login(sh, c, code) != 0)
            return -1;
        b = snprintf(body, sizeof(body),
            "{\"username\":\"%s\",\"password\":\"%s\",\"totp\":\"%s\",\"public_key\":\"%s\"}",
            sh->users[c->user].name, sh->password, code, sh->pubkey);
        if (b < 0 || (size_t)b >= sizeof(body))
            return -1;
        n = snprintf(c->req, sizeof(c->req),
            "POST /v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            "application/json\r\nContent-Length: %d\r\n\r\n%s",
            b, body);
    }
    if (n < 0 || (size_t)n >= sizeof(c->req))
        return -1;
    c->req_len = (size_t)n;
    c->req_off = 0;
    c->resp_len = 0;
    c->need = 0;
    c->status = 0;
    c->close_after = 0;
    return 0;
}

static int
arm(struct worker *w, struct conn *c, int op, uint32_t events)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = c;
    return epoll_ctl(w->ep, op, c->fd, &ev);
}

/* Sends what is left of the request; 0 when all of it went or the socket is full. */
static int
pump_send(struct worker *w, struct conn *c)
{
    ssize_t k;

    while (c->req_off < c->req_len) {
        k = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (k < 0 && errno == EAGAIN)
            return arm(w, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
        if (k <= 0)
            return -1;
        c->req_off += (size_t)k;
    }
    return arm(w, c, EPOLL_CTL_MOD, EPOLLIN);
}

/* Starts this client's next request, or marks it idle when time or users ran out. */
static int
start_next(struct worker *w, struct conn *c)
{
    struct shared *sh = w->sh;

    c->busy = 0;
    if (now_s() >= sh->deadline || atomic_fetch_sub(&sh->budget, 1) <= 0)
        return 0;
    if (build_request(sh, c) != 0)
        return 0;
    c->busy = 1;
    c->start = now_s();
    return pump_send(w, c);
}

/* Parses the status line and Content-Length once the headers are in. 1: answer complete. */
static int
parse(struct conn *c)
{
    char *end, *p;
    size_t hdr;
    unsigned long cl = 0;

    if (c->need == 0) {
        c->resp[c->resp_len] = '\0';
        if ((end = strstr(c->resp, "\r\n\r\n")) == NULL)
            return c->resp_len >= RESP_MAX - 1 ? -1 : 0;
        hdr = (size_t)(end - c->resp) + 4;
        if (strncmp(c->resp, "HTTP/1.", 7) != 0 || c->resp_len < 12)
            return -1;
        c->status = atoi(c->resp + 9);
        for (p = strstr(c->resp, "\r\n"); p != NULL && p < end; p = strstr(p + 2, "\r\n")) {
            if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
                cl = strtoul(p + 17, NULL, 10);
            else if (strncasecmp(p + 2, "Connection: close", 17) == 0)
                c->close_after = 1;
        }
        if (cl >= RESP_MAX - hdr)
            return -1;
        c->need = hdr + cl;
    }
    return c->resp_len >= c->need ? 1 : 0;
}

static void
record(struct worker *w, struct conn *c, double t)
{
    double *n;
    int want = w->sh->users != NULL ? 201 : 200;

    if (w->nlat == w->alat) {
        w->alat = w->alat == 0 ? 4096 : w->alat * 2;
        if ((n = realloc(w->lat, w->alat * sizeof(*n))) == NULL) {
            w->failed = 1;
            return;
        }
        w->lat = n;
    }
    w->lat[w->nlat++] = (t - c->start) * 1e3;
    w->last_done = t;
    if (c->status > 0 && c->status < 600)
        w->by_status[c->status]++;
    if (c->status != want) {
        if (w->errors++ == 0) {
            char *body = strstr(c->resp, "\r\n\r\n");
            snprintf(w->first_error, sizeof(w->first_error), "status %d: %.200s", c->status,
                body != NULL ? body + 4 : "");
        }
    }
}

/* The server closed the connection: count the lost request, dial again. */
static int
redial(struct worker *w, struct conn *c)
{
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    w->reconnects++;
    if (c->busy) {
        w->errors++;
        if (w->first_error[0] == '\0')
            snprintf(w->first_error, sizeof(w->first_error), "connection closed mid-request");
    }
    c->busy = 0;
    if ((c->fd = dial(w->sh->port)) < 0 || arm(w, c, EPOLL_CTL_ADD, EPOLLIN) != 0)
        return -1;
    return start_next(w, c);
}

static int
on_readable(struct worker *w, struct conn *c)
{
    ssize_t k;
    int done;

    for (;;) {
        k = recv(c->fd, c->resp + c->resp_len, RESP_MAX - 1 - c->resp_len, 0);
        if (k < 0 && errno == EAGAIN)
            return 0;
        if (k <= 0)
            return redial(w, c);
        c->resp_len += (size_t)k;
        if ((done = parse(c)) < 0)
            return -1;
        if (done) {
            record(w, c, now_s());
            /* No keep-alive: a new connection for the next request, as a client would. */
            if (c->close_after) {
                c->busy = 0;
                return redial(w, c);
            }
            return start_next(w, c);
        }
    }
}

static void *
run_worker(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[64];
    struct conn *c;
    size_t i, busy;
    double t;
    int n, k;

    if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        w->failed = 1;
    for (i = 0; i < w->nconns && !w->failed; i++) {
        c = &w->conns[i];
        c->user = -1;
        if ((c->fd = dial(w->sh->port)) < 0 || arm(w, c, EPOLL_CTL_ADD, EPOLLIN) != 0)
            w->failed = 1;
    }
    /* Everyone is connected; main sets the clock, then all start at once. */
    pthread_barrier_wait(&w->sh->ready);
    pthread_barrier_wait(&w->sh->ready);
    for (i = 0; i < w->nconns && !w->failed; i++)
        if (start_next(w, &w->conns[i]) != 0)
            w->failed = 1;
    while (!w->failed) {
        for (busy = 0, i = 0; i < w->nconns; i++)
            busy += w->conns[i].busy ? 1 : 0;
        t = now_s();
        if (busy == 0 || t > w->sh->deadline + DRAIN_S)
            break;
        n = epoll_wait(w->ep, evs, 64, 100);
        for (k = 0; k < n && !w->failed; k++) {
            c = evs[k].data.ptr;
            if ((evs[k].events & EPOLLOUT) && c->req_off < c->req_len && pump_send(w, c) != 0)
                w->failed = 1;
            else if ((evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && on_readable(w, c) != 0)
                w->failed = 1;
        }
    }
    for (i = 0; i < w->nconns; i++)
        if (w->conns[i].fd >= 0)
            close(w->conns[i].fd);
    if (w->ep >= 0)
        close(w->ep);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double
pct(const double *v, size_t n, double q)
{
    size_t r;

    if (n == 0)
        return 0;
    r = (size_t)(q * (double)n + 0.999999);
    return v[r == 0 ? 0 : r > n ? n - 1 : r - 1];
}

static int
load_users(const char *path, struct shared *sh)
{
    FILE *f = fopen(path, "r");
    char name[MAX_NAME + 1], b32[128], *raw = NULL;
    size_t rawlen = 0, n = 0, a = 0;
    struct user *u;

    if (f == NULL)
        return -1;
    while (fscanf(f, "%64s %127s", name, b32) == 2 && n < MAX_USERS) {
        if (n == a) {
            a = a == 0 ? 1024 : a * 2;
            if ((u = realloc(sh->users, a * sizeof(*u))) == NULL)
                break;
            sh->users = u;
        }
        if (oath_base32_decode(b32, strlen(b32), &raw, &rawlen) != OATH_OK ||
            rawlen > MAX_SECRET) {
            free(raw);
            fclose(f);
            return -1;
        }
        snprintf(sh->users[n].name, sizeof(sh->users[n].name), "%s", name);
        memcpy(sh->users[n].secret, raw, rawlen);
        sh->users[n].secret_len = rawlen;
        free(raw);
        raw = NULL;
        n++;
    }
    fclose(f);
    sh->nusers = n;
    return n > 0 ? 0 : -1;
}

static int
load_pubkey(const char *path, struct shared *sh)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL || fgets(sh->pubkey, sizeof(sh->pubkey), f) == NULL) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    n = strcspn(sh->pubkey, "\r\n");
    sh->pubkey[n] = '\0';
    /* It goes into a JSON string unescaped. */
    return strpbrk(sh->pubkey, "\"\\") == NULL && n > 0 ? 0 : -1;
}

static int
usage(void)
{
    fprintf(stderr, "usage: sshcert-bench-load -p PORT [-c CLIENTS] [-d SECONDS] [-n MAX] "
                    "[-T THREADS] (-g PATH | -u USERS_FILE -k PUBKEY_FILE [-w PASSWORD])\n");
    return 2;
}

int
main(int argc, char **argv)
{
    static struct shared sh;
    struct worker *w = NULL;
    struct conn *conns = NULL;
    const char *users = NULL, *key = NULL;
    unsigned long clients = 16, threads = 1, port = 0, i, j, s;
    double seconds = 5, *all = NULL, end = 0;
    long max = -1;
    size_t total = 0, k;
    unsigned long errors = 0, reconnects = 0;
    int c, rc = 1, failed = 0;

    sh.password = "bench-password";
    while ((c = getopt(argc, argv, "p:c:d:n:T:g:u:k:w:")) != -1) {
        switch (c) {
        case 'p':
            port = strtoul(optarg, NULL, 10);
            break;
        case 'c':
            clients = strtoul(optarg, NULL, 10);
            break;
        case 'd':
            seconds = strtod(optarg, NULL);
            break;
        case 'n':
            max = strtol(optarg, NULL, 10);
            break;
        case 'T':
            threads = strtoul(optarg, NULL, 10);
            break;
        case 'g':
            sh.path = optarg;
            break;
        case 'u':
            users = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'w':
            sh.password = optarg;
            break;
        default: return usage();
        }
    }
    if (port == 0 || port > 65535 || clients == 0 || clients > MAX_CLIENTS || threads == 0 ||
        threads > MAX_THREADS || !(seconds > 0 && seconds < 3600) ||
        (sh.path == NULL) == (users == NULL) || (users != NULL && key == NULL) ||
        strpbrk(sh.password, "\"\\") != NULL)
        return usage();
    if (threads > clients)
        threads = clients;
    sh.port = (uint16_t)port;
    atomic_init(&sh.budget, max < 0 ? (long)1 << 62 : max);
    if (users != NULL && (load_users(users, &sh) != 0 || load_pubkey(key, &sh) != 0)) {
        fprintf(stderr, "load: cannot read %s or %s\n", users, key);
        return 1;
    }
    if (oath_init() != OATH_OK || (conns = calloc(clients, sizeof(*conns))) == NULL ||
        (w = calloc(threads, sizeof(*w))) == NULL ||
        pthread_barrier_init(&sh.ready, NULL, (unsigned)threads + 1) != 0)
        goto out;
    for (i = 0, j = 0; i < threads; i++) {
        s = clients / threads + (i < clients % threads ? 1 : 0);
        w[i].sh = &sh;
        w[i].conns = conns + j;
        w[i].nconns = s;
        w[i].ep = -1;
        for (k = 0; k < s; k++)
            conns[j + k].fd = -1;
        j += s;
    }
    {
        pthread_t tid[MAX_THREADS];
        for (i = 0; i < threads; i++) {
            if (pthread_create(&tid[i], NULL, run_worker, &w[i]) != 0) {
                /* The started workers wait on the barrier: end the whole process. */
                fprintf(stderr, "load: cannot start a thread\n");
                exit(1);
            }
        }
        pthread_barrier_wait(&sh.ready);
        sh.t0 = now_s();
        sh.deadline = sh.t0 + seconds;
        pthread_barrier_wait(&sh.ready);
        for (i = 0; i < threads; i++)
            pthread_join(tid[i], NULL);
    }
    for (i = 0; i < threads; i++) {
        total += w[i].nlat;
        errors += w[i].errors;
        reconnects += w[i].reconnects;
        failed |= w[i].failed;
        if (w[i].last_done > end)
            end = w[i].last_done;
    }
    if (failed) {
        fprintf(stderr, "load: a connection to 127.0.0.1:%lu failed\n", port);
        goto out;
    }
    if ((all = malloc((total > 0 ? total : 1) * sizeof(*all))) == NULL)
        goto out;
    for (i = 0, k = 0; i < threads; i++) {
        memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
        k += w[i].nlat;
    }
    qsort(all, total, sizeof(*all), cmp_double);
    for (i = 0; i < threads; i++)
        if (w[i].first_error[0] != '\0') {
            fprintf(stderr, "load: first error: %s\n", w[i].first_error);
            break;
        }
    for (s = 100; s < 600; s++) {
        unsigned long cnt = 0;
        for (i = 0; i < threads; i++)
            cnt += w[i].by_status[s];
        if (cnt > 0)
            fprintf(stderr, "load: status %lu: %lu\n", s, cnt);
    }
    printf("requests: %zu\nerrors: %lu\nrate_per_s: %.0f\np50_ms: %.2f\np99_ms: %.2f\n"
           "max_ms: %.2f\nreconnects: %lu\nexhausted: %d\n",
        total, errors, end > sh.t0 ? (double)(total - errors) / (end - sh.t0) : 0.0,
        pct(all, total, 0.50), pct(all, total, 0.99), total > 0 ? all[total - 1] : 0.0,
        reconnects, atomic_load(&sh.exhausted));
    rc = 0;
out:
    if (w != NULL)
        for (i = 0; i < threads; i++)
            free(w[i].lat);
    free(all);
    free(w);
    free(conns);
    free(sh.users);
    oath_done();
    return rc;
}
