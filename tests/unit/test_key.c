/* Unit tests for lib/key.c: public-key lines, fingerprints and openssh-key-v1 files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "file.h"
#include "key.h"
#include "secmem.h"

#include "../fixtures/fixtures.h"

#define MARK_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define MARK_END "-----END OPENSSH PRIVATE KEY-----"

/* RFC 8032 section 7.1, TEST 1: secret seed, public key, signature of the empty message. */
static const uint8_t rfc_seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84,
    0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b,
    0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t rfc_pk[32] = {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
    0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a,
    0x68, 0xf7, 0x07, 0x51, 0x1a};
static const uint8_t rfc_sig[64] = {0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86,
    0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73,
    0xe0, 0x65, 0x22, 0x49, 0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e,
    0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b, 0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51,
    0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b};
/* The same public key as a line, and its fingerprint as printed by ssh-keygen -l (9.2p1). */
static const char rfc_line[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea rfc8032-test1";
static const char rfc_fp[] = "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8";

/* ---- helpers ---- */

static struct sshcert_buf *
new_buf(void)
{
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_non_null(b);
    return b;
}

/* The line's base64 field decoded (test input is trusted: fixtures). */
static struct sshcert_buf *
line_blob(const char *line)
{
    struct sshcert_buf *b = new_buf();
    const char *s = strchr(line, ' ') + 1, *e = strpbrk(s, " \n");

    assert_int_equal(sshcert_buf_put_base64(b, s, e != NULL ? (size_t)(e - s) : strlen(s), NULL), 0);
    return b;
}

/* "TYPE base64(blob)[ tail]" as a malloc'd line. */
static char *
make_line(const char *type, const uint8_t *blob, size_t len, const char *tail)
{
    char *b64 = NULL, *line;
    size_t n;

    assert_int_equal(sshcert_buf_to_base64(blob, len, &b64), 0);
    n = strlen(type) + strlen(b64) + strlen(tail) + 2;
    assert_non_null(line = malloc(n));
    snprintf(line, n, "%s %s%s", type, b64, tail);
    free(b64);
    return line;
}

static int
parse_pub(const char *line, struct sshcert_pubkey *k, char **comment)
{
    return sshcert_pubkey_parse_line(line, strlen(line), k, comment);
}

/* Armours a decoded openssh-key-v1 blob, wrapped at 70 columns like ssh-keygen. */
static char *
armour(const uint8_t *blob, size_t len)
{
    char *b64 = NULL, *text;
    size_t blen, i, pos = 0, n;

    assert_int_equal(sshcert_buf_to_base64(blob, len, &b64), 0);
    blen = strlen(b64);
    n = strlen(MARK_BEGIN) + blen + blen / 70 + strlen(MARK_END) + 4;
    assert_non_null(text = malloc(n));
    pos = (size_t)snprintf(text, n, "%s\n", MARK_BEGIN);
    for (i = 0; i < blen; i += 70) {
        size_t c = blen - i < 70 ? blen - i : 70;
        memcpy(text + pos, b64 + i, c);
        pos += c;
        text[pos++] = '\n';
    }
    snprintf(text + pos, n - pos, "%s\n", MARK_END);
    free(b64);
    return text;
}

/* The decoded blob inside an armoured key file. */
static struct sshcert_buf *
dearmour(const char *text)
{
    struct sshcert_buf *b = new_buf();
    const char *s = strchr(text, '\n') + 1, *e = strstr(text, MARK_END);

    assert_int_equal(sshcert_buf_put_base64(b, s, (size_t)(e - s), "\r\n"), 0);
    return b;
}

static int
parse_priv_blob(const uint8_t *blob, size_t len, struct sshcert_privkey **k)
{
    char *text = armour(blob, len);
    int r = sshcert_privkey_parse(text, strlen(text), k);

    free(text);
    return r;
}

/* Every field of an openssh-key-v1 blob, so a test can break exactly one. */
struct privspec {
    const char *magic;
    size_t magic_len;
    const char *cipher, *kdf;
    size_t kdfopts_len;
    uint32_t nkeys;
    const char *outer_type;
    uint8_t outer_pk[32];
    uint32_t check1, check2;
    const char *inner_type;
    uint8_t pk[33];
    size_t pk_len;
    uint8_t sk[65];
    size_t sk_len;
    const char *comment;
    int pad_mode; /* 0: correct 1,2,3..; 1: none; 2: last byte wrong; 3: one whole extra block */
    size_t trailing;
};

static void
spec_default(struct privspec *s, const uint8_t seed[32], const uint8_t pk[32], const char *comment)
{
    memset(s, 0, sizeof(*s));
    s->magic = "openssh-key-v1";
    s->magic_len = 15;
    s->cipher = s->kdf = "none";
    s->nkeys = 1;
    s->outer_type = s->inner_type = "ssh-ed25519";
    memcpy(s->outer_pk, pk, 32);
    s->check1 = s->check2 = 0x01020304u;
    memcpy(s->pk, pk, 32);
    s->pk_len = 32;
    memcpy(s->sk, seed, 32);
    memcpy(s->sk + 32, pk, 32);
    s->sk_len = 64;
    s->comment = comment;
}

static struct sshcert_buf *
spec_blob(const struct privspec *s)
{
    struct sshcert_buf *d = new_buf(), *pub = new_buf(), *priv = new_buf();
    uint8_t i;

    assert_int_equal(sshcert_buf_put_cstring(pub, s->outer_type), 0);
    assert_int_equal(sshcert_buf_put_string(pub, s->outer_pk, 32), 0);
    assert_int_equal(sshcert_buf_put_u32(priv, s->check1), 0);
    assert_int_equal(sshcert_buf_put_u32(priv, s->check2), 0);
    assert_int_equal(sshcert_buf_put_cstring(priv, s->inner_type), 0);
    assert_int_equal(sshcert_buf_put_string(priv, s->pk, s->pk_len), 0);
    assert_int_equal(sshcert_buf_put_string(priv, s->sk, s->sk_len), 0);
    assert_int_equal(sshcert_buf_put_cstring(priv, s->comment), 0);
    if (s->pad_mode != 1) {
        for (i = 1; sshcert_buf_len(priv) % 8 != 0; i++) {
            uint8_t v = i;
            if (s->pad_mode == 2 && (sshcert_buf_len(priv) + 1) % 8 == 0)
                v = (uint8_t)(i + 1);
            assert_int_equal(sshcert_buf_put_u8(priv, v), 0);
        }
    }
    if (s->pad_mode == 3) {
        for (i = 0; i < 8; i++)
            assert_int_equal(sshcert_buf_put_u8(priv, (uint8_t)(i + 1)), 0);
    }
    assert_int_equal(sshcert_buf_put(d, s->magic, s->magic_len), 0);
    assert_int_equal(sshcert_buf_put_cstring(d, s->cipher), 0);
    assert_int_equal(sshcert_buf_put_cstring(d, s->kdf), 0);
    assert_int_equal(sshcert_buf_put_string(d, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", s->kdfopts_len), 0);
    assert_int_equal(sshcert_buf_put_u32(d, s->nkeys), 0);
    assert_int_equal(sshcert_buf_put_stringb(d, pub), 0);
    assert_int_equal(sshcert_buf_put_stringb(d, priv), 0);
    for (i = 0; i < s->trailing; i++)
        assert_int_equal(sshcert_buf_put_u8(d, 0), 0);
    sshcert_buf_free(pub);
    sshcert_buf_free(priv);
    return d;
}

static int
spec_parse(const struct privspec *s, struct sshcert_privkey **k)
{
    struct sshcert_buf *d = spec_blob(s);
    int r = parse_priv_blob(sshcert_buf_ptr(d), sshcert_buf_len(d), k);

    sshcert_buf_free(d);
    return r;
}

static void
rfc_spec(struct privspec *s)
{
    spec_default(s, rfc_seed, rfc_pk, "rfc8032");
}

/* ---- public-key lines ---- */

static void
test_pub_fixture(void **state)
{
    struct sshcert_pubkey k, k2;
    char fp[SSHCERT_FP_LEN], *comment = NULL, *line = NULL;

    (void)state;
    assert_int_equal(parse_pub(FX_USER_PUB, &k, &comment), 0);
    assert_string_equal(comment, "fixture@sshcert");
    assert_int_equal(sshcert_pubkey_fingerprint(&k, fp), 0);
    assert_string_equal(fp, FX_USER_FP);
    /* Formatting gives the ssh-keygen line back byte for byte (without its newline). */
    assert_int_equal(sshcert_pubkey_to_line(&k, comment, &line), 0);
    assert_int_equal(strlen(line) + 1, strlen(FX_USER_PUB));
    assert_memory_equal(line, FX_USER_PUB, strlen(line));
    assert_int_equal(parse_pub(line, &k2, NULL), 0);
    assert_true(sshcert_pubkey_equal(&k, &k2));
    free(line);
    free(comment);
}

/* A fingerprint computed independently by ssh-keygen -l for the RFC 8032 key. */
static void
test_fingerprint_known(void **state)
{
    struct sshcert_pubkey k;
    char fp[SSHCERT_FP_LEN], *comment = NULL;

    (void)state;
    assert_int_equal(parse_pub(rfc_line, &k, &comment), 0);
    assert_memory_equal(k.pk, rfc_pk, 32);
    assert_string_equal(comment, "rfc8032-test1");
    assert_int_equal(sshcert_pubkey_fingerprint(&k, fp), 0);
    assert_string_equal(fp, rfc_fp);
    assert_int_equal(strlen(fp), SSHCERT_FP_LEN - 1);
    free(comment);
    assert_int_equal(sshcert_pubkey_fingerprint(NULL, fp), SSHCERT_ERR_INVALID_ARGUMENT);
}

static void
test_pub_whitespace_and_comments(void **state)
{
    static const struct {
        const char *tail; /* appended after "ssh-ed25519 B64" */
        const char *comment;
    } cases[] = {
        {"", ""},
        {"\n", ""},
        {"\r\n", ""},
        {"\r", ""},
        {"\n\n\r\n", ""},
        {" ", ""},
        {" \t \r\n", ""},
        {" c", "c"},
        {"\tc", "c"},
        {" \t c d  e \t\r\n", "c d  e"},
        {" user@host\n", "user@host"},
        {" a\tb", "a\tb"},
    };
    struct sshcert_pubkey k;
    struct sshcert_buf *blob = line_blob(rfc_line);
    char *line, *lead, *comment;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        line = make_line("ssh-ed25519", sshcert_buf_ptr(blob), sshcert_buf_len(blob), cases[i].tail);
        comment = (char *)"x";
        assert_int_equal(parse_pub(line, &k, &comment), 0);
        assert_memory_equal(k.pk, rfc_pk, 32);
        assert_string_equal(comment, cases[i].comment);
        free(comment);
        /* Leading blanks and tabs between the fields are fine too. */
        assert_non_null(lead = malloc(strlen(line) + 4));
        snprintf(lead, strlen(line) + 4, " \t%s", line);
        lead[2 + strlen("ssh-ed25519")] = '\t';
        assert_int_equal(parse_pub(lead, &k, NULL), 0);
        assert_memory_equal(k.pk, rfc_pk, 32);
        free(lead);
        free(line);
    }
    sshcert_buf_free(blob);
}

static void
test_pub_to_line(void **state)
{
    struct sshcert_pubkey k;
    char *line = NULL;

    (void)state;
    memcpy(k.pk, rfc_pk, 32);
    assert_int_equal(sshcert_pubkey_to_line(&k, NULL, &line), 0);
    assert_string_equal(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea");
    free(line);
    assert_int_equal(sshcert_pubkey_to_line(&k, "", &line), 0);
    assert_string_equal(line, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea");
    free(line);
    assert_int_equal(sshcert_pubkey_to_line(&k, "rfc8032-test1", &line), 0);
    assert_string_equal(line, rfc_line);
    free(line);
    assert_int_equal(sshcert_pubkey_to_line(NULL, NULL, &line), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(line);
}

/* Real keys of other types are recognised as such: KEY_TYPE, not a format error. */
static void
test_pub_wrong_type(void **state)
{
    struct sshcert_pubkey k;
    char *comment = (char *)"x";

    (void)state;
    assert_int_equal(parse_pub(FX_RSA_PUB, &k, &comment), SSHCERT_ERR_KEY_TYPE);
    assert_null(comment);
    assert_int_equal(parse_pub(FX_ECDSA_PUB, &k, NULL), SSHCERT_ERR_KEY_TYPE);
    /* A certificate line is not a plain key either. */
    assert_int_equal(parse_pub(FX_USER_CERT, &k, NULL), SSHCERT_ERR_KEY_TYPE);
    assert_memory_equal(k.pk, "\0\0\0\0\0\0\0\0", 8);
}

/* The type word must name the type inside the blob. */
static void
test_pub_type_mismatch(void **state)
{
    struct sshcert_buf *ed = line_blob(FX_USER_PUB), *rsa = line_blob(FX_RSA_PUB);
    struct sshcert_pubkey k;
    char *line;

    (void)state;
    line = make_line("ssh-rsa", sshcert_buf_ptr(ed), sshcert_buf_len(ed), " c");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(rsa), sshcert_buf_len(rsa), "");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    line = make_line("ssh-ed2551", sshcert_buf_ptr(ed), sshcert_buf_len(ed), "");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    line = make_line("SSH-ED25519", sshcert_buf_ptr(ed), sshcert_buf_len(ed), "");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    sshcert_buf_free(ed);
    sshcert_buf_free(rsa);
}

static void
test_pub_malformed(void **state)
{
    static const struct {
        const char *line;
        int err;
    } cases[] = {
        {"", SSHCERT_ERR_INVALID_FORMAT},
        {"\n", SSHCERT_ERR_INVALID_FORMAT},
        {"   ", SSHCERT_ERR_INVALID_FORMAT},
        {"ssh-ed25519", SSHCERT_ERR_INVALID_FORMAT},
        {"ssh-ed25519 \n", SSHCERT_ERR_INVALID_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1E!",
            SSHCERT_ERR_INVALID_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1E",
            SSHCERT_ERR_INVALID_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv-08lkBzoO4XLz2qYjJa8CGmj3B1Ea",
            SSHCERT_ERR_INVALID_FORMAT},
        /* base64 of an empty blob */
        {"ssh-ed25519 AAAA", SSHCERT_ERR_TRUNCATED},
        /* a newline inside the line */
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea a\nb",
            SSHCERT_ERR_INVALID_FORMAT},
        /* the type string alone, no key */
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", SSHCERT_ERR_TRUNCATED},
    };
    struct sshcert_pubkey k;
    char *comment;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        comment = (char *)"x";
        assert_int_equal(parse_pub(cases[i].line, &k, &comment), cases[i].err);
        assert_null(comment);
    }
    assert_int_equal(sshcert_pubkey_parse_line(NULL, 0, &k, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_pubkey_parse_line(rfc_line, strlen(rfc_line), NULL, NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
}

/* A NUL byte inside the given length is never text. */
static void
test_pub_nul(void **state)
{
    struct sshcert_pubkey k;
    char line[sizeof(rfc_line) + 4];

    (void)state;
    memcpy(line, rfc_line, sizeof(rfc_line));
    assert_int_equal(sshcert_pubkey_parse_line(line, strlen(line) + 1, &k, NULL),
        SSHCERT_ERR_INVALID_FORMAT);
    line[strlen(line) - 3] = '\0';
    assert_int_equal(sshcert_pubkey_parse_line(line, sizeof(rfc_line) - 1, &k, NULL),
        SSHCERT_ERR_INVALID_FORMAT);
    /* The length argument, not the NUL, ends the line: a prefix parses on its own. */
    memcpy(line, rfc_line, sizeof(rfc_line));
    assert_int_equal(sshcert_pubkey_parse_line(line,
                         (size_t)(strchr(strchr(line, ' ') + 1, ' ') - line), &k, NULL), 0);
}

/* The blob inside a well-typed line: wrong key length, trailing bytes, truncation. */
static void
test_pub_bad_blob(void **state)
{
    struct sshcert_buf *b;
    struct sshcert_pubkey k;
    uint8_t pk33[33];
    char *line;
    size_t n, full;

    (void)state;
    memset(pk33, 7, sizeof(pk33));
    b = new_buf();
    assert_int_equal(sshcert_buf_put_cstring(b, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_put_string(b, pk33, 31), 0);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(b), sshcert_buf_len(b), "");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    sshcert_buf_reset(b);
    assert_int_equal(sshcert_buf_put_cstring(b, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_put_string(b, pk33, 33), 0);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(b), sshcert_buf_len(b), "");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    sshcert_buf_reset(b);
    assert_int_equal(sshcert_buf_put_cstring(b, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_put_string(b, pk33, 32), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 0), 0);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(b), sshcert_buf_len(b), "");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_TRAILING_DATA);
    free(line);
    /* Every truncation of the 51-byte blob. */
    sshcert_buf_reset(b);
    assert_int_equal(sshcert_buf_put_cstring(b, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_put_string(b, pk33, 32), 0);
    full = sshcert_buf_len(b);
    assert_int_equal(full, 51);
    for (n = 1; n < full; n++) {
        line = make_line("ssh-ed25519", sshcert_buf_ptr(b), n, " c");
        assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_TRUNCATED);
        free(line);
    }
    /* n = 0: the base64 field is empty, so "c" is read as base64. */
    line = make_line("ssh-ed25519", sshcert_buf_ptr(b), 0, " c");
    assert_int_equal(parse_pub(line, &k, NULL), SSHCERT_ERR_INVALID_FORMAT);
    free(line);
    sshcert_buf_free(b);
}

/* SSHCERT_MAX_KEY_LINE bytes is still read; one more is TOO_LARGE. Trailing CR/LF don't count. */
static void
test_pub_max_line(void **state)
{
    struct sshcert_buf *b = new_buf();
    struct sshcert_pubkey k;
    size_t b64len, binlen, n;
    char *line, *comment = NULL;

    (void)state;
    /* "ssh-ed25519 " + base64 + " " + 3-byte comment = SSHCERT_MAX_KEY_LINE. */
    b64len = SSHCERT_MAX_KEY_LINE - 12 - 1 - 3;
    assert_int_equal(b64len % 4, 0);
    binlen = b64len / 4 * 3;
    assert_int_equal(sshcert_buf_put_cstring(b, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_put_string(b, rfc_pk, 32), 0);
    while (sshcert_buf_len(b) < binlen)
        assert_int_equal(sshcert_buf_put_u8(b, 0x5a), 0);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(b), binlen, " abc\r\n");
    n = strlen(line);
    assert_int_equal(n, SSHCERT_MAX_KEY_LINE + 2);
    /* One under the cap (with and without the line ending): parsed, and the blob's extra
     * bytes are what is wrong. */
    assert_int_equal(sshcert_pubkey_parse_line(line, n, &k, &comment), SSHCERT_ERR_TRAILING_DATA);
    assert_null(comment);
    assert_int_equal(sshcert_pubkey_parse_line(line, n - 2, &k, NULL), SSHCERT_ERR_TRAILING_DATA);
    free(line);
    /* One over. */
    line = make_line("ssh-ed25519", sshcert_buf_ptr(b), binlen, " abcd\n");
    assert_int_equal(sshcert_pubkey_parse_line(line, strlen(line), &k, &comment),
        SSHCERT_ERR_TOO_LARGE);
    free(line);
    sshcert_buf_free(b);
}

static void
test_pub_comment_max(void **state)
{
    struct sshcert_buf *blob = line_blob(rfc_line);
    struct sshcert_pubkey k;
    char tail[SSHCERT_MAX_COMMENT + 8], *line, *comment = NULL;

    (void)state;
    tail[0] = ' ';
    memset(tail + 1, 'c', SSHCERT_MAX_COMMENT);
    tail[SSHCERT_MAX_COMMENT + 1] = '\0';
    line = make_line("ssh-ed25519", sshcert_buf_ptr(blob), sshcert_buf_len(blob), tail);
    assert_int_equal(parse_pub(line, &k, &comment), 0);
    assert_int_equal(strlen(comment), SSHCERT_MAX_COMMENT);
    free(comment);
    free(line);
    /* Trailing blanks are not part of the comment. */
    memcpy(tail + SSHCERT_MAX_COMMENT + 1, " \t\n", 4);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(blob), sshcert_buf_len(blob), tail);
    assert_int_equal(parse_pub(line, &k, NULL), 0);
    free(line);
    memcpy(tail + SSHCERT_MAX_COMMENT + 1, "c", 2);
    line = make_line("ssh-ed25519", sshcert_buf_ptr(blob), sshcert_buf_len(blob), tail);
    assert_int_equal(parse_pub(line, &k, &comment), SSHCERT_ERR_TOO_LARGE);
    assert_null(comment);
    free(line);
    sshcert_buf_free(blob);
}

static void
test_pub_blob_roundtrip(void **state)
{
    struct sshcert_buf *b = new_buf(), *view;
    struct sshcert_pubkey k, k2;

    (void)state;
    memcpy(k.pk, rfc_pk, 32);
    assert_int_equal(sshcert_pubkey_put_blob(b, &k), 0);
    assert_int_equal(sshcert_buf_len(b), 51);
    assert_memory_equal(sshcert_buf_ptr(b), "\0\0\0\13ssh-ed25519\0\0\0\40", 19);
    assert_memory_equal(sshcert_buf_ptr(b) + 19, rfc_pk, 32);
    assert_non_null(view = sshcert_buf_from(sshcert_buf_ptr(b), sshcert_buf_len(b)));
    assert_int_equal(sshcert_pubkey_from_blob(view, &k2), 0);
    assert_true(sshcert_pubkey_equal(&k, &k2));
    k2.pk[31] ^= 1;
    assert_false(sshcert_pubkey_equal(&k, &k2));
    assert_false(sshcert_pubkey_equal(&k, NULL));
    sshcert_buf_free(view);
    /* A type that is not ssh-ed25519. */
    sshcert_buf_reset(b);
    assert_int_equal(sshcert_buf_put_cstring(b, "ssh-rsa"), 0);
    assert_int_equal(sshcert_buf_put_string(b, rfc_pk, 32), 0);
    assert_int_equal(sshcert_pubkey_from_blob(b, &k2), SSHCERT_ERR_KEY_TYPE);
    sshcert_buf_free(b);
}

static void
test_pub_verify(void **state)
{
    struct sshcert_pubkey k;
    uint8_t sig[64];

    (void)state;
    memcpy(k.pk, rfc_pk, 32);
    assert_int_equal(sshcert_pubkey_verify(&k, rfc_sig, (const uint8_t *)"", 0), 0);
    memcpy(sig, rfc_sig, 64);
    sig[0] ^= 1;
    assert_int_equal(sshcert_pubkey_verify(&k, sig, (const uint8_t *)"", 0), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sshcert_pubkey_verify(&k, rfc_sig, (const uint8_t *)"x", 1),
        SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sshcert_pubkey_verify(&k, rfc_sig, NULL, 1), SSHCERT_ERR_INVALID_ARGUMENT);
}

/* ---- private keys ---- */

static void
test_priv_fixture(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct sshcert_pubkey pub, line_pub;
    uint8_t sig[64];
    char *comment = NULL;

    (void)state;
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV, strlen(FX_USER_PRIV), &k), 0);
    assert_int_equal(parse_pub(FX_USER_PUB, &line_pub, &comment), 0);
    sshcert_privkey_public(k, &pub);
    assert_true(sshcert_pubkey_equal(&pub, &line_pub));
    assert_string_equal(sshcert_privkey_comment(k), comment);
    assert_memory_equal(sshcert_privkey_secret(k) + 32, pub.pk, 32);
    assert_int_equal(sshcert_privkey_sign(k, (const uint8_t *)"msg", 3, sig), 0);
    assert_int_equal(sshcert_pubkey_verify(&pub, sig, (const uint8_t *)"msg", 3), 0);
    free(comment);
    sshcert_privkey_free(k);
}

/* A key file built from RFC 8032's seed signs exactly RFC 8032's signature. */
static void
test_priv_rfc_vector(void **state)
{
    struct privspec s;
    struct sshcert_privkey *k = NULL;
    uint8_t sig[64];

    (void)state;
    rfc_spec(&s);
    assert_int_equal(spec_parse(&s, &k), 0);
    assert_string_equal(sshcert_privkey_comment(k), "rfc8032");
    assert_int_equal(sshcert_privkey_sign(k, (const uint8_t *)"", 0, sig), 0);
    assert_memory_equal(sig, rfc_sig, 64);
    sshcert_privkey_free(k);
}

static void
test_priv_to_text_roundtrip(void **state)
{
    struct sshcert_privkey *k = NULL, *k2 = NULL;
    struct sshcert_buf *d;
    char *text = NULL, *p;
    size_t linelen;

    (void)state;
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV, strlen(FX_USER_PRIV), &k), 0);
    assert_int_equal(sshcert_privkey_to_text(k, &text), 0);
    /* Armour and 70-column wrapping as ssh-keygen writes them. */
    assert_memory_equal(text, MARK_BEGIN "\n", strlen(MARK_BEGIN) + 1);
    assert_string_equal(text + strlen(text) - strlen(MARK_END) - 1, MARK_END "\n");
    for (p = strchr(text, '\n') + 1; strncmp(p, MARK_END, 5) != 0; p += linelen + 1) {
        linelen = (size_t)(strchr(p, '\n') - p);
        assert_true(linelen <= 70);
    }
    /* Same length as ssh-keygen's file (only the checkints differ). */
    assert_int_equal(strlen(text), strlen(FX_USER_PRIV));
    d = dearmour(text);
    /* magic, cipher, kdf, kdfoptions, nkeys, public blob, private section of 152. */
    assert_int_equal(sshcert_buf_len(d), 15 + 8 + 8 + 4 + 4 + 55 + 4 + 152);
    sshcert_buf_free(d);
    assert_int_equal(sshcert_privkey_parse(text, strlen(text), &k2), 0);
    assert_memory_equal(sshcert_privkey_secret(k), sshcert_privkey_secret(k2), 64);
    assert_string_equal(sshcert_privkey_comment(k2), "fixture@sshcert");
    sshcert_secmem_free_str(text);
    sshcert_privkey_free(k2);

    /* An empty comment and a comment that needs a different amount of padding. */
    assert_int_equal(sshcert_privkey_set_comment(k, ""), 0);
    assert_int_equal(sshcert_privkey_to_text(k, &text), 0);
    assert_int_equal(sshcert_privkey_parse(text, strlen(text), &k2), 0);
    assert_string_equal(sshcert_privkey_comment(k2), "");
    sshcert_secmem_free_str(text);
    sshcert_privkey_free(k2);
    assert_int_equal(sshcert_privkey_set_comment(k, "1234567"), 0);
    assert_int_equal(sshcert_privkey_to_text(k, &text), 0);
    assert_int_equal(sshcert_privkey_parse(text, strlen(text), &k2), 0);
    assert_string_equal(sshcert_privkey_comment(k2), "1234567");
    sshcert_secmem_free_str(text);
    sshcert_privkey_free(k2);
    sshcert_privkey_free(k);
}

static void
test_priv_generate(void **state)
{
    struct sshcert_privkey *a = NULL, *b = NULL;
    struct sshcert_pubkey pa, pb;
    uint8_t sig[64];

    (void)state;
    assert_int_equal(sshcert_privkey_generate(&a), 0);
    assert_int_equal(sshcert_privkey_generate(&b), 0);
    sshcert_privkey_public(a, &pa);
    sshcert_privkey_public(b, &pb);
    assert_false(sshcert_pubkey_equal(&pa, &pb));
    assert_string_equal(sshcert_privkey_comment(a), "");
    assert_int_equal(sshcert_privkey_sign(a, (const uint8_t *)"m", 1, sig), 0);
    assert_int_equal(sshcert_pubkey_verify(&pa, sig, (const uint8_t *)"m", 1), 0);
    assert_int_equal(sshcert_pubkey_verify(&pb, sig, (const uint8_t *)"m", 1), SSHCERT_ERR_SIGNATURE);
    sshcert_privkey_free(a);
    sshcert_privkey_free(b);
    sshcert_privkey_free(NULL);
    assert_int_equal(sshcert_privkey_generate(NULL), SSHCERT_ERR_INVALID_ARGUMENT);
}

static void
test_priv_set_comment(void **state)
{
    struct sshcert_privkey *k = NULL;
    char big[SSHCERT_MAX_COMMENT + 2];

    (void)state;
    assert_int_equal(sshcert_privkey_generate(&k), 0);
    memset(big, 'c', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sshcert_privkey_set_comment(k, big), SSHCERT_ERR_INVALID_ARGUMENT);
    big[SSHCERT_MAX_COMMENT] = '\0';
    assert_int_equal(sshcert_privkey_set_comment(k, big), 0);
    assert_string_equal(sshcert_privkey_comment(k), big);
    assert_int_equal(sshcert_privkey_set_comment(k, "a\nb"), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_string_equal(sshcert_privkey_comment(k), big);
    assert_int_equal(sshcert_privkey_set_comment(k, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_privkey_free(k);
}

static void
test_priv_encrypted(void **state)
{
    struct sshcert_privkey *k = (struct sshcert_privkey *)&k;
    struct privspec s;

    (void)state;
    assert_int_equal(sshcert_privkey_parse(FX_ENC_PRIV, strlen(FX_ENC_PRIV), &k),
        SSHCERT_ERR_ENCRYPTED_KEY);
    assert_null(k);
    rfc_spec(&s);
    s.cipher = "aes256-gcm@openssh.com";
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_ENCRYPTED_KEY);
}

static void
test_priv_rsa(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct privspec s;

    (void)state;
    /* The outer public blob names ssh-rsa. */
    assert_int_equal(sshcert_privkey_parse(FX_RSA_PRIV, strlen(FX_RSA_PRIV), &k), SSHCERT_ERR_KEY_TYPE);
    assert_null(k);
    /* Only the inner type is foreign. */
    rfc_spec(&s);
    s.inner_type = "ssh-rsa";
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_TYPE);
    rfc_spec(&s);
    s.outer_type = "ssh-ed448";
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_TYPE);
}

static void
test_priv_padding(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct privspec s;
    char comment[16];
    size_t n, pad;

    (void)state;
    /* Every padding length 0..7 that a comment length produces parses. */
    for (n = 0; n < 8; n++) {
        rfc_spec(&s);
        memset(comment, 'x', n);
        comment[n] = '\0';
        s.comment = comment;
        assert_int_equal(spec_parse(&s, &k), 0);
        assert_string_equal(sshcert_privkey_comment(k), comment);
        sshcert_privkey_free(k);
        k = NULL;
        /* The section before padding: checkints, type, pk, sk, comment = 131 + n bytes. */
        pad = (8 - (131 + n) % 8) % 8;
        if (pad != 0) {
            s.pad_mode = 2;
            assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
            assert_null(k);
            s.pad_mode = 1;
            assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
        }
        /* A whole block of extra padding is not minimal. */
        s.pad_mode = 3;
        assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
        assert_null(k);
    }
}

static void
test_priv_checkint(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct privspec s;

    (void)state;
    rfc_spec(&s);
    s.check2 ^= 0x100;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(k);
    s.check1 = s.check2 = 0;
    assert_int_equal(spec_parse(&s, &k), 0);
    sshcert_privkey_free(k);
}

/* The public key is stated three times and the seed must produce it. */
static void
test_priv_key_mismatch(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct privspec s;

    (void)state;
    rfc_spec(&s);
    s.outer_pk[0] ^= 1;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_MISMATCH);
    rfc_spec(&s);
    s.pk[5] ^= 1;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_MISMATCH);
    rfc_spec(&s);
    s.sk[40] ^= 1;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_MISMATCH);
    rfc_spec(&s);
    s.sk[0] ^= 1; /* a different seed */
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_MISMATCH);
    /* All three agree but the seed is someone else's. */
    spec_default(&s, rfc_seed, rfc_sig, "c"); /* any 32 bytes that are not rfc_pk */
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_KEY_MISMATCH);
    assert_null(k);
}

static void
test_priv_structure(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct privspec s;

    (void)state;
    rfc_spec(&s);
    s.magic = "openssh-key-v2";
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    rfc_spec(&s);
    s.magic_len = 14; /* without its NUL the next length byte completes it, and the rest slips */
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_TRUNCATED);
    rfc_spec(&s);
    s.kdf = "bcrypt";
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    rfc_spec(&s);
    s.kdfopts_len = 8;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    rfc_spec(&s);
    s.nkeys = 2;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    s.nkeys = 0;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    rfc_spec(&s);
    s.trailing = 1;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_TRAILING_DATA);
    rfc_spec(&s);
    s.pk_len = 33;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    rfc_spec(&s);
    s.sk_len = 65;
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(k);
}

static void
test_priv_comment_max(void **state)
{
    struct sshcert_privkey *k = NULL;
    struct privspec s;
    char big[SSHCERT_MAX_COMMENT + 2];

    (void)state;
    memset(big, 'c', sizeof(big) - 1);
    big[SSHCERT_MAX_COMMENT] = '\0';
    rfc_spec(&s);
    s.comment = big;
    assert_int_equal(spec_parse(&s, &k), 0);
    assert_int_equal(strlen(sshcert_privkey_comment(k)), SSHCERT_MAX_COMMENT);
    sshcert_privkey_free(k);
    k = NULL;
    big[SSHCERT_MAX_COMMENT] = 'c';
    big[SSHCERT_MAX_COMMENT + 1] = '\0';
    assert_int_equal(spec_parse(&s, &k), SSHCERT_ERR_TOO_LARGE);
    assert_null(k);
}

/* The text around the base64. */
static void
test_priv_armour(void **state)
{
    struct sshcert_privkey *k = NULL;
    size_t n = strlen(FX_USER_PRIV), i, j;
    char *t;

    (void)state;
    assert_non_null(t = malloc(2 * n + SSHCERT_MAX_KEY_FILE + 64));

    /* CRLF line endings and leading blank lines are accepted. */
    for (i = 0, j = 0; i < n; i++) {
        if (FX_USER_PRIV[i] == '\n')
            t[j++] = '\r';
        t[j++] = FX_USER_PRIV[i];
    }
    assert_int_equal(sshcert_privkey_parse(t, j, &k), 0);
    sshcert_privkey_free(k);
    k = NULL;
    snprintf(t, 2 * n + 64, "\n \n%s", FX_USER_PRIV);
    assert_int_equal(sshcert_privkey_parse(t, strlen(t), &k), 0);
    sshcert_privkey_free(k);
    k = NULL;
    /* The final newline is optional; blank space after END is fine. */
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV, n - 1, &k), 0);
    sshcert_privkey_free(k);
    k = NULL;
    snprintf(t, 2 * n + 64, "%s\n\n  \n", FX_USER_PRIV);
    assert_int_equal(sshcert_privkey_parse(t, strlen(t), &k), 0);
    sshcert_privkey_free(k);
    k = NULL;

    /* Anything else after END is trailing data. */
    snprintf(t, 2 * n + 64, "%sx\n", FX_USER_PRIV);
    assert_int_equal(sshcert_privkey_parse(t, strlen(t), &k), SSHCERT_ERR_TRAILING_DATA);
    snprintf(t, 2 * n + 64, "%s%s", FX_USER_PRIV, FX_USER_PRIV);
    assert_int_equal(sshcert_privkey_parse(t, strlen(t), &k), SSHCERT_ERR_TRAILING_DATA);
    /* Text before BEGIN, no END, a missing BEGIN, a NUL. */
    snprintf(t, 2 * n + 64, "x%s", FX_USER_PRIV);
    assert_int_equal(sshcert_privkey_parse(t, strlen(t), &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV, n - 10, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV + 1, n - 1, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_privkey_parse("", 0, &k), SSHCERT_ERR_INVALID_FORMAT);
    memcpy(t, FX_USER_PRIV, n + 1);
    t[60] = '\0';
    assert_int_equal(sshcert_privkey_parse(t, n, &k), SSHCERT_ERR_INVALID_FORMAT);
    /* Bad base64 between the markers. */
    memcpy(t, FX_USER_PRIV, n + 1);
    t[60] = '*';
    assert_int_equal(sshcert_privkey_parse(t, n, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(k);

    /* The file-size cap: SSHCERT_MAX_KEY_FILE bytes are read, one more is TOO_LARGE. */
    memcpy(t, FX_USER_PRIV, n);
    memset(t + n, '\n', SSHCERT_MAX_KEY_FILE - n);
    assert_int_equal(sshcert_privkey_parse(t, SSHCERT_MAX_KEY_FILE, &k), 0);
    sshcert_privkey_free(k);
    k = NULL;
    t[SSHCERT_MAX_KEY_FILE] = '\n';
    assert_int_equal(sshcert_privkey_parse(t, SSHCERT_MAX_KEY_FILE + 1, &k), SSHCERT_ERR_TOO_LARGE);
    assert_null(k);
    assert_int_equal(sshcert_privkey_parse(NULL, 0, &k), SSHCERT_ERR_INVALID_ARGUMENT);
    free(t);
}

/* Every prefix of the decoded key is an error, never a crash or a key. */
static void
test_priv_truncated(void **state)
{
    struct sshcert_buf *d = dearmour(FX_USER_PRIV);
    struct sshcert_privkey *k = NULL;
    size_t n, len = sshcert_buf_len(d);

    (void)state;
    assert_int_equal(len, 15 + 8 + 8 + 4 + 4 + 55 + 4 + 152);
    for (n = 0; n < len; n++) {
        /* The private section is the last field, so any cut leaves some string short. */
        assert_int_equal(parse_priv_blob(sshcert_buf_ptr(d), n, &k), SSHCERT_ERR_TRUNCATED);
        assert_null(k);
    }
    assert_int_equal(parse_priv_blob(sshcert_buf_ptr(d), len, &k), 0);
    sshcert_privkey_free(k);
    sshcert_buf_free(d);
}

/* Every single-bit flip of the decoded key is rejected, except inside the comment, where
 * it only changes the comment. */
static void
test_priv_bit_flips(void **state)
{
    struct sshcert_buf *d = dearmour(FX_USER_PRIV);
    struct sshcert_privkey *orig = NULL, *k = NULL;
    size_t len = sshcert_buf_len(d), i, cstart, clen = strlen("fixture@sshcert");
    uint8_t *m;
    unsigned bit;
    int r;

    (void)state;
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV, strlen(FX_USER_PRIV), &orig), 0);
    assert_non_null(m = malloc(len));
    memcpy(m, sshcert_buf_ptr(d), len);
    /* The comment's bytes, found by value (the padding 01..06 follows it). */
    assert_non_null(memmem(m, len, "fixture@sshcert\1\2\3\4\5\6", clen + 6));
    cstart = (size_t)((uint8_t *)memmem(m, len, "fixture@sshcert", clen) - m);
    assert_int_equal(cstart + clen + 6, len);
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            m[i] ^= (uint8_t)(1u << bit);
            r = parse_priv_blob(m, len, &k);
            if (i >= cstart && i < cstart + clen && m[i] != 0) {
                assert_int_equal(r, 0);
                assert_memory_equal(sshcert_privkey_secret(k), sshcert_privkey_secret(orig), 64);
                assert_string_not_equal(sshcert_privkey_comment(k), "fixture@sshcert");
                sshcert_privkey_free(k);
                k = NULL;
            } else {
                if (r == 0)
                    fail_msg("flip of bit %u at byte %zu was accepted", bit, i);
                assert_true(r < 0);
                assert_null(k);
            }
            m[i] ^= (uint8_t)(1u << bit);
        }
    }
    free(m);
    sshcert_privkey_free(orig);
    sshcert_buf_free(d);
}

static const char *
tmp_dir(void)
{
    static char dir[512];
    const char *base = getenv("SSHCERT_TEST_TMP");

    if (dir[0] != '\0')
        return dir;
    if (base != NULL && (mkdir(base, 0700) == 0 || errno == EEXIST))
        snprintf(dir, sizeof(dir), "%s/test_key.XXXXXX", base);
    else
        snprintf(dir, sizeof(dir), "/tmp/test_key.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void
test_priv_save_load(void **state)
{
    struct sshcert_privkey *k = NULL, *k2 = NULL;
    struct stat st;
    char path[600], *text = NULL;
    size_t len;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/key", tmp_dir());
    assert_int_equal(sshcert_privkey_parse(FX_USER_PRIV, strlen(FX_USER_PRIV), &k), 0);
    assert_int_equal(sshcert_privkey_save(k, path), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(
        sshcert_file_read_checked(path, NULL, SSHCERT_FILE_PRIVATE, SSHCERT_MAX_KEY_FILE, &text,
            &len, NULL),
        0);
    sshcert_secmem_free_len(text, len);
    text = NULL;
    assert_int_equal(sshcert_privkey_load(path, &k2), 0);
    assert_memory_equal(sshcert_privkey_secret(k), sshcert_privkey_secret(k2), 64);
    assert_string_equal(sshcert_privkey_comment(k2), "fixture@sshcert");
    sshcert_privkey_free(k2);
    k2 = NULL;
    assert_int_equal(sshcert_file_read(path, SSHCERT_MAX_KEY_FILE, &text, &len), 0);
    assert_int_equal(len, strlen(FX_USER_PRIV));
    free(text);

    /* A file one byte over the cap is refused before parsing. */
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fputs(FX_USER_PRIV, f) >= 0, 1);
    for (len = strlen(FX_USER_PRIV); len <= SSHCERT_MAX_KEY_FILE; len++)
        fputc('\n', f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(sshcert_privkey_load(path, &k2), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(truncate(path, SSHCERT_MAX_KEY_FILE), 0);
    assert_int_equal(sshcert_privkey_load(path, &k2), 0);
    sshcert_privkey_free(k2);
    k2 = NULL;
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sshcert_privkey_load(path, &k2), SSHCERT_ERR_NOT_FOUND);
    assert_null(k2);
    sshcert_privkey_free(k);
    rmdir(tmp_dir());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pub_fixture),
        cmocka_unit_test(test_fingerprint_known),
        cmocka_unit_test(test_pub_whitespace_and_comments),
        cmocka_unit_test(test_pub_to_line),
        cmocka_unit_test(test_pub_wrong_type),
        cmocka_unit_test(test_pub_type_mismatch),
        cmocka_unit_test(test_pub_malformed),
        cmocka_unit_test(test_pub_nul),
        cmocka_unit_test(test_pub_bad_blob),
        cmocka_unit_test(test_pub_max_line),
        cmocka_unit_test(test_pub_comment_max),
        cmocka_unit_test(test_pub_blob_roundtrip),
        cmocka_unit_test(test_pub_verify),
        cmocka_unit_test(test_priv_fixture),
        cmocka_unit_test(test_priv_rfc_vector),
        cmocka_unit_test(test_priv_to_text_roundtrip),
        cmocka_unit_test(test_priv_generate),
        cmocka_unit_test(test_priv_set_comment),
        cmocka_unit_test(test_priv_encrypted),
        cmocka_unit_test(test_priv_rsa),
        cmocka_unit_test(test_priv_padding),
        cmocka_unit_test(test_priv_checkint),
        cmocka_unit_test(test_priv_key_mismatch),
        cmocka_unit_test(test_priv_structure),
        cmocka_unit_test(test_priv_comment_max),
        cmocka_unit_test(test_priv_armour),
        cmocka_unit_test(test_priv_truncated),
        cmocka_unit_test(test_priv_bit_flips),
        cmocka_unit_test(test_priv_save_load),
    };

    if (sshcert_secmem_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
