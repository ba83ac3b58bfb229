/*
 * libFuzzer target for the POST /v1/certificates body decoder (ca-server/issue_decode.c).
 * Any input either decodes to a complete request, or gives a 400 whose body is the JSON error
 * of DESIGN.md ({"error": "bad_request" | "unsupported_key_type", "message": text}); a 500
 * (the out-of-memory fallback) or any other shape is a bug. A decoded request holds the four
 * required fields as non-empty C strings without embedded NULs, a ttl of -1 (absent) or
 * 0..INT64_MAX, at most 256 unique principals, and an ed25519 key.
 * Seeds: tests/fuzz/corpus/fuzz_http_json, made by make-http-json-corpus.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cert.h"
#include "issue_decode.h"
#include "secmem.h"
#include "totp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return sshcert_secmem_init() == 0 ? 0 : 1;
}

static void
check_error_reply(const struct reply *rep)
{
    json_error_t jerr;
    json_t *j, *e, *m;

    if (rep->status != 400 || rep->body == NULL || rep->content_type == NULL ||
        strcmp(rep->content_type, "application/json") != 0)
        abort();
    if ((j = json_loadb(rep->body, rep->len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        abort();
    e = json_object_get(j, "error");
    m = json_object_get(j, "message");
    if (!json_is_object(j) || json_object_size(j) != 2 || !json_is_string(e) ||
        !json_is_string(m) || json_string_length(m) == 0)
        abort();
    if (strcmp(json_string_value(e), "bad_request") != 0 &&
        strcmp(json_string_value(e), "unsupported_key_type") != 0)
        abort();
    json_decref(j);
}

static void
check_text(const char *s, size_t max)
{
    size_t n;

    if (s == NULL || (n = strlen(s)) == 0 || n > max)
        abort();
}

static void
check_request(const struct issue_request *req)
{
    size_t i, j;

    check_text(req->username, 256);
    check_text(req->password, SSHCERT_MAX_PASSWORD);
    check_text(req->totp, SIZE_MAX);
    check_text(req->public_key, SIZE_MAX);
    if (req->ttl < -1 || req->principals.n > SSHCERT_MAX_PRINCIPALS)
        abort();
    for (i = 0; i < req->principals.n; i++) {
        check_text(req->principals.v[i], SIZE_MAX);
        if (strchr(req->principals.v[i], ',') != NULL)
            abort();
        for (j = 0; j < i; j++)
            if (strcmp(req->principals.v[i], req->principals.v[j]) == 0)
                abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct issue_request req;
    struct reply rep;

    /* http.c caps bodies at SSHCERT_MAX_BODY before decoding. */
    if (size > SSHCERT_MAX_BODY)
        return 0;
    memset(&rep, 0, sizeof(rep));
    if (issue_decode((const char *)data, size, &req, &rep) == 0) {
        if (rep.body != NULL || rep.status != 0)
            abort();
        check_request(&req);
    } else {
        check_error_reply(&rep);
    }
    issue_request_free(&req);
    if (req.root != NULL || req.principals.n != 0)
        abort();
    reply_drop(&rep);
    return 0;
}
