/*
 * ssh-agent client over a Unix socket (RFC 9987): list identities, add an ed25519 key with its
 * certificate and a lifetime, sign, remove. Every reply is parsed through the bounded buffer.
 */
#ifndef SSHCERT_AGENT_H
#define SSHCERT_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "key.h"

struct sshcert_agent;
struct sshcert_buf;
struct sshcert_cert;
struct sshcert_privkey;

/* Largest request sent or reply accepted, as OpenSSH (256 KiB). */
#define SSHCERT_AGENT_MAX_MSG (256u * 1024u)
/* Most identities accepted in one IDENTITIES_ANSWER. */
#define SSHCERT_AGENT_MAX_IDENTITIES 2048u
/* Seconds to wait for the agent to answer. */
#define SSHCERT_AGENT_TIMEOUT_S 10

struct sshcert_agent_identity {
    uint8_t *blob; /* key or certificate blob, malloc'd */
    size_t blob_len;
    char *comment; /* malloc'd */
};

struct sshcert_agent_identities {
    struct sshcert_agent_identity *ids;
    size_t count;
};

/*
 * Every request/reply exchange below is bounded by SSHCERT_AGENT_TIMEOUT_S in total. Transport
 * failures: SSHCERT_ERR_SYSTEM (errno kept; ETIMEDOUT when the agent does not answer in time),
 * SSHCERT_ERR_TRUNCATED when the agent closes mid-reply, SSHCERT_ERR_TOO_LARGE for a request or
 * reply over SSHCERT_AGENT_MAX_MSG (a reply's length prefix is checked before its body is
 * read). After a transport failure the stream is out of step: the connection is closed and
 * later calls on it return SSHCERT_ERR_AGENT_UNAVAILABLE.
 */

/* Connects to the agent socket at path (NULL: $SSH_AUTH_SOCK) and checks that the agent is the
 * caller's own (sshcert_agent_check_owner with geteuid()): what goes into an agent (a private
 * key, sshcert login's) must not go to an agent another user set up at that path.
 * SSHCERT_ERR_AGENT_UNAVAILABLE when unset, empty, not absolute, too long for a socket address,
 * missing or refusing; SSHCERT_ERR_PERMISSIONS when the socket file or the process listening on
 * it belongs to another user; SSHCERT_ERR_SYSTEM (errno kept) for other failures. */
int sshcert_agent_connect(const char *path, struct sshcert_agent **out);

/* Which check of sshcert_agent_check_owner refused, or could not be made. */
enum sshcert_agent_owner_check {
    SSHCERT_AGENT_CHECK_FILE = 1, /* the socket file at path: a socket owned by uid */
    SSHCERT_AGENT_CHECK_PROCESS   /* the process listening on it (SO_PEERCRED) runs as uid */
};
/* Whether the agent connected on fd through path is uid's own: the socket file must be a socket
 * owned by uid, and the process that listens on it must run as uid (a file owner can be faked
 * by a rename race; the peer's credentials cannot). An agent run by root is refused too,
 * unless uid is 0. 0; SSHCERT_ERR_PERMISSIONS with *check saying which failed and *found the
 * uid found there; SSHCERT_ERR_SYSTEM (errno kept) with *check saying which could not be read;
 * SSHCERT_ERR_INVALID_ARGUMENT (path NULL). check and found may be NULL. */
int sshcert_agent_check_owner(int fd, const char *path, uid_t uid,
    enum sshcert_agent_owner_check *check, unsigned long *found);
/* Longest agent socket path, its NUL included (struct sockaddr_un's sun_path on Linux). */
#define SSHCERT_AGENT_PATH_MAX 108u
/* 1 when path can name an agent socket: absolute (a relative one would be resolved against
 * whatever folder the caller is in) and shorter than SSHCERT_AGENT_PATH_MAX; else 0. */
int sshcert_agent_path_ok(const char *path);
/* The socket half of sshcert_agent_connect, for a caller that checks the peer before it trusts
 * it (sshcert_agent_check_owner): connects a stream socket to path (not NULL; no
 * $SSH_AUTH_SOCK lookup; sshcert_agent_path_ok, else SSHCERT_ERR_AGENT_UNAVAILABLE) and sets
 * *fd (close-on-exec, connect bounded by SSHCERT_AGENT_TIMEOUT_S). Same codes as
 * sshcert_agent_connect, errno kept; *fd is -1 unless this succeeds. */
int sshcert_agent_connect_socket(const char *path, int *fd);
/* Uses an already connected stream socket (takes ownership of fd, which is closed even when
 * this fails). */
int sshcert_agent_from_fd(int fd, struct sshcert_agent **out);
void sshcert_agent_close(struct sshcert_agent *a);

/* Lists identities. Free with sshcert_agent_identities_free. */
int sshcert_agent_list(struct sshcert_agent *a, struct sshcert_agent_identities **out);
void sshcert_agent_identities_free(struct sshcert_agent_identities *ids);
/* Adds key with its certificate (whose key must be key's public half). lifetime_s > 0 adds a
 * LIFETIME constraint; 0 means no constraint. SSHCERT_ERR_AGENT when the agent refuses. */
int sshcert_agent_add_cert(struct sshcert_agent *a, const struct sshcert_privkey *key,
    const struct sshcert_cert *cert, const char *comment, uint32_t lifetime_s);
/* Asks the identity whose blob is key_blob to sign data; checks the reply is an ssh-ed25519
 * signature and returns its raw 64 bytes. Does not verify it (the caller knows the key). */
int sshcert_agent_sign(struct sshcert_agent *a, const uint8_t *key_blob, size_t key_blob_len,
    const uint8_t *data, size_t data_len, uint8_t sig[SSHCERT_ED25519_SIG_LEN]);
/* Removes the identity with this blob. SSHCERT_ERR_AGENT when the agent does not hold it. */
int sshcert_agent_remove(struct sshcert_agent *a, const uint8_t *key_blob, size_t key_blob_len);

/* Reply parsers, exposed for fuzzing and tests: `msg` is one reply without its length prefix
 * (type byte first). */
int sshcert_agent_parse_identities(const uint8_t *msg, size_t len,
    struct sshcert_agent_identities **out);
int sshcert_agent_parse_sign_reply(const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN]);
/* All three: SSHCERT_ERR_AGENT for a FAILURE reply (5, or its legacy alias 30),
 * SSHCERT_ERR_INVALID_FORMAT for any other unexpected type, SSHCERT_ERR_TRUNCATED when the
 * bytes end early (including an empty msg), SSHCERT_ERR_TRAILING_DATA for bytes after the
 * structure, SSHCERT_ERR_TOO_LARGE when len > SSHCERT_AGENT_MAX_MSG. parse_identities also
 * gives SSHCERT_ERR_TOO_LARGE past SSHCERT_AGENT_MAX_IDENTITIES or for a comment longer than
 * SSHCERT_BUF_MAX_CSTRING, and SSHCERT_ERR_INVALID_FORMAT for a comment holding NUL; parse_sign_reply SSHCERT_ERR_KEY_TYPE when the signature is not
 * "ssh-ed25519" and SSHCERT_ERR_INVALID_FORMAT when it is not 64 bytes. sig is zeroed unless
 * the call succeeds. */
/* 0 for SUCCESS, SSHCERT_ERR_AGENT for FAILURE, SSHCERT_ERR_INVALID_FORMAT otherwise. */
int sshcert_agent_parse_status(const uint8_t *msg, size_t len);

#ifdef SSHCERT_AGENT_TESTING
/* Tests only: replaces the per-exchange timeout of a (milliseconds, > 0). */
int sshcert_agent_set_timeout_ms(struct sshcert_agent *a, int ms);
#endif

#endif
