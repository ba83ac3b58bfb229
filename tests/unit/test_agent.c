/*
 * ssh-agent client: the pure reply parsers byte by byte, then the transport against a fake
 * agent on a socketpair (framing, short reads, caps, hang-ups, timeouts, EINTR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SSHCERT_AGENT_TESTING
#include "agent.h"
#include "buf.h"
#include "clock.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "secmem.h"

#define CERT_BLOB_FAKE "ssh-ed25519-cert-v01@openssh.com fake blob bytes"

/* ---- message builders ---- */

static struct sshcert_buf *
msg_new(uint8_t type)
{
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_non_null(b);
    assert_int_equal(sshcert_buf_put_u8(b, type), 0);
    return b;
}

/* IDENTITIES_ANSWER with a certificate-like and a key-like identity. */
static struct sshcert_buf *
identities_reply(void)
{
    struct sshcert_buf *b = msg_new(12);

    assert_int_equal(sshcert_buf_put_u32(b, 2), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, CERT_BLOB_FAKE), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "first comment"), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "key"), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, ""), 0);
    return b;
}

/* IDENTITIES_ANSWER of n identities with empty blobs and comments. */
static struct sshcert_buf *
identities_n(uint32_t n)
{
    struct sshcert_buf *b = msg_new(12);
    uint32_t i;

    assert_int_equal(sshcert_buf_put_u32(b, n), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(sshcert_buf_put_string(b, NULL, 0), 0);
        assert_int_equal(sshcert_buf_put_string(b, NULL, 0), 0);
    }
    return b;
}

/* IDENTITIES_ANSWER of exactly total bytes: one identity whose blob fills the rest. */
static struct sshcert_buf *
identities_sized(size_t total)
{
    struct sshcert_buf *b = msg_new(12);
    uint8_t *w;
    size_t blen = total - 1 - 4 - 4 - 4;

    assert_int_equal(sshcert_buf_put_u32(b, 1), 0);
    assert_int_equal(sshcert_buf_put_u32(b, (uint32_t)blen), 0);
    assert_int_equal(sshcert_buf_reserve(b, blen, &w), 0);
    memset(w, 'A', blen);
    assert_int_equal(sshcert_buf_put_string(b, NULL, 0), 0);
    assert_int_equal(sshcert_buf_len(b), total);
    return b;
}

static void
fill_sig(uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    size_t i;

    for (i = 0; i < SSHCERT_ED25519_SIG_LEN; i++)
        sig[i] = (uint8_t)(i * 7 + 1);
}

/* SIGN_RESPONSE whose inner blob is string type, string sig of siglen bytes, extra bytes. */
static struct sshcert_buf *
sign_reply_custom(const char *type, size_t siglen, size_t inner_extra)
{
    struct sshcert_buf *b = msg_new(14), *s = sshcert_buf_new(0);
    uint8_t sig[SSHCERT_ED25519_SIG_LEN + 8];
    size_t i;

    assert_non_null(s);
    for (i = 0; i < sizeof(sig); i++)
        sig[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(sshcert_buf_put_cstring(s, type), 0);
    assert_int_equal(sshcert_buf_put_string(s, sig, siglen), 0);
    for (i = 0; i < inner_extra; i++)
        assert_int_equal(sshcert_buf_put_u8(s, 0), 0);
    assert_int_equal(sshcert_buf_put_stringb(b, s), 0);
    sshcert_buf_free(s);
    return b;
}

static struct sshcert_buf *
sign_reply(void)
{
    return sign_reply_custom("ssh-ed25519", SSHCERT_ED25519_SIG_LEN, 0);
}

/* ---- parse_identities ---- */

static void
test_identities_valid(void **state)
{
    struct sshcert_buf *b = identities_reply();
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(b), sshcert_buf_len(b), &ids),
        0);
    assert_non_null(ids);
    assert_int_equal(ids->count, 2);
    assert_int_equal(ids->ids[0].blob_len, strlen(CERT_BLOB_FAKE));
    assert_memory_equal(ids->ids[0].blob, CERT_BLOB_FAKE, strlen(CERT_BLOB_FAKE));
    assert_string_equal(ids->ids[0].comment, "first comment");
    assert_int_equal(ids->ids[1].blob_len, 3);
    assert_memory_equal(ids->ids[1].blob, "key", 3);
    assert_string_equal(ids->ids[1].comment, "");
    sshcert_agent_identities_free(ids);
    sshcert_buf_free(b);
}

static void
test_identities_empty(void **state)
{
    static const uint8_t msg[] = {12, 0, 0, 0, 0};
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_agent_parse_identities(msg, sizeof(msg), &ids), 0);
    assert_non_null(ids);
    assert_int_equal(ids->count, 0);
    sshcert_agent_identities_free(ids);
}

static void
test_identities_truncated_every_length(void **state)
{
    struct sshcert_buf *b = identities_reply();
    struct sshcert_agent_identities *ids;
    size_t k;

    (void)state;
    for (k = 0; k < sshcert_buf_len(b); k++) {
        ids = (struct sshcert_agent_identities *)(uintptr_t)1;
        assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(b), k, &ids),
            SSHCERT_ERR_TRUNCATED);
        assert_null(ids);
    }
    sshcert_buf_free(b);
}

static void
test_identities_trailing(void **state)
{
    struct sshcert_buf *b = identities_reply();
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_buf_put_u8(b, 0), 0);
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(b), sshcert_buf_len(b), &ids),
        SSHCERT_ERR_TRAILING_DATA);
    assert_null(ids);
    sshcert_buf_free(b);
}

static void
test_identities_count_cap(void **state)
{
    struct sshcert_buf *under = identities_n(SSHCERT_AGENT_MAX_IDENTITIES);
    struct sshcert_buf *over = identities_n(SSHCERT_AGENT_MAX_IDENTITIES + 1);
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(under),
                         sshcert_buf_len(under), &ids),
        0);
    assert_int_equal(ids->count, SSHCERT_AGENT_MAX_IDENTITIES);
    sshcert_agent_identities_free(ids);
    ids = NULL;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(over), sshcert_buf_len(over),
                         &ids),
        SSHCERT_ERR_TOO_LARGE);
    assert_null(ids);
    sshcert_buf_free(under);
    sshcert_buf_free(over);
}

static void
test_identities_count_beyond_data(void **state)
{
    /* Claims 1000 identities but holds one: refused before allocating for 1000. */
    struct sshcert_buf *b = msg_new(12);
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_buf_put_u32(b, 1000), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "k"), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "c"), 0);
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(b), sshcert_buf_len(b), &ids),
        SSHCERT_ERR_TRUNCATED);
    assert_null(ids);
    sshcert_buf_free(b);
}

static void
test_identities_size_cap(void **state)
{
    struct sshcert_buf *at = identities_sized(SSHCERT_AGENT_MAX_MSG);
    struct sshcert_buf *over = identities_sized(SSHCERT_AGENT_MAX_MSG + 1);
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(at), sshcert_buf_len(at), &ids),
        0);
    assert_int_equal(ids->count, 1);
    assert_int_equal(ids->ids[0].blob_len, SSHCERT_AGENT_MAX_MSG - 13);
    sshcert_agent_identities_free(ids);
    ids = NULL;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(over), sshcert_buf_len(over),
                         &ids),
        SSHCERT_ERR_TOO_LARGE);
    assert_null(ids);
    sshcert_buf_free(at);
    sshcert_buf_free(over);
}

static void
test_identities_comment_nul(void **state)
{
    struct sshcert_buf *b = msg_new(12);
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_buf_put_u32(b, 1), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "k"), 0);
    assert_int_equal(sshcert_buf_put_string(b, "a\0b", 3), 0);
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(b), sshcert_buf_len(b), &ids),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_null(ids);
    sshcert_buf_free(b);
}

/* IDENTITIES_ANSWER of one identity whose comment is clen bytes of text. */
static struct sshcert_buf *
identities_comment(size_t clen)
{
    struct sshcert_buf *b = msg_new(12);
    uint8_t *w;

    assert_int_equal(sshcert_buf_put_u32(b, 1), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "k"), 0);
    assert_int_equal(sshcert_buf_put_u32(b, (uint32_t)clen), 0);
    assert_int_equal(sshcert_buf_reserve(b, clen, &w), 0);
    memset(w, 'c', clen);
    return b;
}

static void
test_identities_comment_cap(void **state)
{
    struct sshcert_buf *at = identities_comment(SSHCERT_BUF_MAX_CSTRING);
    struct sshcert_buf *over = identities_comment(SSHCERT_BUF_MAX_CSTRING + 1);
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(at), sshcert_buf_len(at), &ids),
        0);
    assert_int_equal(strlen(ids->ids[0].comment), SSHCERT_BUF_MAX_CSTRING);
    sshcert_agent_identities_free(ids);
    ids = NULL;
    assert_int_equal(sshcert_agent_parse_identities(sshcert_buf_ptr(over), sshcert_buf_len(over),
                         &ids),
        SSHCERT_ERR_TOO_LARGE);
    assert_null(ids);
    sshcert_buf_free(at);
    sshcert_buf_free(over);
}

static void
test_identities_wrong_type(void **state)
{
    static const uint8_t failure[] = {5}, failure_extra[] = {5, 0, 0}, legacy[] = {30},
                         success[] = {6}, sign[] = {14, 0, 0, 0, 0};
    struct sshcert_agent_identities *ids = NULL;

    (void)state;
    assert_int_equal(sshcert_agent_parse_identities(failure, sizeof(failure), &ids),
        SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_parse_identities(failure_extra, sizeof(failure_extra), &ids),
        SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_parse_identities(legacy, sizeof(legacy), &ids),
        SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_parse_identities(success, sizeof(success), &ids),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_agent_parse_identities(sign, sizeof(sign), &ids),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_null(ids);
    assert_int_equal(sshcert_agent_parse_identities(failure, sizeof(failure), NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_parse_identities(NULL, 1, &ids), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_parse_identities(NULL, 0, &ids), SSHCERT_ERR_TRUNCATED);
}

/* ---- parse_sign_reply ---- */

static void
test_sign_reply_valid(void **state)
{
    struct sshcert_buf *b = sign_reply();
    uint8_t sig[SSHCERT_ED25519_SIG_LEN], want[SSHCERT_ED25519_SIG_LEN];

    (void)state;
    fill_sig(want);
    assert_int_equal(sshcert_agent_parse_sign_reply(sshcert_buf_ptr(b), sshcert_buf_len(b), sig),
        0);
    assert_memory_equal(sig, want, sizeof(sig));
    sshcert_buf_free(b);
}

static void
assert_sig_zero(const uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    static const uint8_t zero[SSHCERT_ED25519_SIG_LEN];

    assert_memory_equal(sig, zero, sizeof(zero));
}

static void
test_sign_reply_truncated_every_length(void **state)
{
    struct sshcert_buf *b = sign_reply();
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    size_t k;

    (void)state;
    for (k = 0; k < sshcert_buf_len(b); k++) {
        memset(sig, 0xaa, sizeof(sig));
        assert_int_equal(sshcert_agent_parse_sign_reply(sshcert_buf_ptr(b), k, sig),
            SSHCERT_ERR_TRUNCATED);
        assert_sig_zero(sig);
    }
    sshcert_buf_free(b);
}

static void
expect_sign_reply(struct sshcert_buf *b, int want)
{
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];

    memset(sig, 0xaa, sizeof(sig));
    assert_int_equal(sshcert_agent_parse_sign_reply(sshcert_buf_ptr(b), sshcert_buf_len(b), sig),
        want);
    assert_sig_zero(sig);
    sshcert_buf_free(b);
}

static void
test_sign_reply_trailing(void **state)
{
    struct sshcert_buf *b = sign_reply();

    (void)state;
    assert_int_equal(sshcert_buf_put_u8(b, 0), 0);
    expect_sign_reply(b, SSHCERT_ERR_TRAILING_DATA);
    expect_sign_reply(sign_reply_custom("ssh-ed25519", SSHCERT_ED25519_SIG_LEN, 1),
        SSHCERT_ERR_TRAILING_DATA);
}

static void
test_sign_reply_wrong_sig(void **state)
{
    (void)state;
    expect_sign_reply(sign_reply_custom("rsa-sha2-256", SSHCERT_ED25519_SIG_LEN, 0),
        SSHCERT_ERR_KEY_TYPE);
    expect_sign_reply(sign_reply_custom(SSHCERT_CERT_TYPE_ED25519, SSHCERT_ED25519_SIG_LEN, 0),
        SSHCERT_ERR_KEY_TYPE);
    expect_sign_reply(sign_reply_custom("ssh-ed25519x", SSHCERT_ED25519_SIG_LEN, 0),
        SSHCERT_ERR_KEY_TYPE);
    expect_sign_reply(sign_reply_custom("ssh-ed25519", SSHCERT_ED25519_SIG_LEN - 1, 0),
        SSHCERT_ERR_INVALID_FORMAT);
    expect_sign_reply(sign_reply_custom("ssh-ed25519", SSHCERT_ED25519_SIG_LEN + 1, 0),
        SSHCERT_ERR_INVALID_FORMAT);
}

static void
test_sign_reply_status_types(void **state)
{
    static const uint8_t failure[] = {5}, success[] = {6}, ids[] = {12, 0, 0, 0, 0};
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    struct sshcert_buf *big = identities_sized(SSHCERT_AGENT_MAX_MSG + 1);

    (void)state;
    assert_int_equal(sshcert_agent_parse_sign_reply(failure, sizeof(failure), sig),
        SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_parse_sign_reply(success, sizeof(success), sig),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_agent_parse_sign_reply(ids, sizeof(ids), sig),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_agent_parse_sign_reply(sshcert_buf_ptr(big), sshcert_buf_len(big),
                         sig),
        SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_agent_parse_sign_reply(failure, sizeof(failure), NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_buf_free(big);
}

/* ---- parse_status ---- */

static void
test_status(void **state)
{
    static const uint8_t success[] = {6}, failure[] = {5}, legacy[] = {30}, ids[] = {12},
                         success_extra[] = {6, 0};

    (void)state;
    assert_int_equal(sshcert_agent_parse_status(success, sizeof(success)), 0);
    assert_int_equal(sshcert_agent_parse_status(failure, sizeof(failure)), SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_parse_status(legacy, sizeof(legacy)), SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_parse_status(ids, sizeof(ids)), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_agent_parse_status(success, 0), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(sshcert_agent_parse_status(success_extra, sizeof(success_extra)),
        SSHCERT_ERR_TRAILING_DATA);
    assert_int_equal(sshcert_agent_parse_status(NULL, 1), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_parse_status(success, SSHCERT_AGENT_MAX_MSG + 1),
        SSHCERT_ERR_TOO_LARGE);
}

/* ---- a fake agent on the other end of a socketpair ---- */

struct peer {
    int fd;
    pthread_t thread, main;
    int read_request;    /* read one framed request first */
    const uint8_t *reply; /* raw bytes sent afterwards, length prefix included */
    size_t reply_len;
    size_t chunk;        /* bytes per send, with a pause between (0: all at once) */
    int signal_main;     /* interrupt the main thread with SIGUSR1 before replying */
    int hang_up;         /* close right after replying (else wait for the client to close) */
    uint8_t *req;        /* the captured request body */
    size_t req_len;
    int req_bad;         /* the request's framing was wrong */
};

static volatile sig_atomic_t signals_seen;

static void
on_sigusr1(int sig)
{
    (void)sig;
    signals_seen++;
}

static void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int
peer_read(int fd, uint8_t *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        if ((n = recv(fd, p, len, 0)) > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

static void
peer_read_request(struct peer *p)
{
    uint8_t hdr[4];
    uint32_t len;

    if (peer_read(p->fd, hdr, 4) != 0) {
        p->req_bad = 1;
        return;
    }
    len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > SSHCERT_AGENT_MAX_MSG || (p->req = malloc(len)) == NULL ||
        peer_read(p->fd, p->req, len) != 0) {
        p->req_bad = 1;
        return;
    }
    p->req_len = len;
}

static void *
peer_main(void *arg)
{
    struct peer *p = arg;
    size_t off = 0, n;
    uint8_t drain[256];

    if (p->read_request)
        peer_read_request(p);
    if (p->signal_main) {
        pause_ms(50);
        pthread_kill(p->main, SIGUSR1);
        pause_ms(50);
    }
    while (off < p->reply_len) {
        n = p->chunk == 0 || p->reply_len - off < p->chunk ? p->reply_len - off : p->chunk;
        if (send(p->fd, p->reply + off, n, MSG_NOSIGNAL) != (ssize_t)n)
            break;
        off += n;
        if (p->chunk != 0)
            pause_ms(1);
    }
    if (p->hang_up) {
        close(p->fd);
        p->fd = -1;
        return NULL;
    }
    while (recv(p->fd, drain, sizeof(drain), 0) > 0)
        ;
    return NULL;
}

static struct sshcert_agent *
peer_start(struct peer *p)
{
    struct sshcert_agent *a = NULL;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(sshcert_agent_from_fd(sv[0], &a), 0);
    p->fd = sv[1];
    p->main = pthread_self();
    assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
    return a;
}

/* Closes the client, waits for the peer and, when want is given, checks the request it got. */
static void
peer_finish(struct peer *p, struct sshcert_agent *a, const struct sshcert_buf *want)
{
    sshcert_agent_close(a);
    assert_int_equal(pthread_join(p->thread, NULL), 0);
    if (p->fd >= 0)
        close(p->fd);
    if (want != NULL) {
        assert_false(p->req_bad);
        assert_int_equal(p->req_len, sshcert_buf_len(want));
        assert_memory_equal(p->req, sshcert_buf_ptr(want), p->req_len);
    }
    free(p->req);
    p->req = NULL;
}

/* Frames a message the way the agent sends it. */
static struct sshcert_buf *
framed(const struct sshcert_buf *m)
{
    struct sshcert_buf *f = sshcert_buf_new(0);

    assert_non_null(f);
    assert_int_equal(sshcert_buf_put_stringb(f, m), 0);
    return f;
}

static void
test_sock_list_short_reads(void **state)
{
    static const uint8_t want_req[] = {11};
    struct sshcert_buf *m = identities_reply(), *f = framed(m), *w;
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1, .chunk = 1};

    (void)state;
    w = sshcert_buf_from(want_req, sizeof(want_req));
    p.reply = sshcert_buf_ptr(f);
    p.reply_len = sshcert_buf_len(f);
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_list(a, &ids), 0);
    peer_finish(&p, a, w);
    assert_non_null(ids);
    assert_int_equal(ids->count, 2);
    assert_string_equal(ids->ids[0].comment, "first comment");
    sshcert_agent_identities_free(ids);
    sshcert_buf_free(w);
    sshcert_buf_free(m);
    sshcert_buf_free(f);
}

static void
test_sock_reply_max_size(void **state)
{
    struct sshcert_buf *m = identities_sized(SSHCERT_AGENT_MAX_MSG), *f = framed(m);
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1};

    (void)state;
    p.reply = sshcert_buf_ptr(f);
    p.reply_len = sshcert_buf_len(f);
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_list(a, &ids), 0);
    peer_finish(&p, a, NULL);
    assert_int_equal(ids->count, 1);
    assert_int_equal(ids->ids[0].blob_len, SSHCERT_AGENT_MAX_MSG - 13);
    sshcert_agent_identities_free(ids);
    sshcert_buf_free(m);
    sshcert_buf_free(f);
}

static void
test_sock_reply_oversize_prefix(void **state)
{
    /* Only the prefix is sent and the peer stays open: reading the body would time out, so a
     * prompt TOO_LARGE shows the prefix was refused before the body was read. */
    static const uint8_t over[] = {0x00, 0x04, 0x00, 0x01}; /* 256 KiB + 1 */
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1, .reply = over, .reply_len = sizeof(over)};
    int64_t t0;

    (void)state;
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_set_timeout_ms(a, 5000), 0);
    t0 = sshcert_mono_ms();
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_TOO_LARGE);
    assert_true(sshcert_mono_ms() - t0 < 2000);
    assert_null(ids);
    /* The stream is out of step: the connection is gone. */
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_AGENT_UNAVAILABLE);
    peer_finish(&p, a, NULL);
}

static void
test_sock_no_reply_timeout(void **state)
{
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1};
    int64_t t0, took;
    int r;

    (void)state;
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_set_timeout_ms(a, 200), 0);
    t0 = sshcert_mono_ms();
    errno = 0;
    r = sshcert_agent_list(a, &ids);
    assert_int_equal(errno, ETIMEDOUT);
    took = sshcert_mono_ms() - t0;
    assert_int_equal(r, SSHCERT_ERR_SYSTEM);
    assert_true(took >= 190 && took < 3000);
    assert_null(ids);
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_AGENT_UNAVAILABLE);
    peer_finish(&p, a, NULL);
}

static void
test_sock_partial_prefix_timeout(void **state)
{
    static const uint8_t half[] = {0, 0};
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1, .reply = half, .reply_len = sizeof(half)};
    int r;

    (void)state;
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_set_timeout_ms(a, 200), 0);
    errno = 0;
    r = sshcert_agent_sign(a, (const uint8_t *)"k", 1, (const uint8_t *)"d", 1, sig);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(r, SSHCERT_ERR_SYSTEM);
    peer_finish(&p, a, NULL);
}

static void
test_sock_hang_up(void **state)
{
    static const uint8_t partial[] = {0, 0, 0, 10, 12, 0, 0};
    static const uint8_t empty[] = {0, 0, 0, 0};
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct peer p1 = {.read_request = 1, .hang_up = 1};
    struct peer p2 = {.read_request = 1, .hang_up = 1, .reply = partial,
        .reply_len = sizeof(partial)};
    struct peer p3 = {.read_request = 1, .hang_up = 1, .reply = empty, .reply_len = sizeof(empty)};

    (void)state;
    /* No reply at all, then a body cut short, then a zero-length message. */
    a = peer_start(&p1);
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_TRUNCATED);
    peer_finish(&p1, a, NULL);
    a = peer_start(&p2);
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_TRUNCATED);
    peer_finish(&p2, a, NULL);
    a = peer_start(&p3);
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_TRUNCATED);
    peer_finish(&p3, a, NULL);
    assert_null(ids);
}

static void
test_sock_closed_before_request(void **state)
{
    /* A dead agent gives EPIPE, not a SIGPIPE that would kill the caller. */
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a = NULL;
    int sv[2], r;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(sshcert_agent_from_fd(sv[0], &a), 0);
    close(sv[1]);
    errno = 0;
    r = sshcert_agent_list(a, &ids);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(r, SSHCERT_ERR_SYSTEM);
    sshcert_agent_close(a);
}

static void
test_sock_eintr(void **state)
{
    struct sshcert_buf *m = identities_reply(), *f = framed(m);
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct sigaction sa, old;
    struct peer p = {.read_request = 1, .signal_main = 1};

    (void)state;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigusr1;
    sa.sa_flags = 0; /* no SA_RESTART: poll and recv see EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    signals_seen = 0;
    p.reply = sshcert_buf_ptr(f);
    p.reply_len = sshcert_buf_len(f);
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_list(a, &ids), 0);
    peer_finish(&p, a, NULL);
    assert_int_equal(signals_seen, 1);
    assert_int_equal(ids->count, 2);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    sshcert_agent_identities_free(ids);
    sshcert_buf_free(m);
    sshcert_buf_free(f);
}

static void
test_sock_failure_reply(void **state)
{
    static const uint8_t failure[] = {0, 0, 0, 1, 5};
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1, .reply = failure, .reply_len = sizeof(failure)};

    (void)state;
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_list(a, &ids), SSHCERT_ERR_AGENT);
    assert_null(ids);
    peer_finish(&p, a, NULL);
}

/* ---- add, sign, remove: the exact request bytes ---- */

struct keys {
    struct sshcert_privkey *user, *other, *ca;
    struct sshcert_cert *cert;
};

static void
keys_make(struct keys *k)
{
    struct sshcert_pubkey up, cap;

    assert_int_equal(sshcert_privkey_generate(&k->user), 0);
    assert_int_equal(sshcert_privkey_generate(&k->other), 0);
    assert_int_equal(sshcert_privkey_generate(&k->ca), 0);
    sshcert_privkey_public(k->user, &up);
    sshcert_privkey_public(k->ca, &cap);
    assert_int_equal(sshcert_cert_new(&k->cert), 0);
    assert_int_equal(sshcert_cert_set_key(k->cert, &up), 0);
    assert_int_equal(sshcert_cert_set_serial(k->cert, 7), 0);
    assert_int_equal(sshcert_cert_add_principal(k->cert, "alice"), 0);
    assert_int_equal(sshcert_cert_set_validity(k->cert, 1, 4000000000u), 0);
    assert_int_equal(sshcert_cert_sign(k->cert, &cap, sshcert_cert_signer_privkey, k->ca), 0);
}

static void
keys_free(struct keys *k)
{
    sshcert_cert_free(k->cert);
    sshcert_privkey_free(k->user);
    sshcert_privkey_free(k->other);
    sshcert_privkey_free(k->ca);
}

static struct sshcert_buf *
expected_add(const struct keys *k, const char *comment, uint32_t lifetime)
{
    struct sshcert_buf *b = msg_new(lifetime > 0 ? 25 : 17);
    struct sshcert_pubkey up;
    const uint8_t *blob;
    size_t blen;

    sshcert_privkey_public(k->user, &up);
    assert_int_equal(sshcert_cert_blob(k->cert, &blob, &blen), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, SSHCERT_CERT_TYPE_ED25519), 0);
    assert_int_equal(sshcert_buf_put_string(b, blob, blen), 0);
    assert_int_equal(sshcert_buf_put_string(b, up.pk, sizeof(up.pk)), 0);
    assert_int_equal(sshcert_buf_put_string(b, sshcert_privkey_secret(k->user), 64), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, comment), 0);
    if (lifetime > 0) {
        assert_int_equal(sshcert_buf_put_u8(b, 1), 0);
        assert_int_equal(sshcert_buf_put_u32(b, lifetime), 0);
    }
    return b;
}

static void
run_add(const struct keys *k, const char *comment, uint32_t lifetime, const uint8_t *reply,
    size_t reply_len, int want)
{
    struct sshcert_buf *exp = expected_add(k, comment, lifetime);
    struct sshcert_agent *a;
    struct peer p = {.read_request = 1, .reply = reply, .reply_len = reply_len};

    a = peer_start(&p);
    assert_int_equal(sshcert_agent_add_cert(a, k->user, k->cert, comment, lifetime), want);
    peer_finish(&p, a, exp);
    sshcert_buf_free(exp);
}

static void
test_sock_add_cert(void **state)
{
    static const uint8_t success[] = {0, 0, 0, 1, 6}, failure[] = {0, 0, 0, 1, 5};
    struct keys k = {0};

    (void)state;
    keys_make(&k);
    run_add(&k, "alice@laptop", 3600, success, sizeof(success), 0);
    run_add(&k, "no limit", 0, success, sizeof(success), 0);
    run_add(&k, "", 1, failure, sizeof(failure), SSHCERT_ERR_AGENT);
    keys_free(&k);
}

static void
test_add_cert_key_mismatch(void **state)
{
    struct keys k = {0};
    struct sshcert_agent *a = NULL;
    uint8_t byte;
    int sv[2];

    (void)state;
    keys_make(&k);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(sshcert_agent_from_fd(sv[0], &a), 0);
    assert_int_equal(sshcert_agent_add_cert(a, k.other, k.cert, "x", 60),
        SSHCERT_ERR_KEY_MISMATCH);
    /* Nothing crossed the socket: the other key's secret never left the process. */
    assert_int_equal(recv(sv[1], &byte, 1, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    assert_int_equal(sshcert_agent_add_cert(a, k.user, NULL, "x", 60),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_add_cert(NULL, k.user, k.cert, "x", 60),
        SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_agent_close(a);
    close(sv[1]);
    keys_free(&k);
}

static struct sshcert_buf *
expected_sign(const uint8_t *blob, size_t blen, const uint8_t *data, size_t dlen)
{
    struct sshcert_buf *b = msg_new(13);

    assert_int_equal(sshcert_buf_put_string(b, blob, blen), 0);
    assert_int_equal(sshcert_buf_put_string(b, data, dlen), 0);
    assert_int_equal(sshcert_buf_put_u32(b, 0), 0);
    return b;
}

static void
test_sock_sign(void **state)
{
    static const uint8_t blob[] = "the key blob", data[] = "challenge";
    static const uint8_t failure[] = {0, 0, 0, 1, 5}, wrong[] = {0, 0, 0, 5, 12, 0, 0, 0, 0};
    struct sshcert_buf *m = sign_reply(), *f = framed(m);
    struct sshcert_buf *exp = expected_sign(blob, sizeof(blob), data, sizeof(data));
    uint8_t sig[SSHCERT_ED25519_SIG_LEN], want[SSHCERT_ED25519_SIG_LEN];
    struct sshcert_agent *a;
    struct peer p1 = {.read_request = 1}, p2 = {.read_request = 1, .reply = failure,
        .reply_len = sizeof(failure)}, p3 = {.read_request = 1, .reply = wrong,
        .reply_len = sizeof(wrong)};

    (void)state;
    fill_sig(want);
    p1.reply = sshcert_buf_ptr(f);
    p1.reply_len = sshcert_buf_len(f);
    a = peer_start(&p1);
    assert_int_equal(sshcert_agent_sign(a, blob, sizeof(blob), data, sizeof(data), sig), 0);
    peer_finish(&p1, a, exp);
    assert_memory_equal(sig, want, sizeof(sig));

    a = peer_start(&p2);
    assert_int_equal(sshcert_agent_sign(a, blob, sizeof(blob), data, sizeof(data), sig),
        SSHCERT_ERR_AGENT);
    peer_finish(&p2, a, NULL);
    assert_sig_zero(sig);

    a = peer_start(&p3);
    assert_int_equal(sshcert_agent_sign(a, blob, sizeof(blob), data, sizeof(data), sig),
        SSHCERT_ERR_INVALID_FORMAT);
    peer_finish(&p3, a, NULL);
    sshcert_buf_free(m);
    sshcert_buf_free(f);
    sshcert_buf_free(exp);
}

static void
test_sock_sign_request_cap(void **state)
{
    /* type + string blob + string data + flags: data sized so the body is exactly the cap. */
    static const uint8_t blob[] = {'k'};
    const size_t fixed = 1 + 4 + sizeof(blob) + 4 + 4;
    struct sshcert_buf *m = sign_reply(), *f = framed(m);
    uint8_t *data, sig[SSHCERT_ED25519_SIG_LEN], byte;
    struct sshcert_agent *a = NULL;
    struct peer p = {.read_request = 1};
    int sv[2];

    (void)state;
    data = calloc(1, SSHCERT_AGENT_MAX_MSG);
    assert_non_null(data);
    p.reply = sshcert_buf_ptr(f);
    p.reply_len = sshcert_buf_len(f);
    a = peer_start(&p);
    assert_int_equal(sshcert_agent_sign(a, blob, sizeof(blob), data,
                         SSHCERT_AGENT_MAX_MSG - fixed, sig),
        0);
    peer_finish(&p, a, NULL);
    assert_int_equal(p.req_len, SSHCERT_AGENT_MAX_MSG);

    /* One byte over: refused before anything is written. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(sshcert_agent_from_fd(sv[0], &a), 0);
    assert_int_equal(sshcert_agent_sign(a, blob, sizeof(blob), data,
                         SSHCERT_AGENT_MAX_MSG - fixed + 1, sig),
        SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(recv(sv[1], &byte, 1, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    sshcert_agent_close(a);
    close(sv[1]);
    free(data);
    sshcert_buf_free(m);
    sshcert_buf_free(f);
}

static void
test_sock_remove(void **state)
{
    static const uint8_t blob[] = "blob", success[] = {0, 0, 0, 1, 6},
                         failure[] = {0, 0, 0, 1, 5};
    struct sshcert_buf *exp = msg_new(18);
    struct sshcert_agent *a;
    struct peer p1 = {.read_request = 1, .reply = success, .reply_len = sizeof(success)};
    struct peer p2 = {.read_request = 1, .reply = failure, .reply_len = sizeof(failure)};

    (void)state;
    assert_int_equal(sshcert_buf_put_string(exp, blob, sizeof(blob)), 0);
    a = peer_start(&p1);
    assert_int_equal(sshcert_agent_remove(a, blob, sizeof(blob)), 0);
    peer_finish(&p1, a, exp);
    a = peer_start(&p2);
    assert_int_equal(sshcert_agent_remove(a, blob, sizeof(blob)), SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_agent_remove(a, NULL, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    peer_finish(&p2, a, NULL);
    sshcert_buf_free(exp);
}

/* ---- connect ---- */

static char tmpdir[256];

static void
make_tmpdir(void)
{
    const char *base = getenv("SSHCERT_TEST_TMP");

    if (base == NULL || *base == '\0')
        base = "/tmp";
    (void)mkdir(base, 0700);
    snprintf(tmpdir, sizeof(tmpdir), "%s/agent.XXXXXX", base);
    assert_non_null(mkdtemp(tmpdir));
}

static void
test_connect_unavailable(void **state)
{
    struct sshcert_agent *a = NULL;
    char path[512], longp[200];
    struct sockaddr_un sa;
    int fd;

    (void)state;
    assert_int_equal(unsetenv("SSH_AUTH_SOCK"), 0);
    assert_int_equal(sshcert_agent_connect(NULL, &a), SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(setenv("SSH_AUTH_SOCK", "", 1), 0);
    assert_int_equal(sshcert_agent_connect(NULL, &a), SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(sshcert_agent_connect("", &a), SSHCERT_ERR_AGENT_UNAVAILABLE);
    /* sun_path holds 107 characters and the NUL: 108 is one too many. */
    memset(longp, 'x', sizeof(longp));
    longp[0] = '/';
    longp[sizeof(sa.sun_path)] = '\0';
    assert_int_equal(sshcert_agent_connect(longp, &a), SSHCERT_ERR_AGENT_UNAVAILABLE);
    snprintf(path, sizeof(path), "%s/missing.sock", tmpdir);
    assert_int_equal(setenv("SSH_AUTH_SOCK", path, 1), 0);
    assert_int_equal(sshcert_agent_connect(NULL, &a), SSHCERT_ERR_AGENT_UNAVAILABLE);
    /* A socket file nobody listens on: ECONNREFUSED. */
    snprintf(path, sizeof(path), "%s/dead.sock", tmpdir);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    assert_int_equal(sshcert_agent_connect(path, &a), SSHCERT_ERR_AGENT_UNAVAILABLE);
    unlink(path);
    assert_null(a);
    assert_int_equal(sshcert_agent_connect(path, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_from_fd(-1, &a), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(a);
    unsetenv("SSH_AUTH_SOCK");
}

/* A listening Unix socket at path. */
static int
listen_unix(const char *path)
{
    struct sockaddr_un sa;
    int lfd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_true((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
    assert_int_equal(bind(lfd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 2), 0);
    return lfd;
}

/* The socket half that pam_sshcert uses to check the peer before it trusts it. */
static void
test_connect_socket(void **state)
{
    struct timeval tv;
    socklen_t tl = sizeof(tv);
    char path[512];
    int lfd, fd = 7;

    (void)state;
    snprintf(path, sizeof(path), "%s/sock.sock", tmpdir);
    assert_int_equal(sshcert_agent_connect_socket(path, &fd), SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fd, -1);
    assert_int_equal(sshcert_agent_connect_socket(path, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    lfd = listen_unix(path);
    /* No $SSH_AUTH_SOCK lookup: a NULL path is no agent, even with a live one in the variable
     * (pam must never fall back to the environment it runs in). */
    assert_int_equal(setenv("SSH_AUTH_SOCK", path, 1), 0);
    fd = 7;
    assert_int_equal(sshcert_agent_connect_socket(NULL, &fd), SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(fd, -1);
    unsetenv("SSH_AUTH_SOCK");
    assert_int_equal(sshcert_agent_connect_socket(path, &fd), 0);
    assert_true(fd >= 0);
    assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl), 0);
    assert_int_equal(tv.tv_sec, SSHCERT_AGENT_TIMEOUT_S);
    close(fd);
    close(lfd);
    unlink(path);
}

static void
test_connect_listening(void **state)
{
    struct sshcert_buf *m = identities_reply(), *f = framed(m);
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_agent *a = NULL;
    struct peer p = {.read_request = 1};
    char path[512];
    int lfd, probe;

    (void)state;
    snprintf(path, sizeof(path), "%s/live.sock", tmpdir);
    lfd = listen_unix(path);
    /* The lowest free descriptor is the one connect will get. */
    assert_true((probe = dup(0)) >= 0);
    close(probe);
    assert_int_equal(setenv("SSH_AUTH_SOCK", path, 1), 0);
    assert_int_equal(sshcert_agent_connect(NULL, &a), 0);
    assert_true((fcntl(probe, F_GETFD) & FD_CLOEXEC) != 0);
    p.fd = accept(lfd, NULL, NULL);
    assert_true(p.fd >= 0);
    p.main = pthread_self();
    p.reply = sshcert_buf_ptr(f);
    p.reply_len = sshcert_buf_len(f);
    assert_int_equal(pthread_create(&p.thread, NULL, peer_main, &p), 0);
    assert_int_equal(sshcert_agent_list(a, &ids), 0);
    peer_finish(&p, a, NULL);
    assert_int_equal(ids->count, 2);
    sshcert_agent_identities_free(ids);
    close(lfd);
    unlink(path);
    unsetenv("SSH_AUTH_SOCK");
    sshcert_buf_free(m);
    sshcert_buf_free(f);
}

static void
test_invalid_arguments(void **state)
{
    struct sshcert_agent_identities *ids = NULL;
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];

    (void)state;
    assert_int_equal(sshcert_agent_list(NULL, &ids), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_sign(NULL, (const uint8_t *)"k", 1, NULL, 0, sig),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_remove(NULL, (const uint8_t *)"k", 1),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_agent_set_timeout_ms(NULL, 10), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_agent_close(NULL);
    sshcert_agent_identities_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identities_valid),
        cmocka_unit_test(test_identities_empty),
        cmocka_unit_test(test_identities_truncated_every_length),
        cmocka_unit_test(test_identities_trailing),
        cmocka_unit_test(test_identities_count_cap),
        cmocka_unit_test(test_identities_count_beyond_data),
        cmocka_unit_test(test_identities_size_cap),
        cmocka_unit_test(test_identities_comment_nul),
        cmocka_unit_test(test_identities_comment_cap),
        cmocka_unit_test(test_identities_wrong_type),
        cmocka_unit_test(test_sign_reply_valid),
        cmocka_unit_test(test_sign_reply_truncated_every_length),
        cmocka_unit_test(test_sign_reply_trailing),
        cmocka_unit_test(test_sign_reply_wrong_sig),
        cmocka_unit_test(test_sign_reply_status_types),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_sock_list_short_reads),
        cmocka_unit_test(test_sock_reply_max_size),
        cmocka_unit_test(test_sock_reply_oversize_prefix),
        cmocka_unit_test(test_sock_no_reply_timeout),
        cmocka_unit_test(test_sock_partial_prefix_timeout),
        cmocka_unit_test(test_sock_hang_up),
        cmocka_unit_test(test_sock_closed_before_request),
        cmocka_unit_test(test_sock_eintr),
        cmocka_unit_test(test_sock_failure_reply),
        cmocka_unit_test(test_sock_add_cert),
        cmocka_unit_test(test_add_cert_key_mismatch),
        cmocka_unit_test(test_sock_sign),
        cmocka_unit_test(test_sock_sign_request_cap),
        cmocka_unit_test(test_sock_remove),
        cmocka_unit_test(test_connect_unavailable),
        cmocka_unit_test(test_connect_socket),
        cmocka_unit_test(test_connect_listening),
        cmocka_unit_test(test_invalid_arguments),
    };
    int r;

    if (sshcert_secmem_init() != 0)
        return 1;
    make_tmpdir();
    r = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return r;
}
