/*
 * The checks behind pam_sshcert.so, free of libpam so unit tests call them directly.
 *
 * sshcert_pam_authenticate() is the one call the PAM glue makes: it looks the user up, refuses
 * unless the requesting user is that user, loads the configured files, opens the user's
 * ssh-agent with that user's privileges and accepts only a certificate that passes every check
 * (CA key listed, CA signature, validity at `now`, KRL, principal, no critical options, a fresh
 * challenge signed by the certificate's key). Every function returns 0 or a negative
 * SSHCERT_ERR_*; anything but 0 is a refusal.
 */
#ifndef SSHCERT_PAM_CHECK_H
#define SSHCERT_PAM_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "key.h"

struct sshcert_agent;
struct sshcert_agent_identities;
struct sshcert_cert;

/* Largest ca_keys or principals file read. */
#define SSHCERT_PAM_MAX_FILE (1024u * 1024u)
/* Most ed25519 keys taken from ca_keys. */
#define SSHCERT_PAM_MAX_CA_KEYS 1024u
/* Most names in a principals= list or a principals file. */
#define SSHCERT_PAM_MAX_ALLOWED 1024u
/* Most certificates that passed every other check the agent is asked to sign for. */
#define SSHCERT_PAM_MAX_CHALLENGES 16u
/* Bytes of the random challenge the agent signs. */
#define SSHCERT_PAM_CHALLENGE_LEN 32u
/* Longest refusal reason, and longest key id copied into a result (longer ones are cut). */
#define SSHCERT_PAM_REASON_LEN 512u
#define SSHCERT_PAM_KEY_ID_LEN 256u

/* Module options, as written in the PAM stack. Strings point into argv. */
struct sshcert_pam_opts {
    const char *ca_keys;      /* absolute path, required */
    const char *revoked_keys; /* absolute path of a KRL, or NULL */
    const char *principals;   /* "%u" by default: comma-separated names, or a file path */
    int principals_file;      /* principals names a file ("principals=file:PATH") */
    int debug;
};

/* Parses "ca_keys=FILE", "revoked_keys=FILE", "principals=PATTERN|file:PATH" and "debug".
 * Unknown, repeated or empty options, relative paths and % sequences other than %u and %%
 * are SSHCERT_ERR_INVALID_ARGUMENT with *bad set to the offending argument (or a static text
 * when ca_keys is missing). */
int sshcert_pam_parse_opts(int argc, const char **argv, struct sshcert_pam_opts *o,
    const char **bad);

/* Where a refusal happened; the PAM glue maps it to a PAM_* code. */
enum sshcert_pam_stage {
    SSHCERT_PAM_STAGE_NONE = 0,
    SSHCERT_PAM_STAGE_USER,      /* unknown user */
    SSHCERT_PAM_STAGE_REQUESTER, /* the requesting user is not the user, or is unknown */
    SSHCERT_PAM_STAGE_CONFIG,    /* ca_keys, revoked_keys or the principals file */
    SSHCERT_PAM_STAGE_AGENT,     /* no agent, cannot connect, listing failed */
    SSHCERT_PAM_STAGE_SOCKET,    /* the socket belongs to another account */
    SSHCERT_PAM_STAGE_PRIVS,     /* dropping or restoring privileges failed */
    SSHCERT_PAM_STAGE_CHECK,     /* the agent holds no certificate that passes every check */
};

/* The outcome of one authentication: on success the accepted certificate, otherwise why. */
struct sshcert_pam_result {
    enum sshcert_pam_stage stage;
    char reason[SSHCERT_PAM_REASON_LEN]; /* printable text, no key material */
    uint64_t serial;
    char key_id[SSHCERT_PAM_KEY_ID_LEN];    /* sanitised: non-printable bytes become '?' */
    char principal[SSHCERT_PAM_KEY_ID_LEN]; /* the principal that matched */
    char ca_fp[SSHCERT_FP_LEN];
    char key_fp[SSHCERT_FP_LEN];
    size_t identities; /* identities the agent listed */
};

/* Where per-identity notes go (prio is a syslog priority). fn may be NULL. */
struct sshcert_pam_log {
    void (*fn)(void *ctx, int prio, const char *msg);
    void *ctx;
    int debug; /* also report LOG_DEBUG notes */
};

/* The loaded policy: CA keys, the KRL (if configured), the allowed principals. Opaque. */
struct sshcert_pam_config;

/* Reads ca_keys (OpenSSH public-key lines; '#' comments, blank lines and well-formed keys of
 * other types are skipped; any other bad line fails the whole file), the KRL (a 0-byte file
 * revokes nothing, as in sshd) and the principals for `user` (%u expanded; a file lists one
 * principal per line, '#' comments, as sshd's AuthorizedPrincipalsFile without options).
 * Every file must be a regular file owned by root or by the caller's effective uid and not
 * writable by group or others. Failures fill res (stage CONFIG). */
int sshcert_pam_config_load(const struct sshcert_pam_opts *o, const char *user,
    struct sshcert_pam_config **out, struct sshcert_pam_result *res);
void sshcert_pam_config_free(struct sshcert_pam_config *cfg);
size_t sshcert_pam_config_ca_count(const struct sshcert_pam_config *cfg);
size_t sshcert_pam_config_allowed_count(const struct sshcert_pam_config *cfg);

/* Asks the holder of the identity `blob` to sign `data`; returns the raw ed25519 signature.
 * The check verifies it, so a signer may be wrong or hostile. */
typedef int (*sshcert_pam_sign_fn)(void *ctx, const uint8_t *blob, size_t blob_len,
    const uint8_t *data, size_t data_len, uint8_t sig[SSHCERT_ED25519_SIG_LEN]);
/* The signer for an agent connection: ctx is a struct sshcert_agent *. */
int sshcert_pam_sign_agent(void *ctx, const uint8_t *blob, size_t blob_len, const uint8_t *data,
    size_t data_len, uint8_t sig[SSHCERT_ED25519_SIG_LEN]);

/* Checks one certificate against the policy at time now, without the challenge. 0, or the
 * first failing check's code with res->reason set: SSHCERT_ERR_CERT_TYPE (host certificate),
 * SSHCERT_ERR_KEY_MISMATCH (CA not in ca_keys), SSHCERT_ERR_SIGNATURE, SSHCERT_ERR_EXPIRED,
 * SSHCERT_ERR_NOT_YET_VALID, SSHCERT_ERR_REVOKED, SSHCERT_ERR_PRINCIPAL,
 * SSHCERT_ERR_UNSUPPORTED (a critical option). */
int sshcert_pam_check_cert(const struct sshcert_pam_config *cfg, const struct sshcert_cert *c,
    uint64_t now, struct sshcert_pam_result *res);

/* Tries every identity in turn until one certificate passes sshcert_pam_check_cert and signs
 * a fresh SSHCERT_PAM_CHALLENGE_LEN-byte random challenge that verifies with its key (at most
 * SSHCERT_PAM_MAX_CHALLENGES challenges, then it gives up). 0 with
 * res describing that certificate; otherwise SSHCERT_ERR_NOT_FOUND when no identity is a
 * certificate, else the code of the identity that got furthest through the checks (the
 * challenge failing gives SSHCERT_ERR_SIGNATURE or the signer's code), res->stage CHECK. */
int sshcert_pam_check_identities(const struct sshcert_pam_config *cfg,
    const struct sshcert_agent_identities *ids, sshcert_pam_sign_fn sign, void *sign_ctx,
    uint64_t now, const struct sshcert_pam_log *log, struct sshcert_pam_result *res);

/* Connects to the agent socket at path with the privileges of uid/gid (and the supplementary
 * groups of `user`): when the caller's effective uid is 0 it drops to them for the connect and
 * restores its own afterwards; any other caller must already be uid. The socket file must be
 * owned by uid and the listening process (SO_PEERCRED) must run as uid; otherwise
 * SSHCERT_ERR_PERMISSIONS (stage SOCKET). SSHCERT_ERR_AGENT_UNAVAILABLE when path is NULL,
 * empty, relative, too long or nothing listens; SSHCERT_ERR_SYSTEM for other failures,
 * including EACCES for a socket the user may not open. Privilege failures: stage PRIVS. */
int sshcert_pam_agent_connect_as(const char *path, const char *user, uid_t uid, gid_t gid,
    struct sshcert_agent **out, struct sshcert_pam_result *res);

/* Checks that whoever asks is the user being authenticated (uid), since the agent socket path
 * comes from the asker's environment. ruid is the application's real uid (getuid()), ruser is
 * PAM_RUSER or NULL. The requester is ruid when it is not 0: a setuid sudo or su keeps the
 * caller's real uid, and ruser is then ignored. An application running as root (sshd,
 * pamtester) asks for ruser when it is set (an unknown or empty name is refused), otherwise
 * for root. 0 when the requester's uid is uid; otherwise SSHCERT_ERR_PERMISSIONS (another
 * user), SSHCERT_ERR_NOT_FOUND (unknown ruser), SSHCERT_ERR_SYSTEM or SSHCERT_ERR_ALLOC (the
 * lookup failed), with res->stage REQUESTER. `user` is only for the reason. */
int sshcert_pam_check_requester(uid_t ruid, const char *ruser, uid_t uid, const char *user,
    struct sshcert_pam_result *res);

/* The whole check for `user`, asked for by ruid/ruser (see sshcert_pam_check_requester), with
 * the agent at sock_path, at time now. 0 when authenticated; otherwise a negative code with
 * res->stage and res->reason saying where and why. The requester is checked before any file
 * or socket is opened. */
int sshcert_pam_authenticate(const struct sshcert_pam_opts *o, const char *user, uid_t ruid,
    const char *ruser, const char *sock_path, uint64_t now, const struct sshcert_pam_log *log,
    struct sshcert_pam_result *res);

#endif
