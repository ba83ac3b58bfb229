/*
 * sshcert's identities in the user's ssh-agent. An identity belongs to a key dir when the key
 * it signs with is that key dir's key: the plain key (what `ssh-add ~/.ssh/sshcert/id_ed25519`
 * adds, under any comment) or any certificate of it (what login adds, and an older or
 * re-signed certificate of the same key). The comment plays no part: every key dir, and every
 * CA, writes "sshcert:..." comments, so a comment cannot say whose an identity is.
 */
#ifndef SSHCERT_CLIENT_IDENT_H
#define SSHCERT_CLIENT_IDENT_H

#include <stddef.h>
#include <stdint.h>

struct keydir_keys;
struct sshcert_agent;
struct sshcert_cert;
struct sshcert_privkey;

#define IDENT_COMMENT_PREFIX "sshcert:"
/* Longest comment login gives an identity. */
#define IDENT_MAX_COMMENT 128u

/* The start of the warning login and logout give where sshcert_agent_connect refuses the agent
 * at SSH_AUTH_SOCK (%s) as another user's (SSHCERT_ERR_PERMISSIONS); each says what it did. */
#define IDENT_AGENT_NOT_OURS \
    "the ssh-agent socket %s or the process behind it belongs to another user; "

/* Removes every identity that belongs to the key dir whose keys are known (the plain keys and
 * all their certificates), except the one whose blob is keep (may be NULL). Identities of other
 * keys stay, whatever their comment. *removed counts them. 0 or a negative SSHCERT_ERR_* from
 * the agent. */
int ident_remove_ours(struct sshcert_agent *a, const struct keydir_keys *known,
    const uint8_t *keep, size_t keep_len, unsigned *removed);

/* Adds key with cert, comment "sshcert:USER serial N", and a lifetime equal to what is left of
 * the certificate at now (at least 1 s). 0 or a negative SSHCERT_ERR_* (SSHCERT_ERR_AGENT when
 * the agent refuses). */
int ident_add(struct sshcert_agent *a, const struct sshcert_privkey *key,
    const struct sshcert_cert *cert, const char *user, uint64_t now);

/* *held = 1 when the agent holds the identity with this blob. 0 or a negative SSHCERT_ERR_*. */
int ident_holds(struct sshcert_agent *a, const uint8_t *blob, size_t len, int *held);

#endif
