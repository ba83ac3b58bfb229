/* TOTP (RFC 6238: SHA1, 6 digits, 30 s steps) through liboath, and password hashing. */
#ifndef SSHCERT_TOTP_H
#define SSHCERT_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "line.h" /* SSHCERT_MAX_PASSWORD */

#define SSHCERT_TOTP_SECRET_LEN 20
#define SSHCERT_TOTP_DIGITS 6
#define SSHCERT_TOTP_STEP 30
#define SSHCERT_TOTP_WINDOW 1
/* crypto_pwhash_STRBYTES */
#define SSHCERT_PASSWORD_HASH_LEN 128

/* Call once per process before verifying codes. */
int sshcert_totp_global_init(void);
void sshcert_totp_global_done(void);
/* Fresh random secret. */
void sshcert_totp_new_secret(uint8_t out[SSHCERT_TOTP_SECRET_LEN]);
/* Base32 without padding; *out malloc'd (a secret: free with sshcert_secmem_free_str). */
int sshcert_totp_base32(const uint8_t *secret, size_t len, char **out);
/* otpauth://totp/sshcert:USER?secret=...&issuer=sshcert; *out malloc'd, a secret. */
int sshcert_totp_uri(const char *username, const char *b32, char **out);
/* Checks a 6-digit code against the time steps of now +-SSHCERT_TOTP_WINDOW and sets *step to
 * the oldest step that matches and is newer than after (the user's last accepted step). Two
 * steps of the window share a code about once in 500,000 logins; taking the first match
 * regardless (as liboath's validate does, current step first) could pick the step already
 * used and refuse a right code as a replay. Returns 0; SSHCERT_ERR_DUPLICATE when the code
 * matches only steps not newer than after (a replay); SSHCERT_ERR_SIGNATURE when it matches
 * none; SSHCERT_ERR_INVALID_FORMAT when it is not 6 ASCII digits. Every step of the window is
 * computed and compared in constant time, whatever matches. */
int sshcert_totp_verify(const uint8_t *secret, size_t len, const char *code, uint64_t now,
    uint64_t after, uint64_t *step);

/* argon2id hash of password at the configured cost into out (NUL-terminated). */
int sshcert_password_hash(const char *password, enum sshcert_hash_cost cost,
    char out[SSHCERT_PASSWORD_HASH_LEN]);
/* 0 when password matches hash, SSHCERT_ERR_SIGNATURE when not. */
int sshcert_password_verify(const char *hash, const char *password);
/* 1 when hash was not made at cost (an earlier auth.password_hash), else 0: a login that
 * verified it remakes it (auth.c), so every known name costs what an unknown one does. */
int sshcert_password_needs_rehash(const char *hash, enum sshcert_hash_cost cost);
/* The name of the cost hash was made at, or "other" (not one of auth.password_hash's). */
const char *sshcert_password_cost_name(const char *hash);
/* Spends the same time and memory as a verify at cost, for unknown usernames. */
void sshcert_password_dummy_verify(enum sshcert_hash_cost cost, const char *password);

#endif
