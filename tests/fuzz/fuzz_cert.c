/*
 * libFuzzer target for the certificate parser (sshcert_cert_parse_blob), the CA signature
 * check and every accessor. Any input either fails with one of the parser's documented
 * errors, or gives a certificate that:
 *   - verifies or fails with exactly SSHCERT_ERR_SIGNATURE;
 *   - keeps the input bytes verbatim, and round-trips through the one-line text form;
 *   - respects every cap and has strictly increasing option and extension names;
 *   - answers time and principal checks consistently with its fields;
 *   - when rebuilt field by field with the builders and signed, encodes the same options
 *     and extensions sections byte for byte (the canonical encoding) and parses back equal.
 * Seeds: tests/fuzz/corpus/fuzz_cert (raw blobs), made by corpus/make-key-seeds.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sshcert_privkey *resign_ca;
static struct sshcert_pubkey resign_ca_pub;

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void
init(void)
{
    if (resign_ca != NULL)
        return;
    CHECK(sshcert_secmem_init() == 0);
    CHECK(sshcert_privkey_generate(&resign_ca) == 0);
    sshcert_privkey_public(resign_ca, &resign_ca_pub);
}

static int
parse_error_ok(int r)
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

/* The (name, data) sections of a blob: fields 10 and 11, with their length prefixes. */
static void
sections(const uint8_t *blob, size_t len, const uint8_t **opt, size_t *olen,
    const uint8_t **ext, size_t *elen)
{
    struct sshcert_buf *b = sshcert_buf_from(blob, len);
    size_t before;

    CHECK(b != NULL);
    /* type, nonce, key, serial, type, key id, principals, after, before */
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    CHECK(sshcert_buf_skip(b, 12) == 0);
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    CHECK(sshcert_buf_skip(b, 16) == 0);
    before = sshcert_buf_len(b);
    *opt = sshcert_buf_ptr(b);
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    *olen = before - sshcert_buf_len(b);
    before = sshcert_buf_len(b);
    *ext = sshcert_buf_ptr(b);
    CHECK(sshcert_buf_get_string_direct(b, NULL, NULL) == 0);
    *elen = before - sshcert_buf_len(b);
    sshcert_buf_free(b);
}

static void
check_fields(const struct sshcert_cert *c)
{
    size_t i, n;
    const char *name, *prev = NULL;
    char *v = NULL, fp[SSHCERT_FP_LEN];
    int r;

    CHECK(sshcert_cert_key(c) != NULL && sshcert_cert_ca_key(c) != NULL);
    CHECK(sshcert_pubkey_fingerprint(sshcert_cert_key(c), fp) == 0);
    CHECK(strlen(fp) == SSHCERT_FP_LEN - 1);
    CHECK(sshcert_pubkey_fingerprint(sshcert_cert_ca_key(c), fp) == 0);
    CHECK(sshcert_cert_type(c) == SSHCERT_CERT_TYPE_USER ||
          sshcert_cert_type(c) == SSHCERT_CERT_TYPE_HOST);
    CHECK(sshcert_cert_key_id(c) != NULL && strlen(sshcert_cert_key_id(c)) <= SSHCERT_MAX_KEY_ID);

    n = sshcert_cert_principal_count(c);
    CHECK(n <= SSHCERT_MAX_PRINCIPALS);
    for (i = 0; i < n; i++) {
        CHECK(sshcert_cert_principal(c, i) != NULL);
        CHECK(strlen(sshcert_cert_principal(c, i)) <= SSHCERT_MAX_PRINCIPAL_LEN);
    }
    CHECK(sshcert_cert_principal(c, n) == NULL);
    r = sshcert_cert_check_principal(c, n > 0 ? sshcert_cert_principal(c, 0) : "x");
    CHECK(n > 0 ? r == 0 : r == SSHCERT_ERR_NO_PRINCIPALS);

    n = sshcert_cert_option_count(c);
    CHECK(n <= SSHCERT_MAX_CERT_OPTIONS);
    for (i = 0; i < n; i++, prev = name) {
        CHECK((name = sshcert_cert_option_name(c, i)) != NULL);
        CHECK(strlen(name) <= SSHCERT_MAX_OPTION_NAME);
        CHECK(prev == NULL || strcmp(prev, name) < 0);
        r = sshcert_cert_option_value(c, name, &v);
        CHECK(r == 0 ? v != NULL && strlen(v) + 4 <= SSHCERT_MAX_OPTION_DATA
                     : r == SSHCERT_ERR_INVALID_FORMAT && v == NULL);
        free(v);
        v = NULL;
    }
    CHECK(sshcert_cert_option_name(c, n) == NULL);
    n = sshcert_cert_extension_count(c);
    CHECK(n <= SSHCERT_MAX_CERT_OPTIONS);
    for (i = 0, prev = NULL; i < n; i++, prev = name) {
        CHECK((name = sshcert_cert_extension_name(c, i)) != NULL);
        CHECK(prev == NULL || strcmp(prev, name) < 0);
    }
    CHECK(sshcert_cert_extension_name(c, n) == NULL);
}

static void
check_time(const struct sshcert_cert *c)
{
    uint64_t a = sshcert_cert_valid_after(c), b = sshcert_cert_valid_before(c);

    if (a < b) {
        CHECK(sshcert_cert_check_time(c, a) == 0);
        CHECK(sshcert_cert_check_time(c, b - 1) == 0);
        CHECK(sshcert_cert_check_time(c, b) == SSHCERT_ERR_EXPIRED);
    } else {
        CHECK(sshcert_cert_check_time(c, a) == SSHCERT_ERR_EXPIRED);
    }
    if (a > 0)
        CHECK(sshcert_cert_check_time(c, a - 1) == SSHCERT_ERR_NOT_YET_VALID);
}

/* Blob -> line -> blob gives the same bytes. */
static void
check_line(const struct sshcert_cert *c, const uint8_t *data, size_t size)
{
    struct sshcert_cert *c2 = NULL;
    const uint8_t *blob;
    char *line = NULL, *comment = NULL;
    size_t len;

    CHECK(sshcert_cert_to_line(c, "fuzz comment", &line) == 0);
    CHECK(sshcert_cert_parse_line(line, strlen(line), &c2, &comment) == 0);
    CHECK(strcmp(comment, "fuzz comment") == 0);
    CHECK(sshcert_cert_blob(c2, &blob, &len) == 0);
    CHECK(len == size && memcmp(blob, data, size) == 0);
    free(line);
    free(comment);
    sshcert_cert_free(c2);
}

/* Rebuilds c with the builders when its fields are within what they accept (text values
 * only, valid_after < valid_before, some principals). 1 if rebuilt. */
static int
rebuild(const struct sshcert_cert *c, struct sshcert_cert **out)
{
    struct sshcert_cert *n = NULL;
    size_t i;
    char *v = NULL;
    int ok = 0;

    *out = NULL;
    if (sshcert_cert_new(&n) != 0)
        abort();
    if (sshcert_cert_set_key(n, sshcert_cert_key(c)) != 0 ||
        sshcert_cert_set_serial(n, sshcert_cert_serial(c)) != 0 ||
        sshcert_cert_set_type(n, sshcert_cert_type(c)) != 0 ||
        sshcert_cert_set_key_id(n, sshcert_cert_key_id(c)) != 0 ||
        sshcert_cert_set_validity(n, sshcert_cert_valid_after(c), sshcert_cert_valid_before(c)) != 0)
        goto out;
    for (i = 0; i < sshcert_cert_principal_count(c); i++)
        if (sshcert_cert_add_principal(n, sshcert_cert_principal(c, i)) != 0)
            goto out;
    /* Reverse order: the encoding must sort them back. */
    for (i = sshcert_cert_option_count(c); i-- > 0;) {
        const char *name = sshcert_cert_option_name(c, i);
        if (sshcert_cert_option_value(c, name, &v) != 0 ||
            sshcert_cert_set_option(n, name, v) != 0)
            goto out;
        free(v);
        v = NULL;
    }
    for (i = sshcert_cert_extension_count(c); i-- > 0;)
        if (sshcert_cert_add_extension(n, sshcert_cert_extension_name(c, i)) != 0)
            goto out;
    ok = 1;
out:
    free(v);
    if (ok)
        *out = n;
    else
        sshcert_cert_free(n);
    return ok;
}

static void
check_resign(const struct sshcert_cert *c, const uint8_t *data, size_t size)
{
    struct sshcert_cert *n = NULL, *p = NULL;
    const uint8_t *blob, *o1, *e1, *o2, *e2;
    size_t len, ol1, el1, ol2, el2, i;
    int r;

    if (!rebuild(c, &n))
        return;
    r = sshcert_cert_sign(n, &resign_ca_pub, sshcert_cert_signer_privkey, resign_ca);
    if (r != 0) {
        /* Only an empty principal list, or a size near the cap, stops a rebuilt certificate
         * from being signed: the rebuilt encoding differs only by a 32-byte nonce where the
         * input's could be shorter, an empty reserved field and empty flag data. */
        CHECK((r == SSHCERT_ERR_NO_PRINCIPALS && sshcert_cert_principal_count(c) == 0) ||
              (r == SSHCERT_ERR_TOO_LARGE && size + 32 > SSHCERT_MAX_CERT_BLOB));
        sshcert_cert_free(n);
        return;
    }
    CHECK(sshcert_cert_blob(n, &blob, &len) == 0);
    CHECK(sshcert_cert_parse_blob(blob, len, &p) == 0);
    CHECK(sshcert_cert_verify(p) == 0);
    CHECK(sshcert_pubkey_equal(sshcert_cert_key(p), sshcert_cert_key(c)));
    CHECK(sshcert_cert_serial(p) == sshcert_cert_serial(c));
    CHECK(sshcert_cert_type(p) == sshcert_cert_type(c));
    CHECK(strcmp(sshcert_cert_key_id(p), sshcert_cert_key_id(c)) == 0);
    CHECK(sshcert_cert_principal_count(p) == sshcert_cert_principal_count(c));
    for (i = 0; i < sshcert_cert_principal_count(c); i++)
        CHECK(strcmp(sshcert_cert_principal(p, i), sshcert_cert_principal(c, i)) == 0);
    CHECK(sshcert_cert_valid_after(p) == sshcert_cert_valid_after(c));
    CHECK(sshcert_cert_valid_before(p) == sshcert_cert_valid_before(c));
    /* Canonical: the same options section byte for byte. Extensions too, when the input's
     * flags carried no data (we always write flags empty). */
    sections(data, size, &o1, &ol1, &e1, &el1);
    sections(blob, len, &o2, &ol2, &e2, &el2);
    CHECK(ol1 == ol2 && memcmp(o1, o2, ol1) == 0);
    if (el1 == el2)
        CHECK(memcmp(e1, e2, el1) == 0);
    else
        CHECK(el1 > el2);
    sshcert_cert_free(p);
    sshcert_cert_free(n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sshcert_cert *c = NULL;
    const uint8_t *blob;
    size_t len;
    int r;

    init();
    if ((r = sshcert_cert_parse_blob(data, size, &c)) != 0) {
        CHECK(c == NULL && parse_error_ok(r));
        return 0;
    }
    r = sshcert_cert_verify(c);
    CHECK(r == 0 || r == SSHCERT_ERR_SIGNATURE);
    CHECK(sshcert_cert_blob(c, &blob, &len) == 0);
    CHECK(len == size && memcmp(blob, data, size) == 0);
    check_fields(c);
    check_time(c);
    check_line(c, data, size);
    check_resign(c, data, size);
    sshcert_cert_free(c);
    return 0;
}
