/*
 * ca-server/totp: which time step a code is taken for. The window (one step either side) at
 * its edges, replays, the format, and the case liboath's first-match validate got wrong: two
 * steps of the window with the same code, the older one already used.
 * ca-server/totp's passwords: a hash made at the min cost is verified by libargon2, every other
 * by libsodium; both libraries must compute the same argon2id and read each other's strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <argon2.h>
#include <oath.h>
#include <sodium.h>

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

/* "password" under the salt "somesaltsomesalt", argon2id v19, p=1, 32 bytes: t=1 m=8 KiB (the
 * min cost) and t=3 m=64 KiB, as `argon2 somesaltsomesalt -id -t T -k M -p 1 -l 32 -r` prints. */
static const char kat_min[] =
    "05b6ca8f8038b683887ad4916533858b49cb52040126c134f4c6e9d8711b8c09";
static const char kat_t3_m64[] =
    "6164c739a04e17de34a80bee65c6a58f4b8a240cbf5652f4a79e35ae02b7c616";
static const char enc_min[SSHCERT_PASSWORD_HASH_LEN] =
    "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk";

static void
assert_raw(uint32_t t, uint32_t m_kib, const char *hex)
{
    const uint8_t salt[] = "somesaltsomesalt";
    uint8_t a[32], b[32];
    char h[65];

    assert_int_equal(crypto_pwhash(a, sizeof(a), "password", 8, salt, t, (size_t)m_kib * 1024,
                         crypto_pwhash_ALG_ARGON2ID13),
        0);
    assert_int_equal(argon2id_hash_raw(t, m_kib, 1, "password", 8, salt, 16, b, sizeof(b)),
        ARGON2_OK);
    assert_memory_equal(a, b, sizeof(a));
    sodium_bin2hex(h, sizeof(h), a, sizeof(a));
    assert_string_equal(h, hex);
}

/* The two libraries agree bit for bit, on a known answer. */
static void
test_password_libraries_agree(void **state)
{
    (void)state;
    assert_raw(1, 8, kat_min);
    assert_raw(3, 64, kat_t3_m64);
}

/* A hash made at min (by libsodium) is verified through libargon2, and a string libargon2
 * wrote through sshcert_password_verify and libsodium alike. */
static void
test_password_min(void **state)
{
    char h[SSHCERT_PASSWORD_HASH_LEN], bad[SSHCERT_PASSWORD_HASH_LEN];
    size_t n;

    (void)state;
    assert_int_equal(sshcert_password_hash("correct horse", SSHCERT_HASH_MIN, h), 0);
    assert_int_equal(strncmp(h, "$argon2id$v=19$m=8,t=1,p=1$", 27), 0);
    assert_string_equal(sshcert_password_cost_name(h), "min");
    assert_int_equal(sshcert_password_verify(h, "correct horse"), 0);
    assert_int_equal(sshcert_password_verify(h, "correct horsE"), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sshcert_password_verify(h, "correct horse "), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(argon2id_verify(h, "correct horse", 13), ARGON2_OK);

    assert_int_equal(sshcert_password_verify(enc_min, "password"), 0);
    assert_int_equal(sshcert_password_verify(enc_min, "passwore"), SSHCERT_ERR_SIGNATURE);
    assert_int_equal(crypto_pwhash_str_verify(enc_min, "password", 8), 0);

    /* One character of the hash changed, or of the salt: refused. */
    n = strlen(enc_min);
    memcpy(bad, enc_min, n + 1);
    bad[n - 10] = bad[n - 10] == 'A' ? 'B' : 'A';
    assert_int_equal(sshcert_password_verify(bad, "password"), SSHCERT_ERR_SIGNATURE);
    memcpy(bad, enc_min, n + 1);
    bad[28] = bad[28] == 'A' ? 'B' : 'A';
    assert_int_equal(sshcert_password_verify(bad, "password"), SSHCERT_ERR_SIGNATURE);
}

/* Strings that are not a whole argon2id hash never verify, whichever library they reach. */
static void
test_password_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "$argon2id$v=19$m=8,t=1,p=1$",
        "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$",
        "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbj",
        "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk$",
        "$argon2id$v=16$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2d$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2id$v=19$m=8,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2id$v=19$m=8,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2id$v=19$m=16,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA=$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
        "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjA=",
        "argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$BbbKj4A4toOIetSRZTOFi0nLUgQBJsE09Mbp2HEbjAk",
    };
    char big[SSHCERT_MAX_PASSWORD + 2], h[SSHCERT_PASSWORD_HASH_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sshcert_password_verify(bad[i], "password"), SSHCERT_ERR_SIGNATURE);
    /* An empty password, or one over the limit, never reaches either library. */
    assert_int_equal(sshcert_password_verify(enc_min, ""), SSHCERT_ERR_SIGNATURE);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sshcert_password_hash(big, SSHCERT_HASH_MIN, h), SSHCERT_ERR_INVALID_ARGUMENT);
    big[SSHCERT_MAX_PASSWORD] = '\0';
    assert_int_equal(sshcert_password_hash(big, SSHCERT_HASH_MIN, h), 0);
    assert_int_equal(sshcert_password_verify(h, big), 0);
    big[SSHCERT_MAX_PASSWORD] = 'a';
    assert_int_equal(sshcert_password_verify(h, big), SSHCERT_ERR_SIGNATURE);
}

/* Whether a hash is at a cost is read off its parameters and its length: the same answer as
 * libsodium's crypto_pwhash_str_needs_rehash on what crypto_pwhash_str writes, at every cost. */
static void
test_password_cost_of(void **state)
{
    static const struct {
        unsigned long long ops;
        size_t mem;
    } lim[SSHCERT_HASH_COSTS] = {
        [SSHCERT_HASH_MIN] = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN},
        [SSHCERT_HASH_INTERACTIVE] = {crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE},
        [SSHCERT_HASH_MODERATE] = {crypto_pwhash_OPSLIMIT_MODERATE,
            crypto_pwhash_MEMLIMIT_MODERATE},
    };
    static const char min_prefix[] = "$argon2id$v=19$m=8,t=1,p=1$";
    static const char *const off[] = {"$argon2id$v=19$m=80,t=1,p=1", "$argon2id$v=19$m=8,t=10,p=1",
        "$argon2i$v=19$m=8,t=1,p=1", "$argon2id$v=16$m=8,t=1,p=1", "$argon2id$v=19$m=8,t=1,p=2"};
    char h[4][SSHCERT_PASSWORD_HASH_LEN];
    const char *tail;
    unsigned i, c;

    (void)state;
    assert_int_equal(sshcert_password_hash("correct horse", SSHCERT_HASH_MIN, h[0]), 0);
    assert_int_equal(sshcert_password_hash("correct horse", SSHCERT_HASH_INTERACTIVE, h[1]), 0);
    /* moderate (256 MiB) and a cost of none of ours, written rather than hashed */
    assert_int_equal(strncmp(h[0], "$argon2id$v=19$m=8,t=1,p=1$", 27), 0);
    tail = h[0] + 26; /* "$salt$hash" */
    assert_true(snprintf(h[2], sizeof(h[2]), "$argon2id$v=19$m=262144,t=3,p=1%s", tail) <
                (int)sizeof(h[2]));
    assert_true(
        snprintf(h[3], sizeof(h[3]), "$argon2id$v=19$m=16,t=1,p=1%s", tail) < (int)sizeof(h[3]));
    for (i = 0; i < 4; i++)
        for (c = 0; c < SSHCERT_HASH_COSTS; c++)
            assert_int_equal(sshcert_password_needs_rehash(h[i], (enum sshcert_hash_cost)c),
                crypto_pwhash_str_needs_rehash(h[i], lim[c].ops, lim[c].mem) != 0);
    assert_string_equal(sshcert_password_cost_name(h[2]), "moderate");
    assert_string_equal(sshcert_password_cost_name(h[3]), "other");
    /* a prefix alone, or a whole string with one parameter off: not at min */
    assert_int_equal(sshcert_password_needs_rehash(min_prefix, SSHCERT_HASH_MIN), 1);
    assert_int_equal(sshcert_password_needs_rehash("", SSHCERT_HASH_MIN), 1);
    for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        assert_true(snprintf(h[3], sizeof(h[3]), "%s%s", off[i], tail) < (int)sizeof(h[3]));
        assert_int_equal(sshcert_password_needs_rehash(h[3], SSHCERT_HASH_MIN), 1);
    }
    /* the known-answer string libargon2 wrote reads as min, as libsodium reads it */
    assert_int_equal(sshcert_password_needs_rehash(enc_min, SSHCERT_HASH_MIN), 0);
    assert_int_equal(crypto_pwhash_str_needs_rehash(enc_min, lim[0].ops, lim[0].mem), 0);
}

/* Strings libsodium never writes: a hash of 4 to 15 bytes, which libargon2 verifies but
 * libsodium refuses, never verifies (at min it would reach libargon2 on its parameters
 * alone); one of 16 to 48 bytes other than 32 verifies through libsodium, as before, and is
 * remade; p=2 reads as no cost of ours (libsodium's check ignores p) and is remade too. */
static void
test_password_foreign_forms(void **state)
{
    static const uint32_t short_tags[] = {4, 8, 15}, other_tags[] = {16, 31, 48};
    static const uint8_t salt[16] = "0123456789abcdef";
    char enc[SSHCERT_PASSWORD_HASH_LEN];
    unsigned i, c;

    (void)state;
    for (i = 0; i < sizeof(short_tags) / sizeof(short_tags[0]); i++) {
        assert_int_equal(argon2id_hash_encoded(1, 8, 1, "password", 8, salt, sizeof(salt),
                             short_tags[i], enc, sizeof(enc)),
            ARGON2_OK);
        assert_int_equal(argon2id_verify(enc, "password", 8), ARGON2_OK);
        assert_int_equal(sshcert_password_verify(enc, "password"), SSHCERT_ERR_SIGNATURE);
        for (c = 0; c < SSHCERT_HASH_COSTS; c++)
            assert_int_equal(sshcert_password_needs_rehash(enc, (enum sshcert_hash_cost)c), 1);
        assert_string_equal(sshcert_password_cost_name(enc), "other");
    }
    for (i = 0; i < sizeof(other_tags) / sizeof(other_tags[0]); i++) {
        assert_int_equal(argon2id_hash_encoded(1, 8, 1, "password", 8, salt, sizeof(salt),
                             other_tags[i], enc, sizeof(enc)),
            ARGON2_OK);
        assert_int_equal(sshcert_password_verify(enc, "password"), 0);
        assert_int_equal(sshcert_password_verify(enc, "passwore"), SSHCERT_ERR_SIGNATURE);
        assert_int_equal(sshcert_password_needs_rehash(enc, SSHCERT_HASH_MIN), 1);
    }
    /* interactive's m and t (min's 8 KiB is too little for two lanes) */
    assert_int_equal(argon2id_hash_encoded(2, 65536, 2, "password", 8, salt, sizeof(salt), 32,
                         enc, sizeof(enc)),
        ARGON2_OK);
    assert_int_equal(strncmp(enc, "$argon2id$v=19$m=65536,t=2,p=2$", 31), 0);
    assert_int_equal(crypto_pwhash_str_needs_rehash(enc, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE),
        0);
    assert_int_equal(sshcert_password_verify(enc, "password"), 0);
    assert_int_equal(sshcert_password_needs_rehash(enc, SSHCERT_HASH_INTERACTIVE), 1);
    assert_string_equal(sshcert_password_cost_name(enc), "other");
}

/* Above min, libsodium verifies, as before; the cost names read the same. */
static void
test_password_interactive(void **state)
{
    char h[SSHCERT_PASSWORD_HASH_LEN];

    (void)state;
    assert_int_equal(sshcert_password_hash("correct horse", SSHCERT_HASH_INTERACTIVE, h), 0);
    assert_string_equal(sshcert_password_cost_name(h), "interactive");
    assert_int_equal(sshcert_password_needs_rehash(h, SSHCERT_HASH_MIN), 1);
    assert_int_equal(sshcert_password_needs_rehash(h, SSHCERT_HASH_INTERACTIVE), 0);
    assert_int_equal(sshcert_password_verify(h, "correct horse"), 0);
    assert_int_equal(sshcert_password_verify(h, "correct horsE"), SSHCERT_ERR_SIGNATURE);
    /* The unknown name's dummy hash at each cost runs to its end (its time is the bench's). */
    sshcert_password_dummy_verify(SSHCERT_HASH_MIN, "correct horse");
    sshcert_password_dummy_verify(SSHCERT_HASH_MIN, "");
    sshcert_password_dummy_verify(SSHCERT_HASH_INTERACTIVE, NULL);
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
        cmocka_unit_test(test_password_libraries_agree),
        cmocka_unit_test(test_password_min),
        cmocka_unit_test(test_password_cost_of),
        cmocka_unit_test(test_password_foreign_forms),
        cmocka_unit_test(test_password_malformed),
        cmocka_unit_test(test_password_interactive),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
