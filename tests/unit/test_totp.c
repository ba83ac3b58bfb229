/*
 * ca-server/totp: which time step a code is taken for. The window (one step either side) at
 * its edges, replays, the format, and the case liboath's first-match validate got wrong: two
 * steps of the window with the same code, the older one already used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <oath.h>

#include "err.h"
#include "totp.h"

/* RFC 6238's SHA1 test secret. */
static const uint8_t rfc[] = "12345678901234567890";
#define RFC_LEN 20
/* Steps 50424280 and 50424281 share the code 070562 under that secret (found by search). */
#define TWIN 50424280ull

static void
code_of(uint64_t step, char out[7])
{
    assert_int_equal(oath_hotp_generate((const char *)rfc, RFC_LEN, step, 6, false, SIZE_MAX,
                         out),
        OATH_OK);
}

static int
setup(void **state)
{
    (void)state;
    return sshcert_totp_global_init();
}

static int
teardown(void **state)
{
    (void)state;
    sshcert_totp_global_done();
    return 0;
}

static void
test_rfc_vector(void **state)
{
    uint64_t step = 0;

    (void)state;
    /* RFC 6238, T = 59 s: 94287082, of which 6 digits. */
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, "287082", 59, 0, &step), 0);
    assert_int_equal(step, 1);
}

static void
test_window_edges(void **state)
{
    const uint64_t cur = 56666666, now = cur * 30 + 29;
    char c[7];
    uint64_t step = 0;

    (void)state;
    code_of(cur - 1, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, 0, &step), 0);
    assert_int_equal(step, cur - 1);
    code_of(cur + 1, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, 0, &step), 0);
    assert_int_equal(step, cur + 1);
    code_of(cur - 2, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, 0, &step), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(step, 0);
    code_of(cur + 2, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, 0, &step), SSHCERT_ERR_SIGNATURE);
    /* The first second of the next step moves the window. */
    code_of(cur - 1, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now + 1, 0, &step),
        SSHCERT_ERR_SIGNATURE);
    code_of(cur + 2, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now + 1, 0, &step), 0);
    assert_int_equal(step, cur + 2);
}

static void
test_replay(void **state)
{
    const uint64_t cur = 56666666, now = cur * 30;
    char c[7];
    uint64_t step = 0;

    (void)state;
    code_of(cur, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, cur - 1, &step), 0);
    assert_int_equal(step, cur);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, cur, &step), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(step, 0);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, cur + 1, &step),
        SSHCERT_ERR_DUPLICATE);
    code_of(cur + 1, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, now, cur, &step), 0);
    assert_int_equal(step, cur + 1);
}

static void
test_twin_codes(void **state)
{
    char a[7], b[7];
    uint64_t step = 0;

    (void)state;
    code_of(TWIN, a);
    code_of(TWIN + 1, b);
    assert_string_equal(a, "070562");
    assert_string_equal(b, "070562");
    /* In step TWIN (liboath would look at TWIN first): the oldest fresh step is taken... */
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, a, TWIN * 30 + 5, TWIN - 1, &step), 0);
    assert_int_equal(step, TWIN);
    /* ...and once TWIN is used, the same digits are TWIN + 1's code, not a replay. */
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, a, TWIN * 30 + 5, TWIN, &step), 0);
    assert_int_equal(step, TWIN + 1);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, a, TWIN * 30 + 5, TWIN + 1, &step),
        SSHCERT_ERR_DUPLICATE);
    /* In step TWIN + 1, with TWIN - 1's code used: TWIN, the older of the two. */
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, a, TWIN * 30 + 35, TWIN - 1, &step), 0);
    assert_int_equal(step, TWIN);
}

static void
test_format(void **state)
{
    static const char *const bad[] = {"", "12345", "1234567", "12a456", " 12345", "12345\n",
        "+12345", "１２３４５６"};
    uint64_t step = 7;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        step = 7;
        assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, bad[i], 59, 0, &step),
            SSHCERT_ERR_INVALID_FORMAT);
        assert_int_equal(step, 0);
    }
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, NULL, 59, 0, &step),
        SSHCERT_ERR_INVALID_FORMAT);
}

/* At the epoch's first step the window has no step before it, and step 0 is never fresh. */
static void
test_first_steps(void **state)
{
    char c[7];
    uint64_t step = 0;

    (void)state;
    code_of(0, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, 10, 0, &step), SSHCERT_ERR_DUPLICATE);
    code_of(1, c);
    assert_int_equal(sshcert_totp_verify(rfc, RFC_LEN, c, 10, 0, &step), 0);
    assert_int_equal(step, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_vector),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_twin_codes),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_first_steps),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
