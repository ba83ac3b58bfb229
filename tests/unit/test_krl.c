/*
 * KRL unit tests: builder encodings, parser limits and rejections, truncation and bit flips,
 * checks by serial, key id, key and fingerprint, and a 1,000,000-serial round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "krl.h"
#include "secmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define HEADER_LEN 44
#define ED25519_BLOB_LEN 51
/* Offset of the serial in an ed25519 certificate blob: type, nonce and key strings. */
#define CERT_SERIAL_OFF (4 + 32 + 4 + 32 + 4 + 32)

static struct sshcert_privkey *ca1, *ca2;
static struct sshcert_pubkey ca1_pub, ca2_pub, user_pub, fixed_pub;

/* ---- helpers ---- */

static int
setup(void **state)
{
    (void)state;
    if (sshcert_secmem_init() != 0 || sshcert_privkey_generate(&ca1) != 0 ||
        sshcert_privkey_generate(&ca2) != 0)
        return -1;
    sshcert_privkey_public(ca1, &ca1_pub);
    sshcert_privkey_public(ca2, &ca2_pub);
    randombytes_buf(user_pub.pk, sizeof(user_pub.pk));
    memset(fixed_pub.pk, 0x42, sizeof(fixed_pub.pk));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    sshcert_privkey_free(ca1);
    sshcert_privkey_free(ca2);
    return 0;
}

/* Certificates for many serials: one signed blob whose serial is patched before parsing
 * (the parser does not check the signature and the KRL check does not need it). */
struct certgen {
    uint8_t *blob;
    size_t len;
};

static void
certgen_init(struct certgen *g, const struct sshcert_privkey *ca, const struct sshcert_pubkey *key,
    const char *id)
{
    struct sshcert_pubkey cap;
    struct sshcert_cert *c = NULL;
    const uint8_t *blob;

    sshcert_privkey_public(ca, &cap);
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_set_key(c, key), 0);
    assert_int_equal(sshcert_cert_set_serial(c, 0x0102030405060708u), 0);
    assert_int_equal(sshcert_cert_set_key_id(c, id), 0);
    assert_int_equal(sshcert_cert_add_principal(c, "p"), 0);
    assert_int_equal(sshcert_cert_set_validity(c, 0, UINT64_MAX), 0);
    assert_int_equal(sshcert_cert_sign(c, &cap, sshcert_cert_signer_privkey, (void *)ca), 0);
    assert_int_equal(sshcert_cert_blob(c, &blob, &g->len), 0);
    assert_non_null(g->blob = malloc(g->len));
    memcpy(g->blob, blob, g->len);
    assert_int_equal(g->blob[CERT_SERIAL_OFF], 1); /* the offset is right */
    assert_int_equal(g->blob[CERT_SERIAL_OFF + 7], 8);
    sshcert_cert_free(c);
}

static struct sshcert_cert *
certgen_make(const struct certgen *g, uint64_t serial)
{
    struct sshcert_cert *c = NULL;
    int i;

    for (i = 0; i < 8; i++)
        g->blob[CERT_SERIAL_OFF + i] = (uint8_t)(serial >> (56 - 8 * i));
    assert_int_equal(sshcert_cert_parse_blob(g->blob, g->len, &c), 0);
    assert_true(sshcert_cert_serial(c) == serial);
    return c;
}

static int
check_serial(const struct sshcert_krl *k, const struct certgen *g, uint64_t serial)
{
    struct sshcert_cert *c = certgen_make(g, serial);
    int r = sshcert_krl_check_cert(k, c);

    sshcert_cert_free(c);
    return r;
}

static void
certgen_free(struct certgen *g)
{
    free(g->blob);
    g->blob = NULL;
}

static struct sshcert_buf *
encode(struct sshcert_krl *k)
{
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_non_null(b);
    assert_int_equal(sshcert_krl_to_blob(k, b), 0);
    return b;
}

static int
parse_buf(const struct sshcert_buf *b, struct sshcert_krl **k)
{
    return sshcert_krl_from_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), k);
}

/* Parses, re-encodes and asserts the encoding is a fixed point (canonical). */
static struct sshcert_krl *
parse_canonical(const struct sshcert_buf *b)
{
    struct sshcert_krl *k = NULL;
    struct sshcert_buf *again;

    assert_int_equal(parse_buf(b, &k), 0);
    again = encode(k);
    assert_int_equal(sshcert_buf_len(again), sshcert_buf_len(b));
    assert_memory_equal(sshcert_buf_ptr(again), sshcert_buf_ptr(b), sshcert_buf_len(b));
    sshcert_buf_free(again);
    return k;
}

static void
put_key_blob(struct sshcert_buf *b, const struct sshcert_pubkey *k)
{
    assert_int_equal(sshcert_pubkey_put_blob(b, k), 0);
}

/* A hand-made KRL header with the given format version and comment. */
static struct sshcert_buf *
header(uint32_t format, const void *comment, size_t clen)
{
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_non_null(b);
    assert_int_equal(sshcert_buf_put(b, "SSHKRL\n\0", 8), 0);
    assert_int_equal(sshcert_buf_put_u32(b, format), 0);
    assert_int_equal(sshcert_buf_put_u64(b, 0), 0);
    assert_int_equal(sshcert_buf_put_u64(b, 0), 0);
    assert_int_equal(sshcert_buf_put_u64(b, 0), 0);
    assert_int_equal(sshcert_buf_put_string(b, NULL, 0), 0);
    assert_int_equal(sshcert_buf_put_string(b, comment, clen), 0);
    return b;
}

/* Start of a CERTIFICATES section body for ca (NULL: any CA). */
static struct sshcert_buf *
cert_section(const struct sshcert_pubkey *ca)
{
    struct sshcert_buf *s = sshcert_buf_new(0), *cab = sshcert_buf_new(0);

    assert_non_null(s);
    assert_non_null(cab);
    if (ca != NULL)
        put_key_blob(cab, ca);
    assert_int_equal(sshcert_buf_put_stringb(s, cab), 0);
    assert_int_equal(sshcert_buf_put_string(s, NULL, 0), 0);
    sshcert_buf_free(cab);
    return s;
}

static void
put_tlv(struct sshcert_buf *b, uint8_t type, const void *p, size_t len)
{
    assert_int_equal(sshcert_buf_put_u8(b, type), 0);
    assert_int_equal(sshcert_buf_put_string(b, p, len), 0);
}

/* Appends section `type` with body s to b and frees s. */
static void
put_section(struct sshcert_buf *b, uint8_t type, struct sshcert_buf *s)
{
    put_tlv(b, type, sshcert_buf_ptr(s), sshcert_buf_len(s));
    sshcert_buf_free(s);
}

static void
put_range_sub(struct sshcert_buf *s, uint64_t lo, uint64_t hi)
{
    uint8_t d[16];
    int i;

    for (i = 0; i < 8; i++) {
        d[i] = (uint8_t)(lo >> (56 - 8 * i));
        d[8 + i] = (uint8_t)(hi >> (56 - 8 * i));
    }
    put_tlv(s, 0x21, d, sizeof(d));
}

static void
put_bitmap_sub(struct sshcert_buf *s, uint64_t offset, const uint8_t *mpint, size_t len)
{
    struct sshcert_buf *d = sshcert_buf_new(0);

    assert_int_equal(sshcert_buf_put_u64(d, offset), 0);
    assert_int_equal(sshcert_buf_put_string(d, mpint, len), 0);
    put_tlv(s, 0x22, sshcert_buf_ptr(d), sshcert_buf_len(d));
    sshcert_buf_free(d);
}

static int
parse_only(const struct sshcert_buf *b)
{
    struct sshcert_krl *k = NULL;
    int r = parse_buf(b, &k);

    if (r == 0)
        assert_non_null(k);
    else
        assert_null(k);
    sshcert_krl_free(k);
    return r;
}

/* A KRL with one certificate section for ca1 holding the subsection sub. */
static int
parse_with_sub(uint8_t type, const void *p, size_t len)
{
    struct sshcert_buf *b = header(1, NULL, 0), *s = cert_section(&ca1_pub);
    int r;

    put_tlv(s, type, p, len);
    put_section(b, 1, s);
    r = parse_only(b);
    sshcert_buf_free(b);
    return r;
}

/* Subsections (type, data length, mpint length for bitmaps) of the first section of an
 * encoded KRL, read back independently of the library's parser. */
struct subinfo {
    uint8_t type;
    size_t len, mpint;
};

static size_t
list_subs(const struct sshcert_buf *krl, struct subinfo *out, size_t max)
{
    struct sshcert_buf *b = sshcert_buf_from(sshcert_buf_ptr(krl), sshcert_buf_len(krl));
    struct sshcert_buf *sect = NULL, *sub = NULL;
    const uint8_t *p;
    size_t n = 0, len;
    uint8_t type;
    uint64_t off;

    assert_int_equal(sshcert_buf_skip(b, HEADER_LEN), 0);
    assert_int_equal(sshcert_buf_get_u8(b, &type), 0);
    assert_int_equal(type, 1);
    assert_int_equal(sshcert_buf_get_stringb(b, &sect), 0);
    assert_int_equal(sshcert_buf_get_string_direct(sect, &p, &len), 0);
    assert_int_equal(sshcert_buf_get_string_direct(sect, &p, &len), 0);
    while (sshcert_buf_len(sect) > 0) {
        assert_true(n < max);
        assert_int_equal(sshcert_buf_get_u8(sect, &type), 0);
        assert_int_equal(sshcert_buf_get_stringb(sect, &sub), 0);
        out[n].type = type;
        out[n].len = sshcert_buf_len(sub);
        out[n].mpint = 0;
        if (type == 0x22) {
            assert_int_equal(sshcert_buf_get_u64(sub, &off), 0);
            assert_int_equal(sshcert_buf_get_string_direct(sub, &p, &out[n].mpint), 0);
        }
        sshcert_buf_free(sub);
        n++;
    }
    sshcert_buf_free(sect);
    sshcert_buf_free(b);
    return n;
}

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- builder and encoding ---- */

static void
test_empty(void **state)
{
    static const uint8_t want[HEADER_LEN] = {'S', 'S', 'H', 'K', 'R', 'L', '\n', 0, 0, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 8};
    struct sshcert_krl *k = NULL, *p = NULL;
    struct sshcert_buf *b;
    struct certgen g;
    const struct sshcert_pubkey *cas[2] = {NULL, &ca1_pub};
    int i;

    (void)state;
    certgen_init(&g, ca1, &user_pub, "id");
    for (i = 0; i < 2; i++) {
        assert_int_equal(sshcert_krl_new(cas[i], &k), 0);
        sshcert_krl_set_version(k, 9);
        sshcert_krl_set_date(k, 8);
        b = encode(k);
        /* Nothing revoked: the certificate section is left out entirely. */
        assert_int_equal(sshcert_buf_len(b), HEADER_LEN);
        assert_memory_equal(sshcert_buf_ptr(b), want, HEADER_LEN);
        p = parse_canonical(b);
        assert_true(sshcert_krl_version(p) == 9);
        assert_true(sshcert_krl_date(p) == 8);
        assert_int_equal(check_serial(p, &g, 1), 0);
        assert_int_equal(check_serial(p, &g, 0), 0);
        assert_int_equal(sshcert_krl_check_key(p, &user_pub), 0);
        assert_true(sshcert_krl_serial_count(p, &ca1_pub) == 0);
        assert_true(sshcert_krl_serial_count(p, NULL) == 0);
        sshcert_krl_free(p);
        sshcert_krl_free(k);
        sshcert_buf_free(b);
    }
    /* A KRL without a CA revokes nothing and refuses serials. */
    assert_int_equal(sshcert_krl_new(NULL, &k), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 5), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_krl_free(k);
    certgen_free(&g);
}

/* ssh-formats.md 3.3: one serial is a 121-byte KRL with a one-entry SERIAL_LIST. */
static void
test_single_serial_layout(void **state)
{
    struct sshcert_krl *k = NULL;
    struct sshcert_buf *b, *want;
    struct sshcert_buf *cab = sshcert_buf_new(0);

    (void)state;
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 100), 0);
    b = encode(k);
    assert_int_equal(sshcert_buf_len(b), 121);
    want = header(1, NULL, 0);
    assert_int_equal(sshcert_buf_put_u8(want, 1), 0);
    assert_int_equal(sshcert_buf_put_u32(want, 64 + 8), 0);
    put_key_blob(cab, &ca1_pub);
    assert_int_equal(sshcert_buf_put_stringb(want, cab), 0);
    assert_int_equal(sshcert_buf_put_string(want, NULL, 0), 0);
    assert_int_equal(sshcert_buf_put_u8(want, 0x20), 0);
    assert_int_equal(sshcert_buf_put_u32(want, 8), 0);
    assert_int_equal(sshcert_buf_put_u64(want, 100), 0);
    assert_memory_equal(sshcert_buf_ptr(b), sshcert_buf_ptr(want), 121);
    sshcert_buf_free(cab);
    sshcert_buf_free(want);
    sshcert_buf_free(b);
    sshcert_krl_free(k);
}

/* Builds a KRL for ca1 from n (lo, hi) pairs, in the given order. */
static struct sshcert_buf *
build(const uint64_t (*ranges)[2], size_t n)
{
    struct sshcert_krl *k = NULL;
    struct sshcert_buf *b;
    size_t i;

    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (i = 0; i < n; i++)
        assert_int_equal(sshcert_krl_revoke_range(k, ranges[i][0], ranges[i][1]), 0);
    b = encode(k);
    sshcert_krl_free(k);
    return b;
}

/* The example of ssh-formats.md 3.3 and what ssh-keygen writes: {1,2,3,7,16} is one bitmap
 * at offset 1 with mpint 00 80 47. */
static void
test_bitmap_example(void **state)
{
    static const uint64_t set[][2] = {{16, 16}, {7, 7}, {1, 3}};
    static const uint8_t sub[] = {0x22, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0x00,
        0x80, 0x47};
    struct sshcert_buf *b = build(set, 3);
    struct sshcert_krl *k;
    struct certgen g;
    uint64_t s;

    (void)state;
    assert_int_equal(sshcert_buf_len(b), HEADER_LEN + 5 + 4 + ED25519_BLOB_LEN + 4 + sizeof(sub));
    assert_memory_equal(sshcert_buf_ptr(b) + sshcert_buf_len(b) - sizeof(sub), sub, sizeof(sub));
    k = parse_canonical(b);
    certgen_init(&g, ca1, &user_pub, "id");
    for (s = 0; s <= 20; s++)
        assert_int_equal(check_serial(k, &g, s),
            (s >= 1 && s <= 3) || s == 7 || s == 16 ? SSHCERT_ERR_REVOKED : 0);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == 5);
    assert_true(sshcert_krl_serial_count(k, &ca2_pub) == 0);
    certgen_free(&g);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
}

static void
test_encoding_choices(void **state)
{
    static const uint64_t range[][2] = {{100, 200}};
    static const uint64_t list[][2] = {{90000, 90000}, {1000, 1000}, {5000, 5000}};
    static const uint64_t mixed[][2] = {{1, 3}, {7, 7}, {16, 16}, {100, 200}, {1000, 1000},
        {5000, 5000}, {1u << 20, (1u << 20) + 5000}};
    struct subinfo subs[16];
    struct sshcert_buf *b;
    size_t n;

    (void)state;
    b = build(range, 1);
    n = list_subs(b, subs, 16);
    assert_int_equal(n, 1);
    assert_int_equal(subs[0].type, 0x21);
    assert_int_equal(subs[0].len, 16);
    sshcert_buf_free(b);

    b = build(list, 3);
    n = list_subs(b, subs, 16);
    assert_int_equal(n, 1);
    assert_int_equal(subs[0].type, 0x20);
    assert_int_equal(subs[0].len, 24);
    sshcert_buf_free(b);

    b = build(mixed, 7);
    n = list_subs(b, subs, 16);
    assert_int_equal(n, 4);
    assert_int_equal(subs[0].type, 0x22);
    assert_int_equal(subs[1].type, 0x21);
    assert_int_equal(subs[2].type, 0x20);
    assert_int_equal(subs[2].len, 16);
    assert_int_equal(subs[3].type, 0x21);
    sshcert_buf_free(b);
}

/* sshcert_krl_build, the CA's whole path: header fields, serials in any order, and a
 * refused serial leaves no buffer. */
static void
test_build_whole(void **state)
{
    static const uint64_t serials[] = {9, 3, 4, 5, 100};
    static const uint64_t bad[] = {7, 0};
    static const struct sshcert_serial_range ranges[] = {
        {101, 101}, {5000000000ULL, 10000000000ULL}};
    static const struct sshcert_serial_range bad_range[] = {{10, 9}};
    static const uint64_t merged[] = {9, 3, 4, 5, 100, 101};
    struct sshcert_buf *b = NULL, *stale;
    struct sshcert_krl *k = NULL;

    (void)state;
    assert_int_equal(sshcert_krl_build(&ca1_pub, 42, 1700000000, serials, 5, NULL, 0, &b), 0);
    assert_non_null(b);
    assert_int_equal(sshcert_krl_from_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), &k), 0);
    assert_int_equal(sshcert_krl_version(k), 42);
    assert_int_equal(sshcert_krl_date(k), 1700000000);
    assert_int_equal(sshcert_krl_serial_count(k, &ca1_pub), 5);
    assert_int_equal(sshcert_krl_serial_count(k, &ca2_pub), 0);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
    b = stale = sshcert_buf_new(0); /* what *out held before must not come back */
    assert_int_equal(sshcert_krl_build(&ca1_pub, 1, 1, bad, 2, NULL, 0, &b),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(b);
    sshcert_buf_free(stale);
    assert_int_equal(sshcert_krl_build(&ca1_pub, 1, 1, NULL, 0, NULL, 0, &b), 0);
    assert_int_equal(sshcert_krl_from_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), &k), 0);
    assert_int_equal(sshcert_krl_serial_count(k, &ca1_pub), 0);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
    /* Ranges with the serials (a restore's): one touching a listed serial merges with it, so
     * the KRL is byte for byte the one that lists serial 101 among the serials. */
    assert_int_equal(sshcert_krl_build(&ca1_pub, 2, 1, serials, 5, ranges, 2, &b), 0);
    assert_int_equal(sshcert_krl_from_blob(sshcert_buf_ptr(b), sshcert_buf_len(b), &k), 0);
    assert_int_equal(sshcert_krl_serial_count(k, &ca1_pub), 5 + 1 + 5000000001ULL);
    sshcert_krl_free(k);
    assert_int_equal(sshcert_krl_build(&ca1_pub, 2, 1, merged, 6, ranges + 1, 1, &stale), 0);
    assert_int_equal(sshcert_buf_len(stale), sshcert_buf_len(b));
    assert_memory_equal(sshcert_buf_ptr(stale), sshcert_buf_ptr(b), sshcert_buf_len(b));
    sshcert_buf_free(stale);
    sshcert_buf_free(b);
    assert_int_equal(sshcert_krl_build(&ca1_pub, 1, 1, serials, 5, bad_range, 1, &b),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(b);
}

static void
test_builder_arguments(void **state)
{
    struct sshcert_krl *k = NULL, *p;
    struct sshcert_buf *b;
    struct subinfo subs[4];
    struct certgen g;

    (void)state;
    assert_int_equal(sshcert_krl_new(&ca1_pub, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_revoke_range(k, 0, 5), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_revoke_range(k, 6, 5), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_revoke_serial(NULL, 5), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_to_blob(k, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    /* The whole serial space: one range, counted without overflow. */
    assert_int_equal(sshcert_krl_revoke_range(k, 1, UINT64_MAX), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, UINT64_MAX), 0);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == UINT64_MAX);
    b = encode(k);
    assert_int_equal(list_subs(b, subs, 4), 1);
    assert_int_equal(subs[0].type, 0x21);
    p = parse_canonical(b);
    certgen_init(&g, ca1, &user_pub, "id");
    assert_int_equal(check_serial(p, &g, UINT64_MAX), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(p, &g, 1), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(p, &g, 0), 0); /* serial 0 can only go by key id */
    sshcert_krl_free(p);
    sshcert_buf_free(b);
    sshcert_krl_free(k);

    /* Out-of-order, overlapping revocations are checked and counted before encoding. */
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    assert_int_equal(sshcert_krl_revoke_range(k, 10, 20), 0);
    assert_int_equal(sshcert_krl_revoke_range(k, 1, 12), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 30), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 21), 0);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == 22);
    assert_int_equal(check_serial(k, &g, 15), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(k, &g, 22), 0);
    b = encode(k);
    p = parse_canonical(b);
    assert_true(sshcert_krl_serial_count(p, &ca1_pub) == 22);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == 22);
    assert_int_equal(check_serial(p, &g, 21), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(p, &g, 29), 0);
    sshcert_krl_free(p);
    sshcert_buf_free(b);
    sshcert_krl_free(k);
    certgen_free(&g);
}

/* The entry cap counts what the builder holds: out-of-order serials that merge do not hit
 * it, scattered ones do (and the encoding could not be read back past it). */
static void
test_builder_cap(void **state)
{
    const uint64_t half = SSHCERT_MAX_KRL_ENTRIES / 2;
    struct sshcert_krl *k = NULL;
    struct sshcert_buf *b;
    struct subinfo subs[2];
    uint64_t s, want;

    (void)state;
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (s = 2; s <= 2 * half; s += 2) /* half entries, none adjacent */
        assert_int_equal(sshcert_krl_revoke_serial(k, s), 0);
    for (s = 1; s <= 2 * half + 1; s += 2) /* fills the gaps, out of order */
        assert_int_equal(sshcert_krl_revoke_serial(k, s), 0);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == 2 * half + 1);
    b = encode(k);
    assert_int_equal(list_subs(b, subs, 2), 1);
    assert_int_equal(subs[0].type, 0x21);
    sshcert_buf_free(b);
    sshcert_krl_free(k);

    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (s = 1; s < SSHCERT_MAX_KRL_ENTRIES; s++) /* with the CA: exactly the cap */
        assert_int_equal(sshcert_krl_revoke_serial(k, 2 * s), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 2 * s), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_krl_revoke_range(k, 2 * s + 2, 2 * s + 9), SSHCERT_ERR_TOO_LARGE);
    want = SSHCERT_MAX_KRL_ENTRIES - 1;
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == want);
    /* Touching what is held still works at the cap, and frees entries when ranges join. */
    assert_int_equal(sshcert_krl_revoke_serial(k, 1), 0); /* joins 2 */
    assert_int_equal(sshcert_krl_revoke_range(k, 4, 4), 0); /* already held */
    assert_int_equal(sshcert_krl_revoke_range(k, 2 * s - 1, 2 * s), 0); /* extends the last */
    assert_int_equal(sshcert_krl_revoke_range(k, 5, 11), 0);   /* joins 4..12: frees 4 */
    assert_int_equal(sshcert_krl_revoke_serial(k, 2 * s + 2), 0); /* fits again */
    want += 1 + 2 + 4 + 1;
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == want);
    b = encode(k);
    sshcert_krl_free(k);
    assert_int_equal(parse_buf(b, &k), 0);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == want);
    sshcert_buf_free(b);
    sshcert_krl_free(k);
}

/* Random sets of singles and ranges, inserted in random order, against a plain bitmap. */
static void
test_roundtrip_random(void **state)
{
    enum { M = 6000, ROUNDS = 12 };
    uint8_t *model = calloc(M + 2, 1);
    struct sshcert_krl *k, *p;
    struct sshcert_buf *b;
    struct subinfo subs[512];
    struct certgen g;
    uint64_t seed = 0x9e3779b97f4a7c15u, lo, hi, s, want, x;
    size_t n, i;
    int round, j, nadd;

    (void)state;
    assert_non_null(model);
    certgen_init(&g, ca1, &user_pub, "id");
    for (round = 0; round < ROUNDS; round++) {
        memset(model, 0, M + 2);
        assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
        nadd = 20 + (int)(xorshift(&seed) % (uint64_t)(round % 3 == 0 ? 40 : 2000));
        for (j = 0; j < nadd; j++) {
            lo = 1 + xorshift(&seed) % M;
            x = xorshift(&seed) % 10;
            hi = lo + (x < 7 ? 0 : x < 9 ? xorshift(&seed) % 40 : xorshift(&seed) % 600);
            if (hi > M)
                hi = M;
            assert_int_equal(sshcert_krl_revoke_range(k, lo, hi), 0);
            for (s = lo; s <= hi; s++)
                model[s] = 1;
        }
        b = encode(k);
        n = list_subs(b, subs, 512);
        for (i = 0; i < n; i++)
            assert_true(subs[i].mpint <= SSHCERT_KRL_MAX_BITMAP_BYTES);
        p = parse_canonical(b);
        for (want = 0, s = 1; s <= M + 1; s++) {
            want += model[s];
            assert_int_equal(check_serial(p, &g, s), model[s] ? SSHCERT_ERR_REVOKED : 0);
        }
        assert_true(sshcert_krl_serial_count(p, &ca1_pub) == want);
        assert_true(sshcert_krl_serial_count(k, &ca1_pub) == want);
        sshcert_krl_free(p);
        sshcert_krl_free(k);
        sshcert_buf_free(b);
    }
    certgen_free(&g);
    free(model);
}

/* Serials spread over all 64 bits, in random order: every byte of the sort key matters. */
static void
test_full_width_serials(void **state)
{
    enum { N = 3000 };
    uint64_t *v = malloc(N * sizeof(*v)), seed = 7;
    struct sshcert_krl *k = NULL, *p;
    struct sshcert_buf *b;
    struct certgen g;
    size_t i;

    (void)state;
    assert_non_null(v);
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (i = 0; i < N; i++) {
        v[i] = xorshift(&seed) | 1; /* odd: never 0, and v+1 is never another entry */
        assert_int_equal(sshcert_krl_revoke_serial(k, v[i]), 0);
    }
    b = encode(k);
    p = parse_canonical(b);
    assert_true(sshcert_krl_serial_count(p, &ca1_pub) == N);
    certgen_init(&g, ca1, &user_pub, "id");
    for (i = 0; i < N; i++) {
        assert_int_equal(check_serial(p, &g, v[i]), SSHCERT_ERR_REVOKED);
        assert_int_equal(check_serial(k, &g, v[i]), SSHCERT_ERR_REVOKED);
        if (v[i] != UINT64_MAX)
            assert_int_equal(check_serial(p, &g, v[i] + 1), 0);
    }
    certgen_free(&g);
    sshcert_krl_free(p);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
    free(v);
}

/* A bitmap never spans more than 16384 bits, so its mpint is at most 2049 bytes. */
static void
test_bitmap_cap_encoding(void **state)
{
    struct sshcert_krl *k = NULL, *p;
    struct sshcert_buf *b;
    struct subinfo subs[64];
    struct certgen g;
    size_t n, i;
    uint64_t s;

    (void)state;
    /* Odd serials 1..16383 and 16384: exactly 16384 bits, top bit on a byte boundary. */
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (s = 1; s <= 16383; s += 2)
        assert_int_equal(sshcert_krl_revoke_serial(k, s), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 16384), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 16386), 0);
    assert_int_equal(sshcert_krl_revoke_serial(k, 16388), 0);
    b = encode(k);
    n = list_subs(b, subs, 64);
    assert_int_equal(n, 2);
    assert_int_equal(subs[0].type, 0x22);
    assert_int_equal(subs[0].mpint, SSHCERT_KRL_MAX_BITMAP_BYTES);
    assert_int_not_equal(subs[1].type, 0);
    p = parse_canonical(b);
    assert_true(sshcert_krl_serial_count(p, &ca1_pub) == 8192 + 1 + 2);
    certgen_init(&g, ca1, &user_pub, "id");
    for (s = 16370; s <= 16390; s++)
        assert_int_equal(check_serial(p, &g, s),
            (s % 2 == 1 && s < 16384) || s == 16384 || s == 16386 || s == 16388 ?
                SSHCERT_ERR_REVOKED :
                0);
    sshcert_krl_free(p);
    sshcert_buf_free(b);
    sshcert_krl_free(k);

    /* ssh-keygen 9.2 writes the odd serials to 40001 as one 2.5 KiB bitmap it cannot read. */
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (s = 1; s <= 40001; s += 2)
        assert_int_equal(sshcert_krl_revoke_serial(k, s), 0);
    b = encode(k);
    n = list_subs(b, subs, 64);
    assert_int_equal(n, 3);
    for (i = 0; i < n; i++) {
        assert_int_equal(subs[i].type, 0x22);
        assert_true(subs[i].mpint <= SSHCERT_KRL_MAX_BITMAP_BYTES);
    }
    p = parse_canonical(b);
    assert_true(sshcert_krl_serial_count(p, &ca1_pub) == 20001);
    for (s = 16380; s <= 16390; s++)
        assert_int_equal(check_serial(p, &g, s), s % 2 == 1 ? SSHCERT_ERR_REVOKED : 0);
    assert_int_equal(check_serial(p, &g, 40001), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(p, &g, 40003), 0);
    sshcert_krl_free(p);
    sshcert_buf_free(b);
    sshcert_krl_free(k);
    certgen_free(&g);
}

/* ---- parser: rejections ---- */

static void
test_parse_header_rejects(void **state)
{
    struct sshcert_buf *b;
    struct sshcert_krl *k = (struct sshcert_krl *)&k; /* non-NULL: must be cleared */
    uint8_t raw[HEADER_LEN];

    (void)state;
    b = header(1, NULL, 0);
    memcpy(raw, sshcert_buf_ptr(b), HEADER_LEN);
    sshcert_buf_free(b);
    assert_int_equal(sshcert_krl_from_blob(raw, HEADER_LEN, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_from_blob(NULL, 5, &k), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(k);
    assert_int_equal(sshcert_krl_from_blob(NULL, 0, &k), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(sshcert_krl_from_blob(raw, 7, &k), SSHCERT_ERR_TRUNCATED);
    raw[6] = 'X';
    assert_int_equal(sshcert_krl_from_blob(raw, HEADER_LEN, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_krl_from_blob(raw, 3, &k), SSHCERT_ERR_TRUNCATED); /* "SSH" */
    assert_int_equal(sshcert_krl_from_blob((const uint8_t *)"SSHKRX", 6, &k),
        SSHCERT_ERR_INVALID_FORMAT);
    raw[6] = '\n';
    raw[7] = 1;
    assert_int_equal(sshcert_krl_from_blob(raw, HEADER_LEN, &k), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(k);

    b = header(2, NULL, 0);
    assert_int_equal(parse_only(b), SSHCERT_ERR_UNSUPPORTED);
    sshcert_buf_free(b);
    b = header(0, NULL, 0);
    assert_int_equal(parse_only(b), SSHCERT_ERR_UNSUPPORTED);
    sshcert_buf_free(b);
    b = header(1, "a\0b", 3);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    b = header(1, "made by hand", 12);
    assert_int_equal(parse_only(b), 0);
    sshcert_buf_free(b);
}

static void
test_parse_section_rejects(void **state)
{
    struct sshcert_buf *b, *s;
    uint8_t h[32];

    (void)state;
    memset(h, 7, sizeof(h));
    /* Signature sections (type 4) are refused, as OpenSSH >= 9.4 does. */
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    put_key_blob(s, &ca1_pub);
    put_section(b, 4, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_UNSUPPORTED);
    sshcert_buf_free(b);
    /* Unknown section types. */
    b = header(1, NULL, 0);
    put_tlv(b, 6, NULL, 0);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    b = header(1, NULL, 0);
    put_tlv(b, 0, NULL, 0);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    /* Fingerprints of the wrong length and empty explicit keys. */
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(s, h, 21), 0);
    put_section(b, 3, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(s, h, 31), 0);
    put_section(b, 5, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(s, NULL, 0), 0);
    put_section(b, 2, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    /* A partial string at the end of a list section. */
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(s, h, 32), 0);
    assert_int_equal(sshcert_buf_put_u8(s, 0), 0);
    put_section(b, 5, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_TRUNCATED);
    sshcert_buf_free(b);
}

static void
test_parse_extensions(void **state)
{
    struct sshcert_buf *b, *e;
    uint8_t critical;
    int trailing;

    (void)state;
    for (critical = 0; critical <= 2; critical++) {
        for (trailing = 0; trailing <= 1; trailing++) {
            e = sshcert_buf_new(0);
            assert_int_equal(sshcert_buf_put_cstring(e, "future@example.org"), 0);
            assert_int_equal(sshcert_buf_put_u8(e, critical), 0);
            assert_int_equal(sshcert_buf_put_string(e, "xyz", 3), 0);
            if (trailing)
                assert_int_equal(sshcert_buf_put_u8(e, 0), 0);
            /* As a KRL section (255)... */
            b = header(1, NULL, 0);
            put_tlv(b, 255, sshcert_buf_ptr(e), sshcert_buf_len(e));
            assert_int_equal(parse_only(b), critical == 2 ? SSHCERT_ERR_INVALID_FORMAT :
                    critical ? SSHCERT_ERR_UNSUPPORTED :
                    trailing ? SSHCERT_ERR_TRAILING_DATA : 0);
            sshcert_buf_free(b);
            /* ...and as a certificate subsection (0x39). */
            assert_int_equal(parse_with_sub(0x39, sshcert_buf_ptr(e), sshcert_buf_len(e)),
                critical == 2 ? SSHCERT_ERR_INVALID_FORMAT :
                critical      ? SSHCERT_ERR_UNSUPPORTED :
                trailing      ? SSHCERT_ERR_TRAILING_DATA :
                                0);
            sshcert_buf_free(e);
        }
    }
    assert_int_equal(parse_with_sub(0x24, NULL, 0), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(parse_with_sub(0x1f, NULL, 0), SSHCERT_ERR_INVALID_FORMAT);
}

static void
test_parse_serial_rejects(void **state)
{
    uint8_t d[32];
    struct sshcert_buf *b, *s;

    (void)state;
    memset(d, 0, sizeof(d));
    /* Serial 0 in a list, in a range; an inverted range; partial and trailing bytes. */
    assert_int_equal(parse_with_sub(0x20, d, 8), SSHCERT_ERR_INVALID_FORMAT);
    d[7] = 5;
    assert_int_equal(parse_with_sub(0x20, d, 8), 0);
    assert_int_equal(parse_with_sub(0x20, d, 12), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(parse_with_sub(0x20, NULL, 0), 0);
    memset(d, 0, sizeof(d));
    d[15] = 9; /* 0..9 */
    assert_int_equal(parse_with_sub(0x21, d, 16), SSHCERT_ERR_INVALID_FORMAT);
    d[7] = 10; /* 10..9 */
    assert_int_equal(parse_with_sub(0x21, d, 16), SSHCERT_ERR_INVALID_FORMAT);
    d[7] = 9; /* 9..9 */
    assert_int_equal(parse_with_sub(0x21, d, 16), 0);
    assert_int_equal(parse_with_sub(0x21, d, 17), SSHCERT_ERR_TRAILING_DATA);
    assert_int_equal(parse_with_sub(0x21, d, 15), SSHCERT_ERR_TRUNCATED);
    /* Key ids: text without NUL. */
    b = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(b, "a\0b", 3), 0);
    assert_int_equal(parse_with_sub(0x23, sshcert_buf_ptr(b), sshcert_buf_len(b)),
        SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    /* A malformed ed25519 CA key, one with trailing bytes, and a foreign key type. */
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_u32(s, 4 + 11 + 4 + 31), 0);
    assert_int_equal(sshcert_buf_put_cstring(s, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_put_string(s, d, 31), 0);
    assert_int_equal(sshcert_buf_put_string(s, NULL, 0), 0);
    put_section(b, 1, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_INVALID_FORMAT);
    sshcert_buf_free(b);
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_u32(s, ED25519_BLOB_LEN + 1), 0);
    put_key_blob(s, &ca1_pub);
    assert_int_equal(sshcert_buf_put_u8(s, 0), 0);
    assert_int_equal(sshcert_buf_put_string(s, NULL, 0), 0);
    put_section(b, 1, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_TRAILING_DATA);
    sshcert_buf_free(b);
    b = header(1, NULL, 0);
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_u32(s, 4 + 7 + 4 + 3), 0);
    assert_int_equal(sshcert_buf_put_cstring(s, "ssh-rsa"), 0);
    assert_int_equal(sshcert_buf_put_string(s, "\x01\x00\x01", 3), 0);
    assert_int_equal(sshcert_buf_put_string(s, NULL, 0), 0);
    put_range_sub(s, 5, 500);
    put_section(b, 1, s);
    assert_int_equal(parse_only(b), 0);
    sshcert_krl_free(parse_canonical(b));
    sshcert_buf_free(b);
    /* A section that ends inside the CA key string. */
    b = header(1, NULL, 0);
    put_tlv(b, 1, "\0\0\0\x33", 4);
    assert_int_equal(parse_only(b), SSHCERT_ERR_TRUNCATED);
    sshcert_buf_free(b);
}

static void
test_parse_bitmaps(void **state)
{
    uint8_t m[SSHCERT_KRL_MAX_BITMAP_BYTES + 1];
    struct sshcert_buf *b, *s;
    struct sshcert_krl *k = NULL;
    struct certgen g;
    struct {
        uint64_t offset;
        size_t len;
        uint8_t first, second;
        int want;
    } cases[] = {
        {0, 1, 0x01, 0, SSHCERT_ERR_INVALID_FORMAT},   /* serial 0 */
        {0, 1, 0x02, 0, 0},                             /* serial 1 */
        {5, 0, 0, 0, 0},                                /* zero: revokes nothing */
        {5, 1, 0x80, 0, SSHCERT_ERR_INVALID_FORMAT},    /* negative */
        {5, 2, 0x00, 0x01, SSHCERT_ERR_INVALID_FORMAT}, /* needless leading zero */
        {5, 1, 0x00, 0, SSHCERT_ERR_INVALID_FORMAT},    /* zero written as 00 */
        {5, 2, 0x00, 0x80, 0},                          /* the sign byte is needed */
        {UINT64_MAX, 1, 0x01, 0, 0},                    /* the last serial */
        {UINT64_MAX, 1, 0x02, 0, SSHCERT_ERR_INVALID_FORMAT}, /* wraps */
        {UINT64_MAX - 8, 2, 0x01, 0x00, 0},                   /* bit 8: UINT64_MAX */
        {UINT64_MAX - 7, 2, 0x01, 0x00, SSHCERT_ERR_INVALID_FORMAT},
        /* Size caps: 2048 bytes; 2049 only with a sign byte; never 2050. */
        {1, SSHCERT_KRL_MAX_BITMAP_BYTES - 1, 0x7f, 0xff, 0},
        {1, SSHCERT_KRL_MAX_BITMAP_BYTES, 0x00, 0xff, 0},
        {1, SSHCERT_KRL_MAX_BITMAP_BYTES, 0x01, 0xff, SSHCERT_ERR_TOO_LARGE},
        {1, SSHCERT_KRL_MAX_BITMAP_BYTES, 0x00, 0x7f, SSHCERT_ERR_INVALID_FORMAT},
        {1, SSHCERT_KRL_MAX_BITMAP_BYTES + 1, 0x00, 0x00, SSHCERT_ERR_TOO_LARGE},
    };
    size_t i;

    (void)state;
    certgen_init(&g, ca1, &user_pub, "id");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(m, 0, sizeof(m));
        if (cases[i].len > 0)
            m[0] = cases[i].first;
        if (cases[i].len > 1)
            m[1] = cases[i].second;
        if (cases[i].len > 2)
            memset(m + 2, 0x81, cases[i].len - 2);
        b = header(1, NULL, 0);
        s = cert_section(&ca1_pub);
        put_bitmap_sub(s, cases[i].offset, m, cases[i].len);
        put_section(b, 1, s);
        assert_int_equal(parse_buf(b, &k), cases[i].want);
        if (cases[i].want == 0) {
            if (cases[i].offset == 0)
                assert_int_equal(check_serial(k, &g, 1), SSHCERT_ERR_REVOKED);
            if (cases[i].offset >= UINT64_MAX - 8)
                assert_int_equal(check_serial(k, &g, UINT64_MAX), SSHCERT_ERR_REVOKED);
            if (cases[i].len == SSHCERT_KRL_MAX_BITMAP_BYTES) {
                /* Top bit 16383: serial 16384; lowest byte 0x81: serials 1 and 8. */
                assert_int_equal(check_serial(k, &g, 16384), SSHCERT_ERR_REVOKED);
                assert_int_equal(check_serial(k, &g, 16385), 0);
                assert_int_equal(check_serial(k, &g, 1), SSHCERT_ERR_REVOKED);
                assert_int_equal(check_serial(k, &g, 2), 0);
                assert_int_equal(check_serial(k, &g, 8), SSHCERT_ERR_REVOKED);
            }
            sshcert_krl_free(k);
            k = NULL;
        }
        sshcert_buf_free(b);
    }
    /* Bytes after the mpint. */
    b = header(1, NULL, 0);
    s = cert_section(&ca1_pub);
    assert_int_equal(sshcert_buf_put_u8(s, 0x22), 0);
    assert_int_equal(sshcert_buf_put_u32(s, 8 + 4 + 1 + 1), 0);
    assert_int_equal(sshcert_buf_put_u64(s, 1), 0);
    assert_int_equal(sshcert_buf_put_string(s, "\x01", 1), 0);
    assert_int_equal(sshcert_buf_put_u8(s, 0), 0);
    put_section(b, 1, s);
    assert_int_equal(parse_only(b), SSHCERT_ERR_TRAILING_DATA);
    sshcert_buf_free(b);
    certgen_free(&g);
}

/* ---- parser: caps, one under and one over ---- */

/* A wildcard section with `nbitmaps` bitmaps of alternating bits (8192 runs each); the last
 * loses its lowest bit when `one_less`. Entries: 1 (the CA) + runs. */
static struct sshcert_buf *
many_runs(size_t nbitmaps, int one_less)
{
    uint8_t m[2048];
    struct sshcert_buf *b = header(1, NULL, 0), *s = cert_section(NULL);
    size_t i;

    memset(m, 0x55, sizeof(m));
    for (i = 0; i < nbitmaps; i++) {
        if (one_less && i + 1 == nbitmaps)
            m[sizeof(m) - 1] = 0x54;
        put_bitmap_sub(s, 1 + (uint64_t)i * 16384, m, sizeof(m));
    }
    put_section(b, 1, s);
    return b;
}

static void
test_entries_cap(void **state)
{
    const size_t nbitmaps = SSHCERT_MAX_KRL_ENTRIES / 8192;
    struct sshcert_buf *b;
    struct sshcert_krl *k = NULL;
    struct certgen g;

    (void)state;
    b = many_runs(nbitmaps, 0); /* 1 + MAX entries */
    assert_int_equal(parse_buf(b, &k), SSHCERT_ERR_TOO_LARGE);
    assert_null(k);
    sshcert_buf_free(b);
    b = many_runs(nbitmaps, 1); /* exactly MAX */
    assert_int_equal(parse_buf(b, &k), 0);
    assert_true(sshcert_krl_serial_count(k, NULL) == SSHCERT_MAX_KRL_ENTRIES - 1);
    certgen_init(&g, ca2, &user_pub, "id");
    assert_int_equal(check_serial(k, &g, 1), SSHCERT_ERR_REVOKED); /* any CA */
    assert_int_equal(check_serial(k, &g, 2), 0);
    assert_int_equal(check_serial(k, &g, 1 + (nbitmaps - 1) * 16384), 0);
    assert_int_equal(check_serial(k, &g, 3 + (nbitmaps - 1) * 16384), SSHCERT_ERR_REVOKED);
    certgen_free(&g);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
}

/* A KRL of exactly `size` bytes: a run of consecutive serials (one entry) padded out with
 * the comment. */
static struct sshcert_buf *
krl_of_size(size_t size)
{
    const size_t fixed = HEADER_LEN + 5 + 4 + 4 + 5; /* header, section, CA, reserved, sub */
    size_t n = (size - fixed) / 8, clen = size - fixed - 8 * n, i;
    struct sshcert_buf *b, *s, *sub = sshcert_buf_new(0);
    char pad[8] = "pad";

    b = header(1, pad, clen);
    s = cert_section(NULL);
    for (i = 1; i <= n; i++)
        assert_int_equal(sshcert_buf_put_u64(sub, i), 0);
    put_tlv(s, 0x20, sshcert_buf_ptr(sub), sshcert_buf_len(sub));
    sshcert_buf_free(sub);
    put_section(b, 1, s);
    assert_int_equal(sshcert_buf_len(b), size);
    return b;
}

static void
test_size_cap(void **state)
{
    struct sshcert_buf *b;
    struct sshcert_krl *k = NULL;

    (void)state;
    b = krl_of_size(SSHCERT_MAX_KRL_SIZE);
    assert_int_equal(parse_buf(b, &k), 0);
    assert_true(sshcert_krl_serial_count(k, NULL) == (SSHCERT_MAX_KRL_SIZE - 62) / 8);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
    b = krl_of_size(SSHCERT_MAX_KRL_SIZE + 1);
    assert_int_equal(parse_buf(b, &k), SSHCERT_ERR_TOO_LARGE);
    assert_null(k);
    sshcert_buf_free(b);
}

static void
test_key_id_cap(void **state)
{
    struct sshcert_buf *ids = sshcert_buf_new(0);
    char *id = malloc(SSHCERT_BUF_MAX_CSTRING + 2);

    (void)state;
    assert_non_null(id);
    memset(id, 'a', SSHCERT_BUF_MAX_CSTRING + 1);
    id[SSHCERT_BUF_MAX_CSTRING] = '\0';
    assert_int_equal(sshcert_buf_put_cstring(ids, id), 0);
    assert_int_equal(parse_with_sub(0x23, sshcert_buf_ptr(ids), sshcert_buf_len(ids)), 0);
    sshcert_buf_reset(ids);
    id[SSHCERT_BUF_MAX_CSTRING] = 'a';
    id[SSHCERT_BUF_MAX_CSTRING + 1] = '\0';
    assert_int_equal(sshcert_buf_put_cstring(ids, id), 0);
    assert_int_equal(parse_with_sub(0x23, sshcert_buf_ptr(ids), sshcert_buf_len(ids)),
        SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_free(ids);
    free(id);
}

/* ---- a KRL with every kind of section, for checks, truncation and bit flips ---- */

static const uint8_t fixed_sha1[20] = {0x5e, 0x2c, 0xa6, 0xad, 0x88, 0xbc, 0x38, 0xdd, 0x51,
    0x17, 0xed, 0xb6, 0x53, 0x27, 0x52, 0xc9, 0x67, 0x31, 0x6b, 0xb8};

static struct sshcert_pubkey
key_of(uint8_t fill)
{
    struct sshcert_pubkey k;

    memset(k.pk, fill, sizeof(k.pk));
    return k;
}

/* Sets *ends[*n] to b's length after each complete part: the valid truncation points. */
static struct sshcert_buf *
rich_krl(size_t *ends, size_t *nends)
{
    static const uint8_t bitmap[] = {0x00, 0x80, 0x47};
    struct sshcert_buf *b = header(1, "rich", 4), *s, *t;
    struct sshcert_pubkey k3 = key_of(0x33), k5 = key_of(0x55);
    uint8_t h[crypto_hash_sha256_BYTES];
    uint8_t list[16] = {0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 60};

    *nends = 0;
    ends[(*nends)++] = sshcert_buf_len(b);
    /* ca1: bitmap {1,2,3,7,16}, range 100-200, list {50, 60}, key ids, an extension. */
    s = cert_section(&ca1_pub);
    put_bitmap_sub(s, 1, bitmap, sizeof(bitmap));
    put_range_sub(s, 100, 200);
    put_tlv(s, 0x20, list, sizeof(list));
    t = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_cstring(t, "bad-id"), 0);
    assert_int_equal(sshcert_buf_put_cstring(t, "other-id"), 0);
    put_tlv(s, 0x23, sshcert_buf_ptr(t), sshcert_buf_len(t));
    sshcert_buf_reset(t);
    assert_int_equal(sshcert_buf_put_cstring(t, "note@example.org"), 0);
    assert_int_equal(sshcert_buf_put_u8(t, 0), 0);
    assert_int_equal(sshcert_buf_put_string(t, NULL, 0), 0);
    put_tlv(s, 0x39, sshcert_buf_ptr(t), sshcert_buf_len(t));
    put_section(b, 1, s);
    ends[(*nends)++] = sshcert_buf_len(b);
    /* Any CA: serial 77 and key id "any-id". */
    s = cert_section(NULL);
    put_range_sub(s, 77, 77);
    sshcert_buf_reset(t);
    assert_int_equal(sshcert_buf_put_cstring(t, "any-id"), 0);
    put_tlv(s, 0x23, sshcert_buf_ptr(t), sshcert_buf_len(t));
    put_section(b, 1, s);
    ends[(*nends)++] = sshcert_buf_len(b);
    /* Explicit keys: k3 and ca2 (so every cert ca2 signed is revoked). */
    s = sshcert_buf_new(0);
    sshcert_buf_reset(t);
    put_key_blob(t, &k3);
    assert_int_equal(sshcert_buf_put_stringb(s, t), 0);
    sshcert_buf_reset(t);
    put_key_blob(t, &ca2_pub);
    assert_int_equal(sshcert_buf_put_stringb(s, t), 0);
    put_section(b, 2, s);
    ends[(*nends)++] = sshcert_buf_len(b);
    /* SHA1 of k4 (a known vector) and SHA256 of k5. */
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(s, fixed_sha1, sizeof(fixed_sha1)), 0);
    put_section(b, 3, s);
    ends[(*nends)++] = sshcert_buf_len(b);
    sshcert_buf_reset(t);
    put_key_blob(t, &k5);
    crypto_hash_sha256(h, sshcert_buf_ptr(t), sshcert_buf_len(t));
    s = sshcert_buf_new(0);
    assert_int_equal(sshcert_buf_put_string(s, h, sizeof(h)), 0);
    put_section(b, 5, s);
    ends[(*nends)++] = sshcert_buf_len(b);
    /* A non-critical extension section. */
    sshcert_buf_reset(t);
    assert_int_equal(sshcert_buf_put_cstring(t, "note@example.org"), 0);
    assert_int_equal(sshcert_buf_put_u8(t, 0), 0);
    assert_int_equal(sshcert_buf_put_string(t, "body", 4), 0);
    put_tlv(b, 255, sshcert_buf_ptr(t), sshcert_buf_len(t));
    ends[(*nends)++] = sshcert_buf_len(b);
    sshcert_buf_free(t);
    return b;
}

static int
cert_result(const struct sshcert_krl *k, const struct sshcert_privkey *ca,
    const struct sshcert_pubkey *key, const char *id, uint64_t serial)
{
    struct certgen g;
    int r;

    certgen_init(&g, ca, key, id);
    r = check_serial(k, &g, serial);
    certgen_free(&g);
    return r;
}

static void
test_check_sources(void **state)
{
    size_t ends[16], nends;
    struct sshcert_buf *b = rich_krl(ends, &nends), *again;
    struct sshcert_krl *krls[2] = {NULL, NULL};
    const struct sshcert_krl *k;
    struct sshcert_pubkey k3 = key_of(0x33), k5 = key_of(0x55), k6 = key_of(0x66);
    int i;

    (void)state;
    assert_int_equal(parse_buf(b, &krls[0]), 0);
    /* Our encoding of it (no extensions, no comment) must mean the same. */
    again = encode(krls[0]);
    krls[1] = parse_canonical(again);
    for (i = 0; i < 2; i++) {
        k = krls[i];
        /* By serial, for ca1 only. */
        assert_int_equal(cert_result(k, ca1, &user_pub, "x", 16), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &user_pub, "x", 150), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &user_pub, "x", 60), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &user_pub, "x", 61), 0);
        assert_int_equal(cert_result(k, ca1, &user_pub, "x", 8), 0);
        assert_int_equal(sshcert_krl_serial_count(k, &ca1_pub), 5 + 101 + 2);
        assert_int_equal(sshcert_krl_serial_count(k, NULL), 1);
        /* By key id, for ca1 and any CA. */
        assert_int_equal(cert_result(k, ca1, &user_pub, "bad-id", 8), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &user_pub, "bad-id", 0), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &user_pub, "bad-i", 8), 0);
        assert_int_equal(cert_result(k, ca1, &user_pub, "any-id", 8), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &user_pub, "x", 77), SSHCERT_ERR_REVOKED);
        /* By plain key: explicit, SHA1, SHA256. */
        assert_int_equal(cert_result(k, ca1, &k3, "x", 8), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &fixed_pub, "x", 8), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &k5, "x", 8), SSHCERT_ERR_REVOKED);
        assert_int_equal(cert_result(k, ca1, &k6, "x", 8), 0);
        assert_int_equal(sshcert_krl_check_key(k, &k3), SSHCERT_ERR_REVOKED);
        assert_int_equal(sshcert_krl_check_key(k, &fixed_pub), SSHCERT_ERR_REVOKED);
        assert_int_equal(sshcert_krl_check_key(k, &k5), SSHCERT_ERR_REVOKED);
        assert_int_equal(sshcert_krl_check_key(k, &k6), 0);
        assert_int_equal(sshcert_krl_check_key(k, &ca1_pub), 0);
        /* By CA key: ca2 is listed as an explicit key. */
        assert_int_equal(cert_result(k, ca2, &user_pub, "x", 8), SSHCERT_ERR_REVOKED);
    }
    assert_int_equal(sshcert_krl_check_key(k, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_krl_check_cert(k, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_krl_free(krls[0]);
    sshcert_krl_free(krls[1]);
    sshcert_buf_free(again);
    sshcert_buf_free(b);
}

/* Every prefix is either a complete KRL (it ends between sections) or TRUNCATED. */
static void
test_truncation(void **state)
{
    size_t ends[16], nends, len, i;
    struct sshcert_buf *b = rich_krl(ends, &nends);
    struct sshcert_krl *k = NULL;
    int want, r;

    (void)state;
    for (len = 0; len <= sshcert_buf_len(b); len++) {
        want = SSHCERT_ERR_TRUNCATED;
        for (i = 0; i < nends; i++)
            if (ends[i] == len)
                want = 0;
        r = sshcert_krl_from_blob(sshcert_buf_ptr(b), len, &k);
        if (r != want)
            print_error("length %zu: got %d, want %d\n", len, r, want);
        assert_int_equal(r, want);
        sshcert_krl_free(k);
        k = NULL;
    }
    sshcert_buf_free(b);
}

static int
known_error(int r)
{
    return r == SSHCERT_ERR_INVALID_FORMAT || r == SSHCERT_ERR_TRUNCATED ||
        r == SSHCERT_ERR_TRAILING_DATA || r == SSHCERT_ERR_TOO_LARGE ||
        r == SSHCERT_ERR_UNSUPPORTED;
}

/* Single-bit flips and byte overwrites: a clean error or a KRL that re-encodes canonically. */
static void
test_bit_flips(void **state)
{
    size_t ends[16], nends, len, i;
    struct sshcert_buf *b = rich_krl(ends, &nends), *enc;
    struct sshcert_krl *k = NULL, *k2;
    struct certgen g;
    uint8_t *copy;
    unsigned v;
    int r, ok = 0, bad = 0;

    (void)state;
    certgen_init(&g, ca1, &user_pub, "bad-id");
    len = sshcert_buf_len(b);
    assert_non_null(copy = malloc(len));
    for (i = 0; i < len; i++) {
        for (v = 0; v < 10; v++) {
            memcpy(copy, sshcert_buf_ptr(b), len);
            copy[i] = (uint8_t)(v < 8 ? copy[i] ^ (1u << v) : v == 8 ? 0x00u : 0xffu);
            r = sshcert_krl_from_blob(copy, len, &k);
            if (r != 0) {
                assert_true(known_error(r));
                assert_null(k);
                bad++;
                continue;
            }
            ok++;
            r = check_serial(k, &g, 16);
            assert_true(r == 0 || r == SSHCERT_ERR_REVOKED);
            enc = encode(k);
            k2 = parse_canonical(enc);
            assert_int_equal(check_serial(k2, &g, 16), r);
            sshcert_krl_free(k2);
            sshcert_buf_free(enc);
            sshcert_krl_free(k);
            k = NULL;
        }
    }
    assert_true(ok > 0 && bad > 0);
    certgen_free(&g);
    free(copy);
    sshcert_buf_free(b);
}

/* Bytes after a complete KRL start another section: they must form one. */
static void
test_trailing_data(void **state)
{
    struct sshcert_buf *b;
    struct sshcert_krl *k = NULL;

    (void)state;
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    assert_int_equal(sshcert_krl_revoke_range(k, 100, 200), 0);
    b = encode(k);
    sshcert_krl_free(k);
    assert_int_equal(parse_only(b), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 1), 0);
    assert_int_equal(parse_only(b), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(sshcert_buf_put_u32(b, 0), 0);
    assert_int_equal(parse_only(b), SSHCERT_ERR_TRUNCATED); /* the section lacks its CA */
    sshcert_buf_free(b);
}

/* The same CA in separate sections is merged; duplicates collapse. */
static void
test_merge_sections(void **state)
{
    struct sshcert_buf *b = header(1, NULL, 0), *s, *ids = sshcert_buf_new(0), *enc;
    struct sshcert_krl *k = NULL;
    struct subinfo subs[8];
    struct certgen g;

    (void)state;
    assert_int_equal(sshcert_buf_put_cstring(ids, "dup"), 0);
    s = cert_section(&ca1_pub);
    put_range_sub(s, 10, 200);
    put_tlv(s, 0x23, sshcert_buf_ptr(ids), sshcert_buf_len(ids));
    put_section(b, 1, s);
    s = cert_section(&ca2_pub);
    put_range_sub(s, 1, 1);
    put_section(b, 1, s);
    s = cert_section(&ca1_pub);
    put_range_sub(s, 150, 300);
    put_range_sub(s, 5, 9);
    put_tlv(s, 0x23, sshcert_buf_ptr(ids), sshcert_buf_len(ids));
    put_section(b, 1, s);
    assert_int_equal(parse_buf(b, &k), 0);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == 296);
    assert_true(sshcert_krl_serial_count(k, &ca2_pub) == 1);
    enc = encode(k);
    sshcert_krl_free(k);
    k = parse_canonical(enc);
    /* Two CA sections, in blob order; ca1's holds one range and one key id. */
    certgen_init(&g, ca1, &user_pub, "dup");
    assert_int_equal(check_serial(k, &g, 400), SSHCERT_ERR_REVOKED);
    certgen_free(&g);
    certgen_init(&g, ca1, &user_pub, "x");
    assert_int_equal(check_serial(k, &g, 5), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(k, &g, 300), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(k, &g, 301), 0);
    certgen_free(&g);
    if (memcmp(ca1_pub.pk, ca2_pub.pk, 32) < 0) {
        assert_int_equal(list_subs(enc, subs, 8), 2);
        assert_int_equal(subs[0].type, 0x21);
        assert_int_equal(subs[1].type, 0x23);
        assert_int_equal(subs[1].len, 4 + 3);
    }
    assert_int_equal(sshcert_buf_len(enc), HEADER_LEN + 2 * (5 + 4 + ED25519_BLOB_LEN + 4) +
                                               (5 + 16) + (5 + 7) + (5 + 8));
    sshcert_krl_free(k);
    sshcert_buf_free(enc);
    sshcert_buf_free(ids);
    sshcert_buf_free(b);
}

/* ---- scale ---- */

/* Sections that alternate between CAs are merged without quadratic copying. */
static void
test_many_sections(void **state)
{
    enum { SECTIONS = 100000 };
    struct sshcert_buf *b = header(1, NULL, 0), *s;
    struct sshcert_krl *k = NULL;
    double t0, took;
    uint64_t i;

    (void)state;
    for (i = 0; i < SECTIONS; i++) {
        s = cert_section(i % 2 == 0 ? &ca1_pub : &ca2_pub);
        put_range_sub(s, SECTIONS - i, SECTIONS - i);
        put_section(b, 1, s);
    }
    t0 = now_ms();
    assert_int_equal(parse_buf(b, &k), 0);
    took = now_ms() - t0;
    print_message("%d alternating CA sections parsed in %.1f ms\n", SECTIONS, took);
    assert_true(took < (SANITIZED ? 5000.0 : 1000.0));
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == SECTIONS / 2);
    assert_true(sshcert_krl_serial_count(k, &ca2_pub) == SECTIONS / 2);
    sshcert_krl_free(k);
    sshcert_buf_free(b);
}


static void
test_million_serials(void **state)
{
    enum { N = 1000000 };
    uint64_t *serials = malloc(N * sizeof(*serials)), *order = malloc(N * sizeof(*order));
    uint64_t seed = 42, s = 0, x, tmp;
    struct sshcert_krl *k = NULL, *p = NULL;
    struct sshcert_buf *b, *again;
    struct certgen g;
    double t0, t_build, t_parse, limit = SANITIZED ? 5000.0 : 500.0;
    size_t i, j;

    (void)state;
    assert_non_null(serials);
    /* Gaps mixing runs (1), bitmap-friendly gaps, list-friendly gaps. */
    for (i = 0; i < N; i++) {
        x = xorshift(&seed) % 100;
        s += x < 40 ? 1 : x < 70 ? 2 + xorshift(&seed) % 7 : x < 90 ? 9 + xorshift(&seed) % 92 :
                                                             100 + xorshift(&seed) % 3000;
        serials[i] = s;
    }
    /* Shuffle a copy of the order so the builder has to sort. */
    assert_non_null(order);
    memcpy(order, serials, N * sizeof(*order));
    for (i = N - 1; i > 0; i--) {
        j = (size_t)(xorshift(&seed) % (i + 1));
        tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }

    t0 = now_ms();
    assert_int_equal(sshcert_krl_new(&ca1_pub, &k), 0);
    for (i = 0; i < N; i++)
        assert_int_equal(sshcert_krl_revoke_serial(k, order[i]), 0);
    b = sshcert_buf_new(0);
    assert_int_equal(sshcert_krl_to_blob(k, b), 0);
    t_build = now_ms() - t0;

    t0 = now_ms();
    assert_int_equal(parse_buf(b, &p), 0);
    t_parse = now_ms() - t0;
    print_message("1M serials: build+encode %.1f ms, parse %.1f ms, %zu bytes%s\n", t_build,
        t_parse, sshcert_buf_len(b), SANITIZED ? " (sanitized build)" : "");
    assert_true(t_build < limit);
    assert_true(t_parse < limit);

    assert_true(sshcert_krl_serial_count(p, &ca1_pub) == N);
    assert_true(sshcert_krl_serial_count(k, &ca1_pub) == N);
    again = encode(p);
    assert_int_equal(sshcert_buf_len(again), sshcert_buf_len(b));
    assert_memory_equal(sshcert_buf_ptr(again), sshcert_buf_ptr(b), sshcert_buf_len(b));
    certgen_init(&g, ca1, &user_pub, "id");
    for (i = 0; i < N; i += 1 + (size_t)(xorshift(&seed) % 200)) {
        assert_int_equal(check_serial(p, &g, serials[i]), SSHCERT_ERR_REVOKED);
        if (i + 1 < N && serials[i + 1] > serials[i] + 1)
            assert_int_equal(check_serial(p, &g, serials[i] + 1), 0);
        if (i > 0 && serials[i - 1] < serials[i] - 1)
            assert_int_equal(check_serial(p, &g, serials[i] - 1), 0);
    }
    assert_int_equal(check_serial(p, &g, serials[N - 1]), SSHCERT_ERR_REVOKED);
    assert_int_equal(check_serial(p, &g, serials[N - 1] + 1), 0);
    assert_int_equal(check_serial(p, &g, serials[0]), SSHCERT_ERR_REVOKED);
    certgen_free(&g);
    sshcert_buf_free(again);
    sshcert_buf_free(b);
    sshcert_krl_free(p);
    sshcert_krl_free(k);
    free(order);
    free(serials);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_serial_layout),
        cmocka_unit_test(test_bitmap_example),
        cmocka_unit_test(test_encoding_choices),
        cmocka_unit_test(test_builder_arguments),
        cmocka_unit_test(test_build_whole),
        cmocka_unit_test(test_builder_cap),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_full_width_serials),
        cmocka_unit_test(test_bitmap_cap_encoding),
        cmocka_unit_test(test_parse_header_rejects),
        cmocka_unit_test(test_parse_section_rejects),
        cmocka_unit_test(test_parse_extensions),
        cmocka_unit_test(test_parse_serial_rejects),
        cmocka_unit_test(test_parse_bitmaps),
        cmocka_unit_test(test_entries_cap),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_key_id_cap),
        cmocka_unit_test(test_check_sources),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_merge_sections),
        cmocka_unit_test(test_many_sections),
        cmocka_unit_test(test_million_serials),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
