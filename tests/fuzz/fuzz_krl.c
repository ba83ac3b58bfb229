/*
 * libFuzzer target for the KRL parser. Any input either fails with a library error or gives
 * a KRL that (1) answers checks for a fixed certificate and key, (2) re-encodes, and (3) whose
 * encoding parses back to a KRL with the same answers and the same encoding (canonical).
 * Seeds: tests/fuzz/corpus/fuzz_krl, made by corpus/make-krl-seeds.sh with ssh-keygen, whose
 * CA and user keys are the fixed keys below.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "krl.h"
#include "secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CA_FILL 0x11   /* CA public key: 32 bytes of 0x11 */
#define USER_FILL 0x22 /* certified key: 32 bytes of 0x22 */
#define CERT_SERIAL 16
#define CERT_KEY_ID "fuzz-id"

static struct sshcert_cert *cert;
static struct sshcert_pubkey ca_key, user_key;

/* An unsigned but well-formed certificate: parsing does not check the signature, and
 * neither do KRL checks. */
static struct sshcert_cert *
fixed_cert(void)
{
    struct sshcert_buf *b = sshcert_buf_new(0), *t = sshcert_buf_new(0);
    struct sshcert_cert *c = NULL;
    uint8_t zero[64] = {0};

    memset(ca_key.pk, CA_FILL, sizeof(ca_key.pk));
    memset(user_key.pk, USER_FILL, sizeof(user_key.pk));
    if (b == NULL || t == NULL || sshcert_secmem_init() != 0)
        abort();
    if (sshcert_buf_put_cstring(b, SSHCERT_CERT_TYPE_ED25519) != 0 ||
        sshcert_buf_put_string(b, zero, 32) != 0 ||
        sshcert_buf_put_string(b, user_key.pk, sizeof(user_key.pk)) != 0 ||
        sshcert_buf_put_u64(b, CERT_SERIAL) != 0 ||
        sshcert_buf_put_u32(b, SSHCERT_CERT_TYPE_USER) != 0 ||
        sshcert_buf_put_cstring(b, CERT_KEY_ID) != 0 ||
        sshcert_buf_put_cstring(t, "p") != 0 || sshcert_buf_put_stringb(b, t) != 0 ||
        sshcert_buf_put_u64(b, 0) != 0 || sshcert_buf_put_u64(b, UINT64_MAX) != 0 ||
        sshcert_buf_put_string(b, NULL, 0) != 0 || sshcert_buf_put_string(b, NULL, 0) != 0 ||
        sshcert_buf_put_string(b, NULL, 0) != 0)
        abort();
    sshcert_buf_reset(t);
    if (sshcert_pubkey_put_blob(t, &ca_key) != 0 || sshcert_buf_put_stringb(b, t) != 0)
        abort();
    sshcert_buf_reset(t);
    if (sshcert_buf_put_cstring(t, SSHCERT_KEY_TYPE_ED25519) != 0 ||
        sshcert_buf_put_string(t, zero, 64) != 0 || sshcert_buf_put_stringb(b, t) != 0)
        abort();
    if (sshcert_cert_parse_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), &c) != 0)
        abort();
    sshcert_buf_free(t);
    sshcert_buf_free(b);
    return c;
}

static void
answers(const struct sshcert_krl *k, int *cert_r, int *key_r, uint64_t *n_ca, uint64_t *n_any)
{
    *cert_r = sshcert_krl_check_cert(k, cert);
    *key_r = sshcert_krl_check_key(k, &user_key);
    if ((*cert_r != 0 && *cert_r != SSHCERT_ERR_REVOKED) ||
        (*key_r != 0 && *key_r != SSHCERT_ERR_REVOKED))
        abort();
    /* A revoked plain key revokes every certificate of it. */
    if (*key_r == SSHCERT_ERR_REVOKED && *cert_r != SSHCERT_ERR_REVOKED)
        abort();
    *n_ca = sshcert_krl_serial_count(k, &ca_key);
    *n_any = sshcert_krl_serial_count(k, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sshcert_krl *k = NULL, *k2 = NULL;
    struct sshcert_buf *b1 = NULL, *b2 = NULL;
    int c1, c2, key1, key2, r;
    uint64_t n1, n2, a1, a2;

    if (cert == NULL && (cert = fixed_cert()) == NULL)
        abort();
    if ((r = sshcert_krl_from_blob(data, size, &k)) != 0) {
        if (k != NULL || r >= 0 || r == SSHCERT_ERR_INTERNAL)
            abort();
        return 0;
    }
    answers(k, &c1, &key1, &n1, &a1);
    if ((b1 = sshcert_buf_new(0)) == NULL || (b2 = sshcert_buf_new(0)) == NULL)
        abort();
    /* The encoder picks subsections with ssh-keygen's cost model (so that its KRLs match
     * ssh-keygen's byte for byte), which underestimates a subsection's header: a parsed KRL
     * above ~18 MiB of pairs of serials 78 apart re-encodes ~1.8 times larger, past the
     * 32 MiB cap. That refusal is clean (no partial output); anything else is a defect. */
    r = sshcert_krl_to_blob(k, b1);
    if (r == SSHCERT_ERR_TOO_LARGE && size > SSHCERT_MAX_KRL_SIZE / 2) {
        if (sshcert_buf_len(b1) != 0)
            abort();
        sshcert_buf_free(b1);
        sshcert_buf_free(b2);
        sshcert_krl_free(k);
        return 0;
    }
    if (r != 0)
        abort();
    if (sshcert_krl_from_blob(sshcert_buf_ptr(b1), sshcert_buf_len(b1), &k2) != 0)
        abort();
    answers(k2, &c2, &key2, &n2, &a2);
    if (c1 != c2 || key1 != key2 || n1 != n2 || a1 != a2)
        abort();
    if (sshcert_krl_to_blob(k2, b2) != 0 || sshcert_buf_len(b1) != sshcert_buf_len(b2) ||
        memcmp(sshcert_buf_ptr(b1), sshcert_buf_ptr(b2), sshcert_buf_len(b1)) != 0)
        abort();
    sshcert_buf_free(b1);
    sshcert_buf_free(b2);
    sshcert_krl_free(k);
    sshcert_krl_free(k2);
    return 0;
}
