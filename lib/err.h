/* sshcert error vocabulary: every library function returns 0 or one of these. */
#ifndef SSHCERT_ERR_H
#define SSHCERT_ERR_H

enum sshcert_err {
    SSHCERT_OK = 0,
    SSHCERT_ERR_INTERNAL = -1,         /* a bug or an impossible state */
    SSHCERT_ERR_ALLOC = -2,            /* memory allocation failed */
    SSHCERT_ERR_INVALID_ARGUMENT = -3, /* caller passed something out of contract */
    SSHCERT_ERR_INVALID_FORMAT = -4,   /* bytes or text do not follow the format */
    SSHCERT_ERR_TRUNCATED = -5,        /* input ended before the structure did */
    SSHCERT_ERR_TRAILING_DATA = -6,    /* bytes left after a complete structure */
    SSHCERT_ERR_TOO_LARGE = -7,        /* a named size or count cap was exceeded */
    SSHCERT_ERR_KEY_TYPE = -8,         /* key or certificate type is not ed25519 */
    SSHCERT_ERR_SIGNATURE = -9,        /* signature does not verify */
    SSHCERT_ERR_ENCRYPTED_KEY = -10,   /* private key file is passphrase protected */
    SSHCERT_ERR_EXPIRED = -11,         /* certificate valid_before <= now */
    SSHCERT_ERR_NOT_YET_VALID = -12,   /* certificate valid_after > now */
    SSHCERT_ERR_SYSTEM = -13,          /* a system call failed; errno is kept */
    SSHCERT_ERR_AGENT = -14,           /* ssh-agent answered FAILURE */
    SSHCERT_ERR_AGENT_UNAVAILABLE = -15, /* no agent socket or could not connect */
    SSHCERT_ERR_NOT_FOUND = -16,       /* requested item does not exist */
    SSHCERT_ERR_CERT_TYPE = -17,       /* not a user certificate */
    SSHCERT_ERR_NO_PRINCIPALS = -18,   /* certificate without principals */
    SSHCERT_ERR_PRINCIPAL = -19,       /* no principal matches */
    SSHCERT_ERR_KEY_MISMATCH = -20,    /* keys that must be equal are not */
    SSHCERT_ERR_REVOKED = -21,         /* revoked by a KRL */
    SSHCERT_ERR_CRYPTO = -22,          /* libsodium failed */
    SSHCERT_ERR_DUPLICATE = -23,       /* an item that must be unique appears twice */
    SSHCERT_ERR_PERMISSIONS = -24,     /* a secret file is readable by group or others */
    SSHCERT_ERR_UNSUPPORTED = -25,     /* valid input that sshcert does not handle */
    SSHCERT_ERR_BUSY = -26,            /* another process held the database past the wait for it */
};

/* Static English text for an error code; never NULL. */
const char *sshcert_err_str(int err);

/* Replaces *msg (freed) with a formatted, malloc'd message for the caller to show, or NULL
 * if it cannot be allocated; returns err, so a failure path reads
 * `return sshcert_err_msg(msg, SSHCERT_ERR_..., "...", ...)`. Never put a secret in it. */
int sshcert_err_msg(char **msg, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
