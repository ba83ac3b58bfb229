#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"

const char *
sshcert_err_str(int err)
{
    switch (err) {
    case SSHCERT_OK: return "success";
    case SSHCERT_ERR_INTERNAL: return "internal error";
    case SSHCERT_ERR_ALLOC: return "memory allocation failed";
    case SSHCERT_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SSHCERT_ERR_INVALID_FORMAT: return "invalid format";
    case SSHCERT_ERR_TRUNCATED: return "message incomplete";
    case SSHCERT_ERR_TRAILING_DATA: return "unexpected trailing data";
    case SSHCERT_ERR_TOO_LARGE: return "size or count limit exceeded";
    case SSHCERT_ERR_KEY_TYPE: return "unsupported key type (only ssh-ed25519)";
    case SSHCERT_ERR_SIGNATURE: return "signature verification failed";
    case SSHCERT_ERR_ENCRYPTED_KEY: return "encrypted keys are not supported yet";
    case SSHCERT_ERR_EXPIRED: return "certificate expired";
    case SSHCERT_ERR_NOT_YET_VALID: return "certificate not yet valid";
    case SSHCERT_ERR_SYSTEM: return "system error";
    case SSHCERT_ERR_AGENT: return "ssh-agent refused the request";
    case SSHCERT_ERR_AGENT_UNAVAILABLE: return "ssh-agent not available";
    case SSHCERT_ERR_NOT_FOUND: return "not found";
    case SSHCERT_ERR_CERT_TYPE: return "not a user certificate";
    case SSHCERT_ERR_NO_PRINCIPALS: return "certificate has no principals";
    case SSHCERT_ERR_PRINCIPAL: return "no matching principal";
    case SSHCERT_ERR_KEY_MISMATCH: return "key mismatch";
    case SSHCERT_ERR_REVOKED: return "revoked";
    case SSHCERT_ERR_CRYPTO: return "cryptographic operation failed";
    case SSHCERT_ERR_DUPLICATE: return "duplicate entry";
    case SSHCERT_ERR_PERMISSIONS: return "file is readable by group or others";
    case SSHCERT_ERR_UNSUPPORTED: return "unsupported";
    case SSHCERT_ERR_BUSY: return "the database is locked by another process; retry later";
    }
    return "unknown error";
}

int
sshcert_err_msg(char **msg, int err, const char *fmt, ...)
{
    va_list ap;
    char *m = NULL;

    va_start(ap, fmt);
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    va_end(ap);
    free(*msg);
    *msg = m;
    return err;
}
