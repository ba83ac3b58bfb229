/* Authentication of a login: throttling, argon2id password, TOTP with replay protection. */
#ifndef SSHCERT_AUTH_H
#define SSHCERT_AUTH_H

#include <stdint.h>

#include "server.h"
#include "store.h"

enum auth_result {
    AUTH_OK,
    AUTH_INVALID,  /* 401: unknown user, wrong password, wrong or replayed code */
    AUTH_LOCKED,   /* 429: too many failures for this name or address */
    AUTH_DISABLED, /* 403: both factors right but the account is locked by an operator */
    AUTH_BUSY,     /* 503: no password-hash worker free in time */
    AUTH_ERROR,    /* 500: the store failed */
};

/* Runs the whole check. On AUTH_OK *user is the user (free with sshcert_user_free); on
 * AUTH_LOCKED *retry_after is seconds to wait. Every outcome is logged and audited. */
enum auth_result auth_login(struct server *srv, const char *username, const char *password,
    const char *totp, const char *addr, uint64_t now, struct sshcert_user **user,
    uint64_t *retry_after);

#endif
