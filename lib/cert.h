/*
 * OpenSSH ed25519 user certificates (ssh-ed25519-cert-v01@openssh.com): build, canonical
 * encoding, pluggable signing, parsing, CA signature verification and validity checks.
 */
#ifndef SSHCERT_CERT_H
#define SSHCERT_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

struct sshcert_buf;
struct sshcert_cert;

#define SSHCERT_CERT_TYPE_ED25519 "ssh-ed25519-cert-v01@openssh.com"
#define SSHCERT_CERT_TYPE_USER 1u
#define SSHCERT_CERT_TYPE_HOST 2u
#define SSHCERT_CERT_NONCE_LEN 32
/* OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS. */
#define SSHCERT_MAX_PRINCIPALS 256u
/* Longest single principal name. */
#define SSHCERT_MAX_PRINCIPAL_LEN 256u
/* Longest key id. */
#define SSHCERT_MAX_KEY_ID 1024u
/* Most critical options, and separately most extensions, in one certificate. */
#define SSHCERT_MAX_CERT_OPTIONS 64u
/* Longest option or extension name, and longest option data. */
#define SSHCERT_MAX_OPTION_NAME 256u
#define SSHCERT_MAX_OPTION_DATA 8192u
/* Largest certificate blob accepted by the parser or produced by the encoder. */
#define SSHCERT_MAX_CERT_BLOB (96u * 1024u)

/* Critical options and extensions sshcert knows by name. */
#define SSHCERT_OPT_FORCE_COMMAND "force-command"
#define SSHCERT_OPT_SOURCE_ADDRESS "source-address"

/*
 * Signs msg (len bytes) with the CA key and writes the raw 64-byte ed25519 signature.
 * Returns 0 or a negative SSHCERT_ERR_*. ctx is whatever the caller passed to sign.
 */
typedef int (*sshcert_signer_fn)(void *ctx, const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN]);
/* The default signer: ctx is a const struct sshcert_privkey *. */
int sshcert_cert_signer_privkey(void *ctx, const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN]);

/* A new empty user certificate; free with sshcert_cert_free. */
int sshcert_cert_new(struct sshcert_cert **out);
void sshcert_cert_free(struct sshcert_cert *c);

/* Builders. Each invalidates an earlier signature. */
int sshcert_cert_set_key(struct sshcert_cert *c, const struct sshcert_pubkey *k);
int sshcert_cert_set_serial(struct sshcert_cert *c, uint64_t serial);
int sshcert_cert_set_type(struct sshcert_cert *c, uint32_t type);
/* Text of at most SSHCERT_MAX_KEY_ID bytes, no control characters. */
int sshcert_cert_set_key_id(struct sshcert_cert *c, const char *key_id);
/* Non-empty, at most SSHCERT_MAX_PRINCIPAL_LEN bytes, no control characters or commas;
 * SSHCERT_ERR_DUPLICATE when already present; SSHCERT_ERR_TOO_LARGE past the 256th. */
int sshcert_cert_add_principal(struct sshcert_cert *c, const char *principal);
/* valid_after must be < valid_before. */
int sshcert_cert_set_validity(struct sshcert_cert *c, uint64_t valid_after, uint64_t valid_before);
/* A critical option with a text value (force-command, source-address). Names are unique:
 * SSHCERT_ERR_DUPLICATE when set twice. Encoded in byte order whatever the call order. */
int sshcert_cert_set_option(struct sshcert_cert *c, const char *name, const char *value);
/* A flag extension (permit-pty, ...). Unique, sorted on encoding. */
int sshcert_cert_add_extension(struct sshcert_cert *c, const char *name);

/*
 * Encodes the certificate canonically with a fresh 32-byte nonce, has signer sign it as
 * ca_key, and keeps the blob. Fails with SSHCERT_ERR_NO_PRINCIPALS when there are no
 * principals and SSHCERT_ERR_INVALID_ARGUMENT when the key or validity is unset, and with
 * SSHCERT_ERR_SIGNATURE when the signer is not ca_key: a signature from any signer but
 * sshcert_cert_signer_privkey is verified; that one is checked by comparing its key's public
 * half with ca_key.
 */
int sshcert_cert_sign(struct sshcert_cert *c, const struct sshcert_pubkey *ca_key,
    sshcert_signer_fn signer, void *signer_ctx);

/* The encoded blob of a signed or parsed certificate (owned by c). */
int sshcert_cert_blob(const struct sshcert_cert *c, const uint8_t **blob, size_t *len);
/* "ssh-ed25519-cert-v01@openssh.com BASE64[ comment]" without newline; *out malloc'd. */
int sshcert_cert_to_line(const struct sshcert_cert *c, const char *comment, char **out);

/* Parses a certificate blob (structure only; call sshcert_cert_verify for the signature).
 * Options and extensions must be in strictly increasing byte order. */
int sshcert_cert_parse_blob(const uint8_t *blob, size_t len, struct sshcert_cert **out);
/* Parses the one-line text form; *comment (optional) malloc'd. */
int sshcert_cert_parse_line(const char *line, size_t len, struct sshcert_cert **out,
    char **comment);
/* Checks the CA signature with the CA key embedded in the certificate. 0 or
 * SSHCERT_ERR_SIGNATURE / SSHCERT_ERR_KEY_TYPE (a non-ed25519 CA). */
int sshcert_cert_verify(const struct sshcert_cert *c);
/* 0 when valid_after <= now < valid_before, else SSHCERT_ERR_NOT_YET_VALID / _EXPIRED. */
int sshcert_cert_check_time(const struct sshcert_cert *c, uint64_t now);
int sshcert_cert_check_time_now(const struct sshcert_cert *c);
/* 0 when name is one of the principals; SSHCERT_ERR_NO_PRINCIPALS / SSHCERT_ERR_PRINCIPAL. */
int sshcert_cert_check_principal(const struct sshcert_cert *c, const char *name);

/* Accessors; strings are owned by c. */
const struct sshcert_pubkey *sshcert_cert_key(const struct sshcert_cert *c);
const struct sshcert_pubkey *sshcert_cert_ca_key(const struct sshcert_cert *c);
uint64_t sshcert_cert_serial(const struct sshcert_cert *c);
uint32_t sshcert_cert_type(const struct sshcert_cert *c);
const char *sshcert_cert_key_id(const struct sshcert_cert *c);
size_t sshcert_cert_principal_count(const struct sshcert_cert *c);
const char *sshcert_cert_principal(const struct sshcert_cert *c, size_t i);
uint64_t sshcert_cert_valid_after(const struct sshcert_cert *c);
uint64_t sshcert_cert_valid_before(const struct sshcert_cert *c);
size_t sshcert_cert_option_count(const struct sshcert_cert *c);
const char *sshcert_cert_option_name(const struct sshcert_cert *c, size_t i);
/* The text value of critical option `name`; *value malloc'd. SSHCERT_ERR_NOT_FOUND if absent,
 * SSHCERT_ERR_INVALID_FORMAT if its data is not one string. */
int sshcert_cert_option_value(const struct sshcert_cert *c, const char *name, char **value);
size_t sshcert_cert_extension_count(const struct sshcert_cert *c);
const char *sshcert_cert_extension_name(const struct sshcert_cert *c, size_t i);

#endif
