/*
 * The sshcert HTTP API, version 1, as the client uses it: GET /v1/ca, POST /v1/certificates,
 * and the one table that turns an error response into an exit code and a reason.
 */
#ifndef SSHCERT_CLIENT_API_H
#define SSHCERT_CLIENT_API_H

#include <stdint.h>

#include "key.h"

struct http_client;
struct http_response;

struct api_ca {
    struct sshcert_pubkey key;
    char *line;                 /* "ssh-ed25519 AAAA… comment", malloc'd */
    char fp[SSHCERT_FP_LEN];    /* computed here from the key, not taken from the server */
};

/* GET /v1/ca: the key line must parse as ed25519 and the server's fingerprint must equal the
 * one computed from it. 0, or an exit code after printing the reason. Free with api_ca_free. */
int api_get_ca(const struct http_client *c, struct api_ca *out);
void api_ca_free(struct api_ca *ca);

struct api_issue_req {
    const char *username, *password, *totp, *public_key;
    uint64_t ttl;           /* 0: the server's default */
    const char *principals; /* "P1,P2" or NULL for all of the user's */
};

/* POST /v1/certificates. On 201 *cert_line is the certificate line, malloc'd. Secret copies
 * made for the request body are wiped. 0, or an exit code after printing the reason. */
int api_issue(const struct http_client *c, const struct api_issue_req *req, char **cert_line);

/* Any non-success response: prints a one-line reason and returns its exit code. */
int api_fail(const struct http_response *resp);

#endif
