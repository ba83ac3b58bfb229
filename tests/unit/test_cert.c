/* Unit tests for lib/cert.c: building, canonical encoding, signing, parsing, verifying. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "secmem.h"

#include "../fixtures/fixtures.h"

static struct sshcert_privkey *ca_priv, *other_priv;
static struct sshcert_pubkey ca_pub, other_pub, user_pub;

/* ---- helpers ---- */

static struct sshcert_buf *
new_buf(void)
{
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_non_null(b);
    return b;
}

static int
sign_ca(struct sshcert_cert *c)
{
    return sshcert_cert_sign(c, &ca_pub, sshcert_cert_signer_privkey, ca_priv);
}

/* A certificate with every field set, unsigned. */
static struct sshcert_cert *
full_cert(void)
{
    struct sshcert_cert *c = NULL;

    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_set_key(c, &user_pub), 0);
    assert_int_equal(sshcert_cert_set_serial(c, 0xfedcba9876543210ull), 0);
    assert_int_equal(sshcert_cert_set_key_id(c, "alice@example.com via sshcert"), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "alice"), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "root"), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "bob"), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 1700000000, 1700086400), 0);
    assert_int_equal(sshcert_cert_set_option(c, "source-address", "10.0.0.0/8,127.0.0.1/32"), 0);
    assert_int_equal(sshcert_cert_set_option(c, "force-command", "/bin/echo hi"), 0);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-pty"), 0);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-agent-forwarding"), 0);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-X11-forwarding"), 0);
    return c;
}

/* Where each of the 14 top-level fields of a blob starts and how long it is (prefix
 * included), found independently of cert.c. */
struct fields {
    size_t off[14], len[14];
};

static void
split_fields(const uint8_t *blob, size_t len, struct fields *f)
{
    /* 's' string, '8' uint64, '4' uint32 */
    static const char kinds[] = "sss84ss88sssss";
    struct sshcert_buf *b = sshcert_buf_from(blob, len);
    size_t i, before;

    assert_non_null(b);
    for (i = 0; i < 14; i++) {
        before = sshcert_buf_len(b);
        f->off[i] = len - before;
        if (kinds[i] == 's')
            assert_int_equal(sshcert_buf_get_string_direct(b, NULL, NULL), 0);
        else
            assert_int_equal(sshcert_buf_skip(b, kinds[i] == '8' ? 8u : 4u), 0);
        f->len[i] = before - sshcert_buf_len(b);
    }
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    sshcert_buf_free(b);
}

static void
cert_blob(const struct sshcert_cert *c, const uint8_t **p, size_t *n)
{
    assert_int_equal(sshcert_cert_blob(c, p, n), 0);
}

/* Section contents: (name, data) pairs. */
static void
put_pair(struct sshcert_buf *sec, const char *name, const void *data, size_t len)
{
    assert_int_equal(sshcert_buf_put_cstring(sec, name), 0);
    assert_int_equal(sshcert_buf_put_string(sec, data, len), 0);
}

static void
put_value(struct sshcert_buf *sec, const char *name, const char *value)
{
    struct sshcert_buf *d = new_buf();

    assert_int_equal(sshcert_buf_put_cstring(d, value), 0);
    put_pair(sec, name, sshcert_buf_ptr(d), sshcert_buf_len(d));
    sshcert_buf_free(d);
}

/* A hand-made certificate: every field settable, signed with the real CA key over exactly
 * the bytes of fields 1..13. */
struct cspec {
    const char *type;
    size_t nonce_len;
    size_t pk_len;
    uint64_t serial;
    uint32_t ctype;
    const char *key_id;
    size_t key_id_len;
    struct sshcert_buf *principals, *opts, *exts;
    uint64_t after, before;
    size_t reserved_len;
    const char *ca_type;
    const char *sig_type;
    size_t sig_len, sig_extra, trailing;
};

static void
spec_init(struct cspec *s)
{
    memset(s, 0, sizeof(*s));
    s->type = SSHCERT_CERT_TYPE_ED25519;
    s->nonce_len = 32;
    s->pk_len = 32;
    s->serial = 9;
    s->ctype = SSHCERT_CERT_TYPE_USER;
    s->key_id = "hand made";
    s->key_id_len = strlen(s->key_id);
    s->principals = new_buf();
    s->opts = new_buf();
    s->exts = new_buf();
    assert_int_equal(sshcert_buf_put_cstring(s->principals, "alice"), 0);
    s->after = 100;
    s->before = 200;
    s->ca_type = "ssh-ed25519";
    s->sig_type = "ssh-ed25519";
    s->sig_len = 64;
}

static void
spec_free(struct cspec *s)
{
    sshcert_buf_free(s->principals);
    sshcert_buf_free(s->opts);
    sshcert_buf_free(s->exts);
}

static struct sshcert_buf *
spec_blob(const struct cspec *s)
{
    struct sshcert_buf *b = sshcert_buf_new(SSHCERT_MAX_CERT_BLOB * 2), *ca = new_buf(),
                       *sig = new_buf();
    uint8_t *zero, raw[65];
    size_t i;

    assert_non_null(b);
    assert_non_null(zero = calloc(1, s->nonce_len + s->reserved_len + 64));
    assert_int_equal(sshcert_buf_put_cstring(b, s->type), 0);
    assert_int_equal(sshcert_buf_put_string(b, zero, s->nonce_len), 0);
    assert_int_equal(sshcert_buf_put_string(b, user_pub.pk, s->pk_len), 0);
    assert_int_equal(sshcert_buf_put_u64(b, s->serial), 0);
    assert_int_equal(sshcert_buf_put_u32(b, s->ctype), 0);
    assert_int_equal(sshcert_buf_put_string(b, s->key_id, s->key_id_len), 0);
    assert_int_equal(sshcert_buf_put_stringb(b, s->principals), 0);
    assert_int_equal(sshcert_buf_put_u64(b, s->after), 0);
    assert_int_equal(sshcert_buf_put_u64(b, s->before), 0);
    assert_int_equal(sshcert_buf_put_stringb(b, s->opts), 0);
    assert_int_equal(sshcert_buf_put_stringb(b, s->exts), 0);
    assert_int_equal(sshcert_buf_put_string(b, zero, s->reserved_len), 0);
    assert_int_equal(sshcert_buf_put_cstring(ca, s->ca_type), 0);
    assert_int_equal(sshcert_buf_put_string(ca, ca_pub.pk, 32), 0);
    assert_int_equal(sshcert_buf_put_stringb(b, ca), 0);
    assert_int_equal(sshcert_privkey_sign(ca_priv, sshcert_buf_ptr(b), sshcert_buf_len(b), raw), 0);
    raw[64] = 0;
    assert_int_equal(sshcert_buf_put_cstring(sig, s->sig_type), 0);
    assert_int_equal(sshcert_buf_put_string(sig, raw, s->sig_len), 0);
    for (i = 0; i < s->sig_extra; i++)
        assert_int_equal(sshcert_buf_put_u8(sig, 0), 0);
    assert_int_equal(sshcert_buf_put_stringb(b, sig), 0);
    for (i = 0; i < s->trailing; i++)
        assert_int_equal(sshcert_buf_put_u8(b, 0), 0);
    free(zero);
    sshcert_buf_free(ca);
    sshcert_buf_free(sig);
    return b;
}

/* Parses the spec's blob; on success also verifies the signature (which must hold). */
static int
spec_parse(const struct cspec *s, struct sshcert_cert **out)
{
    struct sshcert_buf *b = spec_blob(s);
    struct sshcert_cert *c = NULL;
    int r;

    r = sshcert_cert_parse_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), &c);
    if (r == 0) {
        assert_int_equal(sshcert_cert_verify(c), 0);
    } else {
        assert_null(c);
    }
    sshcert_buf_free(b);
    if (out != NULL)
        *out = c;
    else
        sshcert_cert_free(c);
    return r;
}

/* ---- signers ---- */

static int
signer_other_key(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    (void)ctx;
    return sshcert_privkey_sign(other_priv, msg, len, sig);
}

static int
signer_fails(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    (void)ctx;
    (void)msg;
    (void)len;
    memset(sig, 0, SSHCERT_ED25519_SIG_LEN);
    return SSHCERT_ERR_AGENT;
}

static int
signer_zeros(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    (void)ctx;
    (void)msg;
    (void)len;
    memset(sig, 0, SSHCERT_ED25519_SIG_LEN);
    return 0;
}

/* Records what it was asked to sign, then signs with the CA. */
struct recorder {
    uint8_t *msg;
    size_t len;
    int calls;
};

static int
signer_record(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    struct recorder *rec = ctx;

    free(rec->msg);
    assert_non_null(rec->msg = malloc(len));
    memcpy(rec->msg, msg, len);
    rec->len = len;
    rec->calls++;
    return sshcert_privkey_sign(ca_priv, msg, len, sig);
}

/* ---- tests ---- */

static void
test_roundtrip_every_field(void **state)
{
    struct sshcert_cert *c = full_cert(), *p = NULL, *q = NULL;
    const uint8_t *blob, *blob2;
    size_t len, len2;
    char *v = NULL, *line = NULL, *comment = NULL;

    (void)state;
    assert_int_equal(sign_ca(c), 0);
    assert_int_equal(sshcert_cert_verify(c), 0);
    cert_blob(c, &blob, &len);
    assert_int_equal(sshcert_cert_parse_blob(blob, len, &p), 0);
    assert_int_equal(sshcert_cert_verify(p), 0);

    assert_true(sshcert_pubkey_equal(sshcert_cert_key(p), &user_pub));
    assert_true(sshcert_pubkey_equal(sshcert_cert_ca_key(p), &ca_pub));
    assert_true(sshcert_cert_serial(p) == 0xfedcba9876543210ull);
    assert_int_equal(sshcert_cert_type(p), SSHCERT_CERT_TYPE_USER);
    assert_string_equal(sshcert_cert_key_id(p), "alice@example.com via sshcert");
    /* Principals keep their insertion order. */
    assert_int_equal(sshcert_cert_principal_count(p), 3);
    assert_string_equal(sshcert_cert_principal(p, 0), "alice");
    assert_string_equal(sshcert_cert_principal(p, 1), "root");
    assert_string_equal(sshcert_cert_principal(p, 2), "bob");
    assert_null(sshcert_cert_principal(p, 3));
    assert_true(sshcert_cert_valid_after(p) == 1700000000);
    assert_true(sshcert_cert_valid_before(p) == 1700086400);
    /* Options and extensions come back sorted. */
    assert_int_equal(sshcert_cert_option_count(p), 2);
    assert_string_equal(sshcert_cert_option_name(p, 0), "force-command");
    assert_string_equal(sshcert_cert_option_name(p, 1), "source-address");
    assert_null(sshcert_cert_option_name(p, 2));
    assert_int_equal(sshcert_cert_option_value(p, "force-command", &v), 0);
    assert_string_equal(v, "/bin/echo hi");
    free(v);
    assert_int_equal(sshcert_cert_option_value(p, "source-address", &v), 0);
    assert_string_equal(v, "10.0.0.0/8,127.0.0.1/32");
    free(v);
    assert_int_equal(sshcert_cert_option_value(p, "verify-required", &v), SSHCERT_ERR_NOT_FOUND);
    assert_null(v);
    assert_int_equal(sshcert_cert_extension_count(p), 3);
    assert_string_equal(sshcert_cert_extension_name(p, 0), "permit-X11-forwarding");
    assert_string_equal(sshcert_cert_extension_name(p, 1), "permit-agent-forwarding");
    assert_string_equal(sshcert_cert_extension_name(p, 2), "permit-pty");
    assert_null(sshcert_cert_extension_name(p, 3));
    /* The parsed certificate keeps the exact bytes. */
    cert_blob(p, &blob2, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(blob2, blob, len);

    /* The one-line form, with and without a comment. */
    assert_int_equal(sshcert_cert_to_line(c, "alice@laptop", &line), 0);
    assert_memory_equal(line, SSHCERT_CERT_TYPE_ED25519 " ", strlen(SSHCERT_CERT_TYPE_ED25519) + 1);
    assert_string_equal(line + strlen(line) - 13, " alice@laptop");
    assert_int_equal(sshcert_cert_parse_line(line, strlen(line), &q, &comment), 0);
    assert_string_equal(comment, "alice@laptop");
    cert_blob(q, &blob2, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(blob2, blob, len);
    free(comment);
    free(line);
    sshcert_cert_free(q);
    assert_int_equal(sshcert_cert_to_line(c, NULL, &line), 0);
    assert_null(strchr(strchr(line, ' ') + 1, ' '));
    free(line);

    sshcert_cert_free(p);
    sshcert_cert_free(c);
}

/* The encoding, checked field by field against the format rather than against cert.c. */
static void
test_encoding_layout(void **state)
{
    struct sshcert_cert *c = full_cert();
    struct sshcert_buf *b = new_buf();
    struct fields f;
    const uint8_t *blob;
    size_t len;

    (void)state;
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len);
    split_fields(blob, len, &f);
    assert_int_equal(f.len[0], 4 + 32);
    assert_memory_equal(blob, "\0\0\0\40" SSHCERT_CERT_TYPE_ED25519, 36);
    assert_int_equal(f.len[1], 4 + 32); /* nonce */
    assert_int_equal(f.len[2], 4 + 32);
    assert_memory_equal(blob + f.off[2] + 4, user_pub.pk, 32);
    assert_memory_equal(blob + f.off[3], "\xfe\xdc\xba\x98\x76\x54\x32\x10", 8);
    assert_memory_equal(blob + f.off[4], "\0\0\0\1", 4);
    assert_int_equal(f.len[6], 4 + 24);
    assert_memory_equal(blob + f.off[6], "\0\0\0\x18" "\0\0\0\5alice\0\0\0\4root\0\0\0\3bob", 28);
    assert_memory_equal(blob + f.off[7], "\0\0\0\0\x65\x53\xf1\x00", 8);
    assert_memory_equal(blob + f.off[8], "\0\0\0\0\x65\x55\x42\x80", 8);
    /* Values doubly wrapped, names sorted. */
    assert_int_equal(f.len[9], 4 + 4 + 13 + 4 + 4 + 12 + 4 + 14 + 4 + 4 + 23);
    assert_memory_equal(blob + f.off[9] + 4,
        "\0\0\0\x0d" "force-command" "\0\0\0\x10" "\0\0\0\x0c" "/bin/echo hi"
        "\0\0\0\x0e" "source-address" "\0\0\0\x1b" "\0\0\0\x17" "10.0.0.0/8,127.0.0.1/32",
        f.len[9] - 4);
    /* Flags have empty data; 'X' sorts before 'a'. */
    assert_memory_equal(blob + f.off[10] + 4,
        "\0\0\0\x15" "permit-X11-forwarding" "\0\0\0\0"
        "\0\0\0\x17" "permit-agent-forwarding" "\0\0\0\0"
        "\0\0\0\x0a" "permit-pty" "\0\0\0\0",
        f.len[10] - 4);
    assert_int_equal(f.len[11], 4);
    assert_memory_equal(blob + f.off[11], "\0\0\0\0", 4); /* reserved */
    assert_int_equal(sshcert_pubkey_put_blob(b, &ca_pub), 0);
    assert_int_equal(f.len[12], 4 + 51);
    assert_memory_equal(blob + f.off[12] + 4, sshcert_buf_ptr(b), 51);
    assert_int_equal(f.len[13], 4 + 83);
    assert_memory_equal(blob + f.off[13], "\0\0\0\x53\0\0\0\13ssh-ed25519\0\0\0\x40", 23);
    /* The signature covers fields 1..13 exactly. */
    assert_int_equal(sshcert_pubkey_verify(&ca_pub, blob + f.off[13] + 23, blob, f.off[13]), 0);
    assert_int_equal(f.off[13] + f.len[13], len);
    sshcert_buf_free(b);
    sshcert_cert_free(c);
}

static void
test_host_type(void **state)
{
    struct sshcert_cert *c = full_cert(), *p = NULL;
    const uint8_t *blob;
    size_t len;

    (void)state;
    assert_int_equal(sshcert_cert_type(c), SSHCERT_CERT_TYPE_USER);
    assert_int_equal(sshcert_cert_set_type(c, 3), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_type(c, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_type(c, SSHCERT_CERT_TYPE_HOST), 0);
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len);
    assert_int_equal(sshcert_cert_parse_blob(blob, len, &p), 0);
    assert_int_equal(sshcert_cert_type(p), SSHCERT_CERT_TYPE_HOST);
    sshcert_cert_free(p);
    sshcert_cert_free(c);
}

/* The options and extensions sections are the same bytes whatever the insertion order. */
static void
test_canonical_order(void **state)
{
    static const char *exts[] = {"permit-user-rc", "permit-pty", "permit-port-forwarding",
        "permit-agent-forwarding", "permit-X11-forwarding", "no-touch-required", "Z-custom",
        "a@example.com"};
    static const char *opts[][2] = {{"verify-required", ""}, {"source-address", "::1"},
        {"force-command", "true"}, {"Zeta", "z"}, {"a", "b"}};
    struct sshcert_cert *c1 = NULL, *c2 = NULL;
    const uint8_t *b1, *b2;
    size_t l1, l2, i, n_e = sizeof(exts) / sizeof(exts[0]), n_o = sizeof(opts) / sizeof(opts[0]);
    struct fields f1, f2;

    (void)state;
    assert_int_equal(sshcert_cert_new(&c1), 0);
    assert_int_equal(sshcert_cert_new(&c2), 0);
    for (i = 0; i < n_e; i++) {
        assert_int_equal(sshcert_cert_add_extension(c1, exts[i]), 0);
        assert_int_equal(sshcert_cert_add_extension(c2, exts[n_e - 1 - i]), 0);
    }
    for (i = 0; i < n_o; i++) {
        assert_int_equal(sshcert_cert_set_option(c1, opts[i][0], opts[i][1]), 0);
        assert_int_equal(sshcert_cert_set_option(c2, opts[(i + 2) % n_o][0], opts[(i + 2) % n_o][1]),
            0);
    }
    assert_int_equal(sshcert_cert_set_key(c1, &user_pub), 0);
    assert_int_equal(sshcert_cert_set_key(c2, &user_pub), 0);
    assert_int_equal(sshcert_cert_add_principal(c1, "p"), 0);
    assert_int_equal(sshcert_cert_add_principal(c2, "p"), 0);
    assert_int_equal(sshcert_cert_set_validity(c1, 1, 2), 0);
    assert_int_equal(sshcert_cert_set_validity(c2, 1, 2), 0);
    assert_int_equal(sign_ca(c1), 0);
    assert_int_equal(sign_ca(c2), 0);
    cert_blob(c1, &b1, &l1);
    cert_blob(c2, &b2, &l2);
    assert_int_equal(l1, l2);
    split_fields(b1, l1, &f1);
    split_fields(b2, l2, &f2);
    for (i = 9; i <= 10; i++) {
        assert_int_equal(f1.len[i], f2.len[i]);
        assert_memory_equal(b1 + f1.off[i], b2 + f2.off[i], f1.len[i]);
    }
    /* Byte order: uppercase before lowercase. */
    assert_string_equal(sshcert_cert_extension_name(c1, 0), "Z-custom");
    assert_string_equal(sshcert_cert_extension_name(c1, 1), "a@example.com");
    assert_string_equal(sshcert_cert_extension_name(c1, 2), "no-touch-required");
    assert_string_equal(sshcert_cert_extension_name(c1, 3), "permit-X11-forwarding");
    assert_string_equal(sshcert_cert_extension_name(c1, 4), "permit-agent-forwarding");
    assert_string_equal(sshcert_cert_extension_name(c1, 7), "permit-user-rc");
    assert_string_equal(sshcert_cert_option_name(c2, 0), "Zeta");
    assert_string_equal(sshcert_cert_option_name(c2, 1), "a");
    assert_string_equal(sshcert_cert_option_name(c2, 2), "force-command");
    assert_string_equal(sshcert_cert_option_name(c2, 4), "verify-required");
    /* What we emit, we parse: the parser's own order check agrees. */
    sshcert_cert_free(c2);
    c2 = NULL;
    assert_int_equal(sshcert_cert_parse_blob(b1, l1, &c2), 0);
    assert_int_equal(sshcert_cert_extension_count(c2), n_e);
    sshcert_cert_free(c2);
    sshcert_cert_free(c1);
}

static void
test_duplicates(void **state)
{
    struct sshcert_cert *c = full_cert();

    (void)state;
    assert_int_equal(sshcert_cert_set_option(c, "force-command", "/bin/other"), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(sshcert_cert_set_option(c, "source-address", "::1"), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-pty"), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-X11-forwarding"), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(sshcert_cert_add_principal(c, "root"), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(sshcert_cert_option_count(c), 2);
    assert_int_equal(sshcert_cert_extension_count(c), 3);
    assert_int_equal(sshcert_cert_principal_count(c), 3);
    /* Names are compared exactly: case and prefixes differ. */
    assert_int_equal(sshcert_cert_add_extension(c, "permit-PTY"), 0);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-pt"), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "Root"), 0);
    /* An option and an extension may share a name: they are separate lists. */
    assert_int_equal(sshcert_cert_add_extension(c, "force-command"), 0);
    sshcert_cert_free(c);
}

static void
test_principals_cap(void **state)
{
    struct sshcert_cert *c = NULL, *p = NULL;
    const uint8_t *blob;
    char name[16], *line = NULL;
    size_t i, len;

    (void)state;
    assert_int_equal(sshcert_cert_new(&c), 0);
    for (i = 0; i < SSHCERT_MAX_PRINCIPALS; i++) {
        snprintf(name, sizeof(name), "user%zu", i);
        assert_int_equal(sshcert_cert_add_principal(c, name), 0);
    }
    assert_int_equal(sshcert_cert_add_principal(c, "one-too-many"), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_cert_principal_count(c), 256);
    assert_int_equal(sshcert_cert_set_key(c, &user_pub), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 0, UINT64_MAX), 0);
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len);
    assert_int_equal(sshcert_cert_parse_blob(blob, len, &p), 0);
    assert_int_equal(sshcert_cert_principal_count(p), 256);
    assert_string_equal(sshcert_cert_principal(p, 255), "user255");
    assert_int_equal(sshcert_cert_check_principal(p, "user128"), 0);
    sshcert_cert_free(p);
    sshcert_cert_free(c);

    /* The largest principals list still fits in a key line. */
    assert_int_equal(sshcert_cert_new(&c), 0);
    for (i = 0; i < SSHCERT_MAX_PRINCIPALS; i++) {
        char big[SSHCERT_MAX_PRINCIPAL_LEN + 1];
        memset(big, 'a' + (int)(i % 26), sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        snprintf(big, 8, "%06zu", i);
        big[6] = '-';
        assert_int_equal(sshcert_cert_add_principal(c, big), 0);
    }
    assert_int_equal(sshcert_cert_set_key(c, &user_pub), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 0, 1), 0);
    assert_int_equal(sign_ca(c), 0);
    assert_int_equal(sshcert_cert_to_line(c, "comment", &line), 0);
    assert_true(strlen(line) <= SSHCERT_MAX_KEY_LINE);
    assert_int_equal(sshcert_cert_parse_line(line, strlen(line), &p, NULL), 0);
    assert_int_equal(sshcert_cert_principal_count(p), 256);
    assert_int_equal(sshcert_cert_verify(p), 0);
    free(line);
    sshcert_cert_free(p);
    sshcert_cert_free(c);
}

/* The parser's cap on principals, one under and one over, in a hand-made blob. */
static void
test_principals_cap_parse(void **state)
{
    struct sshcert_cert *c = NULL;
    struct cspec s;
    size_t i;

    (void)state;
    spec_init(&s);
    sshcert_buf_reset(s.principals);
    for (i = 0; i < SSHCERT_MAX_PRINCIPALS; i++)
        assert_int_equal(sshcert_buf_put_cstring(s.principals, "x"), 0);
    assert_int_equal(spec_parse(&s, &c), 0);
    assert_int_equal(sshcert_cert_principal_count(c), 256);
    sshcert_cert_free(c);
    assert_int_equal(sshcert_buf_put_cstring(s.principals, "x"), 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    spec_free(&s);
}

static void
test_principal_text(void **state)
{
    struct sshcert_cert *c = NULL;
    char big[SSHCERT_MAX_PRINCIPAL_LEN + 2];

    (void)state;
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_add_principal(c, ""), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_add_principal(c, "a,b"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_add_principal(c, "a\nb"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_add_principal(c, "a\x7f"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_add_principal(c, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sshcert_cert_add_principal(c, big), SSHCERT_ERR_TOO_LARGE);
    big[SSHCERT_MAX_PRINCIPAL_LEN] = '\0';
    assert_int_equal(sshcert_cert_add_principal(c, big), 0);
    /* Non-ASCII UTF-8 is text. */
    assert_int_equal(sshcert_cert_add_principal(c, "j\xc3\xbcrgen"), 0);
    assert_int_equal(sshcert_cert_principal_count(c), 2);
    sshcert_cert_free(c);
}

static void
test_no_principals(void **state)
{
    struct sshcert_cert *c = NULL;
    const uint8_t *blob = (const uint8_t *)"x";
    size_t len = 1;

    (void)state;
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_set_key(c, &user_pub), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 1, 2), 0);
    assert_int_equal(sign_ca(c), SSHCERT_ERR_NO_PRINCIPALS);
    assert_int_equal(sshcert_cert_blob(c, &blob, &len), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(blob);
    assert_int_equal(len, 0);
    assert_int_equal(sshcert_cert_check_principal(c, "alice"), SSHCERT_ERR_NO_PRINCIPALS);
    sshcert_cert_free(c);
}

/* Sign refuses a certificate without key or validity. */
static void
test_sign_incomplete(void **state)
{
    struct sshcert_cert *c = NULL;

    (void)state;
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "a"), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 1, 2), 0);
    assert_int_equal(sign_ca(c), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_cert_free(c);
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "a"), 0);
    assert_int_equal(sshcert_cert_set_key(c, &user_pub), 0);
    assert_int_equal(sign_ca(c), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_validity(c, 1, 2), 0);
    assert_int_equal(sshcert_cert_sign(c, NULL, sshcert_cert_signer_privkey, ca_priv),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_sign(c, &ca_pub, NULL, ca_priv), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sign_ca(c), 0);
    sshcert_cert_free(c);
}

static void
test_validity(void **state)
{
    struct sshcert_cert *c = NULL;

    (void)state;
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 5, 5), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_validity(c, 6, 5), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_validity(c, UINT64_MAX, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_validity(c, 5, 6), 0);
    assert_true(sshcert_cert_valid_after(c) == 5);
    assert_true(sshcert_cert_valid_before(c) == 6);
    /* A rejected change leaves the old values. */
    assert_int_equal(sshcert_cert_set_validity(c, 10, 9), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_true(sshcert_cert_valid_after(c) == 5);
    assert_true(sshcert_cert_valid_before(c) == 6);
    assert_int_equal(sshcert_cert_set_validity(c, 0, UINT64_MAX), 0);
    sshcert_cert_free(c);
}

/* valid_after is inclusive, valid_before exclusive; on built and on parsed certificates. */
static void
test_check_time(void **state)
{
    struct sshcert_cert *c = full_cert(), *p = NULL;
    const uint8_t *blob;
    size_t len;
    int round;

    (void)state;
    assert_int_equal(sshcert_cert_set_validity(c, 1000, 2000), 0);
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len);
    assert_int_equal(sshcert_cert_parse_blob(blob, len, &p), 0);
    for (round = 0; round < 2; round++) {
        const struct sshcert_cert *x = round == 0 ? c : p;
        assert_int_equal(sshcert_cert_check_time(x, 0), SSHCERT_ERR_NOT_YET_VALID);
        assert_int_equal(sshcert_cert_check_time(x, 999), SSHCERT_ERR_NOT_YET_VALID);
        assert_int_equal(sshcert_cert_check_time(x, 1000), 0);
        assert_int_equal(sshcert_cert_check_time(x, 1001), 0);
        assert_int_equal(sshcert_cert_check_time(x, 1999), 0);
        assert_int_equal(sshcert_cert_check_time(x, 2000), SSHCERT_ERR_EXPIRED);
        assert_int_equal(sshcert_cert_check_time(x, UINT64_MAX), SSHCERT_ERR_EXPIRED);
        assert_int_equal(sshcert_cert_check_time_now(x), SSHCERT_ERR_EXPIRED);
    }
    sshcert_cert_free(p);
    /* "forever": every time but the very last second. */
    assert_int_equal(sshcert_cert_set_validity(c, 0, UINT64_MAX), 0);
    assert_int_equal(sshcert_cert_check_time(c, 0), 0);
    assert_int_equal(sshcert_cert_check_time(c, UINT64_MAX - 1), 0);
    assert_int_equal(sshcert_cert_check_time(c, UINT64_MAX), SSHCERT_ERR_EXPIRED);
    assert_int_equal(sshcert_cert_check_time_now(c), 0);
    /* Not yet valid, far in the future. */
    assert_int_equal(sshcert_cert_set_validity(c, UINT64_MAX - 1, UINT64_MAX), 0);
    assert_int_equal(sshcert_cert_check_time_now(c), SSHCERT_ERR_NOT_YET_VALID);
    assert_int_equal(sshcert_cert_check_time(NULL, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_cert_free(c);
}

static void
test_check_principal(void **state)
{
    struct sshcert_cert *c = full_cert();

    (void)state;
    assert_int_equal(sshcert_cert_check_principal(c, "alice"), 0);
    assert_int_equal(sshcert_cert_check_principal(c, "bob"), 0);
    assert_int_equal(sshcert_cert_check_principal(c, "Alice"), SSHCERT_ERR_PRINCIPAL);
    assert_int_equal(sshcert_cert_check_principal(c, "alic"), SSHCERT_ERR_PRINCIPAL);
    assert_int_equal(sshcert_cert_check_principal(c, ""), SSHCERT_ERR_PRINCIPAL);
    assert_int_equal(sshcert_cert_check_principal(c, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_cert_free(c);
}

/* Any single-bit change makes the certificate unparsable or its signature invalid. */
static void
test_verify_bit_flips(void **state)
{
    struct sshcert_cert *c = full_cert(), *p = NULL;
    struct fields f;
    const uint8_t *blob;
    uint8_t *m;
    size_t len, i;
    unsigned bit;
    int r;

    (void)state;
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len);
    split_fields(blob, len, &f);
    assert_non_null(m = malloc(len));
    memcpy(m, blob, len);
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            m[i] ^= (uint8_t)(1u << bit);
            r = sshcert_cert_parse_blob(m, len, &p);
            if (r == 0) {
                assert_int_equal(sshcert_cert_verify(p), SSHCERT_ERR_SIGNATURE);
                sshcert_cert_free(p);
                p = NULL;
            } else {
                assert_true(r < 0);
                assert_null(p);
            }
            /* Flips inside the nonce, the key, serial, validity and signature bytes never
             * break the structure: the signature check must be what catches them. */
            if ((i >= f.off[1] + 4 && i < f.off[2]) || (i >= f.off[2] + 4 && i < f.off[4]) ||
                (i >= f.off[7] && i < f.off[9]) || i >= f.off[13] + 23)
                assert_int_equal(r, 0);
            m[i] ^= (uint8_t)(1u << bit);
        }
    }
    free(m);
    sshcert_cert_free(c);
}

static void
test_wrong_signer(void **state)
{
    struct sshcert_cert *c = full_cert();
    struct recorder rec = {NULL, 0, 0};
    const uint8_t *blob;
    size_t len;

    (void)state;
    assert_int_equal(sshcert_cert_sign(c, &ca_pub, signer_other_key, NULL), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sshcert_cert_blob(c, &blob, &len), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_verify(c), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_sign(c, &ca_pub, signer_zeros, NULL), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sshcert_cert_sign(c, &ca_pub, signer_fails, NULL), SSHCERT_ERR_AGENT);
    assert_int_equal(sshcert_cert_blob(c, &blob, &len), SSHCERT_ERR_INVALID_ARGUMENT);
    /* The CA key we claim must be the key that signs. */
    assert_int_equal(sshcert_cert_sign(c, &other_pub, sshcert_cert_signer_privkey, ca_priv),
        SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sshcert_cert_sign(c, &other_pub, signer_other_key, NULL), 0);
    assert_true(sshcert_pubkey_equal(sshcert_cert_ca_key(c), &other_pub));
    assert_int_equal(sshcert_cert_verify(c), 0);
    /* The signer sees exactly the bytes before the signature field, once. */
    assert_int_equal(sshcert_cert_sign(c, &ca_pub, signer_record, &rec), 0);
    assert_int_equal(rec.calls, 1);
    cert_blob(c, &blob, &len);
    assert_int_equal(rec.len, len - 87);
    assert_memory_equal(rec.msg, blob, rec.len);
    free(rec.msg);
    sshcert_cert_free(c);
}

/* Every builder call invalidates a signature made before it. */
static void
test_builders_unsign(void **state)
{
    struct sshcert_cert *c = full_cert();
    const uint8_t *blob;
    size_t len;
    int step;

    (void)state;
    for (step = 0; step < 9; step++) {
        assert_int_equal(sign_ca(c), 0);
        assert_int_equal(sshcert_cert_blob(c, &blob, &len), 0);
        switch (step) {
        case 0: assert_int_equal(sshcert_cert_set_serial(c, 1), 0); break;
        case 1: assert_int_equal(sshcert_cert_set_key(c, &other_pub), 0); break;
        case 2: assert_int_equal(sshcert_cert_set_type(c, SSHCERT_CERT_TYPE_USER), 0); break;
        case 3: assert_int_equal(sshcert_cert_set_key_id(c, "new"), 0); break;
        case 4: assert_int_equal(sshcert_cert_add_principal(c, "new"), 0); break;
        case 5: assert_int_equal(sshcert_cert_set_validity(c, 3, 4), 0); break;
        case 6: assert_int_equal(sshcert_cert_set_option(c, "new", "v"), 0); break;
        case 7: assert_int_equal(sshcert_cert_add_extension(c, "new"), 0); break;
        default:
            /* A failed builder call leaves the signature alone. */
            assert_int_equal(sshcert_cert_add_extension(c, "new"), SSHCERT_ERR_DUPLICATE);
            assert_int_equal(sshcert_cert_blob(c, &blob, &len), 0);
            continue;
        }
        assert_int_equal(sshcert_cert_blob(c, &blob, &len), SSHCERT_ERR_INVALID_ARGUMENT);
        assert_int_equal(sshcert_cert_verify(c), SSHCERT_ERR_INVALID_ARGUMENT);
    }
    sshcert_cert_free(c);
}

/* Every prefix of a certificate is TRUNCATED, one extra byte is TRAILING_DATA. */
static void
test_truncation(void **state)
{
    struct sshcert_cert *c = full_cert(), *p = (struct sshcert_cert *)&p;
    const uint8_t *blob;
    uint8_t *m;
    size_t len, n;

    (void)state;
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len);
    for (n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past the end. */
        assert_non_null(m = malloc(n + 1));
        memcpy(m, blob, n);
        assert_int_equal(sshcert_cert_parse_blob(m, n, &p), SSHCERT_ERR_TRUNCATED);
        assert_null(p);
        free(m);
    }
    assert_non_null(m = malloc(len + 1));
    memcpy(m, blob, len);
    m[len] = 0;
    assert_int_equal(sshcert_cert_parse_blob(m, len + 1, &p), SSHCERT_ERR_TRAILING_DATA);
    assert_int_equal(sshcert_cert_parse_blob(m, len, &p), 0);
    sshcert_cert_free(p);
    free(m);
    sshcert_cert_free(c);
}

/* Hand-made certificates: the parser enforces order and uniqueness, not just our encoder. */
static void
test_parse_order(void **state)
{
    struct sshcert_cert *c = NULL;
    struct cspec s;
    char *v = NULL;

    (void)state;
    spec_init(&s);
    put_value(s.opts, "force-command", "/bin/true");
    put_value(s.opts, "source-address", "::1");
    put_pair(s.exts, "permit-X11-forwarding", NULL, 0);
    put_pair(s.exts, "permit-pty", NULL, 0);
    assert_int_equal(spec_parse(&s, &c), 0);
    assert_int_equal(sshcert_cert_option_value(c, "force-command", &v), 0);
    assert_string_equal(v, "/bin/true");
    free(v);
    sshcert_cert_free(c);

    /* Options out of order. */
    sshcert_buf_reset(s.opts);
    put_value(s.opts, "source-address", "::1");
    put_value(s.opts, "force-command", "/bin/true");
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    /* The same option twice. */
    sshcert_buf_reset(s.opts);
    put_value(s.opts, "force-command", "/bin/true");
    put_value(s.opts, "force-command", "/bin/false");
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    /* Case: lowercase sorts after uppercase. */
    sshcert_buf_reset(s.opts);
    sshcert_buf_reset(s.exts);
    put_pair(s.exts, "permit-pty", NULL, 0);
    put_pair(s.exts, "permit-X11-forwarding", NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_reset(s.exts);
    put_pair(s.exts, "permit-pty", NULL, 0);
    put_pair(s.exts, "permit-pty", NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    /* A prefix sorts first. */
    sshcert_buf_reset(s.exts);
    put_pair(s.exts, "permit-ptyx", NULL, 0);
    put_pair(s.exts, "permit-pty", NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_reset(s.exts);
    put_pair(s.exts, "permit-pty", NULL, 0);
    put_pair(s.exts, "permit-ptyx", NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), 0);
    spec_free(&s);
}

/* Option data that is not one string, as the accessor sees it. */
static void
test_option_value_format(void **state)
{
    struct sshcert_cert *c = NULL;
    struct cspec s;
    char *v = (char *)"x";

    (void)state;
    spec_init(&s);
    put_pair(s.opts, "a-flag", NULL, 0);
    put_pair(s.opts, "b-two-strings", "\0\0\0\1x\0\0\0\1y", 10);
    put_pair(s.opts, "c-nul", "\0\0\0\3a\0b", 7);
    put_pair(s.opts, "d-short", "\0\0\0\5ab", 6);
    put_pair(s.opts, "e-empty", "\0\0\0\0", 4);
    assert_int_equal(spec_parse(&s, &c), 0);
    assert_int_equal(sshcert_cert_option_count(c), 5);
    assert_int_equal(sshcert_cert_option_value(c, "a-flag", &v), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(v);
    assert_int_equal(sshcert_cert_option_value(c, "b-two-strings", &v), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(v);
    assert_int_equal(sshcert_cert_option_value(c, "c-nul", &v), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_cert_option_value(c, "d-short", &v), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_cert_option_value(c, "e-empty", &v), 0);
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(sshcert_cert_option_value(c, "absent", &v), SSHCERT_ERR_NOT_FOUND);
    assert_int_equal(sshcert_cert_option_value(c, NULL, &v), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_option_value(c, "a-flag", NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_cert_free(c);
    spec_free(&s);
}

static void
test_key_id_cap(void **state)
{
    struct sshcert_cert *c = NULL;
    struct cspec s;
    char big[SSHCERT_MAX_KEY_ID + 2];

    (void)state;
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_string_equal(sshcert_cert_key_id(c), "");
    assert_int_equal(sshcert_cert_set_key_id(c, big), SSHCERT_ERR_TOO_LARGE);
    assert_string_equal(sshcert_cert_key_id(c), "");
    big[SSHCERT_MAX_KEY_ID] = '\0';
    assert_int_equal(sshcert_cert_set_key_id(c, big), 0);
    assert_string_equal(sshcert_cert_key_id(c), big);
    assert_int_equal(sshcert_cert_set_key_id(c, "tab\there"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_key_id(c, "nl\n"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_key_id(c, "a,b c"), 0);
    assert_int_equal(sshcert_cert_set_key_id(c, ""), 0);
    sshcert_cert_free(c);
    c = NULL;

    spec_init(&s);
    big[SSHCERT_MAX_KEY_ID] = 'k';
    s.key_id = big;
    s.key_id_len = SSHCERT_MAX_KEY_ID;
    assert_int_equal(spec_parse(&s, &c), 0);
    assert_int_equal(strlen(sshcert_cert_key_id(c)), SSHCERT_MAX_KEY_ID);
    sshcert_cert_free(c);
    s.key_id_len = SSHCERT_MAX_KEY_ID + 1;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    s.key_id = "a\0b";
    s.key_id_len = 3;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    spec_free(&s);
}

static void
test_option_caps(void **state)
{
    struct sshcert_cert *c = NULL;
    char *big, name[SSHCERT_MAX_OPTION_NAME + 2];
    size_t i;

    (void)state;
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_non_null(big = malloc(SSHCERT_MAX_OPTION_DATA + 1));
    /* The data string holds a string: 4 + len(value) <= SSHCERT_MAX_OPTION_DATA. */
    memset(big, 'v', SSHCERT_MAX_OPTION_DATA);
    big[SSHCERT_MAX_OPTION_DATA - 3] = '\0';
    assert_int_equal(sshcert_cert_set_option(c, "force-command", big), SSHCERT_ERR_TOO_LARGE);
    big[SSHCERT_MAX_OPTION_DATA - 4] = '\0';
    assert_int_equal(sshcert_cert_set_option(c, "force-command", big), 0);
    free(big);
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(sshcert_cert_set_option(c, name, "v"), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_cert_add_extension(c, name), SSHCERT_ERR_TOO_LARGE);
    name[SSHCERT_MAX_OPTION_NAME] = '\0';
    assert_int_equal(sshcert_cert_set_option(c, name, "v"), 0);
    assert_int_equal(sshcert_cert_add_extension(c, name), 0);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-pty"), 0);
    assert_int_equal(sshcert_cert_set_option(c, "", "v"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_add_extension(c, ""), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_add_extension(c, "a,b"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_option(c, "x\ty", "v"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_set_option(c, "x", NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    /* At most SSHCERT_MAX_CERT_OPTIONS of each. */
    for (i = 2; i < SSHCERT_MAX_CERT_OPTIONS; i++) {
        snprintf(name, sizeof(name), "opt%02zu", i);
        assert_int_equal(sshcert_cert_set_option(c, name, ""), 0);
        assert_int_equal(sshcert_cert_add_extension(c, name), 0);
    }
    assert_int_equal(sshcert_cert_option_count(c), SSHCERT_MAX_CERT_OPTIONS);
    assert_int_equal(sshcert_cert_extension_count(c), SSHCERT_MAX_CERT_OPTIONS);
    assert_int_equal(sshcert_cert_set_option(c, "zzz", ""), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_cert_add_extension(c, "zzz"), SSHCERT_ERR_TOO_LARGE);
    /* A full list still reports a repeated name as a duplicate. */
    assert_int_equal(sshcert_cert_set_option(c, "force-command", "x"), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-pty"), SSHCERT_ERR_DUPLICATE);
    sshcert_cert_free(c);
}

/* A certificate whose encoding would pass SSHCERT_MAX_CERT_BLOB is not signed. */
static void
test_sign_too_large(void **state)
{
    struct sshcert_cert *c = full_cert();
    char *big, name[16];
    size_t i;

    (void)state;
    assert_non_null(big = malloc(SSHCERT_MAX_OPTION_DATA));
    memset(big, 'v', SSHCERT_MAX_OPTION_DATA - 4);
    big[SSHCERT_MAX_OPTION_DATA - 4] = '\0';
    for (i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "big%02zu", i);
        assert_int_equal(sshcert_cert_set_option(c, name, big), 0);
    }
    assert_int_equal(sign_ca(c), SSHCERT_ERR_TOO_LARGE);
    free(big);
    sshcert_cert_free(c);
}

/* Parser caps on one blob: exactly SSHCERT_MAX_CERT_BLOB bytes parse, one more do not. */
static void
test_parse_blob_max(void **state)
{
    struct sshcert_cert *c = NULL;
    struct sshcert_buf *b;
    struct cspec s;
    size_t base;

    (void)state;
    spec_init(&s);
    b = spec_blob(&s);
    base = sshcert_buf_len(b) - s.nonce_len;
    sshcert_buf_free(b);
    /* The nonce may have any length; use it to fill the blob. */
    s.nonce_len = SSHCERT_MAX_CERT_BLOB - base;
    assert_int_equal(spec_parse(&s, &c), 0);
    sshcert_cert_free(c);
    s.nonce_len++;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    /* Short nonces too (OpenSSH writes 32, but any length is accepted). */
    s.nonce_len = 0;
    assert_int_equal(spec_parse(&s, NULL), 0);
    s.nonce_len = 16;
    assert_int_equal(spec_parse(&s, NULL), 0);
    spec_free(&s);
}

/* One wrong field at a time, each with its exact error. */
static void
test_parse_field_errors(void **state)
{
    struct cspec s;
    char big[SSHCERT_MAX_OPTION_DATA + 1];
    size_t i;

    (void)state;
    memset(big, 'x', sizeof(big));

    spec_init(&s);
    assert_int_equal(spec_parse(&s, NULL), 0);
    s.type = "ssh-rsa-cert-v01@openssh.com";
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_KEY_TYPE);
    s.type = "ssh-ed25519";
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_KEY_TYPE);
    s.type = SSHCERT_CERT_TYPE_ED25519;
    s.pk_len = 31;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    s.pk_len = 32;
    s.ctype = 0;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    s.ctype = 3;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    s.ctype = SSHCERT_CERT_TYPE_HOST;
    assert_int_equal(spec_parse(&s, NULL), 0);
    s.ctype = SSHCERT_CERT_TYPE_USER;
    /* A non-empty reserved field is ignored, as OpenSSH does. */
    s.reserved_len = 5;
    assert_int_equal(spec_parse(&s, NULL), 0);
    s.reserved_len = 0;
    s.ca_type = "ssh-rsa";
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_KEY_TYPE);
    s.ca_type = "ssh-ed25519";
    s.sig_type = "rsa-sha2-512";
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_KEY_TYPE);
    s.sig_type = "ssh-ed25519";
    s.sig_len = 63;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    s.sig_len = 65;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    s.sig_len = 64;
    s.sig_extra = 1;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TRAILING_DATA);
    s.sig_extra = 0;
    s.trailing = 1;
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TRAILING_DATA);
    s.trailing = 0;

    /* Principals: text, at most SSHCERT_MAX_PRINCIPAL_LEN bytes, the section exactly full. */
    sshcert_buf_reset(s.principals);
    assert_int_equal(sshcert_buf_put_string(s.principals, big, SSHCERT_MAX_PRINCIPAL_LEN), 0);
    assert_int_equal(spec_parse(&s, NULL), 0);
    assert_int_equal(sshcert_buf_put_string(s.principals, big, SSHCERT_MAX_PRINCIPAL_LEN + 1), 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_reset(s.principals);
    assert_int_equal(sshcert_buf_put_string(s.principals, "a\0b", 3), 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_reset(s.principals);
    assert_int_equal(sshcert_buf_put(s.principals, "\0\0\0\5abc", 7), 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TRUNCATED);
    /* An empty list parses (sign refuses it; sshd refuses it). */
    sshcert_buf_reset(s.principals);
    assert_int_equal(spec_parse(&s, NULL), 0);
    assert_int_equal(sshcert_buf_put_cstring(s.principals, "alice"), 0);

    /* Option name and data caps. */
    put_pair(s.opts, "a", big, SSHCERT_MAX_OPTION_DATA);
    assert_int_equal(spec_parse(&s, NULL), 0);
    sshcert_buf_reset(s.opts);
    put_pair(s.opts, "a", big, SSHCERT_MAX_OPTION_DATA + 1);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_reset(s.opts);
    big[SSHCERT_MAX_OPTION_NAME] = '\0';
    put_pair(s.exts, big, NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), 0);
    sshcert_buf_reset(s.exts);
    big[SSHCERT_MAX_OPTION_NAME] = 'x';
    big[SSHCERT_MAX_OPTION_NAME + 1] = '\0';
    put_pair(s.exts, big, NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_reset(s.exts);
    /* A name without its data string. */
    assert_int_equal(sshcert_buf_put_cstring(s.exts, "permit-pty"), 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TRUNCATED);
    sshcert_buf_reset(s.exts);
    /* At most SSHCERT_MAX_CERT_OPTIONS entries per section. */
    for (i = 0; i < SSHCERT_MAX_CERT_OPTIONS; i++) {
        char n[8];
        snprintf(n, sizeof(n), "e%02zu", i);
        put_pair(s.exts, n, NULL, 0);
    }
    assert_int_equal(spec_parse(&s, NULL), 0);
    put_pair(s.exts, "zz", NULL, 0);
    assert_int_equal(spec_parse(&s, NULL), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_reset(s.exts);
    assert_int_equal(spec_parse(&s, NULL), 0);
    spec_free(&s);
}

/* Each signing draws a fresh 32-byte nonce, so two signings of the same fields differ. */
static void
test_fresh_nonce(void **state)
{
    struct sshcert_cert *c = full_cert();
    struct fields f1, f2;
    const uint8_t *blob;
    uint8_t *first;
    size_t len, len1;

    (void)state;
    assert_int_equal(sign_ca(c), 0);
    cert_blob(c, &blob, &len1);
    assert_non_null(first = malloc(len1));
    memcpy(first, blob, len1);
    assert_int_equal(sign_ca(c), 0);
    assert_int_equal(sshcert_cert_verify(c), 0);
    cert_blob(c, &blob, &len);
    assert_int_equal(len, len1);
    split_fields(first, len1, &f1);
    split_fields(blob, len, &f2);
    assert_int_equal(f1.len[1], 36);
    assert_memory_not_equal(first + f1.off[1] + 4, blob + f2.off[1] + 4, 32);
    /* Everything from the key to the CA key is the same. */
    assert_memory_equal(first + f1.off[2], blob + f2.off[2], f1.off[13] - f1.off[2]);
    assert_memory_not_equal(first + f1.off[13], blob + f2.off[13], f1.len[13]);
    free(first);
    sshcert_cert_free(c);
}

/* A certificate made by ssh-keygen -s (tests/fixtures/make.sh). */
static void
test_ssh_keygen_fixture(void **state)
{
    static const char *exts[] = {"permit-X11-forwarding", "permit-agent-forwarding",
        "permit-port-forwarding", "permit-pty", "permit-user-rc"};
    struct sshcert_cert *c = NULL;
    struct sshcert_pubkey k, ca;
    char *comment = NULL, *v = NULL, *line = NULL, fp[SSHCERT_FP_LEN];
    size_t i;

    (void)state;
    assert_int_equal(sshcert_cert_parse_line(FX_USER_CERT, strlen(FX_USER_CERT), &c, &comment), 0);
    assert_string_equal(comment, "fixture@sshcert");
    assert_int_equal(sshcert_cert_verify(c), 0);
    assert_int_equal(sshcert_pubkey_parse_line(FX_USER_PUB, strlen(FX_USER_PUB), &k, NULL), 0);
    assert_int_equal(sshcert_pubkey_parse_line(FX_CA_PUB, strlen(FX_CA_PUB), &ca, NULL), 0);
    assert_true(sshcert_pubkey_equal(sshcert_cert_key(c), &k));
    assert_true(sshcert_pubkey_equal(sshcert_cert_ca_key(c), &ca));
    assert_int_equal(sshcert_pubkey_fingerprint(sshcert_cert_ca_key(c), fp), 0);
    assert_string_equal(fp, FX_CA_FP);
    assert_int_equal(sshcert_cert_type(c), SSHCERT_CERT_TYPE_USER);
    assert_true(sshcert_cert_serial(c) == 1234);
    assert_string_equal(sshcert_cert_key_id(c), "fixture key id");
    assert_int_equal(sshcert_cert_principal_count(c), 3);
    assert_string_equal(sshcert_cert_principal(c, 0), "alice");
    assert_string_equal(sshcert_cert_principal(c, 1), "bob");
    assert_string_equal(sshcert_cert_principal(c, 2), "carol");
    assert_true(sshcert_cert_valid_after(c) == 0x65920080);
    assert_true(sshcert_cert_valid_before(c) == 0x70000000);
    assert_int_equal(sshcert_cert_check_time(c, 0x65920080), 0);
    assert_int_equal(sshcert_cert_check_time(c, 0x70000000), SSHCERT_ERR_EXPIRED);
    assert_int_equal(sshcert_cert_option_count(c), 2);
    assert_int_equal(sshcert_cert_option_value(c, "force-command", &v), 0);
    assert_string_equal(v, "/usr/bin/id");
    free(v);
    assert_int_equal(sshcert_cert_option_value(c, "source-address", &v), 0);
    assert_string_equal(v, "127.0.0.1/32,::1");
    free(v);
    assert_int_equal(sshcert_cert_extension_count(c), 5);
    for (i = 0; i < 5; i++)
        assert_string_equal(sshcert_cert_extension_name(c, i), exts[i]);
    /* Written back, it is ssh-keygen's line. */
    assert_int_equal(sshcert_cert_to_line(c, comment, &line), 0);
    assert_int_equal(strlen(line) + 1, strlen(FX_USER_CERT));
    assert_memory_equal(line, FX_USER_CERT, strlen(line));
    free(line);
    free(comment);
    sshcert_cert_free(c);
}

/* A bit flip in an ssh-keygen certificate's signed part. */
static void
test_ssh_keygen_fixture_flipped(void **state)
{
    struct sshcert_cert *c = NULL, *p = NULL;
    const uint8_t *blob;
    uint8_t *m;
    size_t len;

    (void)state;
    assert_int_equal(sshcert_cert_parse_line(FX_USER_CERT, strlen(FX_USER_CERT), &c, NULL), 0);
    cert_blob(c, &blob, &len);
    assert_non_null(m = malloc(len));
    memcpy(m, blob, len);
    m[36 + 4 + 5] ^= 0x10; /* inside the nonce */
    assert_int_equal(sshcert_cert_parse_blob(m, len, &p), 0);
    assert_int_equal(sshcert_cert_verify(p), SSHCERT_ERR_SIGNATURE);
    sshcert_cert_free(p);
    memcpy(m, blob, len);
    m[len - 1] ^= 0x01; /* inside the signature */
    assert_int_equal(sshcert_cert_parse_blob(m, len, &p), 0);
    assert_int_equal(sshcert_cert_verify(p), SSHCERT_ERR_SIGNATURE);
    sshcert_cert_free(p);
    free(m);
    sshcert_cert_free(c);
}

static void
test_parse_line_errors(void **state)
{
    struct sshcert_cert *c = (struct sshcert_cert *)&c;
    char *comment = (char *)"x", *line;
    size_t n = strlen(FX_USER_CERT);

    (void)state;
    /* A plain key where a certificate belongs. */
    assert_int_equal(sshcert_cert_parse_line(FX_USER_PUB, strlen(FX_USER_PUB), &c, &comment),
        SSHCERT_ERR_KEY_TYPE);
    assert_null(c);
    assert_null(comment);
    /* The type word must match the blob. */
    assert_non_null(line = malloc(n + 16));
    snprintf(line, n + 16, "ssh-ed25519%s", strchr(FX_USER_CERT, ' '));
    assert_int_equal(sshcert_cert_parse_line(line, strlen(line), &c, NULL),
        SSHCERT_ERR_INVALID_FORMAT);
    /* Truncated base64 (still a multiple of 4 characters). */
    memcpy(line, FX_USER_CERT, n + 1);
    memcpy(strchr(line, ' ') + 401, " x", 3);
    assert_int_equal(sshcert_cert_parse_line(line, strlen(line), &c, NULL), SSHCERT_ERR_TRUNCATED);
    free(line);
    assert_int_equal(sshcert_cert_parse_line(NULL, 0, &c, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_parse_line(FX_USER_CERT, n, NULL, NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(c);
}

static void
test_null_accessors(void **state)
{
    struct sshcert_cert *c = NULL;
    char *v = (char *)"x", *line = (char *)"x";

    (void)state;
    assert_null(sshcert_cert_key(NULL));
    assert_null(sshcert_cert_ca_key(NULL));
    assert_true(sshcert_cert_serial(NULL) == 0);
    assert_int_equal(sshcert_cert_type(NULL), 0);
    assert_null(sshcert_cert_key_id(NULL));
    assert_int_equal(sshcert_cert_principal_count(NULL), 0);
    assert_null(sshcert_cert_principal(NULL, 0));
    assert_int_equal(sshcert_cert_option_count(NULL), 0);
    assert_null(sshcert_cert_option_name(NULL, 0));
    assert_int_equal(sshcert_cert_option_value(NULL, "x", &v), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(v);
    assert_int_equal(sshcert_cert_extension_count(NULL), 0);
    assert_null(sshcert_cert_extension_name(NULL, 0));
    assert_int_equal(sshcert_cert_verify(NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_cert_new(NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_cert_free(NULL);
    /* An unsigned certificate has no key, CA, blob or line yet. */
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_null(sshcert_cert_key(c));
    assert_null(sshcert_cert_ca_key(c));
    assert_int_equal(sshcert_cert_to_line(c, NULL, &line), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(line);
    assert_int_equal(sshcert_cert_verify(c), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_cert_free(c);
}

static int
group_setup(void **state)
{
    (void)state;
    if (sshcert_secmem_init() != 0 || sshcert_privkey_generate(&ca_priv) != 0 ||
        sshcert_privkey_generate(&other_priv) != 0)
        return -1;
    sshcert_privkey_public(ca_priv, &ca_pub);
    sshcert_privkey_public(other_priv, &other_pub);
    return sshcert_pubkey_parse_line(FX_USER_PUB, strlen(FX_USER_PUB), &user_pub, NULL) == 0 ? 0
                                                                                             : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    sshcert_privkey_free(ca_priv);
    sshcert_privkey_free(other_priv);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_field),
        cmocka_unit_test(test_encoding_layout),
        cmocka_unit_test(test_host_type),
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_principals_cap),
        cmocka_unit_test(test_principals_cap_parse),
        cmocka_unit_test(test_principal_text),
        cmocka_unit_test(test_no_principals),
        cmocka_unit_test(test_sign_incomplete),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_check_time),
        cmocka_unit_test(test_check_principal),
        cmocka_unit_test(test_verify_bit_flips),
        cmocka_unit_test(test_wrong_signer),
        cmocka_unit_test(test_builders_unsign),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_parse_order),
        cmocka_unit_test(test_option_value_format),
        cmocka_unit_test(test_key_id_cap),
        cmocka_unit_test(test_option_caps),
        cmocka_unit_test(test_sign_too_large),
        cmocka_unit_test(test_parse_blob_max),
        cmocka_unit_test(test_parse_field_errors),
        cmocka_unit_test(test_fresh_nonce),
        cmocka_unit_test(test_ssh_keygen_fixture),
        cmocka_unit_test(test_ssh_keygen_fixture_flipped),
        cmocka_unit_test(test_parse_line_errors),
        cmocka_unit_test(test_null_accessors),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
