/*
 * Ed25519 keys: OpenSSH public-key lines, SHA256 fingerprints and unencrypted
 * openssh-key-v1 private key files.
 */
#ifndef SSHCERT_KEY_H
#define SSHCERT_KEY_H

#include <stddef.h>
#include <stdint.h>

struct sshcert_buf;

#define SSHCERT_KEY_TYPE_ED25519 "ssh-ed25519"
#define SSHCERT_ED25519_PK_LEN 32
#define SSHCERT_ED25519_SK_LEN 64 /* seed(32) || pk(32), the libsodium and OpenSSH layout */
#define SSHCERT_ED25519_SIG_LEN 64
/* Longest public-key or certificate line accepted (an ed25519 cert with 256 principals fits). */
#define SSHCERT_MAX_KEY_LINE (160u * 1024u)
/* Longest key comment accepted. */
#define SSHCERT_MAX_COMMENT 1024u
/* Largest private key file accepted. */
#define SSHCERT_MAX_KEY_FILE (16u * 1024u)
/* "SHA256:" + 43 base64 chars + NUL */
#define SSHCERT_FP_LEN 51

/* A public key is a plain value: 32 bytes with no invariants to protect, so it is not opaque. */
struct sshcert_pubkey {
    uint8_t pk[SSHCERT_ED25519_PK_LEN];
};

/* The private key lives in guarded, locked memory; opaque. */
struct sshcert_privkey;

/* Parses "ssh-ed25519 BASE64 [comment]" (trailing CR/LF ignored). A well-formed line of
 * another key type gives SSHCERT_ERR_KEY_TYPE. *comment (optional) is malloc'd or NULL. */
int sshcert_pubkey_parse_line(const char *line, size_t len, struct sshcert_pubkey *out,
    char **comment);
/* Formats "ssh-ed25519 BASE64[ comment]" without newline; *out malloc'd. */
int sshcert_pubkey_to_line(const struct sshcert_pubkey *k, const char *comment, char **out);
/* Appends the key blob (string "ssh-ed25519", string pk) to b. */
int sshcert_pubkey_put_blob(struct sshcert_buf *b, const struct sshcert_pubkey *k);
/* Reads a key blob from b (all of b must be the blob: use a sub-buffer). */
int sshcert_pubkey_from_blob(struct sshcert_buf *b, struct sshcert_pubkey *out);
/* "SHA256:..." exactly as ssh-keygen -l prints it, into out[SSHCERT_FP_LEN]. */
int sshcert_pubkey_fingerprint(const struct sshcert_pubkey *k, char out[SSHCERT_FP_LEN]);
/* 1 when equal (not secret; plain compare). */
int sshcert_pubkey_equal(const struct sshcert_pubkey *a, const struct sshcert_pubkey *b);
/* Verifies a raw 64-byte ed25519 signature over msg. 0 or SSHCERT_ERR_SIGNATURE. */
int sshcert_pubkey_verify(const struct sshcert_pubkey *k, const uint8_t sig[SSHCERT_ED25519_SIG_LEN],
    const uint8_t *msg, size_t len);

/* Reads an ed25519 signature blob (string "ssh-ed25519", string sig64; all of b: use a
 * sub-buffer) into sig. SSHCERT_ERR_KEY_TYPE for another algorithm. */
int sshcert_sig_from_blob(struct sshcert_buf *b, uint8_t sig[SSHCERT_ED25519_SIG_LEN]);
/* Appends that signature blob to b as one string. */
int sshcert_sig_put_blob(struct sshcert_buf *b, const uint8_t sig[SSHCERT_ED25519_SIG_LEN]);

/* Fresh random key pair. */
int sshcert_privkey_generate(struct sshcert_privkey **out);
/* Parses an unencrypted openssh-key-v1 file (the text with its armour). A passphrase-protected
 * file gives SSHCERT_ERR_ENCRYPTED_KEY; a non-ed25519 key SSHCERT_ERR_KEY_TYPE. */
int sshcert_privkey_parse(const char *text, size_t len, struct sshcert_privkey **out);
/* Serialises to the openssh-key-v1 text form; *out is malloc'd, holds a secret: free it with
 * sshcert_secmem_free_str. */
int sshcert_privkey_to_text(const struct sshcert_privkey *k, char **out);
/* Reads and parses a key file (at most SSHCERT_MAX_KEY_FILE bytes). */
int sshcert_privkey_load(const char *path, struct sshcert_privkey **out);
/* Writes the key file with mode 0600, atomically (temp file + rename). */
int sshcert_privkey_save(const struct sshcert_privkey *k, const char *path);
/* The same for a key file that must not exist yet: one that appeared at path meanwhile is kept
 * and SSHCERT_ERR_DUPLICATE returned (sshcert_file_write_new). */
int sshcert_privkey_save_new(const struct sshcert_privkey *k, const char *path);
/* Public half and comment (may be ""; owned by k). */
void sshcert_privkey_public(const struct sshcert_privkey *k, struct sshcert_pubkey *out);
const char *sshcert_privkey_comment(const struct sshcert_privkey *k);
int sshcert_privkey_set_comment(struct sshcert_privkey *k, const char *comment);
/* The 64-byte secret (seed||pk); read only, owned by k. For the agent ADD message. */
const uint8_t *sshcert_privkey_secret(const struct sshcert_privkey *k);
/* Raw ed25519 signature. */
int sshcert_privkey_sign(const struct sshcert_privkey *k, const uint8_t *msg, size_t len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN]);
/* Wipes and frees. NULL-tolerant. */
void sshcert_privkey_free(struct sshcert_privkey *k);

/* Decodes a one-line "TYPE BASE64 [comment]" form whose type must be want_type (else
 * SSHCERT_ERR_KEY_TYPE) and whose blob starts with the same type string. *blob is a new
 * buffer positioned at the blob's start; *comment (optional) malloc'd. Used by key and cert. */
int sshcert_key_line_decode(const char *line, size_t len, const char *want_type,
    struct sshcert_buf **blob, char **comment);

#endif
