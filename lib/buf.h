/*
 * Bounded SSH wire buffer. Every parser of untrusted bytes reads through it.
 *
 * A buffer holds bytes in [read position, end). Writers append at the end, readers consume
 * from the read position. Every buffer has a maximum size; an append that would exceed it
 * fails with SSHCERT_ERR_TOO_LARGE. Read-only views (sshcert_buf_from) do not own their bytes.
 * Owned bytes are wiped when freed, so a buffer may hold secrets.
 */
#ifndef SSHCERT_BUF_H
#define SSHCERT_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Default and absolute cap of one buffer (64 MiB; a 1M-serial KRL list is 8 MiB). */
#define SSHCERT_BUF_MAX_DEFAULT (64u * 1024u * 1024u)
/* Longest string sshcert_buf_get_cstring returns unless told otherwise. */
#define SSHCERT_BUF_MAX_CSTRING (64u * 1024u)

struct sshcert_buf;

/* New empty writable buffer capped at max bytes (0 means SSHCERT_BUF_MAX_DEFAULT).
 * Returns NULL on allocation failure. Free with sshcert_buf_free. */
struct sshcert_buf *sshcert_buf_new(size_t max);
/* Read-only view of len bytes at p (not copied; p must outlive the view). NULL on failure. */
struct sshcert_buf *sshcert_buf_from(const void *p, size_t len);
/* Wipes owned bytes and frees. NULL-tolerant. */
void sshcert_buf_free(struct sshcert_buf *b);
/* Empties a writable buffer (wiping it). */
void sshcert_buf_reset(struct sshcert_buf *b);

/* Bytes left to read, and a pointer to them (valid until the next write). */
size_t sshcert_buf_len(const struct sshcert_buf *b);
const uint8_t *sshcert_buf_ptr(const struct sshcert_buf *b);
/* SSHCERT_ERR_TRAILING_DATA unless every byte was consumed. */
int sshcert_buf_expect_end(const struct sshcert_buf *b);

/* Writers. All return 0 or a negative SSHCERT_ERR_*; on failure the buffer is unchanged. */
int sshcert_buf_put(struct sshcert_buf *b, const void *p, size_t len);
int sshcert_buf_put_u8(struct sshcert_buf *b, uint8_t v);
int sshcert_buf_put_u32(struct sshcert_buf *b, uint32_t v);
int sshcert_buf_put_u64(struct sshcert_buf *b, uint64_t v);
int sshcert_buf_put_string(struct sshcert_buf *b, const void *p, size_t len);
int sshcert_buf_put_cstring(struct sshcert_buf *b, const char *s);
/* Appends the unread bytes of src as one string. */
int sshcert_buf_put_stringb(struct sshcert_buf *b, const struct sshcert_buf *src);
/* Reserves len bytes at the end and returns a pointer to them through *out. */
int sshcert_buf_reserve(struct sshcert_buf *b, size_t len, uint8_t **out);

/* Readers. On failure nothing is consumed and out-parameters are cleared. */
int sshcert_buf_get_u8(struct sshcert_buf *b, uint8_t *v);
int sshcert_buf_get_u32(struct sshcert_buf *b, uint32_t *v);
int sshcert_buf_get_u64(struct sshcert_buf *b, uint64_t *v);
/* Copies exactly len raw bytes into out. */
int sshcert_buf_get_bytes(struct sshcert_buf *b, void *out, size_t len);
/* Consumes len raw bytes. */
int sshcert_buf_skip(struct sshcert_buf *b, size_t len);
/* A string without copying: *p points into b and stays valid while b's bytes do. */
int sshcert_buf_get_string_direct(struct sshcert_buf *b, const uint8_t **p, size_t *len);
/* A string that must be exactly len bytes long, copied into out. */
int sshcert_buf_get_string_fixed(struct sshcert_buf *b, void *out, size_t len);
/* A text string: no NUL inside, at most max bytes (0 = SSHCERT_BUF_MAX_CSTRING).
 * *s is malloc'd and NUL-terminated; caller frees. */
int sshcert_buf_get_cstring(struct sshcert_buf *b, char **s, size_t max);
/* A string that must equal the given text exactly. */
int sshcert_buf_get_expect_cstring(struct sshcert_buf *b, const char *expect);
/* A string as a read-only sub-buffer view into b (free the view with sshcert_buf_free). */
int sshcert_buf_get_stringb(struct sshcert_buf *b, struct sshcert_buf **sub);

/* Base64 (standard alphabet, '=' padding, unwrapped). *out is malloc'd, NUL-terminated. */
int sshcert_buf_to_base64(const void *p, size_t len, char **out);
/* Decodes base64 text (whitespace in `ignore` is skipped) and appends to b. */
int sshcert_buf_put_base64(struct sshcert_buf *b, const char *text, size_t len, const char *ignore);

#endif
