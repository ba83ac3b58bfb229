/* Strict decoding of the POST /v1/certificates body (DESIGN.md: unknown fields and wrong
 * types are errors). Every failure is a 400 naming the field; nothing here touches the store. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cert.h"
#include "err.h"
#include "issue_decode.h"
#include "secmem.h"
#include "totp.h"

static int
is_text(json_t *v)
{
    /* Strings with an embedded NUL would be cut short by C code: refuse them. */
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

static const char *
json_problem(const json_error_t *jerr)
{
    switch (json_error_code(jerr)) {
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "unexpected end of input";
    case json_error_end_of_input_expected:
        return "trailing data after the object";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "NUL characters are not allowed";
    case json_error_duplicate_key:
        return "a field is given twice";
    case json_error_numeric_overflow:
        return "number out of range";
    case json_error_stack_overflow:
        return "nested too deeply";
    case json_error_out_of_memory:
        return "out of memory";
    default:
        return "invalid syntax";
    }
}

static int
decode_principals(json_t *v, struct issue_request *req, struct reply *rep)
{
    json_t *e;
    size_t i, total = 1;
    char *joined;
    int r;

    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > SSHCERT_MAX_PRINCIPALS) {
        reply_error(rep, 400, "bad_request", "field \"principals\" must be a list of 1 to %u names",
            SSHCERT_MAX_PRINCIPALS);
        return -1;
    }
    json_array_foreach(v, i, e) {
        if (!is_text(e) || json_string_length(e) == 0 ||
            strchr(json_string_value(e), ',') != NULL) {
            reply_error(rep, 400, "bad_request",
                "field \"principals\" must hold non-empty names without commas");
            return -1;
        }
        total += json_string_length(e) + 1;
    }
    if ((joined = calloc(1, total)) == NULL) {
        reply_error(rep, 500, "internal", "out of memory");
        return -1;
    }
    json_array_foreach(v, i, e) {
        if (i > 0)
            strcat(joined, ",");
        strcat(joined, json_string_value(e));
    }
    r = sshcert_policy_parse_principals(joined, &req->principals);
    free(joined);
    if (r != 0) {
        reply_error(rep, 400, "bad_request", "field \"principals\": %s",
            r == SSHCERT_ERR_DUPLICATE ? "a name is listed twice" : "invalid name");
        return -1;
    }
    return 0;
}

static int
decode_fields(json_t *root, struct issue_request *req, struct reply *rep)
{
    const char *k;
    json_t *v;

    if (!json_is_object(root)) {
        reply_error(rep, 400, "bad_request", "the body must be a JSON object");
        return -1;
    }
    json_object_foreach(root, k, v) {
        if (strcmp(k, "username") == 0 || strcmp(k, "password") == 0 ||
            strcmp(k, "totp") == 0 || strcmp(k, "public_key") == 0) {
            if (!is_text(v) || json_string_length(v) == 0) {
                reply_error(rep, 400, "bad_request", "field \"%s\" must be a non-empty string", k);
                return -1;
            }
            if (k[0] == 'u')
                req->username = json_string_value(v);
            else if (k[0] == 'p' && k[1] == 'a')
                req->password = json_string_value(v);
            else if (k[0] == 't')
                req->totp = json_string_value(v);
            else
                req->public_key = json_string_value(v);
        } else if (strcmp(k, "ttl") == 0) {
            if (!json_is_integer(v)) {
                reply_error(rep, 400, "bad_request", "field \"ttl\" must be whole seconds");
                return -1;
            }
            req->ttl = json_integer_value(v) < 0 ? 0 : json_integer_value(v);
        } else if (strcmp(k, "principals") == 0) {
            if (decode_principals(v, req, rep) != 0)
                return -1;
        } else {
            reply_error(rep, 400, "bad_request", "unknown field \"%.64s\"", k);
            return -1;
        }
    }
    return 0;
}

int
issue_decode(const char *body, size_t len, struct issue_request *req, struct reply *rep)
{
    json_error_t jerr;
    int r;

    memset(req, 0, sizeof(*req));
    req->ttl = -1;
    if ((req->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        /* Not jerr.text: jansson appends " near 'TOKEN'" with the raw bytes where it stopped,
         * which can be the password or the code and need not be UTF-8. */
        reply_error(rep, 400, "bad_request", "malformed JSON at line %d, column %d: %s",
            jerr.line, jerr.column, json_problem(&jerr));
        return -1;
    }
    if (decode_fields(req->root, req, rep) != 0)
        return -1;
    if (req->username == NULL || req->password == NULL || req->totp == NULL ||
        req->public_key == NULL) {
        reply_error(rep, 400, "bad_request", "missing field \"%s\"",
            req->username == NULL   ? "username"
            : req->password == NULL ? "password"
            : req->totp == NULL     ? "totp"
                                    : "public_key");
        return -1;
    }
    if (strlen(req->username) > SSHCERT_MAX_USERNAME_INPUT ||
        strlen(req->password) > SSHCERT_MAX_PASSWORD) {
        reply_error(rep, 400, "bad_request", "username or password too long");
        return -1;
    }
    r = sshcert_pubkey_parse_line(req->public_key, strlen(req->public_key), &req->key, NULL);
    if (r == SSHCERT_ERR_KEY_TYPE) {
        reply_error(rep, 400, "unsupported_key_type", "only ssh-ed25519 public keys are accepted");
        return -1;
    }
    if (r != 0) {
        reply_error(rep, 400, "bad_request", "public_key is not an OpenSSH public key line");
        return -1;
    }
    return 0;
}

void
issue_request_free(struct issue_request *req)
{
    const char *names[] = {"password", "totp"};
    json_t *v;
    size_t i;

    if (req == NULL)
        return;
    sshcert_policy_principals_free(&req->principals);
    /* Wipe the secrets' copies inside the JSON tree before it is freed. */
    for (i = 0; req->root != NULL && i < 2; i++)
        if ((v = json_object_get(req->root, names[i])) != NULL && json_is_string(v))
            sshcert_secmem_wipe((char *)(uintptr_t)json_string_value(v), json_string_length(v));
    json_decref(req->root);
    memset(req, 0, sizeof(*req));
    req->ttl = -1;
}
