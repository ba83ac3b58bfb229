/* Finding, replacing and removing sshcert's identities in ssh-agent. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cert.h"
#include "err.h"
#include "ident.h"
#include "keydir.h"

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;
}

static int
is_ours(const struct sshcert_agent_identity *id, const struct keydir_blobs *known)
{
    return (id->comment != NULL &&
               strncmp(id->comment, IDENT_COMMENT_PREFIX, strlen(IDENT_COMMENT_PREFIX)) == 0) ||
           (known != NULL && (same(id->blob, id->blob_len, known->pub, known->pub_len) ||
                                 same(id->blob, id->blob_len, known->cert, known->cert_len)));
}

int
ident_remove_ours(struct sshcert_agent *a, const struct keydir_blobs *known,
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
