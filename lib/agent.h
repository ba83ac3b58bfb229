/*
 * ssh-agent client over a Unix socket (RFC 9987): list identities, add an ed25519 key with its
 * certificate and a lifetime, sign, remove. Every reply is parsed through the bounded buffer.
 */
#ifndef SSHCERT_AGENT_H
#define SSHCERT_AGENT_H

#include <stddef.h>
#include <stdint.h>

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

/* Connects to the agent socket at path (NULL: $SSH_AUTH_SOCK). SSHCERT_ERR_AGENT_UNAVAILABLE
 * when unset or unreachable. */
int sshcert_agent_connect(const char *path, struct sshcert_agent **out);
/* Uses an already connected socket (takes ownership of fd). */
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
/* 0 for SUCCESS, SSHCERT_ERR_AGENT for FAILURE, SSHCERT_ERR_INVALID_FORMAT otherwise. */
int sshcert_agent_parse_status(const uint8_t *msg, size_t len);

#endif
