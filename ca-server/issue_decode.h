/* The body of POST /v1/certificates, decoded strictly: only known fields, right types, sane
 * sizes (DESIGN.md, "HTTP API"). Kept apart from the handler so a fuzz target can drive it. */
#ifndef SSHCERT_ISSUE_DECODE_H
#define SSHCERT_ISSUE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "key.h"
#include "policy.h"
#include "server.h"

/* Longest username the decoder accepts (400 beyond). Longer than the policy's
 * SSHCERT_MAX_USERNAME on purpose: a name the policy refuses is answered like any unknown
 * name (401 after the dummy hash), which tells nothing about the policy. */
#define SSHCERT_MAX_USERNAME_INPUT 256u

struct issue_request {
    json_t *root;                                         /* owns the strings below */
    const char *username, *password, *totp, *public_key; /* point into root */
    int64_t ttl;                                          /* -1: not given */
    struct sshcert_principals principals;                 /* n == 0: not given */
    struct sshcert_pubkey key;
};

/* Decodes body[0..len) (not necessarily NUL-terminated) into *req. Returns 0, or -1 with rep
 * holding the 400 (or a 500 when out of memory) to send. Either way the caller must call
 * issue_request_free(req) afterwards. */
int issue_decode(const char *body, size_t len, struct issue_request *req, struct reply *rep);
/* Wipes the password and TOTP code inside the JSON tree, frees everything, zeroes *req. */
void issue_request_free(struct issue_request *req);

#endif
