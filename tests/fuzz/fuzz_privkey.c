/*
 * libFuzzer target for the openssh-key-v1 private key parser (sshcert_privkey_parse). Any
 * input either fails with a documented error, or gives a key whose secret really is the
 * stated public key (a signature made with it verifies), and which serialises to text that
 * parses back to the same secret and comment.
 * Each input is tried twice: as the key file's text, and as the decoded binary blob (armoured
 * here), so mutations reach the structure inside the base64 directly.
 * Seeds: tests/fuzz/corpus/fuzz_privkey (key files and their decoded blobs), made by
 * corpus/make-key-seeds.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "key.h"
#include "secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static int
parse_error_ok(int r)
{
    switch (r) {
    case SSHCERT_ERR_TRUNCATED:
    case SSHCERT_ERR_INVALID_FORMAT:
    case SSHCERT_ERR_TRAILING_DATA:
    case SSHCERT_ERR_TOO_LARGE:
    case SSHCERT_ERR_KEY_TYPE:
    case SSHCERT_ERR_ENCRYPTED_KEY:
    case SSHCERT_ERR_KEY_MISMATCH:
        return 1;
    }
    return 0;
}

static void
fuzz_text(const char *text, size_t size)
{
    struct sshcert_privkey *k = NULL, *k2 = NULL;
    struct sshcert_pubkey pub, pub2;
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    char *out = NULL;
    int r;

    if ((r = sshcert_privkey_parse(text, size, &k)) != 0) {
        CHECK(k == NULL && parse_error_ok(r));
        return;
    }
    sshcert_privkey_public(k, &pub);
    CHECK(memcmp(sshcert_privkey_secret(k) + 32, pub.pk, 32) == 0);
    CHECK(strlen(sshcert_privkey_comment(k)) <= SSHCERT_MAX_COMMENT);
    CHECK(sshcert_privkey_sign(k, (const uint8_t *)text, size, sig) == 0);
    CHECK(sshcert_pubkey_verify(&pub, sig, (const uint8_t *)text, size) == 0);
    CHECK(sshcert_privkey_to_text(k, &out) == 0);
    CHECK(sshcert_privkey_parse(out, strlen(out), &k2) == 0);
    sshcert_privkey_public(k2, &pub2);
    CHECK(sshcert_pubkey_equal(&pub, &pub2));
    CHECK(memcmp(sshcert_privkey_secret(k), sshcert_privkey_secret(k2), 64) == 0);
    CHECK(strcmp(sshcert_privkey_comment(k), sshcert_privkey_comment(k2)) == 0);
    sshcert_secmem_free_str(out);
    sshcert_privkey_free(k);
    sshcert_privkey_free(k2);
}

#define BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define END "\n-----END OPENSSH PRIVATE KEY-----\n"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    char *b64 = NULL, *text;
    size_t n;

    if (!ready) {
        CHECK(sshcert_secmem_init() == 0);
        ready = 1;
    }
    fuzz_text((const char *)data, size);
    /* The same bytes as the blob inside the armour (unwrapped base64 is accepted). */
    CHECK(sshcert_buf_to_base64(data, size, &b64) == 0);
    n = strlen(BEGIN) + strlen(b64) + strlen(END) + 1;
    CHECK((text = malloc(n)) != NULL);
    memcpy(text, BEGIN, strlen(BEGIN));
    memcpy(text + strlen(BEGIN), b64, strlen(b64));
    memcpy(text + strlen(BEGIN) + strlen(b64), END, strlen(END) + 1);
    fuzz_text(text, n - 1);
    free(text);
    free(b64);
    return 0;
}
