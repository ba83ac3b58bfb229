/*
 * sshcert's identities in the user's ssh-agent. An identity is ours when its comment starts
 * with IDENT_COMMENT_PREFIX (what login adds) or when it is the key or certificate currently in
 * the key dir (what `ssh-add ~/.ssh/sshcert/id_ed25519` adds).
 */
#ifndef SSHCERT_CLIENT_IDENT_H
#define SSHCERT_CLIENT_IDENT_H

#include <stddef.h>
#include <stdint.h>

struct keydir_blobs;
struct sshcert_agent;
struct sshcert_cert;
struct sshcert_privkey;

#define IDENT_COMMENT_PREFIX "sshcert:"
/* Longest comment login gives an identity. */
#define IDENT_MAX_COMMENT 128u

/* Removes every identity of ours except the one whose blob is keep (may be NULL). *removed
 * counts them. 0 or a negative SSHCERT_ERR_* from the agent. */
int ident_remove_ours(struct sshcert_agent *a, const struct keydir_blobs *known,
    const uint8_t *keep, size_t keep_len, unsigned *removed);

/* Adds key with cert, comment "sshcert:USER serial N", and a lifetime equal to what is left of
 * the certificate at now (at least 1 s). 0 or a negative SSHCERT_ERR_* (SSHCERT_ERR_AGENT when
 * the agent refuses). */
int ident_add(struct sshcert_agent *a, const struct sshcert_privkey *key,
    const struct sshcert_cert *cert, const char *user, uint64_t now);

/* *held = 1 when the agent holds the identity with this blob. 0 or a negative SSHCERT_ERR_*. */
int ident_holds(struct sshcert_agent *a, const uint8_t *blob, size_t len, int *held);

#endif
