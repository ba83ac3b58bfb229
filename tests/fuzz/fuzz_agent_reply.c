/*
 * libFuzzer target for the ssh-agent reply parsers. The first byte picks the parser
 * (0: IDENTITIES_ANSWER, 1: SIGN_RESPONSE, 2: SUCCESS/FAILURE, modulo 3); the rest is one
 * reply without its length prefix. Seeds: tests/fuzz/make-agent-corpus.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "err.h"
#include "secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return sshcert_secmem_init() == 0 ? 0 : 1;
}

static void
check_identities(const uint8_t *msg, size_t len)
{
    struct sshcert_agent_identities *ids = NULL;
    size_t i;
    int r;

    r = sshcert_agent_parse_identities(msg, len, &ids);
    if (r != 0) {
        if (ids != NULL || r > 0)
            abort();
        return;
    }
    if (ids == NULL || ids->count > SSHCERT_AGENT_MAX_IDENTITIES || len < 5)
        abort();
    for (i = 0; i < ids->count; i++) {
        /* Every byte of each identity came from msg, and comments are NUL-free text. */
        if (ids->ids[i].blob == NULL || ids->ids[i].comment == NULL ||
            ids->ids[i].blob_len > len || strlen(ids->ids[i].comment) > len)
            abort();
    }
    sshcert_agent_identities_free(ids);
}

static void
check_sign(const uint8_t *msg, size_t len)
{
    static const uint8_t zero[SSHCERT_ED25519_SIG_LEN];
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    int r;

    memset(sig, 0xa5, sizeof(sig));
    r = sshcert_agent_parse_sign_reply(msg, len, sig);
    if (r > 0)
        abort();
    /* The exact shape: type, outer string, "ssh-ed25519", 64-byte string, nothing else. */
    if (r == 0 && len != 1 + 4 + 4 + 11 + 4 + SSHCERT_ED25519_SIG_LEN)
        abort();
    if (r != 0 && memcmp(sig, zero, sizeof(sig)) != 0)
        abort();
}

static void
check_status(const uint8_t *msg, size_t len)
{
    int r = sshcert_agent_parse_status(msg, len);

    if (r == 0 && !(len == 1 && msg[0] == 6))
        abort();
    if (r > 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *msg;
    size_t len;

    if (size < 1)
        return 0;
    msg = data + 1;
    len = size - 1;
    switch (data[0] % 3) {
    case 0:
        check_identities(msg, len);
        break;
    case 1:
        check_sign(msg, len);
        break;
    default:
        check_status(msg, len);
        break;
    }
    return 0;
}
