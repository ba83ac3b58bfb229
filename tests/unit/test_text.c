/* lib/text: the one routine that makes untrusted text safe for a terminal, a PAM message or a
 * log line, and the one that makes it valid UTF-8 for JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

#define DST_LEN 300u
#define FILL 'X'

/* Sanitizes src into the first n bytes of a DST_LEN buffer filled with FILL and checks that it
 * holds want, NUL-terminated, with nothing written past the NUL; what names the case. */
static void
expect(const char *what, const char *src, size_t n, enum sshcert_text_rule rule,
    const char *want)
{
    char dst[DST_LEN];
    size_t len = strlen(want), i;

    assert_true(n <= sizeof(dst) && len < n);
    memset(dst, FILL, sizeof(dst));
    sshcert_text_sanitize(dst, n, src, rule);
    if (memcmp(dst, want, len) != 0 || dst[len] != '\0')
        fail_msg("%s: got \"%.*s\"", what, (int)n, dst);
    for (i = len + 1; i < sizeof(dst); i++)
        if (dst[i] != FILL)
            fail_msg("%s: byte %zu written past the NUL", what, i);
}

/* Short names for the table's rule column. */
#define ASCII SSHCERT_TEXT_ASCII
#define HIGH SSHCERT_TEXT_KEEP_HIGH

static const struct {
    const char *what, *src;
    size_t n;
    enum sshcert_text_rule rule;
    const char *want;
} cases[] = {
    {"empty", "", 1, ASCII, ""},
    {"empty, room to spare", "", 8, ASCII, ""},
    {"empty, keep high", "", 8, HIGH, ""},
    {"NULL reads as empty", NULL, 8, ASCII, ""},
    {"NULL, n == 1", NULL, 1, HIGH, ""},
    {"n == 1: only the NUL", "abc", 1, ASCII, ""},
    {"n == 1, a control", "\x1b", 1, ASCII, ""},
    {"n == 1, a high byte", "\xc3\xa9", 1, HIGH, ""},
    {"exact fit: 7 bytes and the NUL", "abcdefg", 8, ASCII, "abcdefg"},
    {"one under", "abcdef", 8, ASCII, "abcdef"},
    {"one over: cut", "abcdefgh", 8, ASCII, "abcdefg"},
    {"cut, keep high", "0123456789", 8, HIGH, "0123456"},
    {"cut after a replaced escape", "ab\x1b[2Jcd", 5, ASCII, "ab?["},
    /* The cut counts bytes: it may split a UTF-8 sequence under KEEP_HIGH. */
    {"cut inside UTF-8, keep high", "a\xc3\xa9", 3, HIGH, "a\xc3"},
    {"cut inside UTF-8, ASCII", "a\xc3\xa9", 3, ASCII, "a?"},
    {"the PAM module's case", "a\nb\x01\x7f\xc3", 8, ASCII, "a?b???"},
    {"the same, keep high", "a\nb\x01\x7f\xc3", 8, HIGH, "a?b??\xc3"},
    {"forged log line", "user\r\n2025-01-01 forged", 64, HIGH, "user??2025-01-01 forged"},
    {"OSC title escape", "\x1b]0;title\x07", 16, ASCII, "?]0;title?"},
    {"tab and DEL, keep high", "\t\x7f", 8, HIGH, "??"},
    {"DEL after the last printable", "~ \x7f", 8, ASCII, "~ ?"},
    {"UTF-8 name, ASCII", "J\xc3\xbcrgen", 16, ASCII, "J??rgen"},
    {"UTF-8 name, keep high", "J\xc3\xbcrgen", 16, HIGH, "J\xc3\xbcrgen"},
    /* 0x9b is CSI in 8-bit terminals: the ASCII rule, used for terminals, replaces it. */
    {"8-bit CSI, ASCII", "\x9b" "2J\x80\xff", 16, ASCII, "?2J??"},
    {"8-bit CSI, keep high", "\x9b" "2J\x80\xff", 16, HIGH, "\x9b" "2J\x80\xff"},
};

static void
test_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(cases[i].what, cases[i].src, cases[i].n, cases[i].rule, cases[i].want);
}

static void
test_n_zero_writes_nothing(void **state)
{
    char dst[4];

    (void)state;
    memset(dst, FILL, sizeof(dst));
    sshcert_text_sanitize(dst, 0, "abc", SSHCERT_TEXT_ASCII);
    sshcert_text_sanitize(dst, 0, NULL, SSHCERT_TEXT_KEEP_HIGH);
    assert_memory_equal(dst, "XXXX", sizeof(dst));
}

/* Every byte from 0x01 to 0xff in one string: what each rule keeps and what becomes '?'. */
static void
test_every_byte(void **state)
{
    char src[256], want_ascii[256], want_high[256];
    int c;

    (void)state;
    for (c = 1; c <= 0xff; c++) {
        src[c - 1] = (char)c;
        want_ascii[c - 1] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
        want_high[c - 1] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    src[255] = want_ascii[255] = want_high[255] = '\0';
    expect("every byte, ASCII", src, 256, SSHCERT_TEXT_ASCII, want_ascii);
    expect("every byte, keep high", src, 256, SSHCERT_TEXT_KEEP_HIGH, want_high);
    expect("every byte, room to spare", src, 257, SSHCERT_TEXT_ASCII, want_ascii);
    /* Cut after the 31 controls 0x01..0x1f: all of them '?' under either rule. */
    memset(want_ascii, '?', 31);
    want_ascii[31] = '\0';
    expect("the controls, ASCII", src, 32, SSHCERT_TEXT_ASCII, want_ascii);
    expect("the controls, keep high", src, 32, SSHCERT_TEXT_KEEP_HIGH, want_ascii);
}

/* Nothing after src's NUL is read or copied, nor anything past the cut: a source without a
 * NUL in reach of the cut is read only up to it (ASan checks the heap bounds). */
static void
test_reads_stay_in_bounds(void **state)
{
    const char after_nul[] = {'a', 'b', '\0', 'c', 'd'};
    char *exact, dst[8];

    (void)state;
    expect("bytes after the NUL", after_nul, 8, SSHCERT_TEXT_ASCII, "ab");
    exact = malloc(3);
    assert_non_null(exact);
    memcpy(exact, "xyz", 3); /* no NUL */
    memset(dst, FILL, sizeof(dst));
    sshcert_text_sanitize(dst, 4, exact, SSHCERT_TEXT_ASCII);
    assert_string_equal(dst, "xyz");
    sshcert_text_sanitize(dst, 2, exact, SSHCERT_TEXT_KEEP_HIGH);
    assert_string_equal(dst, "x");
    free(exact);
}

static void
test_printable(void **state)
{
    int c;

    (void)state;
    for (c = 0; c <= 0xff; c++) {
        int ascii = c >= 0x20 && c <= 0x7e;

        assert_int_equal(sshcert_text_printable(c, SSHCERT_TEXT_ASCII), ascii);
        assert_int_equal(sshcert_text_printable(c, SSHCERT_TEXT_KEEP_HIGH), ascii || c >= 0x80);
    }
    /* Outside a byte's range (getopt's optopt is an int): never kept. */
    assert_int_equal(sshcert_text_printable(-1, SSHCERT_TEXT_KEEP_HIGH), 0);
    assert_int_equal(sshcert_text_printable(-0x7f, SSHCERT_TEXT_ASCII), 0);
    assert_int_equal(sshcert_text_printable(0x100, SSHCERT_TEXT_KEEP_HIGH), 0);
    assert_int_equal(sshcert_text_printable(0x141, SSHCERT_TEXT_ASCII), 0);
}

/* sshcert_text_utf8_clean on a malloc'd copy of exactly len bytes (the NUL included, so ASan
 * sees any read past it) must leave want; what names the case. */
static void
expect_utf8(const char *what, const char *src, size_t len, const char *want)
{
    char *s = malloc(len);

    assert_non_null(s);
    memcpy(s, src, len);
    sshcert_text_utf8_clean(s);
    if (memcmp(s, want, len) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", what, s, want);
    free(s);
}

/* Well-formed UTF-8, kept as it is: every length, at the edges of each range, and controls
 * (JSON escapes them). */
static const char *const well_formed[] = {
    "alice@example", "\xc3\xa9", "\xc2\x80", "\xdf\xbf",  /* ASCII; 2 bytes: U+E9, U+80, U+7FF */
    "\xe2\x82\xac", "\xe0\xa0\x80", "\xed\x9f\xbf",        /* 3 bytes: U+20AC, U+800, U+D7FF */
    "\xee\x80\x80", "\xef\xbf\xbf",                         /* U+E000, U+FFFF */
    "\xf0\x9f\x98\x80", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", /* U+1F600, U+10000, U+10FFFF */
    "\x1b[2J\r\n\t\x7f",                                    /* controls */
};

/* Malformed sequences: each of their bytes becomes one '?'. */
static const char *const malformed[] = {
    "\xc3", "\xe2\x82", "\xf0\x9f\x98",                     /* truncated */
    "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", /* overlong */
    "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
    "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80", /* surrogates, and a pair */
    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xfe", "\xff",  /* past U+10FFFF; never a lead */
    "\x80", "\xbf", "\x80\x80",                              /* continuations with no lead */
};

/* pre, mid and post joined, with mid as it is or (bad) with each of its bytes as '?'. */
static void
join(char *dst, size_t n, const char *pre, const char *mid, const char *post, int bad)
{
    size_t len;

    assert_true(strlen(pre) + strlen(mid) + strlen(post) < n);
    strcpy(dst, pre);
    len = strlen(dst);
    if (bad) {
        memset(dst + len, '?', strlen(mid));
        dst[len + strlen(mid)] = '\0';
    } else {
        strcat(dst, mid);
    }
    strcat(dst, post);
}

/* Each case alone (a truncated one then ends at the NUL, as a message cut to a length does),
 * between ASCII, before a good character, and after a bad byte. */
static void
test_utf8_clean_cases(void **state)
{
    static const char *const around[][2] = {{"", ""}, {"a", "b"}, {"", "\xc3\xa9"}, {"\xff", ""}};
    char src[64], want[64];
    size_t i, k;

    (void)state;
    for (k = 0; k < sizeof(around) / sizeof(around[0]); k++) {
        const char *pre = around[k][0], *post = around[k][1];
        const char *pre_want = pre[0] == '\xff' ? "?" : pre;

        for (i = 0; i < sizeof(well_formed) / sizeof(well_formed[0]); i++) {
            join(src, sizeof(src), pre, well_formed[i], post, 0);
            join(want, sizeof(want), pre_want, well_formed[i], post, 0);
            expect_utf8(well_formed[i], src, strlen(src) + 1, want);
        }
        for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
            join(src, sizeof(src), pre, malformed[i], post, 0);
            join(want, sizeof(want), pre_want, malformed[i], post, 1);
            expect_utf8(malformed[i], src, strlen(src) + 1, want);
        }
    }
    /* A certificate's key id with one bad byte keeps its characters. */
    expect_utf8("key id", "k\xc3\xa9\xffid", sizeof("k\xc3\xa9\xffid"), "k\xc3\xa9?id");
}

/* Each byte alone: ASCII kept, every byte from 0x80 up is a bad sequence by itself. */
static void
test_utf8_clean_every_byte(void **state)
{
    char s[2], want[2];
    int c;

    (void)state;
    for (c = 1; c <= 0xff; c++) {
        s[0] = (char)c;
        s[1] = want[1] = '\0';
        want[0] = c < 0x80 ? (char)c : '?';
        expect_utf8("one byte", s, sizeof(s), want);
    }
}

/* Nothing after the NUL is read or changed, and NULL is left alone. */
static void
test_utf8_clean_stops_at_nul(void **state)
{
    char s[] = {'\xe2', '\0', '\x82', '\xac', '\xff', '\0'};

    (void)state;
    sshcert_text_utf8_clean(s);
    assert_memory_equal(s, "?\0\x82\xac\xff", sizeof(s));
    sshcert_text_utf8_clean(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_n_zero_writes_nothing),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_reads_stay_in_bounds),
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_utf8_clean_cases),
        cmocka_unit_test(test_utf8_clean_every_byte),
        cmocka_unit_test(test_utf8_clean_stops_at_nul),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
