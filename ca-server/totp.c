#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <oath.h>
#include <sodium.h>

#include "err.h"
#include "secmem.h"
#include "totp.h"

int
sshcert_totp_global_init(void)
{
    return oath_init() == OATH_OK ? 0 : SSHCERT_ERR_CRYPTO;
}

void
sshcert_totp_global_done(void)
{
    oath_done();
}

void
sshcert_totp_new_secret(uint8_t out[SSHCERT_TOTP_SECRET_LEN])
{
    randombytes_buf(out, SSHCERT_TOTP_SECRET_LEN);
}

int
sshcert_totp_base32(const uint8_t *secret, size_t len, char **out)
{
    char *b = NULL, *eq;
    size_t blen = 0;

    *out = NULL;
    if (oath_base32_encode((const char *)secret, len, &b, &blen) != OATH_OK || b == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((eq = strchr(b, '=')) != NULL)
        *eq = '\0';
    *out = b;
    return 0;
}

int
sshcert_totp_uri(const char *username, const char *b32, char **out)
{
    char *u = NULL;

    *out = NULL;
    /* Usernames are restricted to [a-z0-9_.-], which need no percent-encoding. */
    if (asprintf(&u,
            "otpauth://totp/sshcert:%s?secret=%s&issuer=sshcert&algorithm=SHA1&digits=6&period=30",
            username, b32) < 0)
        return SSHCERT_ERR_ALLOC;
    *out = u;
    return 0;
}

int
sshcert_totp_verify(const uint8_t *secret, size_t len, const char *code, uint64_t now,
    uint64_t after, uint64_t *step)
{
    char otp[SSHCERT_TOTP_DIGITS + 1];
    uint64_t cur = now / SSHCERT_TOTP_STEP, s, found = 0;
    int used = 0, fresh, match, fail = 0;
    size_t i;

    *step = 0;
    if (code == NULL || strlen(code) != SSHCERT_TOTP_DIGITS)
        return SSHCERT_ERR_INVALID_FORMAT;
    for (i = 0; i < SSHCERT_TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return SSHCERT_ERR_INVALID_FORMAT;
    /* Oldest first; the TOTP of step s is the HOTP of counter s (RFC 6238). */
    for (s = cur >= SSHCERT_TOTP_WINDOW ? cur - SSHCERT_TOTP_WINDOW : 0;
         s <= cur + SSHCERT_TOTP_WINDOW; s++) {
        if (oath_hotp_generate((const char *)secret, len, s, SSHCERT_TOTP_DIGITS, false,
                SIZE_MAX, otp) != OATH_OK) {
            fail = 1;
            continue;
        }
        match = sshcert_secmem_equal(otp, code, SSHCERT_TOTP_DIGITS);
        fresh = s > after;
        if (match && fresh && found == 0)
            found = s;
        used |= match && !fresh;
    }
    sshcert_secmem_wipe(otp, sizeof(otp));
    if (fail)
        return SSHCERT_ERR_SIGNATURE;
    if (found != 0) {
        *step = found;
        return 0;
    }
    return used ? SSHCERT_ERR_DUPLICATE : SSHCERT_ERR_SIGNATURE;
}

static void
cost_params(enum sshcert_hash_cost cost, unsigned long long *ops, size_t *mem)
{
    switch (cost) {
    case SSHCERT_HASH_MIN:
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
        break;
    case SSHCERT_HASH_MODERATE:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    case SSHCERT_HASH_INTERACTIVE:
    default:
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    }
}

/* What crypto_pwhash_str writes after the parameters: the salt and the 32-byte hash, in
 * unpadded base64, "$"-separated. */
#define STR_HASH_BYTES 32u
#define B64_LEN(n) (sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL_NO_PADDING) - 1u)
#define STR_TAIL_LEN (B64_LEN(crypto_pwhash_SALTBYTES) + 1u + B64_LEN(STR_HASH_BYTES))
/* Longest "$argon2id$v=19$m=...,t=...,p=1$" of any cost. */
#define STR_PREFIX_MAX 64u

/*
 * Whether a stored hash was made at a cost, in the form crypto_pwhash_str writes there:
 * "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$", a 16-byte salt and a 32-byte hash, nothing else.
 * libsodium's crypto_pwhash_str_needs_rehash decodes the whole string for this (~6 k
 * instructions, and a login asks three times: tests/bench/README.md, twenty-first pass).
 * The exact length matters: libargon2, which verifies what is at min, also accepts hashes of
 * 4 to 15 bytes, which libsodium refuses. A string in any other form (another cost, p other
 * than 1, another length) reads as made at no cost of ours: libsodium verifies it (refusing
 * what it never writes), and a login that verifies it remakes it.
 */
static bool
at_cost(const char *hash, enum sshcert_hash_cost cost)
{
    char prefix[STR_PREFIX_MAX];
    unsigned long long ops;
    size_t mem;
    int n;

    cost_params(cost, &ops, &mem);
    n = snprintf(prefix, sizeof(prefix), "%sv=%d$m=%zu,t=%llu,p=1$",
        crypto_pwhash_argon2id_STRPREFIX, ARGON2_VERSION_NUMBER, mem / 1024u, ops);
    return n > 0 && (size_t)n < sizeof(prefix) && strncmp(hash, prefix, (size_t)n) == 0 &&
           strlen(hash) == (size_t)n + STR_TAIL_LEN &&
           hash[(size_t)n + B64_LEN(crypto_pwhash_SALTBYTES)] == '$';
}

int
sshcert_password_hash(const char *password, enum sshcert_hash_cost cost,
    char out[SSHCERT_PASSWORD_HASH_LEN])
{
    unsigned long long ops;
    size_t mem, len = strlen(password);

    if (len == 0 || len > SSHCERT_MAX_PASSWORD)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    cost_params(cost, &ops, &mem);
    if (crypto_pwhash_str(out, password, len, ops, mem) != 0)
        return SSHCERT_ERR_ALLOC;
    return 0;
}

/*
 * Hashes made at the min cost are verified through libargon2 (Debian's build of the reference
 * implementation), which takes argon2id's 8 KiB from malloc. libsodium maps fresh memory for
 * every hash and unmaps it after; at min that mapping, and the TLB-shootdown interrupt the
 * unmap sends to the server's other CPU, cost more than the hash itself (tests/bench/README.md,
 * sixteenth pass). Every other cost stays with libsodium, whose SIMD code is ~40% faster at the
 * interactive cost, where the mapping is lost in the hash. Both compute argon2id (RFC 9106) bit
 * for bit, and read and write the same encoded strings (tests/unit/test_totp.c). Stored hashes
 * are always made by libsodium; an unknown name's dummy hash at min goes through libargon2, so
 * that it costs what a verify there costs.
 */
int
sshcert_password_verify(const char *hash, const char *password)
{
    size_t len = strlen(password);

    if (len == 0 || len > SSHCERT_MAX_PASSWORD)
        return SSHCERT_ERR_SIGNATURE;
    if (at_cost(hash, SSHCERT_HASH_MIN))
        return argon2id_verify(hash, password, len) == ARGON2_OK ? 0 : SSHCERT_ERR_SIGNATURE;
    return crypto_pwhash_str_verify(hash, password, len) == 0 ? 0 : SSHCERT_ERR_SIGNATURE;
}

int
sshcert_password_needs_rehash(const char *hash, enum sshcert_hash_cost cost)
{
    return !at_cost(hash, cost);
}

const char *
sshcert_password_cost_name(const char *hash)
{
    unsigned i;

    for (i = 0; i < SSHCERT_HASH_COSTS; i++)
        if (!sshcert_password_needs_rehash(hash, (enum sshcert_hash_cost)i))
            return sshcert_hash_cost_name((enum sshcert_hash_cost)i);
    return "other";
}

void
sshcert_password_dummy_verify(enum sshcert_hash_cost cost, const char *password)
{
    char h[SSHCERT_PASSWORD_HASH_LEN];
    uint8_t salt[crypto_pwhash_SALTBYTES], out[STR_HASH_BYTES];
    unsigned long long ops;
    size_t mem;

    /* Hashing once at the same cost, through the library that would verify it, costs what a
     * verify costs: same memory, same passes. */
    if (cost == SSHCERT_HASH_MIN) {
        if (password == NULL || *password == '\0')
            password = "x";
        cost_params(cost, &ops, &mem);
        randombytes_buf(salt, sizeof(salt));
        /* libargon2 counts memory in KiB */
        (void)argon2id_hash_raw((uint32_t)ops, (uint32_t)(mem / 1024U), 1, password,
            strlen(password), salt, sizeof(salt), out, sizeof(out));
        sodium_memzero(out, sizeof(out));
        return;
    }
    if (sshcert_password_hash(password != NULL && *password != '\0' ? password : "x", cost, h) == 0)
        sodium_memzero(h, sizeof(h));
}
