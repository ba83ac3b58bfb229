/* lib/line: the one reader of secret lines (passwords, TOTP codes) from a file descriptor,
 * tested through pipes at its length cap, one byte under and one over, with CRLF input. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "line.h"
#include "secmem.h"

/* The password cap of the client and sshcert-admin (SSHCERT_MAX_PASSWORD). */
#define MAX 1024u
/* Never a pointer the reader returns: shows that *out was cleared. */
static char sentinel;

/* A pipe holding len bytes of data and then end of input; returns its read end. */
static int
feed(const char *data, size_t len)
{
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], data, len), (ssize_t)len);
    assert_int_equal(close(p[1]), 0);
    return p[0];
}

/* n copies of c followed by tail, in a malloc'd buffer of *len bytes (no NUL counted). */
static char *
line_of(char c, size_t n, const char *tail, size_t *len)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);

    assert_non_null(s);
    memset(s, c, n);
    memcpy(s + n, tail, t + 1);
    *len = n + t;
    return s;
}

/* Reads one line of at most max from data; checks the code, the line (when want is not NULL)
 * and what is left unread in the pipe. */
static void
expect(const char *data, size_t len, size_t max, int code, const char *want, const char *left)
{
    char *out = &sentinel, rest[64];
    int fd = feed(data, len);
    ssize_t n;

    assert_int_equal(sshcert_line_read(fd, max, &out), code);
    if (code == 0) {
        assert_non_null(out);
        assert_string_equal(out, want);
    } else {
        assert_null(out);
    }
    sshcert_secmem_free(out);
    n = read(fd, rest, sizeof(rest) - 1);
    assert_true(n >= 0);
    rest[n] = '\0';
    assert_string_equal(rest, left);
    close(fd);
}

static void
test_at_the_cap(void **state)
{
    size_t len;
    char *want = line_of('p', MAX, "", &len), *s;

    (void)state;
    s = line_of('p', MAX, "\n", &len);
    expect(s, len, MAX, 0, want, "");
    free(s);
    s = line_of('p', MAX - 1, "\n", &len);
    expect(s, len, MAX, 0, want + 1, "");
    free(s);
    s = line_of('p', MAX, "", &len); /* end of input, no newline */
    expect(s, len, MAX, 0, want, "");
    free(s);
    s = line_of('p', MAX, "\r\n", &len); /* CRLF: the '\r' does not count */
    expect(s, len, MAX, 0, want, "");
    free(s);
    s = line_of('p', MAX, "\r", &len); /* a '\r' and then end of input */
    expect(s, len, MAX, 0, want, "");
    free(s);
    free(want);
}

static void
test_over_the_cap(void **state)
{
    size_t len;
    char *s;

    (void)state;
    s = line_of('p', MAX + 1, "\n", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    free(s);
    s = line_of('p', MAX + 1, "", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "");
    free(s);
    s = line_of('p', MAX + 1, "\r\n", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\r\n");
    free(s);
    s = line_of('p', MAX, "\r\r\n", &len); /* only one '\r' is CRLF's */
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    free(s);
    s = line_of('p', MAX, "\rx\n", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    free(s);
    /* At most max + 1 bytes of a long line are taken; the rest stays for whoever reads next. */
    expect("abcdef\n", 7, 3, SSHCERT_ERR_TOO_LARGE, NULL, "ef\n");
    expect("a\n", 2, 0, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    expect("\n", 1, 0, 0, "", "");
}

static void
test_empty_and_short(void **state)
{
    (void)state;
    expect("", 0, MAX, SSHCERT_ERR_NOT_FOUND, NULL, "");
    expect("\n", 1, MAX, 0, "", "");
    expect("\r\n", 2, MAX, 0, "", "");
    expect("\r", 1, MAX, 0, "", "");
    expect("pass\rword\n", 10, MAX, 0, "pass\rword", ""); /* a '\r' inside stays */
    expect("pass word \n", 11, MAX, 0, "pass word ", "");
    expect("ab\0cd\n", 6, MAX, 0, "ab", ""); /* a NUL is kept: the string ends there */
}

/* The TOTP code on the line after the password is still in the pipe after the password was
 * read, and then read by the next call. */
static void
test_leaves_the_next_line(void **state)
{
    static const char data[] = "first\r\n123456\nthird";
    char *out = &sentinel;
    int fd = feed(data, sizeof(data) - 1);

    (void)state;
    expect(data, sizeof(data) - 1, MAX, 0, "first", "123456\nthird");
    assert_int_equal(sshcert_line_read(fd, MAX, &out), 0);
    assert_string_equal(out, "first");
    sshcert_secmem_free(out);
    assert_int_equal(sshcert_line_read(fd, 6, &out), 0);
    assert_string_equal(out, "123456");
    sshcert_secmem_free(out);
    assert_int_equal(sshcert_line_read(fd, MAX, &out), 0);
    assert_string_equal(out, "third");
    sshcert_secmem_free(out);
    out = &sentinel;
    assert_int_equal(sshcert_line_read(fd, MAX, &out), SSHCERT_ERR_NOT_FOUND);
    assert_null(out);
    close(fd);
}

static void
test_read_error(void **state)
{
    char *out = &sentinel;
    int fd;

    (void)state;
    /* read() of a folder fails with EISDIR. */
    assert_true((fd = open(".", O_RDONLY | O_DIRECTORY)) >= 0);
    errno = 0;
    assert_int_equal(sshcert_line_read(fd, MAX, &out), SSHCERT_ERR_SYSTEM);
    assert_int_equal(errno, EISDIR);
    assert_null(out);
    close(fd);
    out = &sentinel;
    assert_int_equal(sshcert_line_read(-1, MAX, &out), SSHCERT_ERR_SYSTEM);
    assert_int_equal(errno, EBADF);
    assert_null(out);
}

static void
test_cap_of_the_cap(void **state)
{
    char *out = &sentinel;

    (void)state;
    expect("x\n", 2, SSHCERT_LINE_MAX, 0, "x", "");
    assert_int_equal(sshcert_line_read(0, SSHCERT_LINE_MAX + 1, &out),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(out);
    out = &sentinel;
    assert_int_equal(sshcert_line_read(0, SIZE_MAX, &out), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(out);
}

static int
setup(void **state)
{
    (void)state;
    return sshcert_secmem_init();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_the_cap),
        cmocka_unit_test(test_over_the_cap),
        cmocka_unit_test(test_empty_and_short),
        cmocka_unit_test(test_leaves_the_next_line),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_cap_of_the_cap),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
