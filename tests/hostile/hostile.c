/*
 * hostile: throws malformed and abusive HTTP at a running sshcert-server over raw sockets
 * (tests/e2e/hostile.sh starts the server and checks it afterwards).
 *
 *   hostile PORT TEMPLATE_BODY_FILE
 *
 * TEMPLATE is a well-formed POST /v1/certificates body that the server must refuse (a wrong
 * password), so that no mutation of it can ever be a valid login. Every case states what the
 * server must answer: a 4xx whose body is the JSON error of DESIGN.md, or, for protocol-level
 * abuse that libmicrohttpd itself handles before our code sees a request (header floods,
 * broken chunk framing, stalled uploads), a 4xx of any body or the connection closed by the
 * server. Never a 2xx, never a 5xx, never a hang. Prints one line per group and per failure,
 * then "cases: N"; exits 1 when any case failed.
 *
 * HOSTILE_SEED (default 9) seeds the mutations; HOSTILE_MUTATIONS (default 600) their number;
 * HOSTILE_STALLED (default 300) the slowloris connections; HOSTILE_TIMEOUT (default 3) the
 * server's connection_timeout in seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/* Longest response read; the server's are small. */
#define MAX_RESPONSE (256u * 1024u)
/* How long one exchange may take before it counts as a hang. */
#define EXCHANGE_TIMEOUT_MS 15000
/* The server's body cap (ca-server/server.h SSHCERT_MAX_BODY). */
#define MAX_BODY (16u * 1024u)
#define MUTATION_THREADS 4

enum expect {
    JSON_4XX,      /* a 4xx with a JSON {"error","message"} body */
    ANY_4XX_CLOSE, /* a 4xx (any body) or the connection closed without an answer */
    VERSION_505,   /* 505 HTTP Version Not Supported (libmicrohttpd's), or a close */
};

struct resp {
    int status;  /* 0: no status line */
    int closed;  /* the server closed (or reset) before a complete answer */
    int timeout; /* nothing for EXCHANGE_TIMEOUT_MS */
    char ctype[128];
    char *body;
    size_t body_len;
};

static uint16_t port;
static char *template_body;
static size_t template_len;
static atomic_int cases, failures;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A TCP connection to the server from 127.0.0.src_host (0: let the kernel choose). */
static int
connect_from(unsigned src_host)
{
    struct sockaddr_in sa, src;
    int fd, one = 1;

    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src_host != 0) {
        memset(&src, 0, sizeof(src));
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000000u | (src_host & 0xffffffu));
        if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            close(fd);
            return -1;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends what it can; the server may answer (413) and close before reading everything. */
static void
send_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void
resp_free(struct resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* Parses what was read: status line, Content-Type, Content-Length body. 1 when complete. */
static int
parse_response(const char *buf, size_t len, struct resp *r)
{
    const char *end, *line, *eol, *v;
    size_t clen = 0, hlen;
    int have_clen = 0;

    end = memmem(buf, len, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    hlen = (size_t)(end - buf) + 4;
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
        return 0;
    r->status = atoi(buf + 9);
    for (line = memchr(buf, '\n', hlen); line != NULL && line < end; line = eol) {
        line++;
        if ((eol = memchr(line, '\n', (size_t)(end - line) + 2)) == NULL)
            break;
        if ((v = memchr(line, ':', (size_t)(eol - line))) == NULL)
            continue;
        if ((size_t)(v - line) == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            clen = strtoul(v + 1, NULL, 10);
            have_clen = 1;
        } else if ((size_t)(v - line) == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            v++;
            while (*v == ' ')
                v++;
            snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)(eol - v - 1), v);
        }
    }
    if (!have_clen || len - hlen < clen)
        return 0;
    free(r->body);
    if ((r->body = malloc(clen + 1)) == NULL)
        abort();
    memcpy(r->body, buf + hlen, clen);
    r->body[clen] = '\0';
    r->body_len = clen;
    return 1;
}

/* Reads one answer (or EOF) from fd within timeout_ms. */
static void
read_response(int fd, struct resp *r, int timeout_ms)
{
    char *buf = malloc(MAX_RESPONSE);
    size_t len = 0;
    long deadline = now_ms() + timeout_ms;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;

    if (buf == NULL)
        abort();
    memset(r, 0, sizeof(*r));
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            r->timeout = 1;
            break;
        }
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        n = recv(fd, buf + len, MAX_RESPONSE - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!parse_response(buf, len, r))
                r->closed = 1;
            break;
        }
        len += (size_t)n;
        if (parse_response(buf, len, r) || len == MAX_RESPONSE)
            break;
    }
    free(buf);
}

static void
exchange(unsigned src, const char *req, size_t len, struct resp *r)
{
    int fd = connect_from(src);

    memset(r, 0, sizeof(*r));
    if (fd < 0) {
        r->closed = 1; /* refused: reported as such by the check */
        r->status = -1;
        return;
    }
    send_all(fd, req, len);
    read_response(fd, r, EXCHANGE_TIMEOUT_MS);
    close(fd);
}

static int
is_json_error(const struct resp *r)
{
    json_error_t jerr;
    json_t *j, *e, *m;
    int ok;

    if (r->body == NULL || strncmp(r->ctype, "application/json", 16) != 0)
        return 0;
    if ((j = json_loadb(r->body, r->body_len, 0, &jerr)) == NULL)
        return 0;
    e = json_object_get(j, "error");
    m = json_object_get(j, "message");
    ok = json_is_object(j) && json_is_string(e) && json_string_length(e) > 0 &&
         json_is_string(m);
    json_decref(j);
    return ok;
}

/* Checks r against what the case expects; want_status 0 means any 4xx. */
static int
check(const char *group, const char *what, const struct resp *r, enum expect ex, int want_status)
{
    const char *why = NULL;

    atomic_fetch_add(&cases, 1);
    if (r->status == -1)
        why = "connection refused";
    else if (r->timeout)
        why = "no answer (hang)";
    else if (ex != JSON_4XX && r->status == 0 && r->closed)
        return 1;
    else if (ex == VERSION_505 && r->status == 505)
        return 1;
    else if (r->status < 400 || r->status > 499)
        why = r->status == 0 ? "closed without an answer" : "status is not 4xx";
    else if (want_status != 0 && r->status != want_status &&
             !(want_status == 401 && r->status == 429))
        why = "unexpected status"; /* a refused login may meet the lockout: 429 is fine too */
    else if (ex == JSON_4XX && !is_json_error(r))
        why = "body is not a JSON error";
    if (why == NULL)
        return 1;
    atomic_fetch_add(&failures, 1);
    say("FAIL - %s: %s: %s (status %d, want %d, type \"%s\", body \"%.200s\")\n", group, what,
        why, r->status, want_status, r->ctype, r->body != NULL ? r->body : "");
    return 0;
}

/* A POST of body with the usual headers; extra is inserted before the blank line. */
static char *
post_request(const char *body, size_t len, const char *extra, size_t *out_len)
{
    char head[1024];
    char *req;
    int n;

    n = snprintf(head, sizeof(head),
        "POST /v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
        len, extra != NULL ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(head) || (req = malloc((size_t)n + len)) == NULL)
        abort();
    memcpy(req, head, (size_t)n);
    memcpy(req + n, body, len);
    *out_len = (size_t)n + len;
    return req;
}

static int
post_expect(const char *group, const char *what, const char *body, size_t len, int want)
{
    struct resp r;
    size_t rlen;
    char *req = post_request(body, len, NULL, &rlen);
    int ok;

    exchange(0, req, rlen, &r);
    ok = check(group, what, &r, JSON_4XX, want);
    resp_free(&r);
    free(req);
    return ok;
}

static int
raw_expect(const char *group, const char *what, const char *req, size_t len, enum expect ex,
    int want)
{
    struct resp r;
    int ok;

    exchange(0, req, len, &r);
    ok = check(group, what, &r, ex, want);
    resp_free(&r);
    return ok;
}

static void
group_done(const char *group, int before_fail, int before_cases)
{
    int n = atomic_load(&cases) - before_cases, f = atomic_load(&failures) - before_fail;

    say("%s - %s: %d cases%s\n", f == 0 ? "ok" : "FAIL", group, n,
        f == 0 ? "" : ", some failed");
}

#define GROUP_BEGIN(name)                                                                      \
    const char *group = name;                                                                  \
    int f0 = atomic_load(&failures), c0 = atomic_load(&cases)
#define GROUP_END() group_done(group, f0, c0)

/* Every strict prefix of the valid body is malformed JSON: 400. */
static void
truncated(void)
{
    GROUP_BEGIN("truncated JSON");
    char what[64];
    size_t i;

    for (i = 0; i < template_len; i++) {
        snprintf(what, sizeof(what), "first %zu of %zu bytes", i, template_len);
        post_expect(group, what, template_body, i, 400);
    }
    GROUP_END();
}

/* xorshift64*: reproducible mutations from HOSTILE_SEED. */
static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static size_t
mutate(uint64_t *s, char *buf, size_t len, size_t cap)
{
    static const char interesting[] = "{}[]\",:\\0-e.\x00\xff\x80\xc3 \ttnfu";
    unsigned ops = 1 + (unsigned)(rnd(s) % 4), i;
    size_t pos, n;

    for (i = 0; i < ops; i++) {
        pos = len > 0 ? (size_t)(rnd(s) % len) : 0;
        switch (rnd(s) % 7) {
        case 0: /* flip a bit */
            if (len > 0)
                buf[pos] ^= (char)(1u << (rnd(s) % 8));
            break;
        case 1: /* an interesting byte */
            if (len > 0)
                buf[pos] = interesting[rnd(s) % (sizeof(interesting) - 1)];
            break;
        case 2: /* delete a range */
            n = len > 0 ? (size_t)(rnd(s) % 16) : 0;
            if (pos + n > len)
                n = len - pos;
            memmove(buf + pos, buf + pos + n, len - pos - n);
            len -= n;
            break;
        case 3: /* duplicate a range */
            n = (size_t)(rnd(s) % 32);
            if (pos + n > len)
                n = len - pos;
            if (len + n <= cap) {
                memmove(buf + pos + n, buf + pos, len - pos);
                len += n;
            }
            break;
        case 4: /* insert random bytes */
            n = 1 + (size_t)(rnd(s) % 8);
            if (len + n <= cap) {
                memmove(buf + pos + n, buf + pos, len - pos);
                for (size_t k = 0; k < n; k++)
                    buf[pos + k] = (char)rnd(s);
                len += n;
            }
            break;
        case 5: /* swap two bytes */
            if (len > 1) {
                size_t q = (size_t)(rnd(s) % len);
                char t = buf[pos];
                buf[pos] = buf[q];
                buf[q] = t;
            }
            break;
        default: /* truncate */
            len = pos;
            break;
        }
    }
    return len;
}

struct mut_job {
    unsigned first, count;
    uint64_t seed;
};

static void *
mutation_worker(void *arg)
{
    struct mut_job *job = arg;
    char *buf = malloc(MAX_BODY), what[96];
    unsigned i;

    if (buf == NULL)
        abort();
    for (i = job->first; i < job->first + job->count; i++) {
        uint64_t s = job->seed * 1000003u + i + 1;
        size_t len;

        memcpy(buf, template_body, template_len);
        len = mutate(&s, buf, template_len, MAX_BODY);
        snprintf(what, sizeof(what), "mutation %u (seed %llu)", i,
            (unsigned long long)job->seed);
        post_expect("mutated JSON", what, buf, len, 0);
    }
    free(buf);
    return NULL;
}

static void
mutated(uint64_t seed, unsigned count)
{
    GROUP_BEGIN("mutated JSON");
    pthread_t th[MUTATION_THREADS];
    struct mut_job jobs[MUTATION_THREADS];
    unsigned t, per = (count + MUTATION_THREADS - 1) / MUTATION_THREADS;

    for (t = 0; t < MUTATION_THREADS; t++) {
        jobs[t].first = t * per;
        jobs[t].count = t * per >= count ? 0 : (count - t * per < per ? count - t * per : per);
        jobs[t].seed = seed;
        if (pthread_create(&th[t], NULL, mutation_worker, &jobs[t]) != 0)
            abort();
    }
    for (t = 0; t < MUTATION_THREADS; t++)
        pthread_join(th[t], NULL);
    GROUP_END();
}

/* The template with member key replaced by raw JSON text value (or removed when NULL, or
 * added when absent). */
static char *
with_member(const char *key, const char *value)
{
    json_error_t jerr;
    json_t *j = json_loads(template_body, 0, &jerr);
    char *s, *out;
    size_t n;

    if (j == NULL)
        abort();
    json_object_del(j, key);
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (s == NULL)
        abort();
    if (value == NULL)
        return s;
    /* Splice in the raw text, which jansson could not produce (NULs, bad UTF-8, 1e400). */
    n = strlen(s) + strlen(key) + strlen(value) + 8;
    if ((out = malloc(n)) == NULL)
        abort();
    s[strlen(s) - 1] = '\0'; /* drop the closing brace */
    snprintf(out, n, "%s,\"%s\":%s}", s, key, value);
    free(s);
    return out;
}

static void
member_expect(const char *group, const char *key, const char *value, int want)
{
    char *body = with_member(key, value), what[160];

    snprintf(what, sizeof(what), "%s: %.120s", key, value != NULL ? value : "(absent)");
    post_expect(group, what, body, strlen(body), want);
    free(body);
}

static void
wrong_types(void)
{
    GROUP_BEGIN("wrong types");
    static const char *const strings[] = {"username", "password", "totp", "public_key"};
    static const char *const not_strings[] = {"1", "-1", "1.5", "true", "false", "null", "[]",
        "[\"x\"]", "{}", "{\"a\":\"b\"}", "\"\""};
    static const char *const bad_ttl[] = {"\"3600\"", "\"1h\"", "1.0", "3.6e3", "true", "null",
        "[3600]", "{}"};
    static const char *const bad_principals[] = {"\"alice\"", "[]", "[1]", "[null]", "[[\"a\"]]",
        "[\"\"]", "[\"a,b\"]", "[\"a\",\"a\"]", "{}", "null", "true"};
    static const char *const bodies[] = {"[]", "\"text\"", "42", "null", "true", "[{}]", "{}"};
    size_t i, j;

    for (i = 0; i < 4; i++) {
        for (j = 0; j < sizeof(not_strings) / sizeof(not_strings[0]); j++)
            member_expect(group, strings[i], not_strings[j], 400);
        member_expect(group, strings[i], NULL, 400);
    }
    for (j = 0; j < sizeof(bad_ttl) / sizeof(bad_ttl[0]); j++)
        member_expect(group, "ttl", bad_ttl[j], 400);
    for (j = 0; j < sizeof(bad_principals) / sizeof(bad_principals[0]); j++)
        member_expect(group, "principals", bad_principals[j], 400);
    member_expect(group, "admin", "true", 400);
    member_expect(group, "Username", "\"alice\"", 400);
    for (j = 0; j < sizeof(bodies) / sizeof(bodies[0]); j++)
        post_expect(group, bodies[j], bodies[j], strlen(bodies[j]), 400);
    /* Duplicate keys: {"username":..., ..., "username":...} */
    {
        char *b = with_member("username", NULL), *d;
        size_t n = strlen(b) + 40;
        if ((d = malloc(n)) == NULL)
            abort();
        snprintf(d, n, "{\"username\":\"a\",\"username\":\"b\",%s", b + 1);
        post_expect(group, "duplicate username", d, strlen(d), 400);
        free(d);
        free(b);
    }
    GROUP_END();
}

static void
huge_numbers(void)
{
    GROUP_BEGIN("huge numbers");
    static const char *const bad[] = {"1e400", "-1e400", "18446744073709551616",
        "18446744073709551615", "-18446744073709551617", "9223372036854775808",
        "99999999999999999999999999999999999999", "1e308", "-0.0", "0.5", "1E2", "NaN",
        "Infinity", "-Infinity", "0x10", "+1", "01"};
    /* Integers that decode; the server then refuses the login (or the ttl): 400 or 401. */
    static const char *const decodable[] = {"9223372036854775807", "-9223372036854775808", "0",
        "-1", "31622401"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        member_expect(group, "ttl", bad[i], 400);
    for (i = 0; i < sizeof(decodable) / sizeof(decodable[0]); i++) {
        char *body = with_member("ttl", decodable[i]), what[96];
        struct resp r;
        size_t rlen;
        char *req = post_request(body, strlen(body), NULL, &rlen);

        snprintf(what, sizeof(what), "ttl: %s", decodable[i]);
        exchange(0, req, rlen, &r);
        if (r.status != 400 && r.status != 401 && r.status != 429)
            check(group, what, &r, JSON_4XX, 400);
        else
            check(group, what, &r, JSON_4XX, 0);
        resp_free(&r);
        free(req);
        free(body);
    }
    GROUP_END();
}

static void
nul_and_utf8(void)
{
    GROUP_BEGIN("NUL bytes and invalid UTF-8");
    static const char *const strings[] = {"username", "password", "totp", "public_key"};
    /* Escapes and raw bytes inside a JSON string. */
    static const char *const bad[] = {"\"al\\u0000ice\"", "\"\\u0000\"", "\"alice\\u0000\"",
        "\"\xff\xfe\"", "\"al\xc3\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\x80\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\uZZZZ\"",
        "\"a\\x41\"", "\"tab\there\"", "\"new\nline\""};
    size_t i, j;
    char body[256];

    for (i = 0; i < 4; i++)
        for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++)
            member_expect(group, strings[i], bad[j], 400);
    for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
        snprintf(body, sizeof(body), "[%s]", bad[j]);
        member_expect(group, "principals", body, 400);
    }
    /* A raw NUL byte in the body, outside and inside a string. */
    {
        char raw[] = "{\"username\":\"al\0ice\",\"password\":\"x\",\"totp\":\"1\",\"public_key\":\"k\"}";
        char raw2[] = "{\"username\":\"alice\"\0,\"password\":\"x\"}";
        post_expect(group, "raw NUL in a string", raw, sizeof(raw) - 1, 400);
        post_expect(group, "raw NUL between members", raw2, sizeof(raw2) - 1, 400);
        post_expect(group, "a lone NUL", "\0", 1, 400);
    }
    /* Keys with bad bytes, and an unknown key cut mid-character in the error message. */
    post_expect(group, "key with \\u0000", "{\"user\\u0000name\":\"a\"}",
        strlen("{\"user\\u0000name\":\"a\"}"), 400);
    post_expect(group, "key with bad UTF-8", "{\"\xff\":\"a\"}", strlen("{\"\xff\":\"a\"}"), 400);
    {
        char k[200];
        memset(k, 0, sizeof(k));
        strcpy(k, "{\"");
        for (i = 0; i < 40; i++)
            strcat(k, "\xc3\xa9");
        strcat(k, "\":1}");
        post_expect(group, "unknown key of 80 bytes of e-acute", k, strlen(k), 400);
    }
    GROUP_END();
}

/* SQL metacharacters: every such name is an unknown user, 401 like any other. The script
 * checks the users table afterwards. */
static void
sql_usernames(void)
{
    GROUP_BEGIN("SQL metacharacters in usernames");
    static const char *const names[] = {"alice' OR '1'='1", "x; DROP TABLE users;--",
        "alice'--", "' OR 1=1 --", "\\\" OR \\\"\\\"=\\\"", "alice\\\"; DELETE FROM certificates; --",
        "admin'/*", "%", "_", "alice%", "' UNION SELECT password_hash FROM users --",
        "1; UPDATE users SET disabled=0", "alice') OR ('a'='a", "'; ATTACH DATABASE '/tmp/x' AS x;--",
        "x'||(SELECT totp_secret FROM users)||'", "robert'); DROP TABLE audit;--"};
    char value[256];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(value, sizeof(value), "\"%s\"", names[i]);
        member_expect(group, "username", value, 401);
        member_expect(group, "password", value, 401);
        snprintf(value, sizeof(value), "[\"%s\"]", names[i]);
        member_expect(group, "principals", value, 0); /* 400 (bad name) or 401 */
    }
    GROUP_END();
}

/* A POST whose body is n bytes of 'x' (or the template padded with spaces to n bytes). */
static char *
sized_body(size_t n, int json)
{
    char *b = malloc(n + 1);

    if (b == NULL)
        abort();
    memset(b, json ? ' ' : 'x', n);
    if (json && n >= template_len)
        memcpy(b, template_body, template_len);
    b[n] = '\0';
    return b;
}

static void
oversize_and_chunked(void)
{
    GROUP_BEGIN("oversize and chunked bodies");
    char *b, *req, head[512];
    size_t rlen, n;
    struct resp r;

    /* At the cap: decoded (401: wrong password); one over: 413. */
    b = sized_body(MAX_BODY, 1);
    post_expect(group, "16384-byte body (template + spaces)", b, MAX_BODY, 401);
    free(b);
    b = sized_body(MAX_BODY + 1, 1);
    post_expect(group, "16385-byte body", b, MAX_BODY + 1, 413);
    free(b);
    b = sized_body(1024 * 1024, 0);
    post_expect(group, "1 MiB body", b, 1024 * 1024, 413);
    free(b);
    /* Announced sizes that never come. */
    static const char *const lengths[] = {"16385", "1000000000000", "18446744073709551615",
        "99999999999999999999999"};
    for (n = 0; n < sizeof(lengths) / sizeof(lengths[0]); n++) {
        int k = snprintf(head, sizeof(head),
            "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %s\r\nConnection: close\r\n\r\n{",
            lengths[n]);
        raw_expect(group, lengths[n], head, (size_t)k, ANY_4XX_CLOSE, 0);
    }
    /* Broken Content-Length values: rejected by libmicrohttpd or by us. */
    static const char *const bad_lengths[] = {"-1", "abc", "1 2", "0x10", ""};
    for (n = 0; n < sizeof(bad_lengths) / sizeof(bad_lengths[0]); n++) {
        int k = snprintf(head, sizeof(head),
            "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %s\r\nConnection: close\r\n\r\n{}",
            bad_lengths[n]);
        raw_expect(group, bad_lengths[n], head, (size_t)k, ANY_4XX_CLOSE, 0);
    }
    /* Chunked: a small valid body in chunks is decoded like any other (401). */
    {
        char chunked[4096];
        int k = snprintf(chunked, sizeof(chunked),
            "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        size_t off = 0;
        while (off < template_len) {
            size_t c = template_len - off < 7 ? template_len - off : 7;
            k += snprintf(chunked + k, sizeof(chunked) - (size_t)k, "%zx\r\n%.*s\r\n", c,
                (int)c, template_body + off);
            off += c;
        }
        k += snprintf(chunked + k, sizeof(chunked) - (size_t)k, "0\r\n\r\n");
        exchange(0, chunked, (size_t)k, &r);
        check(group, "chunked template in 7-byte chunks", &r, JSON_4XX, 401);
        resp_free(&r);
    }
    /* Chunked past the cap: 64 chunks of 1 KiB. */
    {
        size_t cap = 64 * (1024 + 16) + 256, k;
        char *c = malloc(cap);
        if (c == NULL)
            abort();
        k = (size_t)snprintf(c, cap,
            "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for (n = 0; n < 64; n++) {
            k += (size_t)snprintf(c + k, cap - k, "400\r\n");
            memset(c + k, 'x', 1024);
            k += 1024;
            k += (size_t)snprintf(c + k, cap - k, "\r\n");
        }
        k += (size_t)snprintf(c + k, cap - k, "0\r\n\r\n");
        exchange(0, c, k, &r);
        check(group, "64 KiB chunked", &r, JSON_4XX, 413);
        resp_free(&r);
        free(c);
    }
    /* Broken chunk framing: libmicrohttpd answers or closes. */
    static const char *const bad_chunks[] = {"zz\r\nabc\r\n0\r\n\r\n", "ffffffffffffffffff\r\nx",
        "5\r\nabc\r\n0\r\n\r\n", "-1\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n"};
    for (n = 0; n < sizeof(bad_chunks) / sizeof(bad_chunks[0]); n++) {
        char c[512];
        int k = snprintf(c, sizeof(c),
            "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%s",
            bad_chunks[n]);
        raw_expect(group, "bad chunk framing", c, (size_t)k, ANY_4XX_CLOSE, 0);
    }
    /* Wrong media type, wrong method, unknown path: our JSON errors. */
    n = template_len;
    req = post_request(template_body, n, NULL, &rlen);
    memcpy(strstr(req, "application/json"), "text/plain; x=yyy", 16);
    raw_expect(group, "Content-Type text/plain", req, rlen, JSON_4XX, 415);
    free(req);
    static const char *const wrong[][2] = {
        {"GET /v1/certificates HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "405"},
        {"DELETE /v1/ca HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "405"},
        {"PUT /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
         "Connection: close\r\n\r\n", "405"},
        {"GET /v1/../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "404"},
        {"GET /v1/ca%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "404"},
    };
    for (n = 0; n < sizeof(wrong) / sizeof(wrong[0]); n++)
        raw_expect(group, wrong[n][0], wrong[n][0], strlen(wrong[n][0]), JSON_4XX,
            atoi(wrong[n][1]));
    raw_expect(group, "garbage request line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        15, ANY_4XX_CLOSE, 0);
    raw_expect(group, "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24, VERSION_505, 0);
    raw_expect(group, "HTTP/9.9", "GET /v1/ca HTTP/9.9\r\nHost: x\r\n\r\n", 32, VERSION_505, 0);
    GROUP_END();
}

static void
header_floods(void)
{
    GROUP_BEGIN("header floods");
    size_t cap = 2u * 1024u * 1024u, k, i;
    char *req = malloc(cap);

    if (req == NULL)
        abort();
    /* 10,000 small headers. */
    k = (size_t)snprintf(req, cap, "GET /v1/ca HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 10000; i++)
        k += (size_t)snprintf(req + k, cap - k, "X-Flood-%zu: %zu\r\n", i, i);
    k += (size_t)snprintf(req + k, cap - k, "Connection: close\r\n\r\n");
    raw_expect(group, "10000 headers", req, k, ANY_4XX_CLOSE, 0);
    /* One 1 MiB header. */
    k = (size_t)snprintf(req, cap, "GET /v1/ca HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + k, 'a', 1024 * 1024);
    k += 1024 * 1024;
    k += (size_t)snprintf(req + k, cap - k, "\r\nConnection: close\r\n\r\n");
    raw_expect(group, "one 1 MiB header", req, k, ANY_4XX_CLOSE, 0);
    /* A 100 KiB URL. */
    k = (size_t)snprintf(req, cap, "GET /v1/");
    memset(req + k, 'a', 100 * 1024);
    k += 100 * 1024;
    k += (size_t)snprintf(req + k, cap - k, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw_expect(group, "100 KiB URL", req, k, ANY_4XX_CLOSE, 0);
    /* 64 KiB of header continuation lines (obsolete line folding). */
    k = (size_t)snprintf(req, cap, "GET /v1/ca HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n");
    for (i = 0; i < 8192; i++)
        k += (size_t)snprintf(req + k, cap - k, " bbbbbb\r\n");
    k += (size_t)snprintf(req + k, cap - k, "Connection: close\r\n\r\n");
    raw_expect(group, "64 KiB folded header", req, k, ANY_4XX_CLOSE, 0);
    /* Many Content-Length headers that disagree (request smuggling). */
    k = (size_t)snprintf(req, cap,
        "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\nContent-Length: 40\r\nConnection: close\r\n\r\n{}");
    raw_expect(group, "two Content-Length headers", req, k, ANY_4XX_CLOSE, 0);
    k = (size_t)snprintf(req, cap,
        "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n");
    raw_expect(group, "Content-Length and chunked", req, k, ANY_4XX_CLOSE, 0);
    free(req);
    GROUP_END();
}

/* One plain GET from 127.0.0.1; returns its duration in ms, or -1 unless it was a 200. */
static long
timed_get(const char *path)
{
    char req[256];
    struct resp r;
    long t0 = now_ms(), ms;
    int k = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        path);

    exchange(0, req, (size_t)k, &r);
    ms = now_ms() - t0;
    if (r.status != 200)
        ms = -1;
    resp_free(&r);
    return ms;
}

/* Slowloris: nstalled connections from 127.0.0.2 and up (the server limits connections per
 * address to max_connections/2), each sends half a request and stalls. Other clients must be
 * served in under 2 s meanwhile, and the server must close the stalled ones after its
 * connection_timeout. */
static void
slowloris(unsigned nstalled, unsigned timeout_s)
{
    GROUP_BEGIN("slowloris");
    static const char half_headers[] = "GET /v1/ca HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    static const char half_body[] =
        "POST /v1/certificates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 600\r\n\r\n{\"username\":\"alice\",\"pass";
    int *fds = calloc(nstalled, sizeof(int));
    unsigned i, opened = 0, closed = 0, slow = 0;
    long worst = 0, ms, deadline;
    char what[128];
    struct resp r;

    if (fds == NULL)
        abort();
    for (i = 0; i < nstalled; i++) {
        fds[i] = connect_from(2 + i % 60);
        if (fds[i] < 0)
            continue;
        opened++;
        if (i % 2 == 0)
            send_all(fds[i], half_headers, sizeof(half_headers) - 1);
        else
            send_all(fds[i], half_body, sizeof(half_body) - 1);
    }
    atomic_fetch_add(&cases, 1);
    if (opened != nstalled) {
        atomic_fetch_add(&failures, 1);
        say("FAIL - slowloris: only %u of %u stalled connections were accepted\n", opened,
            nstalled);
    }
    /* Other clients, while every stalled connection is open. */
    usleep(300 * 1000);
    for (i = 0; i < 10; i++) {
        atomic_fetch_add(&cases, 1);
        ms = timed_get(i % 2 == 0 ? "/v1/ca" : "/v1/health");
        if (ms < 0 || ms > 2000) {
            slow++;
            atomic_fetch_add(&failures, 1);
            say("FAIL - slowloris: GET %s %s while %u connections stall\n",
                i % 2 == 0 ? "/v1/ca" : "/v1/health", ms < 0 ? "failed" : "took over 2 s",
                opened);
        }
        if (ms > worst)
            worst = ms;
    }
    say("# slowloris: %u stalled connections open, 10 GETs served, slowest %ld ms\n", opened,
        worst);
    /* The server drops each stalled connection after connection_timeout (408 or a close). */
    deadline = now_ms() + (long)(timeout_s + 5) * 1000L;
    for (i = 0; i < nstalled; i++) {
        long left = deadline - now_ms();
        if (fds[i] < 0)
            continue;
        read_response(fds[i], &r, left > 0 ? (int)left : 1);
        atomic_fetch_add(&cases, 1);
        if (r.timeout) {
            atomic_fetch_add(&failures, 1);
            snprintf(what, sizeof(what), "stalled connection %u still open after %u s", i,
                timeout_s + 5);
            say("FAIL - slowloris: %s\n", what);
        } else if (r.status != 0 && (r.status < 400 || r.status > 499)) {
            atomic_fetch_add(&failures, 1);
            say("FAIL - slowloris: stalled connection %u got status %d\n", i, r.status);
        } else {
            closed++;
        }
        resp_free(&r);
        close(fds[i]);
    }
    say("# slowloris: %u of %u stalled connections dropped by the server within %u s\n", closed,
        opened, timeout_s + 5);
    free(fds);
    /* And after them, the server still answers. */
    atomic_fetch_add(&cases, 1);
    if ((ms = timed_get("/v1/health")) < 0 || ms > 2000) {
        atomic_fetch_add(&failures, 1);
        say("FAIL - slowloris: GET /v1/health after the stalled connections: %ld\n", ms);
    }
    GROUP_END();
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = malloc(MAX_BODY + 1);
    size_t n;

    if (f == NULL || b == NULL)
        return NULL;
    n = fread(b, 1, MAX_BODY, f);
    fclose(f);
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
        n--;
    b[n] = '\0';
    *len = n;
    return b;
}

static unsigned long
env_ul(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : dflt;
}

int
main(int argc, char **argv)
{
    struct rlimit rl;
    uint64_t seed = env_ul("HOSTILE_SEED", 9);
    unsigned nmut = (unsigned)env_ul("HOSTILE_MUTATIONS", 600);
    unsigned nstalled = (unsigned)env_ul("HOSTILE_STALLED", 300);
    unsigned timeout_s = (unsigned)env_ul("HOSTILE_TIMEOUT", 3);
    const char *only = getenv("HOSTILE_ONLY");

    if (argc != 3 || (port = (uint16_t)atoi(argv[1])) == 0) {
        fprintf(stderr, "usage: hostile PORT TEMPLATE_BODY_FILE\n");
        return 2;
    }
    if ((template_body = read_file(argv[2], &template_len)) == NULL || template_len == 0) {
        fprintf(stderr, "hostile: cannot read %s\n", argv[2]);
        return 2;
    }
    /* The slowloris group holds hundreds of sockets at once. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
#define RUN(name, call)                                                                        \
    do {                                                                                       \
        if (only == NULL || strstr(only, name) != NULL)                                        \
            call;                                                                              \
    } while (0)
    RUN("truncated", truncated());
    RUN("mutated", mutated(seed, nmut));
    RUN("types", wrong_types());
    RUN("numbers", huge_numbers());
    RUN("nul", nul_and_utf8());
    RUN("sql", sql_usernames());
    RUN("oversize", oversize_and_chunked());
    RUN("headers", header_floods());
    RUN("slowloris", slowloris(nstalled, timeout_s));
    printf("cases: %d, failed: %d\n", atomic_load(&cases), atomic_load(&failures));
    free(template_body);
    return atomic_load(&failures) == 0 ? 0 : 1;
}
