/*
 * OpenSSH Key Revocation Lists (PROTOCOL.krl): encode certificate-serial revocations for one
 * CA, parse any KRL ssh-keygen writes, and check a certificate against it.
 */
#ifndef SSHCERT_KRL_H
#define SSHCERT_KRL_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

struct sshcert_buf;
struct sshcert_cert;
struct sshcert_krl;

/* Largest KRL blob parsed (a list of 1,000,000 scattered serials is ~8 MiB). */
#define SSHCERT_MAX_KRL_SIZE (32u * 1024u * 1024u)
/* Most serial ranges/entries held for all CAs together (bounds memory on hostile input). */
#define SSHCERT_MAX_KRL_ENTRIES (4u * 1024u * 1024u)
/* Largest SERIAL_BITMAP mpint, as in OpenSSH (16384 bits + a leading zero byte). */
#define SSHCERT_KRL_MAX_BITMAP_BYTES 2049u

/* A new empty KRL for certificates of ca (ca may be NULL for a KRL that revokes nothing). */
int sshcert_krl_new(const struct sshcert_pubkey *ca, struct sshcert_krl **out);
void sshcert_krl_free(struct sshcert_krl *k);
/* krl_version and generated_date written into the header. */
void sshcert_krl_set_version(struct sshcert_krl *k, uint64_t version);
void sshcert_krl_set_date(struct sshcert_krl *k, uint64_t date);
/* Revokes one serial or the inclusive range lo..hi of the KRL's CA. Serial 0 and lo > hi are
 * SSHCERT_ERR_INVALID_ARGUMENT (sshd would reject the whole KRL). */
int sshcert_krl_revoke_serial(struct sshcert_krl *k, uint64_t serial);
int sshcert_krl_revoke_range(struct sshcert_krl *k, uint64_t lo, uint64_t hi);
/* Appends the canonical KRL to b: serials sorted and merged, each run written as a list, a
 * range or a bitmap, whichever is smallest (as OpenSSH does). Never signed. */
int sshcert_krl_to_blob(struct sshcert_krl *k, struct sshcert_buf *b);
/* An inclusive range of serials, revoked as a whole. */
struct sshcert_serial_range {
    uint64_t first, last;
};
/* The whole KRL of the n serials and nranges ranges of ca, with version and date in its
 * header, as a new buffer in *out (NULL on error): what the CA serves and the benchmark
 * times. */
int sshcert_krl_build(const struct sshcert_pubkey *ca, uint64_t version, uint64_t date,
    const uint64_t *serials, size_t n, const struct sshcert_serial_range *ranges,
    size_t nranges, struct sshcert_buf **out);
/* Parses a KRL. Sections: certificates (serial list/range/bitmap, key ids, any CA or the
 * wildcard CA), explicit keys, SHA1 and SHA256 fingerprints. Signature sections and critical
 * extensions are refused, as is serial 0 or an inverted range. */
int sshcert_krl_from_blob(const uint8_t *blob, size_t len, struct sshcert_krl **out);
/* 0 when the certificate is not revoked, SSHCERT_ERR_REVOKED when its serial (for its CA or
 * any CA), key id, plain key or CA key is listed. */
int sshcert_krl_check_cert(const struct sshcert_krl *k, const struct sshcert_cert *c);
/* 0 or SSHCERT_ERR_REVOKED for a plain key. */
int sshcert_krl_check_key(const struct sshcert_krl *k, const struct sshcert_pubkey *key);
/* Header fields of a parsed or built KRL. */
uint64_t sshcert_krl_version(const struct sshcert_krl *k);
uint64_t sshcert_krl_date(const struct sshcert_krl *k);
/* Number of serials revoked for ca (saturating count over ranges); for tests and reports. */
uint64_t sshcert_krl_serial_count(const struct sshcert_krl *k, const struct sshcert_pubkey *ca);

#endif
