/* Unit tests for lib/buf.c: the bounded wire buffer every parser reads through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "secmem.h"

/* A read-only view of a byte literal. */
#define VIEW(lit) sshcert_buf_from((lit), sizeof(lit) - 1)

static struct sshcert_buf *
new_buf(size_t max)
{
    struct sshcert_buf *b = sshcert_buf_new(max);

    assert_non_null(b);
    return b;
}

static void
test_put_get_u8_u32_u64(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    static const uint8_t want[] = {0xfe, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03, 0x04, 0x05,
        0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;

    (void)state;
    assert_int_equal(sshcert_buf_put_u8(b, 0xfe), 0);
    assert_int_equal(sshcert_buf_put_u32(b, 0x01020304u), 0);
    assert_int_equal(sshcert_buf_put_u64(b, 0x0102030405060708ull), 0);
    assert_int_equal(sshcert_buf_put_u32(b, 0), 0);
    assert_int_equal(sshcert_buf_put_u64(b, UINT64_MAX), 0);
    /* Big-endian, exactly as RFC 4251 says. */
    assert_int_equal(sshcert_buf_len(b), sizeof(want));
    assert_memory_equal(sshcert_buf_ptr(b), want, sizeof(want));

    assert_int_equal(sshcert_buf_get_u8(b, &u8), 0);
    assert_int_equal(u8, 0xfe);
    assert_int_equal(sshcert_buf_get_u32(b, &u32), 0);
    assert_int_equal(u32, 0x01020304u);
    assert_int_equal(sshcert_buf_get_u64(b, &u64), 0);
    assert_true(u64 == 0x0102030405060708ull);
    assert_int_equal(sshcert_buf_get_u32(b, &u32), 0);
    assert_int_equal(u32, 0);
    assert_int_equal(sshcert_buf_get_u64(b, &u64), 0);
    assert_true(u64 == UINT64_MAX);
    assert_int_equal(sshcert_buf_len(b), 0);
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    sshcert_buf_free(b);
}

/* A short read fails with TRUNCATED, consumes nothing and clears the out-parameter. */
static void
test_get_truncated(void **state)
{
    struct sshcert_buf *b = VIEW("\x01\x02\x03");
    uint8_t u8 = 0xaa, raw[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    uint32_t u32 = 0xaaaaaaaau;
    uint64_t u64 = 0xaaaaaaaaaaaaaaaau;

    (void)state;
    assert_non_null(b);
    assert_int_equal(sshcert_buf_get_u32(b, &u32), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(u32, 0);
    assert_int_equal(sshcert_buf_len(b), 3);
    assert_int_equal(sshcert_buf_get_u64(b, &u64), SSHCERT_ERR_TRUNCATED);
    assert_true(u64 == 0);
    assert_int_equal(sshcert_buf_len(b), 3);
    assert_int_equal(sshcert_buf_get_bytes(b, raw, 4), SSHCERT_ERR_TRUNCATED);
    assert_memory_equal(raw, "\0\0\0\0", 4);
    assert_int_equal(sshcert_buf_skip(b, 4), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(sshcert_buf_len(b), 3);
    assert_int_equal(sshcert_buf_get_bytes(b, raw, 3), 0);
    assert_memory_equal(raw, "\x01\x02\x03", 3);
    assert_int_equal(sshcert_buf_get_u8(b, &u8), SSHCERT_ERR_TRUNCATED);
    assert_int_equal(u8, 0);
    /* Zero-length reads always succeed, even at the end. */
    assert_int_equal(sshcert_buf_get_bytes(b, raw, 0), 0);
    assert_int_equal(sshcert_buf_skip(b, 0), 0);
    assert_int_equal(sshcert_buf_skip(b, SIZE_MAX), SSHCERT_ERR_TRUNCATED);
    sshcert_buf_free(b);
}

static void
test_null_arguments(void **state)
{
    struct sshcert_buf *b = new_buf(0), *sub = (struct sshcert_buf *)&sub;
    const uint8_t *p = (const uint8_t *)"x";
    size_t n = 7;
    char *s = (char *)"x";
    uint8_t u8;

    (void)state;
    assert_int_equal(sshcert_buf_put_u8(NULL, 1), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_put(NULL, NULL, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_put_cstring(b, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_put_stringb(b, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_put_stringb(b, b), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_get_u8(NULL, &u8), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_get_u32(b, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_get_u64(b, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_get_string_direct(NULL, &p, &n), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(sshcert_buf_get_cstring(NULL, &s, 0), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(s);
    assert_int_equal(sshcert_buf_get_stringb(NULL, &sub), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(sub);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_to_base64("", 0, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_put_base64(b, NULL, 1, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_len(NULL), 0);
    assert_int_equal(sshcert_buf_expect_end(NULL), 0);
    assert_non_null(sshcert_buf_ptr(NULL));
    sshcert_buf_free(NULL);
    sshcert_buf_reset(NULL);
    sshcert_buf_free(b);
}

static void
test_strings(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    const uint8_t *p;
    uint8_t fixed[3];
    size_t n;

    (void)state;
    assert_int_equal(sshcert_buf_put_string(b, "abc", 3), 0);
    assert_int_equal(sshcert_buf_put_string(b, NULL, 0), 0);
    assert_int_equal(sshcert_buf_put_cstring(b, "hello"), 0);
    assert_int_equal(sshcert_buf_put_string(b, "a\0b", 3), 0);
    assert_int_equal(sshcert_buf_len(b), 4 + 3 + 4 + 4 + 5 + 4 + 3);
    assert_memory_equal(sshcert_buf_ptr(b), "\0\0\0\3abc\0\0\0\0\0\0\0\5hello\0\0\0\3a\0b", 27);

    assert_int_equal(sshcert_buf_get_string_direct(b, &p, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "abc", 3);
    assert_int_equal(sshcert_buf_get_string_direct(b, &p, &n), 0);
    assert_int_equal(n, 0);
    /* Fixed length: a mismatch is a format error and consumes nothing. */
    assert_int_equal(sshcert_buf_get_string_fixed(b, fixed, 3), SSHCERT_ERR_INVALID_FORMAT);
    assert_memory_equal(fixed, "\0\0\0", 3);
    assert_int_equal(sshcert_buf_len(b), 9 + 7);
    assert_int_equal(sshcert_buf_get_string_direct(b, NULL, NULL), 0);
    assert_int_equal(sshcert_buf_get_string_fixed(b, fixed, 3), 0);
    assert_memory_equal(fixed, "a\0b", 3);
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    sshcert_buf_free(b);
}

/* A length prefix that points past the end is TRUNCATED, whatever its size. */
static void
test_string_truncated(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"", 0},
        {"\0", 1},
        {"\0\0\0", 3},
        {"\0\0\0\1", 4},
        {"\0\0\0\5abcd", 8},
        {"\xff\xff\xff\xff" "abcd", 8},
        {"\x80\0\0\0", 4},
    };
    const uint8_t *p = (const uint8_t *)"x";
    struct sshcert_buf *b, *sub;
    uint8_t fixed[4];
    size_t i, n = 9;
    char *s;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_non_null(b = sshcert_buf_from(cases[i].bytes, cases[i].len));
        assert_int_equal(sshcert_buf_get_string_direct(b, &p, &n), SSHCERT_ERR_TRUNCATED);
        assert_null(p);
        assert_int_equal(n, 0);
        assert_int_equal(sshcert_buf_get_string_fixed(b, fixed, 4), SSHCERT_ERR_TRUNCATED);
        assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), SSHCERT_ERR_TRUNCATED);
        assert_null(s);
        assert_int_equal(sshcert_buf_get_stringb(b, &sub), SSHCERT_ERR_TRUNCATED);
        assert_null(sub);
        assert_int_equal(sshcert_buf_get_expect_cstring(b, "abcd"), SSHCERT_ERR_TRUNCATED);
        assert_int_equal(sshcert_buf_len(b), cases[i].len);
        sshcert_buf_free(b);
    }
}

static void
test_cstring(void **state)
{
    struct sshcert_buf *b;
    char *s = NULL;

    (void)state;
    assert_non_null(b = VIEW("\0\0\0\0" "\0\0\0\4text" "\0\0\0\3a\0b" "\0\0\0\1\0"));
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), 0);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), 0);
    assert_string_equal(s, "text");
    free(s);
    /* A NUL inside a text string is rejected and nothing is consumed. */
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(s);
    assert_int_equal(sshcert_buf_len(b), 7 + 5);
    assert_int_equal(sshcert_buf_skip(b, 7), 0);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_buf_len(b), 5);
    sshcert_buf_free(b);
}

/* The cap on a text string: exactly max is fine, one more is TOO_LARGE. */
static void
test_cstring_max(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    char *big, *s = NULL;
    size_t n = SSHCERT_BUF_MAX_CSTRING;

    (void)state;
    assert_non_null(big = malloc(n + 2));
    memset(big, 'x', n + 1);
    big[n + 1] = '\0';
    assert_int_equal(sshcert_buf_put_string(b, big, 10), 0);
    assert_int_equal(sshcert_buf_put_string(b, big, 10), 0);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 11), 0);
    assert_int_equal(strlen(s), 10);
    free(s);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 9), SSHCERT_ERR_TOO_LARGE);
    assert_null(s);
    assert_int_equal(sshcert_buf_len(b), 14);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 10), 0);
    free(s);

    /* max 0 means SSHCERT_BUF_MAX_CSTRING. */
    assert_int_equal(sshcert_buf_put_string(b, big, n), 0);
    assert_int_equal(sshcert_buf_put_string(b, big, n + 1), 0);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), 0);
    assert_int_equal(strlen(s), n);
    free(s);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), SSHCERT_ERR_TOO_LARGE);
    assert_null(s);
    assert_int_equal(sshcert_buf_len(b), 4 + n + 1);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, n + 1), 0);
    assert_int_equal(strlen(s), n + 1);
    free(s);
    free(big);
    sshcert_buf_free(b);
}

static void
test_expect_cstring(void **state)
{
    struct sshcert_buf *b;

    (void)state;
    assert_non_null(b = VIEW("\0\0\0\6ssh-ed" "\0\0\0\13ssh-ed25519" "\0\0\0\0"));
    assert_int_equal(sshcert_buf_get_expect_cstring(b, "ssh-ed25519"), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_buf_len(b), 10 + 15 + 4);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, "ssh-ee"), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, "ssh-ed"), 0);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, "ssh-ed"), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, "ssh-ed25519"), 0);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, "x"), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_buf_get_expect_cstring(b, ""), 0);
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    sshcert_buf_free(b);
}

static void
test_sub_buffers(void **state)
{
    struct sshcert_buf *outer = new_buf(0), *inner = new_buf(0), *sub = NULL, *sub2 = NULL;
    struct sshcert_buf *sub3 = (struct sshcert_buf *)&sub3;
    uint32_t v;
    char *s;

    (void)state;
    assert_int_equal(sshcert_buf_put_u32(inner, 7), 0);
    assert_int_equal(sshcert_buf_put_cstring(inner, "in"), 0);
    assert_int_equal(sshcert_buf_put_stringb(outer, inner), 0);
    assert_int_equal(sshcert_buf_put_u32(outer, 99), 0);
    /* put_stringb copies the unread bytes only. */
    assert_int_equal(sshcert_buf_skip(inner, 4), 0);
    assert_int_equal(sshcert_buf_put_stringb(outer, inner), 0);
    assert_int_equal(sshcert_buf_len(outer), 4 + 10 + 4 + 4 + 6);

    assert_int_equal(sshcert_buf_get_stringb(outer, &sub), 0);
    assert_int_equal(sshcert_buf_len(sub), 10);
    /* Only the string was consumed from the parent. */
    assert_int_equal(sshcert_buf_len(outer), 4 + 4 + 6);
    /* A view is read-only. */
    assert_int_equal(sshcert_buf_put_u8(sub, 1), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_buf_put(sub, "", 0), SSHCERT_ERR_INVALID_ARGUMENT);
    sshcert_buf_reset(sub);
    assert_int_equal(sshcert_buf_len(sub), 10);
    assert_int_equal(sshcert_buf_get_u32(sub, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sshcert_buf_expect_end(sub), SSHCERT_ERR_TRAILING_DATA);
    assert_int_equal(sshcert_buf_get_cstring(sub, &s, 0), 0);
    assert_string_equal(s, "in");
    free(s);
    assert_int_equal(sshcert_buf_expect_end(sub), 0);
    /* Reading past the end of a sub-buffer does not reach into the parent. */
    assert_int_equal(sshcert_buf_get_u32(sub, &v), SSHCERT_ERR_TRUNCATED);
    sshcert_buf_free(sub);

    assert_int_equal(sshcert_buf_get_u32(outer, &v), 0);
    assert_int_equal(v, 99);
    assert_int_equal(sshcert_buf_get_stringb(outer, &sub), 0);
    /* A nested string whose length runs past the sub-buffer is truncated there. */
    assert_int_equal(sshcert_buf_len(sub), 6);
    assert_int_equal(sshcert_buf_get_stringb(sub, &sub2), 0);
    assert_int_equal(sshcert_buf_len(sub2), 2);
    assert_memory_equal(sshcert_buf_ptr(sub2), "in", 2);
    assert_int_equal(sshcert_buf_get_stringb(sub2, &sub3), SSHCERT_ERR_TRUNCATED);
    assert_null(sub3);
    sshcert_buf_free(sub2);
    sshcert_buf_free(sub);
    assert_int_equal(sshcert_buf_expect_end(outer), 0);
    sshcert_buf_free(outer);
    sshcert_buf_free(inner);
}

static void
test_views(void **state)
{
    struct sshcert_buf *b;
    uint8_t u8;

    (void)state;
    assert_null(sshcert_buf_from(NULL, 5));
    assert_non_null(b = sshcert_buf_from(NULL, 0));
    assert_int_equal(sshcert_buf_len(b), 0);
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    assert_int_equal(sshcert_buf_get_u8(b, &u8), SSHCERT_ERR_TRUNCATED);
    sshcert_buf_free(b);
}

static void
test_expect_end(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    uint8_t u8;

    (void)state;
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 1), 0);
    assert_int_equal(sshcert_buf_expect_end(b), SSHCERT_ERR_TRAILING_DATA);
    assert_int_equal(sshcert_buf_get_u8(b, &u8), 0);
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    sshcert_buf_free(b);
}

/* The cap: filling to exactly max works, one byte more is TOO_LARGE, and a failed write
 * leaves the buffer as it was. */
static void
test_max_size(void **state)
{
    struct sshcert_buf *b = new_buf(16);
    uint8_t *w = (uint8_t *)"x";
    char *s = NULL;

    (void)state;
    assert_int_equal(sshcert_buf_put(b, "0123456789ab", 12), 0);
    assert_int_equal(sshcert_buf_put_u64(b, 1), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_put_string(b, "x", 1), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_put(b, "01234", 5), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_reserve(b, 5, &w), SSHCERT_ERR_TOO_LARGE);
    assert_null(w);
    assert_int_equal(sshcert_buf_put_base64(b, "AAAAAAAA", 8, NULL), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_len(b), 12);
    assert_memory_equal(sshcert_buf_ptr(b), "0123456789ab", 12);
    assert_int_equal(sshcert_buf_put_u32(b, 0x41424344u), 0);
    assert_int_equal(sshcert_buf_len(b), 16);
    assert_int_equal(sshcert_buf_put_u8(b, 0), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_put(b, "", 0), 0);
    assert_int_equal(sshcert_buf_reserve(b, SIZE_MAX, NULL), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_put_string(b, "", SIZE_MAX), SSHCERT_ERR_TOO_LARGE);
    assert_memory_equal(sshcert_buf_ptr(b), "0123456789abABCD", 16);

    /* Reading frees no room: the cap is on everything ever written since the last reset. */
    assert_int_equal(sshcert_buf_skip(b, 16), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 0), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_reset(b);
    assert_int_equal(sshcert_buf_len(b), 0);
    assert_int_equal(sshcert_buf_put_string(b, "0123456789ab", 12), 0);
    assert_int_equal(sshcert_buf_get_cstring(b, &s, 0), 0);
    assert_string_equal(s, "0123456789ab");
    free(s);
    sshcert_buf_free(b);

    /* A small cap below the first allocation size. */
    b = new_buf(3);
    assert_int_equal(sshcert_buf_put(b, "abc", 3), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 'd'), SSHCERT_ERR_TOO_LARGE);
    assert_memory_equal(sshcert_buf_ptr(b), "abc", 3);
    sshcert_buf_free(b);
}

/* Growing across many reallocations keeps the bytes. */
static void
test_growth(void **state)
{
    struct sshcert_buf *b = new_buf(100000);
    uint32_t i, v;

    (void)state;
    for (i = 0; i < 25000; i++)
        assert_int_equal(sshcert_buf_put_u32(b, i), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 0), SSHCERT_ERR_TOO_LARGE);
    for (i = 0; i < 25000; i++) {
        assert_int_equal(sshcert_buf_get_u32(b, &v), 0);
        assert_int_equal(v, i);
    }
    assert_int_equal(sshcert_buf_expect_end(b), 0);
    sshcert_buf_free(b);
}

/* 0 and anything above the absolute cap both mean SSHCERT_BUF_MAX_DEFAULT. */
static void
test_default_max(void **state)
{
    struct sshcert_buf *b;
    uint8_t *w = NULL;

    (void)state;
    b = new_buf(SIZE_MAX);
    assert_int_equal(sshcert_buf_reserve(b, SSHCERT_BUF_MAX_DEFAULT + 1u, &w), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_reserve(b, SSHCERT_BUF_MAX_DEFAULT, &w), 0);
    assert_non_null(w);
    assert_int_equal(sshcert_buf_len(b), SSHCERT_BUF_MAX_DEFAULT);
    assert_int_equal(sshcert_buf_put_u8(b, 0), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_free(b);
    b = new_buf(0);
    assert_int_equal(sshcert_buf_reserve(b, SSHCERT_BUF_MAX_DEFAULT + 1u, &w), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_reserve(b, SSHCERT_BUF_MAX_DEFAULT - 1u, &w), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 0), 0);
    assert_int_equal(sshcert_buf_put_u8(b, 0), SSHCERT_ERR_TOO_LARGE);
    sshcert_buf_free(b);
}

static void
test_reserve(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    uint8_t *w = NULL;

    (void)state;
    assert_int_equal(sshcert_buf_put_u8(b, 'a'), 0);
    assert_int_equal(sshcert_buf_reserve(b, 3, &w), 0);
    assert_non_null(w);
    memcpy(w, "bcd", 3);
    assert_int_equal(sshcert_buf_len(b), 4);
    assert_memory_equal(sshcert_buf_ptr(b), "abcd", 4);
    assert_int_equal(sshcert_buf_reserve(b, 0, &w), 0);
    assert_int_equal(sshcert_buf_len(b), 4);
    sshcert_buf_free(b);
}

static void
check_b64(const char *bin, size_t len, const char *text)
{
    struct sshcert_buf *b = new_buf(0);
    char *out = NULL;

    assert_int_equal(sshcert_buf_to_base64(bin, len, &out), 0);
    assert_string_equal(out, text);
    free(out);
    assert_int_equal(sshcert_buf_put_base64(b, text, strlen(text), NULL), 0);
    assert_int_equal(sshcert_buf_len(b), len);
    if (len > 0)
        assert_memory_equal(sshcert_buf_ptr(b), bin, len);
    sshcert_buf_free(b);
}

static void
test_base64_vectors(void **state)
{
    static const uint8_t all[3] = {0xfb, 0xff, 0xbf};

    (void)state;
    /* RFC 4648 section 10. */
    check_b64("", 0, "");
    check_b64("f", 1, "Zg==");
    check_b64("fo", 2, "Zm8=");
    check_b64("foo", 3, "Zm9v");
    check_b64("foob", 4, "Zm9vYg==");
    check_b64("fooba", 5, "Zm9vYmE=");
    check_b64("foobar", 6, "Zm9vYmFy");
    /* The standard alphabet (+ and /), not the URL-safe one. */
    check_b64((const char *)all, 3, "+/+/");
    check_b64("\0\0\0", 3, "AAAA");
}

static void
test_base64_decode_errors(void **state)
{
    static const char *bad[] = {
        "Zg",        /* padding is required */
        "Zg=",       /* incomplete padding */
        "Zm9v!",     /* not in the alphabet */
        "Zm9v YmFy", /* space without an ignore set */
        "-_-_",      /* URL-safe alphabet */
        "Zm9vY",     /* dangling sextet */
        "Zm9v=",     /* padding after a full group */
        "Zh==",      /* non-zero bits in the padding */
        "====",
    };
    struct sshcert_buf *b = new_buf(0);
    size_t i;

    (void)state;
    assert_int_equal(sshcert_buf_put(b, "keep", 4), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sshcert_buf_put_base64(b, bad[i], strlen(bad[i]), NULL),
            SSHCERT_ERR_INVALID_FORMAT);
        /* A failed decode leaves the buffer unchanged. */
        assert_int_equal(sshcert_buf_len(b), 4);
        assert_memory_equal(sshcert_buf_ptr(b), "keep", 4);
    }
    /* The len argument bounds the input: text after it is not read. */
    assert_int_equal(sshcert_buf_put_base64(b, "Zm9vYmFy", 4, NULL), 0);
    assert_int_equal(sshcert_buf_len(b), 7);
    assert_memory_equal(sshcert_buf_ptr(b), "keepfoo", 7);
    sshcert_buf_free(b);
}

static void
test_base64_ignore(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    static const char wrapped[] = "Zm9v\r\nYm\tFy \n";

    (void)state;
    assert_int_equal(sshcert_buf_put_base64(b, wrapped, strlen(wrapped), " \t\r\n"), 0);
    assert_int_equal(sshcert_buf_len(b), 6);
    assert_memory_equal(sshcert_buf_ptr(b), "foobar", 6);
    assert_int_equal(sshcert_buf_put_base64(b, wrapped, strlen(wrapped), "\n"),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(sshcert_buf_len(b), 6);
    sshcert_buf_free(b);
}

/* Decoding into a nearly full buffer: the decoded size, not an estimate, meets the cap. */
static void
test_base64_max(void **state)
{
    struct sshcert_buf *b;

    (void)state;
    b = new_buf(3);
    assert_int_equal(sshcert_buf_put_base64(b, "Zm9v", 4, NULL), 0);
    assert_memory_equal(sshcert_buf_ptr(b), "foo", 3);
    assert_int_equal(sshcert_buf_put_base64(b, "Zg==", 4, NULL), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_len(b), 3);
    sshcert_buf_free(b);

    b = new_buf(8);
    assert_int_equal(sshcert_buf_put(b, "abc", 3), 0);
    /* 5 bytes fit exactly; 6 do not. */
    assert_int_equal(sshcert_buf_put_base64(b, "Zm9vYmFy", 8, NULL), SSHCERT_ERR_TOO_LARGE);
    assert_int_equal(sshcert_buf_len(b), 3);
    assert_int_equal(sshcert_buf_put_base64(b, " Zm9v YmE= ", 11, " "), 0);
    assert_int_equal(sshcert_buf_len(b), 8);
    assert_memory_equal(sshcert_buf_ptr(b), "abcfooba", 8);
    sshcert_buf_free(b);
}

/* Long binary round trip through base64. */
static void
test_base64_roundtrip(void **state)
{
    struct sshcert_buf *b = new_buf(0);
    uint8_t bin[1000];
    char *text = NULL;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(i * 7 + 3);
    for (n = 0; n <= 40; n++) {
        sshcert_buf_reset(b);
        assert_int_equal(sshcert_buf_to_base64(bin, n * 25, &text), 0);
        assert_int_equal(strlen(text), (n * 25 + 2) / 3 * 4);
        assert_int_equal(sshcert_buf_put_base64(b, text, strlen(text), NULL), 0);
        assert_int_equal(sshcert_buf_len(b), n * 25);
        if (n > 0)
            assert_memory_equal(sshcert_buf_ptr(b), bin, n * 25);
        free(text);
    }
    assert_int_equal(sshcert_buf_to_base64(bin, (size_t)SSHCERT_BUF_MAX_DEFAULT + 1, &text),
        SSHCERT_ERR_TOO_LARGE);
    assert_null(text);
    sshcert_buf_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_u8_u32_u64),
        cmocka_unit_test(test_get_truncated),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_truncated),
        cmocka_unit_test(test_cstring),
        cmocka_unit_test(test_cstring_max),
        cmocka_unit_test(test_expect_cstring),
        cmocka_unit_test(test_sub_buffers),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_expect_end),
        cmocka_unit_test(test_max_size),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_default_max),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_decode_errors),
        cmocka_unit_test(test_base64_ignore),
        cmocka_unit_test(test_base64_max),
        cmocka_unit_test(test_base64_roundtrip),
    };

    if (sshcert_secmem_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
