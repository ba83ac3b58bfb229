#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"

struct cert_opt {
    char *name;
    uint8_t *data; /* the raw data string's contents, malloc'd (may be NULL when len 0) */
    size_t len;
};

struct sshcert_cert {
    struct sshcert_pubkey key;
    int has_key;
    uint64_t serial;
    uint32_t type;
    char *key_id;
    char **principals;
    size_t nprincipals;
    uint64_t valid_after, valid_before;
    struct cert_opt *opts;
    size_t nopts;
    struct cert_opt *exts;
    size_t nexts;
    struct sshcert_pubkey ca;
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    struct sshcert_buf *blob; /* whole certificate, set by sign or parse */
    size_t signed_len;        /* bytes of blob covered by the signature */
};

int
sshcert_cert_signer_privkey(void *ctx, const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    return sshcert_privkey_sign((const struct sshcert_privkey *)ctx, msg, len, sig);
}

int
sshcert_cert_new(struct sshcert_cert **out)
{
    struct sshcert_cert *c;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((c->key_id = strdup("")) == NULL) {
        free(c);
        return SSHCERT_ERR_ALLOC;
    }
    c->type = SSHCERT_CERT_TYPE_USER;
    *out = c;
    return 0;
}

static void
opts_free(struct cert_opt *o, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(o[i].name);
        free(o[i].data);
    }
    free(o);
}

void
sshcert_cert_free(struct sshcert_cert *c)
{
    size_t i;

    if (c == NULL)
        return;
    free(c->key_id);
    for (i = 0; i < c->nprincipals; i++)
        free(c->principals[i]);
    free(c->principals);
    opts_free(c->opts, c->nopts);
    opts_free(c->exts, c->nexts);
    sshcert_buf_free(c->blob);
    free(c);
}

static void
unsign(struct sshcert_cert *c)
{
    sshcert_buf_free(c->blob);
    c->blob = NULL;
    c->signed_len = 0;
}

/* Text fields must be printable: sshd writes them to logs. */
static int
valid_text(const char *s, size_t max, int allow_empty, int allow_comma)
{
    size_t n = strlen(s), i;

    if (n > max)
        return SSHCERT_ERR_TOO_LARGE;
    if (n == 0 && !allow_empty)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || (!allow_comma && ch == ','))
            return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

int
sshcert_cert_set_key(struct sshcert_cert *c, const struct sshcert_pubkey *k)
{
    if (c == NULL || k == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    unsign(c);
    c->key = *k;
    c->has_key = 1;
    return 0;
}

int
sshcert_cert_set_serial(struct sshcert_cert *c, uint64_t serial)
{
    if (c == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    unsign(c);
    c->serial = serial;
    return 0;
}

int
sshcert_cert_set_type(struct sshcert_cert *c, uint32_t type)
{
    if (c == NULL || (type != SSHCERT_CERT_TYPE_USER && type != SSHCERT_CERT_TYPE_HOST))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    unsign(c);
    c->type = type;
    return 0;
}

int
sshcert_cert_set_key_id(struct sshcert_cert *c, const char *key_id)
{
    char *s;
    int r;

    if (c == NULL || key_id == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = valid_text(key_id, SSHCERT_MAX_KEY_ID, 1, 1)) != 0)
        return r;
    if ((s = strdup(key_id)) == NULL)
        return SSHCERT_ERR_ALLOC;
    unsign(c);
    free(c->key_id);
    c->key_id = s;
    return 0;
}

int
sshcert_cert_add_principal(struct sshcert_cert *c, const char *principal)
{
    char **np, *s;
    size_t i;
    int r;

    if (c == NULL || principal == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = valid_text(principal, SSHCERT_MAX_PRINCIPAL_LEN, 0, 0)) != 0)
        return r;
    for (i = 0; i < c->nprincipals; i++)
        if (strcmp(c->principals[i], principal) == 0)
            return SSHCERT_ERR_DUPLICATE;
    if (c->nprincipals >= SSHCERT_MAX_PRINCIPALS)
        return SSHCERT_ERR_TOO_LARGE;
    if ((s = strdup(principal)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((np = realloc(c->principals, (c->nprincipals + 1) * sizeof(*np))) == NULL) {
        free(s);
        return SSHCERT_ERR_ALLOC;
    }
    unsign(c);
    c->principals = np;
    c->principals[c->nprincipals++] = s;
    return 0;
}

int
sshcert_cert_set_validity(struct sshcert_cert *c, uint64_t valid_after, uint64_t valid_before)
{
    if (c == NULL || valid_after >= valid_before)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    unsign(c);
    c->valid_after = valid_after;
    c->valid_before = valid_before;
    return 0;
}

/* Inserts name (with data) keeping the array in strcmp order; names are unique. */
static int
opt_insert(struct cert_opt **arr, size_t *n, const char *name, const uint8_t *data, size_t len)
{
    struct cert_opt *na, o = {NULL, NULL, 0};
    size_t i, pos;
    int cmp;

    for (pos = 0; pos < *n; pos++) {
        if ((cmp = strcmp((*arr)[pos].name, name)) == 0)
            return SSHCERT_ERR_DUPLICATE;
        if (cmp > 0)
            break;
    }
    if (*n >= SSHCERT_MAX_CERT_OPTIONS)
        return SSHCERT_ERR_TOO_LARGE;
    if ((o.name = strdup(name)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if (len > 0) {
        if ((o.data = malloc(len)) == NULL) {
            free(o.name);
            return SSHCERT_ERR_ALLOC;
        }
        memcpy(o.data, data, len);
        o.len = len;
    }
    if ((na = realloc(*arr, (*n + 1) * sizeof(*na))) == NULL) {
        free(o.name);
        free(o.data);
        return SSHCERT_ERR_ALLOC;
    }
    for (i = *n; i > pos; i--)
        na[i] = na[i - 1];
    na[pos] = o;
    *arr = na;
    (*n)++;
    return 0;
}

int
sshcert_cert_set_option(struct sshcert_cert *c, const char *name, const char *value)
{
    struct sshcert_buf *d = NULL;
    int r;

    if (c == NULL || name == NULL || value == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = valid_text(name, SSHCERT_MAX_OPTION_NAME, 0, 0)) != 0)
        return r;
    if (strlen(value) + 4 > SSHCERT_MAX_OPTION_DATA)
        return SSHCERT_ERR_TOO_LARGE;
    /* Option data is itself a string holding the value: the double wrap of PROTOCOL.certkeys. */
    if ((d = sshcert_buf_new(SSHCERT_MAX_OPTION_DATA)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put_cstring(d, value)) == 0 &&
        (r = opt_insert(&c->opts, &c->nopts, name, sshcert_buf_ptr(d), sshcert_buf_len(d))) == 0)
        unsign(c);
    sshcert_buf_free(d);
    return r;
}

int
sshcert_cert_add_extension(struct sshcert_cert *c, const char *name)
{
    int r;

    if (c == NULL || name == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = valid_text(name, SSHCERT_MAX_OPTION_NAME, 0, 0)) != 0)
        return r;
    if ((r = opt_insert(&c->exts, &c->nexts, name, NULL, 0)) == 0)
        unsign(c);
    return r;
}

static int
put_opts(struct sshcert_buf *b, const struct cert_opt *o, size_t n)
{
    struct sshcert_buf *sec;
    size_t i;
    int r = 0;

    if ((sec = sshcert_buf_new(SSHCERT_MAX_CERT_BLOB)) == NULL)
        return SSHCERT_ERR_ALLOC;
    for (i = 0; i < n && r == 0; i++) {
        if ((r = sshcert_buf_put_cstring(sec, o[i].name)) == 0)
            r = sshcert_buf_put_string(sec, o[i].data, o[i].len);
    }
    if (r == 0)
        r = sshcert_buf_put_stringb(b, sec);
    sshcert_buf_free(sec);
    return r;
}

/* Fields 1..13 of the certificate (everything the signature covers). */
static int
encode_tbs(const struct sshcert_cert *c, const struct sshcert_pubkey *ca, struct sshcert_buf *b)
{
    uint8_t nonce[SSHCERT_CERT_NONCE_LEN];
    struct sshcert_buf *pr = NULL, *cab = NULL;
    size_t i;
    int r;

    randombytes_buf(nonce, sizeof(nonce));
    if ((pr = sshcert_buf_new(SSHCERT_MAX_CERT_BLOB)) == NULL ||
        (cab = sshcert_buf_new(128)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    for (i = 0; i < c->nprincipals; i++)
        if ((r = sshcert_buf_put_cstring(pr, c->principals[i])) != 0)
            goto out;
    if ((r = sshcert_pubkey_put_blob(cab, ca)) != 0)
        goto out;
    if ((r = sshcert_buf_put_cstring(b, SSHCERT_CERT_TYPE_ED25519)) != 0 ||
        (r = sshcert_buf_put_string(b, nonce, sizeof(nonce))) != 0 ||
        (r = sshcert_buf_put_string(b, c->key.pk, sizeof(c->key.pk))) != 0 ||
        (r = sshcert_buf_put_u64(b, c->serial)) != 0 ||
        (r = sshcert_buf_put_u32(b, c->type)) != 0 ||
        (r = sshcert_buf_put_cstring(b, c->key_id)) != 0 ||
        (r = sshcert_buf_put_stringb(b, pr)) != 0 ||
        (r = sshcert_buf_put_u64(b, c->valid_after)) != 0 ||
        (r = sshcert_buf_put_u64(b, c->valid_before)) != 0 ||
        (r = put_opts(b, c->opts, c->nopts)) != 0 ||
        (r = put_opts(b, c->exts, c->nexts)) != 0 ||
        (r = sshcert_buf_put_string(b, NULL, 0)) != 0 || /* reserved */
        (r = sshcert_buf_put_stringb(b, cab)) != 0)
        goto out;
    r = 0;
out:
    sshcert_buf_free(pr);
    sshcert_buf_free(cab);
    return r;
}

/*
 * 1 when signer is an in-process private key whose public half is ca_key, so its signatures
 * verify under ca_key: a sshcert_privkey only ever holds a seed with the public key derived
 * from it (the loader refuses a file where they disagree). Verifying costs 2.5 times the
 * signing itself and was the largest single cost of a server issuance, so such a signer is
 * checked by this comparison instead. SSHCERT_ERR_SIGNATURE for an in-process key of another
 * CA (what verifying its signature would say); 0 for any other signer, whose signature the
 * caller verifies.
 */
static int
signer_is_ca(sshcert_signer_fn signer, void *ctx, const struct sshcert_pubkey *ca_key)
{
    struct sshcert_pubkey pub;

    if (signer != sshcert_cert_signer_privkey || ctx == NULL)
        return 0;
    sshcert_privkey_public((const struct sshcert_privkey *)ctx, &pub);
    return sshcert_pubkey_equal(&pub, ca_key) ? 1 : SSHCERT_ERR_SIGNATURE;
}

int
sshcert_cert_sign(struct sshcert_cert *c, const struct sshcert_pubkey *ca_key,
    sshcert_signer_fn signer, void *signer_ctx)
{
    struct sshcert_buf *b = NULL;
    uint8_t sig[SSHCERT_ED25519_SIG_LEN];
    size_t tbs_len;
    int is_ca, r = SSHCERT_ERR_INTERNAL;

    if (c == NULL || ca_key == NULL || signer == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (!c->has_key || c->valid_after >= c->valid_before)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (c->nprincipals == 0)
        return SSHCERT_ERR_NO_PRINCIPALS;
    unsign(c);
    if ((b = sshcert_buf_new(SSHCERT_MAX_CERT_BLOB)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = encode_tbs(c, ca_key, b)) != 0)
        goto out;
    tbs_len = sshcert_buf_len(b);
    if ((r = signer(signer_ctx, sshcert_buf_ptr(b), tbs_len, sig)) != 0)
        goto out;
    /* A signer that is not the CA key (wrong file, broken token) must not yield a cert. */
    if ((is_ca = signer_is_ca(signer, signer_ctx, ca_key)) < 0) {
        r = is_ca;
        goto out;
    }
    if (!is_ca && (r = sshcert_pubkey_verify(ca_key, sig, sshcert_buf_ptr(b), tbs_len)) != 0)
        goto out;
    if ((r = sshcert_sig_put_blob(b, sig)) != 0)
        goto out;
    memcpy(c->sig, sig, sizeof(sig));
    c->ca = *ca_key;
    c->signed_len = tbs_len;
    c->blob = b;
    b = NULL;
    r = 0;
out:
    sshcert_buf_free(b);
    return r;
}

int
sshcert_cert_blob(const struct sshcert_cert *c, const uint8_t **blob, size_t *len)
{
    if (blob != NULL)
        *blob = NULL;
    if (len != NULL)
        *len = 0;
    if (c == NULL || blob == NULL || len == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (c->blob == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *blob = sshcert_buf_ptr(c->blob);
    *len = sshcert_buf_len(c->blob);
    return 0;
}

int
sshcert_cert_to_line(const struct sshcert_cert *c, const char *comment, char **out)
{
    const uint8_t *blob;
    char *b64 = NULL, *line;
    size_t blen, n;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((r = sshcert_cert_blob(c, &blob, &blen)) != 0)
        return r;
    if ((r = sshcert_buf_to_base64(blob, blen, &b64)) != 0)
        return r;
    n = strlen(SSHCERT_CERT_TYPE_ED25519) + strlen(b64) + 3 + (comment ? strlen(comment) : 0);
    if ((line = malloc(n)) == NULL) {
        free(b64);
        return SSHCERT_ERR_ALLOC;
    }
    if (comment != NULL && *comment != '\0')
        snprintf(line, n, "%s %s %s", SSHCERT_CERT_TYPE_ED25519, b64, comment);
    else
        snprintf(line, n, "%s %s", SSHCERT_CERT_TYPE_ED25519, b64);
    free(b64);
    *out = line;
    return 0;
}

/* Parses a critical-options or extensions section; names strictly increasing. */
static int
parse_opts(struct sshcert_buf *sec, struct cert_opt **arr, size_t *n)
{
    const uint8_t *data;
    size_t dlen;
    char *name = NULL;
    int r = 0;

    while (sshcert_buf_len(sec) > 0) {
        if ((r = sshcert_buf_get_cstring(sec, &name, SSHCERT_MAX_OPTION_NAME)) != 0)
            break;
        if ((r = sshcert_buf_get_string_direct(sec, &data, &dlen)) != 0)
            break;
        if (dlen > SSHCERT_MAX_OPTION_DATA) {
            r = SSHCERT_ERR_TOO_LARGE;
            break;
        }
        if (*n > 0 && strcmp((*arr)[*n - 1].name, name) >= 0) {
            r = SSHCERT_ERR_INVALID_FORMAT; /* unsorted or duplicate */
            break;
        }
        if ((r = opt_insert(arr, n, name, data, dlen)) != 0)
            break;
        free(name);
        name = NULL;
    }
    free(name);
    return r;
}

static int
parse_principals(struct sshcert_buf *pb, struct sshcert_cert *c)
{
    char *p = NULL, **np;
    int r;

    while (sshcert_buf_len(pb) > 0) {
        if (c->nprincipals >= SSHCERT_MAX_PRINCIPALS)
            return SSHCERT_ERR_TOO_LARGE;
        if ((r = sshcert_buf_get_cstring(pb, &p, SSHCERT_MAX_PRINCIPAL_LEN)) != 0)
            return r;
        if ((np = realloc(c->principals, (c->nprincipals + 1) * sizeof(*np))) == NULL) {
            free(p);
            return SSHCERT_ERR_ALLOC;
        }
        c->principals = np;
        c->principals[c->nprincipals++] = p;
    }
    return 0;
}

int
sshcert_cert_parse_blob(const uint8_t *blob, size_t len, struct sshcert_cert **out)
{
    struct sshcert_buf *b = NULL, *pb = NULL, *ob = NULL, *eb = NULL, *cab = NULL, *sb = NULL;
    struct sshcert_cert *c = NULL;
    const uint8_t *type, *nonce, *reserved;
    size_t tlen, nlen, rlen;
    int r = SSHCERT_ERR_INTERNAL;

    if (out == NULL || (blob == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (len > SSHCERT_MAX_CERT_BLOB)
        return SSHCERT_ERR_TOO_LARGE;
    if ((r = sshcert_cert_new(&c)) != 0)
        return r;
    if ((b = sshcert_buf_from(blob, len)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = sshcert_buf_get_string_direct(b, &type, &tlen)) != 0)
        goto out;
    if (tlen != strlen(SSHCERT_CERT_TYPE_ED25519) ||
        memcmp(type, SSHCERT_CERT_TYPE_ED25519, tlen) != 0) {
        r = SSHCERT_ERR_KEY_TYPE;
        goto out;
    }
    if ((r = sshcert_buf_get_string_direct(b, &nonce, &nlen)) != 0 ||
        (r = sshcert_buf_get_string_fixed(b, c->key.pk, sizeof(c->key.pk))) != 0 ||
        (r = sshcert_buf_get_u64(b, &c->serial)) != 0 ||
        (r = sshcert_buf_get_u32(b, &c->type)) != 0)
        goto out;
    c->has_key = 1;
    if (c->type != SSHCERT_CERT_TYPE_USER && c->type != SSHCERT_CERT_TYPE_HOST) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        goto out;
    }
    free(c->key_id);
    c->key_id = NULL;
    if ((r = sshcert_buf_get_cstring(b, &c->key_id, SSHCERT_MAX_KEY_ID)) != 0 ||
        (r = sshcert_buf_get_stringb(b, &pb)) != 0 ||
        (r = parse_principals(pb, c)) != 0 ||
        (r = sshcert_buf_get_u64(b, &c->valid_after)) != 0 ||
        (r = sshcert_buf_get_u64(b, &c->valid_before)) != 0 ||
        (r = sshcert_buf_get_stringb(b, &ob)) != 0 ||
        (r = parse_opts(ob, &c->opts, &c->nopts)) != 0 ||
        (r = sshcert_buf_get_stringb(b, &eb)) != 0 ||
        (r = parse_opts(eb, &c->exts, &c->nexts)) != 0 ||
        (r = sshcert_buf_get_string_direct(b, &reserved, &rlen)) != 0 ||
        (r = sshcert_buf_get_stringb(b, &cab)) != 0 ||
        (r = sshcert_pubkey_from_blob(cab, &c->ca)) != 0)
        goto out;
    c->signed_len = len - sshcert_buf_len(b);
    if ((r = sshcert_buf_get_stringb(b, &sb)) != 0 ||
        (r = sshcert_sig_from_blob(sb, c->sig)) != 0 ||
        (r = sshcert_buf_expect_end(b)) != 0)
        goto out;
    if ((c->blob = sshcert_buf_new(SSHCERT_MAX_CERT_BLOB)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = sshcert_buf_put(c->blob, blob, len)) != 0)
        goto out;
    *out = c;
    c = NULL;
    r = 0;
out:
    sshcert_buf_free(b);
    sshcert_buf_free(pb);
    sshcert_buf_free(ob);
    sshcert_buf_free(eb);
    sshcert_buf_free(cab);
    sshcert_buf_free(sb);
    sshcert_cert_free(c);
    return r;
}

int
sshcert_cert_parse_line(const char *line, size_t len, struct sshcert_cert **out, char **comment)
{
    struct sshcert_buf *b = NULL;
    char *cmt = NULL;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (comment != NULL)
        *comment = NULL;
    if ((r = sshcert_key_line_decode(line, len, SSHCERT_CERT_TYPE_ED25519, &b,
             comment != NULL ? &cmt : NULL)) != 0)
        return r;
    r = sshcert_cert_parse_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), out);
    sshcert_buf_free(b);
    if (r != 0) {
        free(cmt);
        return r;
    }
    if (comment != NULL)
        *comment = cmt;
    return 0;
}

int
sshcert_cert_verify(const struct sshcert_cert *c)
{
    if (c == NULL || c->blob == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    return sshcert_pubkey_verify(&c->ca, c->sig, sshcert_buf_ptr(c->blob), c->signed_len);
}

int
sshcert_cert_check_time(const struct sshcert_cert *c, uint64_t now)
{
    if (c == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (now < c->valid_after)
        return SSHCERT_ERR_NOT_YET_VALID;
    if (now >= c->valid_before)
        return SSHCERT_ERR_EXPIRED;
    return 0;
}

int
sshcert_cert_check_time_now(const struct sshcert_cert *c)
{
    return sshcert_cert_check_time(c, (uint64_t)time(NULL));
}

int
sshcert_cert_check_principal(const struct sshcert_cert *c, const char *name)
{
    size_t i;

    if (c == NULL || name == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (c->nprincipals == 0)
        return SSHCERT_ERR_NO_PRINCIPALS;
    for (i = 0; i < c->nprincipals; i++)
        if (strcmp(c->principals[i], name) == 0)
            return 0;
    return SSHCERT_ERR_PRINCIPAL;
}

const struct sshcert_pubkey *
sshcert_cert_key(const struct sshcert_cert *c)
{
    return c == NULL || !c->has_key ? NULL : &c->key;
}

const struct sshcert_pubkey *
sshcert_cert_ca_key(const struct sshcert_cert *c)
{
    return c == NULL || c->blob == NULL ? NULL : &c->ca; /* only a signed one has a CA */
}

uint64_t
sshcert_cert_serial(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->serial;
}

uint32_t
sshcert_cert_type(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->type;
}

const char *
sshcert_cert_key_id(const struct sshcert_cert *c)
{
    return c == NULL ? NULL : c->key_id;
}

size_t
sshcert_cert_principal_count(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->nprincipals;
}

const char *
sshcert_cert_principal(const struct sshcert_cert *c, size_t i)
{
    return c == NULL || i >= c->nprincipals ? NULL : c->principals[i];
}

uint64_t
sshcert_cert_valid_after(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->valid_after;
}

uint64_t
sshcert_cert_valid_before(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->valid_before;
}

size_t
sshcert_cert_option_count(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->nopts;
}

const char *
sshcert_cert_option_name(const struct sshcert_cert *c, size_t i)
{
    return c == NULL || i >= c->nopts ? NULL : c->opts[i].name;
}

int
sshcert_cert_option_value(const struct sshcert_cert *c, const char *name, char **value)
{
    struct sshcert_buf *b;
    size_t i;
    int r;

    if (value == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *value = NULL;
    if (c == NULL || name == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < c->nopts; i++) {
        if (strcmp(c->opts[i].name, name) != 0)
            continue;
        if ((b = sshcert_buf_from(c->opts[i].data, c->opts[i].len)) == NULL)
            return SSHCERT_ERR_ALLOC;
        if ((r = sshcert_buf_get_cstring(b, value, SSHCERT_MAX_OPTION_DATA)) == 0 &&
            (r = sshcert_buf_expect_end(b)) != 0) {
            free(*value);
            *value = NULL;
            r = SSHCERT_ERR_INVALID_FORMAT;
        }
        sshcert_buf_free(b);
        return r == SSHCERT_ERR_TRUNCATED ? SSHCERT_ERR_INVALID_FORMAT : r;
    }
    return SSHCERT_ERR_NOT_FOUND;
}

size_t
sshcert_cert_extension_count(const struct sshcert_cert *c)
{
    return c == NULL ? 0 : c->nexts;
}

const char *
sshcert_cert_extension_name(const struct sshcert_cert *c, size_t i)
{
    return c == NULL || i >= c->nexts ? NULL : c->exts[i].name;
}
