#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Declares the test hook so its definition below has a prototype. */
#define SSHCERT_AGENT_TESTING
#include "agent.h"
#include "buf.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "key.h"

/* Message numbers (RFC 9987). */
#define MSG_FAILURE 5
#define MSG_SUCCESS 6
#define MSG_REQUEST_IDENTITIES 11
#define MSG_IDENTITIES_ANSWER 12
#define MSG_SIGN_REQUEST 13
#define MSG_SIGN_RESPONSE 14
#define MSG_ADD_IDENTITY 17
#define MSG_REMOVE_IDENTITY 18
#define MSG_ADD_ID_CONSTRAINED 25
#define MSG_FAILURE_LEGACY 30 /* SSH2_AGENT_FAILURE; OpenSSH clients treat it as FAILURE */
#define CONSTRAIN_LIFETIME 1
/* The smallest identity on the wire is two empty strings. */
#define MIN_IDENTITY_LEN 8u

struct sshcert_agent {
    int fd; /* -1 once a transport failure left the stream out of step */
    int timeout_ms;
};

/* ---- transport ---- */

/* Waits for fd to become ready, restarting after signals, until the deadline. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p;
    int64_t left;
    int n;

    for (;;) {
        if ((left = deadline - sshcert_mono_ms()) <= 0) {
            errno = ETIMEDOUT;
            return SSHCERT_ERR_SYSTEM;
        }
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        /* Readiness includes hang-up and error: the next send/recv reports which. */
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return SSHCERT_ERR_SYSTEM;
    }
}

/*
 * Non-blocking send and recv with poll in between, rather than blocking calls: an agent that
 * stops reading or writing must not hold us past the deadline. MSG_NOSIGNAL turns a closed
 * agent into EPIPE instead of killing the process.
 */
static int
write_all(int fd, const uint8_t *p, size_t len, int64_t deadline)
{
    ssize_t n;
    int r;

    while (len > 0) {
        if ((n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)) > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if ((r = wait_fd(fd, POLLOUT, deadline)) != 0)
                return r;
        } else {
            return SSHCERT_ERR_SYSTEM;
        }
    }
    return 0;
}

static int
read_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
    ssize_t n;
    int r;

    while (len > 0) {
        if ((n = recv(fd, p, len, MSG_DONTWAIT)) > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n == 0) {
            return SSHCERT_ERR_TRUNCATED; /* the agent hung up mid-message */
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if ((r = wait_fd(fd, POLLIN, deadline)) != 0)
                return r;
        } else {
            return SSHCERT_ERR_SYSTEM;
        }
    }
    return 0;
}

static void
drop_connection(struct sshcert_agent *a)
{
    int saved = errno;

    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    errno = saved;
}

/*
 * Sends req (type byte and payload) with its length prefix and reads one reply into *reply.
 * The reply's length is checked against the cap before any of its body is read.
 */
static int
exchange(struct sshcert_agent *a, const struct sshcert_buf *req, struct sshcert_buf **reply)
{
    struct sshcert_buf *rep = NULL;
    uint8_t hdr[4], *body;
    size_t len = sshcert_buf_len(req);
    uint32_t rlen;
    int64_t deadline;
    int r = SSHCERT_ERR_INTERNAL;

    *reply = NULL;
    if (a->fd < 0)
        return SSHCERT_ERR_AGENT_UNAVAILABLE;
    if (len > SSHCERT_AGENT_MAX_MSG)
        return SSHCERT_ERR_TOO_LARGE;
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
    deadline = sshcert_mono_ms() + a->timeout_ms;
    if ((r = write_all(a->fd, hdr, sizeof(hdr), deadline)) != 0 ||
        (r = write_all(a->fd, sshcert_buf_ptr(req), len, deadline)) != 0 ||
        (r = read_all(a->fd, hdr, sizeof(hdr), deadline)) != 0)
        goto out;
    rlen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (rlen > SSHCERT_AGENT_MAX_MSG) {
        r = SSHCERT_ERR_TOO_LARGE;
        goto out;
    }
    if ((rep = sshcert_buf_new(SSHCERT_AGENT_MAX_MSG)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if (rlen > 0 && ((r = sshcert_buf_reserve(rep, rlen, &body)) != 0 ||
                        (r = read_all(a->fd, body, rlen, deadline)) != 0))
        goto out;
    *reply = rep;
    rep = NULL;
    r = 0;
out:
    if (r != 0)
        drop_connection(a);
    sshcert_buf_free(rep);
    return r;
}

/* ---- reply parsers ---- */

/* Opens a reply as a view and consumes its type byte, which must be `want`. */
static int
open_reply(const uint8_t *msg, size_t len, uint8_t want, struct sshcert_buf **out)
{
    struct sshcert_buf *b;
    uint8_t type;
    int r;

    *out = NULL;
    if (len > SSHCERT_AGENT_MAX_MSG)
        return SSHCERT_ERR_TOO_LARGE;
    if ((b = sshcert_buf_from(msg, len)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_get_u8(b, &type)) == 0 && type != want)
        r = type == MSG_FAILURE || type == MSG_FAILURE_LEGACY ? SSHCERT_ERR_AGENT
                                                              : SSHCERT_ERR_INVALID_FORMAT;
    if (r != 0) {
        sshcert_buf_free(b);
        return r;
    }
    *out = b;
    return 0;
}

static int
get_identity(struct sshcert_buf *b, struct sshcert_agent_identity *out)
{
    const uint8_t *blob;
    size_t blen;
    char *comment = NULL;
    uint8_t *copy;
    int r;

    if ((r = sshcert_buf_get_string_direct(b, &blob, &blen)) != 0)
        return r;
    if ((r = sshcert_buf_get_cstring(b, &comment, 0)) != 0)
        return r;
    if ((copy = malloc(blen > 0 ? blen : 1)) == NULL) {
        free(comment);
        return SSHCERT_ERR_ALLOC;
    }
    if (blen > 0)
        memcpy(copy, blob, blen);
    out->blob = copy;
    out->blob_len = blen;
    out->comment = comment;
    return 0;
}

int
sshcert_agent_parse_identities(const uint8_t *msg, size_t len,
    struct sshcert_agent_identities **out)
{
    struct sshcert_agent_identities *ids = NULL;
    struct sshcert_buf *b = NULL;
    uint32_t n, i;
    int r = SSHCERT_ERR_INTERNAL;

    if (out == NULL || (msg == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((r = open_reply(msg, len, MSG_IDENTITIES_ANSWER, &b)) != 0)
        return r;
    if ((r = sshcert_buf_get_u32(b, &n)) != 0)
        goto out;
    if (n > SSHCERT_AGENT_MAX_IDENTITIES) {
        r = SSHCERT_ERR_TOO_LARGE;
        goto out;
    }
    /* A count the remaining bytes cannot hold is caught before allocating for it. */
    if (n > sshcert_buf_len(b) / MIN_IDENTITY_LEN) {
        r = SSHCERT_ERR_TRUNCATED;
        goto out;
    }
    if ((ids = calloc(1, sizeof(*ids))) == NULL ||
        (n > 0 && (ids->ids = calloc(n, sizeof(*ids->ids))) == NULL)) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if ((r = get_identity(b, &ids->ids[i])) != 0)
            goto out;
        ids->count++;
    }
    if ((r = sshcert_buf_expect_end(b)) != 0)
        goto out;
    *out = ids;
    ids = NULL;
    r = 0;
out:
    sshcert_buf_free(b);
    sshcert_agent_identities_free(ids);
    return r;
}

void
sshcert_agent_identities_free(struct sshcert_agent_identities *ids)
{
    size_t i;

    if (ids == NULL)
        return;
    for (i = 0; i < ids->count; i++) {
        free(ids->ids[i].blob);
        free(ids->ids[i].comment);
    }
    free(ids->ids);
    free(ids);
}

int
sshcert_agent_parse_sign_reply(const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    struct sshcert_buf *b = NULL, *sb = NULL;
    uint8_t tmp[SSHCERT_ED25519_SIG_LEN];
    int r = SSHCERT_ERR_INTERNAL;

    if (sig == NULL || (msg == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(sig, 0, SSHCERT_ED25519_SIG_LEN);
    if ((r = open_reply(msg, len, MSG_SIGN_RESPONSE, &b)) != 0)
        return r;
    if ((r = sshcert_buf_get_stringb(b, &sb)) != 0 ||
        (r = sshcert_sig_from_blob(sb, tmp)) != 0 ||
        (r = sshcert_buf_expect_end(b)) != 0)
        goto out;
    memcpy(sig, tmp, sizeof(tmp));
    r = 0;
out:
    sshcert_buf_free(b);
    sshcert_buf_free(sb);
    return r;
}

int
sshcert_agent_parse_status(const uint8_t *msg, size_t len)
{
    struct sshcert_buf *b = NULL;
    int r;

    if (msg == NULL && len != 0)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = open_reply(msg, len, MSG_SUCCESS, &b)) != 0)
        return r;
    r = sshcert_buf_expect_end(b);
    sshcert_buf_free(b);
    return r;
}

/* ---- connection ---- */

int
sshcert_agent_from_fd(int fd, struct sshcert_agent **out)
{
    struct sshcert_agent *a;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || fd < 0) {
        if (fd >= 0)
            close(fd);
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    if ((a = calloc(1, sizeof(*a))) == NULL) {
        close(fd);
        return SSHCERT_ERR_ALLOC;
    }
    a->fd = fd;
    a->timeout_ms = SSHCERT_AGENT_TIMEOUT_S * 1000;
    *out = a;
    return 0;
}

_Static_assert(SSHCERT_AGENT_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
    "SSHCERT_AGENT_PATH_MAX is sun_path's size");

int
sshcert_agent_path_ok(const char *path)
{
    return path != NULL && path[0] == '/' && strlen(path) < SSHCERT_AGENT_PATH_MAX;
}

int
sshcert_agent_connect_socket(const char *path, int *fd)
{
    struct sockaddr_un sa;
    struct timeval tv;
    size_t plen;
    int s, saved, r;

    if (fd == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *fd = -1;
    if (!sshcert_agent_path_ok(path))
        return SSHCERT_ERR_AGENT_UNAVAILABLE;
    plen = strlen(path);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, plen + 1);
    if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
        return SSHCERT_ERR_SYSTEM;
    /* Linux bounds a connect that waits on a full listen backlog by the send timeout. */
    tv.tv_sec = SSHCERT_AGENT_TIMEOUT_S;
    tv.tv_usec = 0;
    (void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (connect(s, (const struct sockaddr *)&sa, sizeof(sa)) == -1) {
        if (errno == EINTR)
            continue;
        saved = errno;
        r = saved == ENOENT || saved == ENOTDIR || saved == ECONNREFUSED || saved == EAGAIN
                ? SSHCERT_ERR_AGENT_UNAVAILABLE
                : SSHCERT_ERR_SYSTEM;
        close(s);
        errno = saved;
        return r;
    }
    *fd = s;
    return 0;
}

int
sshcert_agent_check_owner(int fd, const char *path, uid_t uid,
    enum sshcert_agent_owner_check *check, unsigned long *found)
{
    struct ucred cred;
    struct stat st;
    socklen_t clen = sizeof(cred);
    enum sshcert_agent_owner_check c;
    unsigned long f;

    if (check == NULL)
        check = &c;
    if (found == NULL)
        found = &f;
    *check = SSHCERT_AGENT_CHECK_FILE;
    *found = 0;
    if (path == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (stat(path, &st) != 0)
        return SSHCERT_ERR_SYSTEM;
    *found = (unsigned long)st.st_uid;
    if (!S_ISSOCK(st.st_mode) || st.st_uid != uid)
        return SSHCERT_ERR_PERMISSIONS;
    *check = SSHCERT_AGENT_CHECK_PROCESS;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
        return SSHCERT_ERR_SYSTEM;
    if (clen != sizeof(cred)) {
        errno = EPROTO;
        return SSHCERT_ERR_SYSTEM;
    }
    *found = (unsigned long)cred.uid;
    return cred.uid == uid ? 0 : SSHCERT_ERR_PERMISSIONS;
}

int
sshcert_agent_connect(const char *path, struct sshcert_agent **out)
{
    int fd, r, saved;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (path == NULL)
        path = getenv("SSH_AUTH_SOCK");
    if ((r = sshcert_agent_connect_socket(path, &fd)) != 0)
        return r;
    if ((r = sshcert_agent_check_owner(fd, path, geteuid(), NULL, NULL)) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return r;
    }
    return sshcert_agent_from_fd(fd, out); /* owns fd, closes it on failure */
}

void
sshcert_agent_close(struct sshcert_agent *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a);
}

int
sshcert_agent_set_timeout_ms(struct sshcert_agent *a, int ms)
{
    if (a == NULL || ms <= 0)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    a->timeout_ms = ms;
    return 0;
}

/* ---- requests ---- */

/* One exchange whose reply is SUCCESS or FAILURE. */
static int
status_call(struct sshcert_agent *a, const struct sshcert_buf *req)
{
    struct sshcert_buf *rep = NULL;
    int r;

    if ((r = exchange(a, req, &rep)) != 0)
        return r;
    r = sshcert_agent_parse_status(sshcert_buf_ptr(rep), sshcert_buf_len(rep));
    sshcert_buf_free(rep);
    return r;
}

int
sshcert_agent_list(struct sshcert_agent *a, struct sshcert_agent_identities **out)
{
    struct sshcert_buf *req = NULL, *rep = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (a == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((req = sshcert_buf_new(SSHCERT_AGENT_MAX_MSG)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_u8(req, MSG_REQUEST_IDENTITIES)) != 0 ||
        (r = exchange(a, req, &rep)) != 0)
        goto out;
    r = sshcert_agent_parse_identities(sshcert_buf_ptr(rep), sshcert_buf_len(rep), out);
out:
    sshcert_buf_free(req);
    sshcert_buf_free(rep);
    return r;
}

/* The ADD body for an ed25519 key with its certificate (the historical PROTOCOL.agent form). */
static int
put_add_request(struct sshcert_buf *req, const struct sshcert_privkey *key,
    const struct sshcert_pubkey *pub, const uint8_t *blob, size_t blen, const char *comment,
    uint32_t lifetime_s)
{
    int r;

    if ((r = sshcert_buf_put_u8(req,
             lifetime_s > 0 ? MSG_ADD_ID_CONSTRAINED : MSG_ADD_IDENTITY)) != 0 ||
        (r = sshcert_buf_put_cstring(req, SSHCERT_CERT_TYPE_ED25519)) != 0 ||
        (r = sshcert_buf_put_string(req, blob, blen)) != 0 ||
        (r = sshcert_buf_put_string(req, pub->pk, sizeof(pub->pk))) != 0 ||
        (r = sshcert_buf_put_string(req, sshcert_privkey_secret(key),
             SSHCERT_ED25519_SK_LEN)) != 0 ||
        (r = sshcert_buf_put_cstring(req, comment)) != 0)
        return r;
    /* A lifetime of 0 would mean "expire now" to the agent, so 0 sends no constraint. */
    if (lifetime_s > 0 && ((r = sshcert_buf_put_u8(req, CONSTRAIN_LIFETIME)) != 0 ||
                              (r = sshcert_buf_put_u32(req, lifetime_s)) != 0))
        return r;
    return 0;
}

int
sshcert_agent_add_cert(struct sshcert_agent *a, const struct sshcert_privkey *key,
    const struct sshcert_cert *cert, const char *comment, uint32_t lifetime_s)
{
    struct sshcert_buf *req = NULL;
    struct sshcert_pubkey pub;
    const struct sshcert_pubkey *cert_key;
    const uint8_t *blob;
    size_t blen;
    int r = SSHCERT_ERR_INTERNAL;

    if (a == NULL || key == NULL || cert == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (comment == NULL)
        comment = "";
    if ((cert_key = sshcert_cert_key(cert)) == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = sshcert_cert_blob(cert, &blob, &blen)) != 0)
        return r;
    sshcert_privkey_public(key, &pub);
    /* The agent would refuse too, but only after the secret key had crossed the socket. */
    if (!sshcert_pubkey_equal(cert_key, &pub))
        return SSHCERT_ERR_KEY_MISMATCH;
    if ((req = sshcert_buf_new(SSHCERT_AGENT_MAX_MSG)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = put_add_request(req, key, &pub, blob, blen, comment, lifetime_s)) != 0)
        goto out;
    r = status_call(a, req);
out:
    sshcert_buf_free(req); /* wipes the copy of the secret key */
    return r;
}

int
sshcert_agent_sign(struct sshcert_agent *a, const uint8_t *key_blob, size_t key_blob_len,
    const uint8_t *data, size_t data_len, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    struct sshcert_buf *req = NULL, *rep = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if (sig == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(sig, 0, SSHCERT_ED25519_SIG_LEN);
    if (a == NULL || key_blob == NULL || key_blob_len == 0 || (data == NULL && data_len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((req = sshcert_buf_new(SSHCERT_AGENT_MAX_MSG)) == NULL)
        return SSHCERT_ERR_ALLOC;
    /* Flags 0: they only pick RSA hash variants. */
    if ((r = sshcert_buf_put_u8(req, MSG_SIGN_REQUEST)) != 0 ||
        (r = sshcert_buf_put_string(req, key_blob, key_blob_len)) != 0 ||
        (r = sshcert_buf_put_string(req, data, data_len)) != 0 ||
        (r = sshcert_buf_put_u32(req, 0)) != 0 ||
        (r = exchange(a, req, &rep)) != 0)
        goto out;
    r = sshcert_agent_parse_sign_reply(sshcert_buf_ptr(rep), sshcert_buf_len(rep), sig);
out:
    sshcert_buf_free(req);
    sshcert_buf_free(rep);
    return r;
}

int
sshcert_agent_remove(struct sshcert_agent *a, const uint8_t *key_blob, size_t key_blob_len)
{
    struct sshcert_buf *req = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if (a == NULL || key_blob == NULL || key_blob_len == 0)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((req = sshcert_buf_new(SSHCERT_AGENT_MAX_MSG)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_u8(req, MSG_REMOVE_IDENTITY)) != 0 ||
        (r = sshcert_buf_put_string(req, key_blob, key_blob_len)) != 0)
        goto out;
    r = status_call(a, req);
out:
    sshcert_buf_free(req);
    return r;
}
