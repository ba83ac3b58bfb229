/* Finding, replacing and removing sshcert's identities in ssh-agent. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "buf.h"
#include "cert.h"
#include "err.h"
#include "ident.h"
#include "key.h"
#include "keydir.h"

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;
}

/* The key an agent identity signs with: the key itself for a plain ed25519 key blob, the
 * certified key for an ed25519 certificate blob. 0, or an error for anything else (another key
 * type, bytes our parsers refuse): such an identity is never ours. */
static int
identity_key(const struct sshcert_agent_identity *id, struct sshcert_pubkey *out)
{
    struct sshcert_buf *b = NULL;
    struct sshcert_cert *c = NULL;
    int r;

    if ((b = sshcert_buf_from(id->blob, id->blob_len)) == NULL)
        return SSHCERT_ERR_ALLOC;
    r = sshcert_pubkey_from_blob(b, out);
    sshcert_buf_free(b);
    if (r == 0)
        return 0;
    if ((r = sshcert_cert_parse_blob(id->blob, id->blob_len, &c)) != 0)
        return r;
    *out = *sshcert_cert_key(c);
    sshcert_cert_free(c);
    return 0;
}

/*
 * Whose identity is it? Only this key dir's: one whose key (plain, or the key a certificate
 * certifies) is a key the key dir's files name. That covers the certificate login added, the
 * plain key and its certificate as `ssh-add` adds them from the key dir or a copy of it under
 * any comment, and an older or re-signed certificate of the same key. It leaves alone what
 * another key dir or another CA put there, even with an "sshcert:" comment: matching that
 * prefix, as the client once did, let `login --key-dir B`, or a login to a second CA, take the
 * certificates of key dir A out of the agent. The exact comment would not do either: it names
 * only the user and the serial, which two CAs (each counting serials from 1) can both issue,
 * and anyone may write any comment. Every login makes a fresh key, so no other key dir holds
 * ours.
 *
 * The cost: an identity added by an earlier login whose key files were since replaced without
 * touching the agent (`login --no-agent`) is no longer tied to the key dir. It stays until its
 * certificate expires, which is its lifetime in the agent.
 */
static int
is_ours(const struct sshcert_agent_identity *id, const struct keydir_keys *known)
{
    struct sshcert_pubkey k;
    size_t i;

    if (known == NULL || identity_key(id, &k) != 0)
        return 0;
    for (i = 0; i < known->count; i++)
        if (sshcert_pubkey_equal(&k, &known->key[i]))
            return 1;
    return 0;
}

int
ident_remove_ours(struct sshcert_agent *a, const struct keydir_keys *known,
    const uint8_t *keep, size_t keep_len, unsigned *removed)
{
    struct sshcert_agent_identities *ids = NULL;
    size_t i;
    int r;

    *removed = 0;
    if ((r = sshcert_agent_list(a, &ids)) != 0)
        return r;
    for (i = 0; i < ids->count; i++) {
        const struct sshcert_agent_identity *id = &ids->ids[i];
        if (!is_ours(id, known) || same(id->blob, id->blob_len, keep, keep_len))
            continue;
        r = sshcert_agent_remove(a, id->blob, id->blob_len);
        /* Gone already (its lifetime ran out between list and remove): fine. */
        if (r == SSHCERT_ERR_AGENT)
            continue;
        if (r != 0)
            break;
        (*removed)++;
    }
    if (r == SSHCERT_ERR_AGENT)
        r = 0;
    sshcert_agent_identities_free(ids);
    return r;
}

int
ident_add(struct sshcert_agent *a, const struct sshcert_privkey *key,
    const struct sshcert_cert *cert, const char *user, uint64_t now)
{
    char comment[IDENT_MAX_COMMENT];
    uint64_t left, vb = sshcert_cert_valid_before(cert);
    uint32_t lifetime;

    /* The agent drops the identity when the certificate dies, so an expired certificate never
     * lingers and never costs one of sshd's MaxAuthTries. */
    left = vb > now ? vb - now : 1;
    lifetime = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
    snprintf(comment, sizeof(comment), "%s%.64s serial %llu", IDENT_COMMENT_PREFIX, user,
        (unsigned long long)sshcert_cert_serial(cert));
    return sshcert_agent_add_cert(a, key, cert, comment, lifetime);
}

int
ident_holds(struct sshcert_agent *a, const uint8_t *blob, size_t len, int *held)
{
    struct sshcert_agent_identities *ids = NULL;
    size_t i;
    int r;

    *held = 0;
    if ((r = sshcert_agent_list(a, &ids)) != 0)
        return r;
    for (i = 0; i < ids->count; i++)
        if (same(ids->ids[i].blob, ids->ids[i].blob_len, blob, len))
            *held = 1;
    sshcert_agent_identities_free(ids);
    return 0;
}
