#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "file.h"
#include "key.h"
#include "secmem.h"

#define MARK_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define MARK_END "-----END OPENSSH PRIVATE KEY-----"
#define KEY_MAGIC "openssh-key-v1" /* followed by its NUL on the wire */
#define KEY_MAGIC_LEN 15
#define KEY_BLOCK 8 /* the "none" cipher's block size */
#define KEY_WRAP 70 /* OpenSSH's base64 line length */

struct sshcert_privkey {
    uint8_t *sk; /* SSHCERT_ED25519_SK_LEN bytes of sodium_malloc'd memory */
    struct sshcert_pubkey pub;
    char *comment;
};

/* ---- public keys ---- */

int
sshcert_pubkey_put_blob(struct sshcert_buf *b, const struct sshcert_pubkey *k)
{
    struct sshcert_buf *tmp;
    int r;

    if (b == NULL || k == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    /* Build aside so a failure leaves b unchanged. */
    if ((tmp = sshcert_buf_new(128)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_cstring(tmp, SSHCERT_KEY_TYPE_ED25519)) == 0 &&
        (r = sshcert_buf_put_string(tmp, k->pk, sizeof(k->pk))) == 0)
        r = sshcert_buf_put(b, sshcert_buf_ptr(tmp), sshcert_buf_len(tmp));
    sshcert_buf_free(tmp);
    return r;
}

int
sshcert_pubkey_from_blob(struct sshcert_buf *b, struct sshcert_pubkey *out)
{
    struct sshcert_pubkey k;
    const uint8_t *type;
    size_t tlen;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if ((r = sshcert_buf_get_string_direct(b, &type, &tlen)) != 0)
        return r;
    if (tlen != strlen(SSHCERT_KEY_TYPE_ED25519) ||
        memcmp(type, SSHCERT_KEY_TYPE_ED25519, tlen) != 0)
        return SSHCERT_ERR_KEY_TYPE;
    if ((r = sshcert_buf_get_string_fixed(b, k.pk, sizeof(k.pk))) != 0)
        return r;
    if ((r = sshcert_buf_expect_end(b)) != 0)
        return r;
    *out = k;
    return 0;
}

/* Splits "type base64 [comment]" into its fields; pointers into line. */
static int
split_line(const char *line, size_t len, const char **type, size_t *tlen, const char **b64,
    size_t *blen, const char **cmt, size_t *clen)
{
    size_t i = 0, s;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len > SSHCERT_MAX_KEY_LINE)
        return SSHCERT_ERR_TOO_LARGE;
    if (memchr(line, '\0', len) != NULL || memchr(line, '\n', len) != NULL)
        return SSHCERT_ERR_INVALID_FORMAT;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    s = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    *type = line + s;
    *tlen = i - s;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    s = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    *b64 = line + s;
    *blen = i - s;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    *cmt = line + i;
    *clen = len - i;
    while (*clen > 0 && ((*cmt)[*clen - 1] == ' ' || (*cmt)[*clen - 1] == '\t'))
        (*clen)--;
    if (*tlen == 0 || *blen == 0)
        return SSHCERT_ERR_INVALID_FORMAT;
    if (*clen > SSHCERT_MAX_COMMENT)
        return SSHCERT_ERR_TOO_LARGE;
    return 0;
}

/* Shared by public-key and certificate lines (see key.h). */
int
sshcert_key_line_decode(const char *line, size_t len, const char *want_type,
    struct sshcert_buf **blob, char **comment)
{
    const char *type, *b64, *cmt;
    size_t tlen, blen, clen;
    struct sshcert_buf *b = NULL, *peek = NULL;
    char *c = NULL;
    const uint8_t *inner;
    size_t ilen;
    int r = SSHCERT_ERR_INTERNAL;

    *blob = NULL;
    if (comment != NULL)
        *comment = NULL;
    if (line == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = split_line(line, len, &type, &tlen, &b64, &blen, &cmt, &clen)) != 0)
        return r;
    if ((b = sshcert_buf_new(SSHCERT_MAX_KEY_LINE)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_base64(b, b64, blen, NULL)) != 0)
        goto out;
    /* The blob names its own type; it must agree with the line's first word. */
    if ((peek = sshcert_buf_from(sshcert_buf_ptr(b), sshcert_buf_len(b))) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = sshcert_buf_get_string_direct(peek, &inner, &ilen)) != 0)
        goto out;
    if (ilen != tlen || memcmp(inner, type, tlen) != 0) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        goto out;
    }
    if (tlen != strlen(want_type) || memcmp(type, want_type, tlen) != 0) {
        r = SSHCERT_ERR_KEY_TYPE;
        goto out;
    }
    if (comment != NULL) {
        if ((c = malloc(clen + 1)) == NULL) {
            r = SSHCERT_ERR_ALLOC;
            goto out;
        }
        memcpy(c, cmt, clen);
        c[clen] = '\0';
        *comment = c;
        c = NULL;
    }
    *blob = b;
    b = NULL;
    r = 0;
out:
    free(c);
    sshcert_buf_free(peek);
    sshcert_buf_free(b);
    return r;
}

int
sshcert_pubkey_parse_line(const char *line, size_t len, struct sshcert_pubkey *out,
    char **comment)
{
    struct sshcert_buf *b = NULL;
    char *c = NULL;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (comment != NULL)
        *comment = NULL;
    if ((r = sshcert_key_line_decode(line, len, SSHCERT_KEY_TYPE_ED25519, &b,
             comment != NULL ? &c : NULL)) != 0)
        return r;
    if ((r = sshcert_pubkey_from_blob(b, out)) != 0) {
        free(c);
        sshcert_buf_free(b);
        return r;
    }
    sshcert_buf_free(b);
    if (comment != NULL)
        *comment = c;
    return 0;
}

int
sshcert_pubkey_to_line(const struct sshcert_pubkey *k, const char *comment, char **out)
{
    struct sshcert_buf *b = NULL;
    char *b64 = NULL, *line = NULL;
    size_t n;
    int r = SSHCERT_ERR_INTERNAL;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (k == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((b = sshcert_buf_new(256)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_pubkey_put_blob(b, k)) != 0)
        goto out;
    if ((r = sshcert_buf_to_base64(sshcert_buf_ptr(b), sshcert_buf_len(b), &b64)) != 0)
        goto out;
    n = strlen(SSHCERT_KEY_TYPE_ED25519) + 1 + strlen(b64) + 2 +
        (comment != NULL ? strlen(comment) : 0);
    if ((line = malloc(n)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if (comment != NULL && *comment != '\0')
        snprintf(line, n, "%s %s %s", SSHCERT_KEY_TYPE_ED25519, b64, comment);
    else
        snprintf(line, n, "%s %s", SSHCERT_KEY_TYPE_ED25519, b64);
    *out = line;
    r = 0;
out:
    free(b64);
    sshcert_buf_free(b);
    return r;
}

int
sshcert_pubkey_fingerprint(const struct sshcert_pubkey *k, char out[SSHCERT_FP_LEN])
{
    struct sshcert_buf *b;
    uint8_t h[crypto_hash_sha256_BYTES];
    int r;

    if (k == NULL || out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    out[0] = '\0';
    if ((b = sshcert_buf_new(128)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_pubkey_put_blob(b, k)) == 0) {
        crypto_hash_sha256(h, sshcert_buf_ptr(b), sshcert_buf_len(b));
        memcpy(out, "SHA256:", 7);
        sodium_bin2base64(out + 7, SSHCERT_FP_LEN - 7, h, sizeof(h),
            sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    }
    sshcert_buf_free(b);
    return r;
}

int
sshcert_pubkey_equal(const struct sshcert_pubkey *a, const struct sshcert_pubkey *b)
{
    return a != NULL && b != NULL && memcmp(a->pk, b->pk, sizeof(a->pk)) == 0;
}

int
sshcert_pubkey_verify(const struct sshcert_pubkey *k, const uint8_t sig[SSHCERT_ED25519_SIG_LEN],
    const uint8_t *msg, size_t len)
{
    if (k == NULL || sig == NULL || (msg == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    return crypto_sign_ed25519_verify_detached(sig, msg, len, k->pk) == 0 ? 0
                                                                           : SSHCERT_ERR_SIGNATURE;
}

int
sshcert_sig_from_blob(struct sshcert_buf *b, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    const uint8_t *t;
    size_t tlen;
    int r;

    if ((r = sshcert_buf_get_string_direct(b, &t, &tlen)) != 0)
        return r;
    if (tlen != strlen(SSHCERT_KEY_TYPE_ED25519) || memcmp(t, SSHCERT_KEY_TYPE_ED25519, tlen) != 0)
        return SSHCERT_ERR_KEY_TYPE;
    if ((r = sshcert_buf_get_string_fixed(b, sig, SSHCERT_ED25519_SIG_LEN)) != 0)
        return r;
    return sshcert_buf_expect_end(b);
}

int
sshcert_sig_put_blob(struct sshcert_buf *b, const uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    struct sshcert_buf *s;
    int r;

    if ((s = sshcert_buf_new(128)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_cstring(s, SSHCERT_KEY_TYPE_ED25519)) == 0 &&
        (r = sshcert_buf_put_string(s, sig, SSHCERT_ED25519_SIG_LEN)) == 0)
        r = sshcert_buf_put_stringb(b, s);
    sshcert_buf_free(s);
    return r;
}

/* ---- private keys ---- */

static struct sshcert_privkey *
privkey_alloc(void)
{
    struct sshcert_privkey *k;

    if ((k = calloc(1, sizeof(*k))) == NULL)
        return NULL;
    if ((k->sk = sshcert_secmem_alloc(SSHCERT_ED25519_SK_LEN)) == NULL) {
        free(k);
        return NULL;
    }
    if ((k->comment = strdup("")) == NULL) {
        sshcert_secmem_free(k->sk);
        free(k);
        return NULL;
    }
    return k;
}

void
sshcert_privkey_free(struct sshcert_privkey *k)
{
    if (k == NULL)
        return;
    sshcert_secmem_free(k->sk);
    free(k->comment);
    sshcert_secmem_wipe(k, sizeof(*k));
    free(k);
}

int
sshcert_privkey_generate(struct sshcert_privkey **out)
{
    struct sshcert_privkey *k;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((k = privkey_alloc()) == NULL)
        return SSHCERT_ERR_ALLOC;
    if (crypto_sign_ed25519_keypair(k->pub.pk, k->sk) != 0) {
        sshcert_privkey_free(k);
        return SSHCERT_ERR_CRYPTO;
    }
    *out = k;
    return 0;
}

void
sshcert_privkey_public(const struct sshcert_privkey *k, struct sshcert_pubkey *out)
{
    if (k != NULL && out != NULL)
        *out = k->pub;
}

const char *
sshcert_privkey_comment(const struct sshcert_privkey *k)
{
    return k == NULL ? "" : k->comment;
}

int
sshcert_privkey_set_comment(struct sshcert_privkey *k, const char *comment)
{
    char *c;

    if (k == NULL || comment == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (strlen(comment) > SSHCERT_MAX_COMMENT || strchr(comment, '\n') != NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((c = strdup(comment)) == NULL)
        return SSHCERT_ERR_ALLOC;
    free(k->comment);
    k->comment = c;
    return 0;
}

const uint8_t *
sshcert_privkey_secret(const struct sshcert_privkey *k)
{
    return k == NULL ? NULL : k->sk;
}

int
sshcert_privkey_sign(const struct sshcert_privkey *k, const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    if (k == NULL || sig == NULL || (msg == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (crypto_sign_ed25519_detached(sig, NULL, msg, len, k->sk) != 0)
        return SSHCERT_ERR_CRYPTO;
    return 0;
}

/* Extracts the base64 between the armour lines into a decoded buffer. */
static int
dearmour(const char *text, size_t len, struct sshcert_buf **out)
{
    const char *p, *end, *b, *e;
    struct sshcert_buf *d = NULL;
    int r;

    *out = NULL;
    if (len > SSHCERT_MAX_KEY_FILE)
        return SSHCERT_ERR_TOO_LARGE;
    if (memchr(text, '\0', len) != NULL)
        return SSHCERT_ERR_INVALID_FORMAT;
    end = text + len;
    p = text;
    /* Leading blank space is tolerated, anything else before the marker is not. */
    while (p < end && isspace((unsigned char)*p))
        p++;
    if ((size_t)(end - p) < strlen(MARK_BEGIN) || memcmp(p, MARK_BEGIN, strlen(MARK_BEGIN)) != 0)
        return SSHCERT_ERR_INVALID_FORMAT;
    b = p + strlen(MARK_BEGIN);
    e = memmem(b, (size_t)(end - b), MARK_END, strlen(MARK_END));
    if (e == NULL)
        return SSHCERT_ERR_INVALID_FORMAT;
    for (p = e + strlen(MARK_END); p < end; p++)
        if (!isspace((unsigned char)*p))
            return SSHCERT_ERR_TRAILING_DATA;
    if ((d = sshcert_buf_new(SSHCERT_MAX_KEY_FILE)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_base64(d, b, (size_t)(e - b), " \t\r\n")) != 0) {
        sshcert_buf_free(d);
        return r;
    }
    *out = d;
    return 0;
}

/* Parses the decrypted private section into k. */
static int
parse_private_section(struct sshcert_buf *priv, const struct sshcert_pubkey *outer,
    struct sshcert_privkey *k)
{
    uint32_t check1, check2;
    const uint8_t *pk, *sk;
    size_t pklen, sklen, i;
    uint8_t pad, derived[SSHCERT_ED25519_PK_LEN], tmp_sk[SSHCERT_ED25519_SK_LEN];
    char *comment = NULL;
    int r;

    if (sshcert_buf_len(priv) % KEY_BLOCK != 0)
        return SSHCERT_ERR_INVALID_FORMAT;
    if ((r = sshcert_buf_get_u32(priv, &check1)) != 0 ||
        (r = sshcert_buf_get_u32(priv, &check2)) != 0)
        return r;
    if (check1 != check2)
        return SSHCERT_ERR_INVALID_FORMAT;
    if ((r = sshcert_buf_get_expect_cstring(priv, SSHCERT_KEY_TYPE_ED25519)) != 0)
        return r == SSHCERT_ERR_INVALID_FORMAT ? SSHCERT_ERR_KEY_TYPE : r;
    if ((r = sshcert_buf_get_string_direct(priv, &pk, &pklen)) != 0 ||
        (r = sshcert_buf_get_string_direct(priv, &sk, &sklen)) != 0)
        return r;
    if (pklen != SSHCERT_ED25519_PK_LEN || sklen != SSHCERT_ED25519_SK_LEN)
        return SSHCERT_ERR_INVALID_FORMAT;
    /* The public key appears three times; all must agree. */
    if (memcmp(pk, outer->pk, pklen) != 0 || memcmp(sk + 32, pk, pklen) != 0)
        return SSHCERT_ERR_KEY_MISMATCH;
    if ((r = sshcert_buf_get_cstring(priv, &comment, SSHCERT_MAX_COMMENT)) != 0)
        return r;
    for (i = 1; sshcert_buf_len(priv) > 0; i++) {
        if ((r = sshcert_buf_get_u8(priv, &pad)) != 0 || pad != (uint8_t)i || i >= KEY_BLOCK) {
            free(comment);
            return r != 0 ? r : SSHCERT_ERR_INVALID_FORMAT;
        }
    }
    memcpy(k->sk, sk, SSHCERT_ED25519_SK_LEN);
    /* The seed must really produce the stated public key, or signatures would not verify. */
    crypto_sign_ed25519_seed_keypair(derived, tmp_sk, k->sk);
    sodium_memzero(tmp_sk, sizeof(tmp_sk));
    if (memcmp(derived, pk, SSHCERT_ED25519_PK_LEN) != 0) {
        free(comment);
        return SSHCERT_ERR_KEY_MISMATCH;
    }
    memcpy(k->pub.pk, pk, SSHCERT_ED25519_PK_LEN);
    free(k->comment);
    k->comment = comment;
    return 0;
}

int
sshcert_privkey_parse(const char *text, size_t len, struct sshcert_privkey **out)
{
    struct sshcert_buf *d = NULL, *pubb = NULL, *priv = NULL;
    struct sshcert_privkey *k = NULL;
    struct sshcert_pubkey pub;
    uint8_t magic[KEY_MAGIC_LEN];
    const uint8_t *cipher, *kdf, *kdfopts;
    size_t clen, klen, olen;
    uint32_t nkeys;
    int r = SSHCERT_ERR_INTERNAL;

    if (out == NULL || text == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((r = dearmour(text, len, &d)) != 0)
        goto out;
    if ((r = sshcert_buf_get_bytes(d, magic, sizeof(magic))) != 0)
        goto out;
    if (memcmp(magic, KEY_MAGIC, KEY_MAGIC_LEN) != 0) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        goto out;
    }
    if ((r = sshcert_buf_get_string_direct(d, &cipher, &clen)) != 0 ||
        (r = sshcert_buf_get_string_direct(d, &kdf, &klen)) != 0 ||
        (r = sshcert_buf_get_string_direct(d, &kdfopts, &olen)) != 0)
        goto out;
    if (clen != 4 || memcmp(cipher, "none", 4) != 0) {
        r = SSHCERT_ERR_ENCRYPTED_KEY;
        goto out;
    }
    if (klen != 4 || memcmp(kdf, "none", 4) != 0 || olen != 0) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        goto out;
    }
    if ((r = sshcert_buf_get_u32(d, &nkeys)) != 0)
        goto out;
    if (nkeys != 1) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        goto out;
    }
    if ((r = sshcert_buf_get_stringb(d, &pubb)) != 0 ||
        (r = sshcert_pubkey_from_blob(pubb, &pub)) != 0 ||
        (r = sshcert_buf_get_stringb(d, &priv)) != 0 ||
        (r = sshcert_buf_expect_end(d)) != 0)
        goto out;
    if ((k = privkey_alloc()) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = parse_private_section(priv, &pub, k)) != 0)
        goto out;
    *out = k;
    k = NULL;
    r = 0;
out:
    sshcert_privkey_free(k);
    sshcert_buf_free(priv);
    sshcert_buf_free(pubb);
    sshcert_buf_free(d);
    return r;
}

int
sshcert_privkey_to_text(const struct sshcert_privkey *k, char **out)
{
    struct sshcert_buf *d = NULL, *priv = NULL, *pubb = NULL;
    char *b64 = NULL, *text = NULL;
    uint32_t check;
    size_t i, n, blen, pos;
    int r = SSHCERT_ERR_INTERNAL;

    if (k == NULL || out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((d = sshcert_buf_new(SSHCERT_MAX_KEY_FILE)) == NULL ||
        (priv = sshcert_buf_new(SSHCERT_MAX_KEY_FILE)) == NULL ||
        (pubb = sshcert_buf_new(256)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    randombytes_buf(&check, sizeof(check));
    if ((r = sshcert_pubkey_put_blob(pubb, &k->pub)) != 0 ||
        (r = sshcert_buf_put_u32(priv, check)) != 0 ||
        (r = sshcert_buf_put_u32(priv, check)) != 0 ||
        (r = sshcert_buf_put_cstring(priv, SSHCERT_KEY_TYPE_ED25519)) != 0 ||
        (r = sshcert_buf_put_string(priv, k->pub.pk, SSHCERT_ED25519_PK_LEN)) != 0 ||
        (r = sshcert_buf_put_string(priv, k->sk, SSHCERT_ED25519_SK_LEN)) != 0 ||
        (r = sshcert_buf_put_cstring(priv, k->comment)) != 0)
        goto out;
    for (i = 1; sshcert_buf_len(priv) % KEY_BLOCK != 0; i++)
        if ((r = sshcert_buf_put_u8(priv, (uint8_t)i)) != 0)
            goto out;
    if ((r = sshcert_buf_put(d, KEY_MAGIC, KEY_MAGIC_LEN)) != 0 ||
        (r = sshcert_buf_put_cstring(d, "none")) != 0 ||
        (r = sshcert_buf_put_cstring(d, "none")) != 0 ||
        (r = sshcert_buf_put_string(d, NULL, 0)) != 0 ||
        (r = sshcert_buf_put_u32(d, 1)) != 0 ||
        (r = sshcert_buf_put_stringb(d, pubb)) != 0 ||
        (r = sshcert_buf_put_stringb(d, priv)) != 0)
        goto out;
    if ((r = sshcert_buf_to_base64(sshcert_buf_ptr(d), sshcert_buf_len(d), &b64)) != 0)
        goto out;
    blen = strlen(b64);
    n = strlen(MARK_BEGIN) + 1 + blen + blen / KEY_WRAP + 1 + strlen(MARK_END) + 2;
    if ((text = malloc(n)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    pos = (size_t)snprintf(text, n, "%s\n", MARK_BEGIN);
    for (i = 0; i < blen; i += KEY_WRAP) {
        size_t chunk = blen - i < KEY_WRAP ? blen - i : KEY_WRAP;
        memcpy(text + pos, b64 + i, chunk);
        pos += chunk;
        text[pos++] = '\n';
    }
    snprintf(text + pos, n - pos, "%s\n", MARK_END);
    *out = text;
    text = NULL;
    r = 0;
out:
    sshcert_secmem_free_str(b64);
    sshcert_secmem_free_str(text);
    sshcert_buf_free(d);
    sshcert_buf_free(priv);
    sshcert_buf_free(pubb);
    return r;
}

int
sshcert_privkey_load(const char *path, struct sshcert_privkey **out)
{
    char *text = NULL;
    size_t len;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((r = sshcert_file_read(path, SSHCERT_MAX_KEY_FILE, &text, &len)) != 0)
        return r;
    r = sshcert_privkey_parse(text, len, out);
    sshcert_secmem_free_len(text, len);
    return r;
}

static int
privkey_write(const struct sshcert_privkey *k, const char *path, int replace)
{
    char *text = NULL;
    int r;

    if ((r = sshcert_privkey_to_text(k, &text)) != 0)
        return r;
    r = replace ? sshcert_file_write_atomic(path, text, strlen(text), 0600)
                : sshcert_file_write_new(path, text, strlen(text), 0600);
    sshcert_secmem_free_str(text);
    return r;
}

int
sshcert_privkey_save(const struct sshcert_privkey *k, const char *path)
{
    return privkey_write(k, path, 1);
}

int
sshcert_privkey_save_new(const struct sshcert_privkey *k, const char *path)
{
    return privkey_write(k, path, 0);
}
