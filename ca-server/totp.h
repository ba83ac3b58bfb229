/* TOTP (RFC 6238: SHA1, 6 digits, 30 s steps) through liboath, and password hashing. */
#ifndef SSHCERT_TOTP_H
#define SSHCERT_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SSHCERT_TOTP_SECRET_LEN 20
#define SSHCERT_TOTP_DIGITS 6
#define SSHCERT_TOTP_STEP 30
#define SSHCERT_TOTP_WINDOW 1
/* Longest password accepted (argon2id works on any length; this bounds request cost). */
#define SSHCERT_MAX_PASSWORD 1024u
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
/* Checks a 6-digit code at now within ±1 step; *step gets the matched absolute time step.
 * SSHCERT_ERR_SIGNATURE when wrong, SSHCERT_ERR_INVALID_FORMAT when not 6 ASCII digits. */
int sshcert_totp_verify(const uint8_t *secret, size_t len, const char *code, uint64_t now,
    uint64_t *step);

/* argon2id hash of password at the configured cost into out (NUL-terminated). */
int sshcert_password_hash(const char *password, enum sshcert_hash_cost cost,
    char out[SSHCERT_PASSWORD_HASH_LEN]);
/* 0 when password matches hash, SSHCERT_ERR_SIGNATURE when not. */
int sshcert_password_verify(const char *hash, const char *password);
/* Spends the same time and memory as a verify at cost, for unknown usernames. */
void sshcert_password_dummy_verify(enum sshcert_hash_cost cost, const char *password);

#endif
