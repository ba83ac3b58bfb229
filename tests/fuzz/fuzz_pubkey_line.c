/*
 * libFuzzer target for the one-line text forms: sshcert_pubkey_parse_line and
 * sshcert_cert_parse_line on the same input (not NUL-terminated: the length is the
 * contract). Any input either fails with a documented error, or:
 *   - a public key formats back to a line that parses to the same key and comment;
 *   - a certificate formats back to a line that parses to the same blob, and verifies or
 *     fails with exactly SSHCERT_ERR_SIGNATURE.
 * A line is never both a key and a certificate.
 * Seeds: tests/fuzz/corpus/fuzz_pubkey_line, made by corpus/make-key-seeds.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
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
line_error_ok(int r)
{
    switch (r) {
    case SSHCERT_ERR_TRUNCATED:
    case SSHCERT_ERR_INVALID_FORMAT:
    case SSHCERT_ERR_TRAILING_DATA:
    case SSHCERT_ERR_TOO_LARGE:
    case SSHCERT_ERR_KEY_TYPE:
        return 1;
    }
    return 0;
}

static int
fuzz_pubkey(const char *line, size_t len)
{
    struct sshcert_pubkey k, k2;
    char *comment = NULL, *comment2 = NULL, *out = NULL, fp[SSHCERT_FP_LEN];
    int r;

    if ((r = sshcert_pubkey_parse_line(line, len, &k, &comment)) != 0) {
        CHECK(comment == NULL && line_error_ok(r));
        return r;
    }
    CHECK(comment != NULL && strlen(comment) <= SSHCERT_MAX_COMMENT);
    CHECK(sshcert_pubkey_fingerprint(&k, fp) == 0);
    CHECK(sshcert_pubkey_to_line(&k, comment, &out) == 0);
    CHECK(sshcert_pubkey_parse_line(out, strlen(out), &k2, &comment2) == 0);
    CHECK(sshcert_pubkey_equal(&k, &k2));
    /* A comment that ends in CR loses it on the way back (a line's CR/LF is stripped). */
    if (strchr(comment, '\r') == NULL)
        CHECK(strcmp(comment, comment2) == 0);
    /* Parsing without asking for the comment gives the same key. */
    CHECK(sshcert_pubkey_parse_line(line, len, &k2, NULL) == 0 && sshcert_pubkey_equal(&k, &k2));
    free(comment);
    free(comment2);
    free(out);
    return 0;
}

static int
fuzz_cert(const char *line, size_t len)
{
    struct sshcert_cert *c = NULL, *c2 = NULL;
    const uint8_t *b1, *b2;
    size_t l1, l2;
    char *comment = NULL, *comment2 = NULL, *out = NULL;
    int r;

    if ((r = sshcert_cert_parse_line(line, len, &c, &comment)) != 0) {
        CHECK(c == NULL && comment == NULL && line_error_ok(r));
        return r;
    }
    CHECK(comment != NULL);
    r = sshcert_cert_verify(c);
    CHECK(r == 0 || r == SSHCERT_ERR_SIGNATURE);
    CHECK(sshcert_cert_to_line(c, comment, &out) == 0);
    CHECK(sshcert_cert_parse_line(out, strlen(out), &c2, &comment2) == 0);
    CHECK(sshcert_cert_blob(c, &b1, &l1) == 0 && sshcert_cert_blob(c2, &b2, &l2) == 0);
    CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
    if (strchr(comment, '\r') == NULL)
        CHECK(strcmp(comment, comment2) == 0);
    free(comment);
    free(comment2);
    free(out);
    sshcert_cert_free(c);
    sshcert_cert_free(c2);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    int rk, rc;

    if (!ready) {
        CHECK(sshcert_secmem_init() == 0);
        ready = 1;
    }
    rk = fuzz_pubkey((const char *)data, size);
    rc = fuzz_cert((const char *)data, size);
    CHECK(rk != 0 || rc != 0);
    /* A valid key line names ssh-ed25519, so as a certificate it is the wrong type. */
    if (rk == 0)
        CHECK(rc == SSHCERT_ERR_KEY_TYPE);
    if (rc == 0)
        CHECK(rk == SSHCERT_ERR_KEY_TYPE);
    return 0;
}
