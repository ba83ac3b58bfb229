/* Authentication of a login: throttling, argon2id password, TOTP with replay protection. */
#ifndef SSHCERT_AUTH_H
#define SSHCERT_AUTH_H

#include <stdint.h>

#include "server.h"
#include "store.h"
#include "totp.h"

enum auth_result {
    AUTH_OK,
    AUTH_INVALID,  /* 401: unknown user, wrong password, wrong or replayed code */
    AUTH_LOCKED,   /* 429: too many failures for this name or address */
    AUTH_DISABLED, /* 403: both factors right but the account is locked by an operator */
    AUTH_BUSY,     /* 503: no password-hash worker free in time */
    AUTH_QUEUED,   /* no answer yet: waits for a worker or its hash, connection suspended */
    AUTH_ERROR,    /* 500: the store failed */
};

/* A login whose password and code are right, the code's TOTP step not claimed yet. The
 * issuance claims it in the certificate's own transaction (claim, with the name's failure row
 * to clear); a refusal after the login (policy) claims it first with auth_claim, so a right
 * code is used up whatever the answer. */
struct auth_pending {
    struct sshcert_store_claim claim; /* its username is the user's, which must outlive it */
    char ukey[SSHCERT_THROTTLE_KEY_LEN];
    char akey[SSHCERT_THROTTLE_KEY_LEN];
    uint64_t retry_after; /* with AUTH_LOCKED: the seconds to wait */
};

/* Runs the whole check. On AUTH_OK *user is the user (free with sshcert_user_free) and
 * *pending the claim to make; on AUTH_LOCKED pending->retry_after is the seconds to wait;
 * on AUTH_QUEUED the request waits, its connection suspended: for a hash worker (hashq_take
 * with hw), and the whole request runs again on its HTTP thread once it has one or its wait
 * is over; or for its hash on a hash thread, where the whole request then runs again
 * (http_finish) and finds the result. Every other outcome is logged and audited here. */
enum auth_result auth_login(struct server *srv, const char *username, const char *password,
    const char *totp, const char *addr, uint64_t now, struct hash_wait *hw,
    struct sshcert_user **user, struct auth_pending *pending);
/* Runs one password hash (hashq.h's run, ctx the server), on a hash thread or inline: the
 * verify, or an unknown name's dummy hash at the same cost, and after a match on a hash made
 * at another cost than auth.password_hash, the hash remade. Counted in /metrics. */
void auth_hash_run(struct hash_job *job, void *ctx);
/* Claims the pending step on its own, for a refusal after a right code: refusal_event (with
 * refusal_reason; NULL: none) is audited in the claim's transaction when the claim succeeds.
 * AUTH_OK; AUTH_INVALID when the code was used meanwhile (counted and audited as a replay);
 * AUTH_LOCKED when failures in flight locked the name or the address since the login's read
 * (p->retry_after set); AUTH_ERROR when the store failed. */
enum auth_result auth_claim(struct server *srv, struct auth_pending *p, const char *username,
    const char *addr, uint64_t now, const char *refusal_event, const char *refusal_reason);
/* After a claim that succeeded (auth_claim, or the issuance's): logs the password hash it
 * remade, if any. */
void auth_claimed(const struct auth_pending *p);
/* The answer to a claim the issuance's transaction refused (p->claim.refused): a replayed
 * code or a user deleted meanwhile is AUTH_INVALID (counted and audited), an account locked
 * meanwhile AUTH_DISABLED (its code used up first, as in auth_login), a name or address
 * locked by failures meanwhile AUTH_LOCKED; AUTH_ERROR when that cannot be recorded. */
enum auth_result auth_claim_refused(struct server *srv, struct auth_pending *p,
    const char *username, const char *addr, uint64_t now);

#endif
