/* lib/duration: the one duration parser of the server, sshcert-admin and the client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"
#include "err.h"

#define YEAR (366u * 24u * 3600u)

static void
expect_ok(const char *s, uint64_t max, uint64_t want)
{
    uint64_t v = 12345;

    assert_int_equal(sshcert_duration_parse(s, max, &v), 0);
    assert_int_equal(v, want);
}

static void
expect_bad(const char *s, uint64_t max)
{
    uint64_t v = 12345;

    assert_int_equal(sshcert_duration_parse(s, max, &v), SSHCERT_ERR_INVALID_FORMAT);
    assert_int_equal(v, 0);
}

static void
test_units(void **state)
{
    (void)state;
    expect_ok("0", YEAR, 0);
    expect_ok("30", YEAR, 30);
    expect_ok("90s", YEAR, 90);
    expect_ok("15m", YEAR, 900);
    expect_ok("1h", YEAR, 3600);
    expect_ok("8h", YEAR, 28800);
    expect_ok("2d", YEAR, 172800);
    expect_ok("000000000001", YEAR, 1); /* 12 characters: the longest accepted */
}

static void
test_malformed(void **state)
{
    (void)state;
    expect_bad("", YEAR);
    expect_bad(NULL, YEAR);
    expect_bad("m", YEAR);
    expect_bad("1x", YEAR);
    expect_bad("-5m", YEAR);
    expect_bad("1.5h", YEAR);
    expect_bad(" 1h", YEAR);
    expect_bad("1h ", YEAR);
    expect_bad("0000000000001", YEAR); /* 13 characters */
    assert_int_equal(sshcert_duration_parse("1h", YEAR, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
}

static void
test_max_boundary(void **state)
{
    (void)state;
    expect_ok("31622400", YEAR, YEAR);  /* exactly the cap */
    expect_bad("31622401", YEAR);       /* one over */
    expect_ok("366d", YEAR, YEAR);
    expect_bad("367d", YEAR);
    expect_ok("8h", 28800, 28800);
    expect_bad("28801", 28800);
    expect_bad("999999999999", YEAR);   /* 12 digits, far over, no overflow */
    expect_bad("99999999999d", YEAR);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_max_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
