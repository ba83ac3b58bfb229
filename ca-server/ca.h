/*
 * The CA on its host: creating the data dir (init), opening the key, store and at-rest secret
 * key, and issuing one recorded certificate. Shared by sshcert-server and sshcert-admin so
 * both sign the same canonical way and record every certificate.
 */
#ifndef SSHCERT_CA_H
#define SSHCERT_CA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "key.h"
#include "store.h"

#define SSHCERT_SECRET_KEY_LEN 32

struct sshcert_ca {
    const struct sshcert_config *cfg; /* not owned */
    struct sshcert_privkey *key;       /* locked memory */
    struct sshcert_pubkey pub;
    char fingerprint[SSHCERT_FP_LEN];
    char *pub_line; /* "ssh-ed25519 AAAA... sshcert-ca" */
    struct sshcert_store *store;
    uint8_t *secret_key; /* SSHCERT_SECRET_KEY_LEN bytes, locked memory */
};

struct sshcert_issue_req {
    const struct sshcert_pubkey *key;
    const char *username;           /* recorded owner */
    const char *const *principals;  /* at least one */
    size_t nprincipals;
    uint64_t ttl;                   /* seconds, > 0 */
    const char *key_id;             /* NULL: "USERNAME#SERIAL" */
    const char *force_command;      /* optional critical options */
    const char *source_address;
    const char *client_address;     /* NULL for offline signing */
    const char *issued_by;          /* "server" or "operator" */
    uint64_t now;
    /* A login's TOTP step, claimed in the certificate's transaction (NULL: none). */
    struct sshcert_store_claim *claim;
};

/* Creates data_dir (0700), ca_key (0600), ca_key.pub, secret.key and the database, keeping
 * whatever already exists (an ssh-keygen key works). *created is 1 when anything was made.
 * On failure *err (malloc'd) says what. */
int sshcert_ca_init(const struct sshcert_config *cfg, int *created, char **err);
/* Opens an initialised CA: refuses a ca_key or secret.key readable by group/others. */
int sshcert_ca_open(const struct sshcert_config *cfg, struct sshcert_ca **out, char **err);
void sshcert_ca_close(struct sshcert_ca *ca);
/* Signs and records one certificate; rec (cleared first) receives the stored row, including
 * the certificate line. Policy (who may get which principals and ttl) is the caller's.
 * SSHCERT_ERR_DUPLICATE: req->claim was refused (req->claim->refused says why; nothing
 * recorded). */
int sshcert_ca_issue(struct sshcert_ca *ca, const struct sshcert_issue_req *req,
    struct sshcert_cert_record *rec);

struct sshcert_buf;
/* A new buffer holding the KRL of every revoked, unexpired serial (krl_version from the
 * store, generated at now). Always a valid KRL, empty when nothing is revoked. */
int sshcert_ca_build_krl(struct sshcert_ca *ca, uint64_t now, struct sshcert_buf **out);

/* Seals plaintext under the at-rest key: out = nonce || secretbox; malloc'd. */
int sshcert_ca_seal(const struct sshcert_ca *ca, const uint8_t *plain, size_t len, uint8_t **out,
    size_t *out_len);
/* Opens a sealed blob into out (len - overhead bytes); SSHCERT_ERR_SIGNATURE when forged. */
int sshcert_ca_unseal(const struct sshcert_ca *ca, const uint8_t *sealed, size_t len,
    uint8_t *out, size_t out_cap, size_t *out_len);

#endif
