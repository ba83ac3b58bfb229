/* Requests and replies of the sshcert API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cert.h"
#include "http.h"
#include "out.h"
#include "secmem.h"
#include "text.h"

/* Error responses to exit codes: the client's one translation table. A NULL code matches any
 * error of that status. */
static const struct {
    long status;
    const char *code;
    int exit_code;
    int with_message; /* append the server's message */
    const char *reason;
} error_map[] = {
    {400, NULL, SSHCERT_EXIT_USAGE, 1, "the server refused the request"},
    {401, NULL, SSHCERT_EXIT_CREDENTIALS, 0, "invalid username, password or code"},
    {403, "account_disabled", SSHCERT_EXIT_FORBIDDEN, 0, "forbidden: this account is disabled"},
    {403, "principal_not_allowed", SSHCERT_EXIT_FORBIDDEN, 0,
        "forbidden: a requested principal is not allowed for this user"},
    {403, NULL, SSHCERT_EXIT_FORBIDDEN, 1, "forbidden"},
    {404, NULL, SSHCERT_EXIT_ERROR, 0, "not found: is the server URL right?"},
    {429, NULL, SSHCERT_EXIT_TOO_MANY, 0, "too many attempts"}, /* worded from Retry-After */
    {503, NULL, SSHCERT_EXIT_ERROR, 1, "the server is unavailable"},
};

int
api_fail(const struct http_response *resp)
{
    char code[64] = "", msg[OUT_MAX_SERVER_TEXT + 1] = "", wait[32];
    json_t *j;
    const char *s;
    size_t i;

    if ((j = json_loads(resp->body, 0, NULL)) != NULL) {
        if ((s = json_string_value(json_object_get(j, "error"))) != NULL)
            sshcert_text_sanitize(code, sizeof(code), s, SSHCERT_TEXT_ASCII);
        if ((s = json_string_value(json_object_get(j, "message"))) != NULL)
            sshcert_text_sanitize(msg, sizeof(msg), s, SSHCERT_TEXT_ASCII);
        json_decref(j);
    }
    for (i = 0; i < sizeof(error_map) / sizeof(error_map[0]); i++) {
        if (error_map[i].status != resp->status ||
            (error_map[i].code != NULL && strcmp(error_map[i].code, code) != 0))
            continue;
        if (resp->status == 429) {
            if (resp->retry_after < 0)
                return out_fail(error_map[i].exit_code, "too many attempts, retry later");
            out_wait((uint64_t)resp->retry_after, wait, sizeof(wait));
            return out_fail(error_map[i].exit_code, "too many attempts, retry in %s", wait);
        }
        if (!error_map[i].with_message || msg[0] == '\0')
            return out_fail(error_map[i].exit_code, "%s", error_map[i].reason);
        return out_fail(error_map[i].exit_code, "%s: %s", error_map[i].reason, msg);
    }
    return out_fail(SSHCERT_EXIT_ERROR, "server error: HTTP %ld%s%s", resp->status,
        msg[0] != '\0' ? ": " : "", msg);
}

void
api_ca_free(struct api_ca *ca)
{
    free(ca->line);
    memset(ca, 0, sizeof(*ca));
}

int
api_get_ca(const struct http_client *c, struct api_ca *out)
{
    struct http_response resp = {0};
    json_t *j = NULL;
    const char *line, *fp;
    int r;

    memset(out, 0, sizeof(*out));
    if ((r = http_get(c, "/v1/ca", &resp)) != 0)
        goto out;
    if (resp.status != 200) {
        r = api_fail(&resp);
        goto out;
    }
    r = SSHCERT_EXIT_ERROR;
    if ((j = json_loadb(resp.body, resp.len, 0, NULL)) == NULL ||
        (line = json_string_value(json_object_get(j, "public_key"))) == NULL ||
        (fp = json_string_value(json_object_get(j, "fingerprint"))) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s/v1/ca: not an sshcert CA answer", c->base);
        goto out;
    }
    if (sshcert_pubkey_parse_line(line, strlen(line), &out->key, NULL) != 0 ||
        sshcert_pubkey_fingerprint(&out->key, out->fp) != 0) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s/v1/ca: the CA key is not an ssh-ed25519 key line",
            c->base);
        goto out;
    }
    if (strcmp(fp, out->fp) != 0) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s/v1/ca: the fingerprint the server gives does not "
            "match its key", c->base);
        goto out;
    }
    if ((out->line = strdup(line)) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    r = 0;
out:
    json_decref(j);
    http_response_clear(&resp);
    return r;
}

/* Splits "P1,P2" into a JSON array; empty names are a usage error. */
static json_t *
principals_array(const char *list)
{
    json_t *a = json_array();
    const char *p = list, *comma;
    size_t n;

    while (a != NULL) {
        comma = strchr(p, ',');
        n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || json_array_append_new(a, json_stringn(p, n)) != 0) {
            json_decref(a);
            return NULL;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return a;
}

/* Wipes the secrets inside the request tree before it is freed. */
static void
wipe_secrets(json_t *root)
{
    static const char *const names[] = {"password", "totp"};
    json_t *v;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((v = json_object_get(root, names[i])) != NULL && json_is_string(v))
            sshcert_secmem_wipe((char *)(uintptr_t)json_string_value(v), json_string_length(v));
}

int
api_issue(const struct http_client *c, const struct api_issue_req *req, char **cert_line)
{
    struct http_response resp = {0};
    json_t *body = NULL, *reply = NULL, *pr = NULL;
    const char *line;
    char *text = NULL;
    int r = SSHCERT_EXIT_ERROR;

    *cert_line = NULL;
    if ((body = json_object()) == NULL ||
        json_object_set_new(body, "username", json_string(req->username)) != 0 ||
        json_object_set_new(body, "password", json_string(req->password)) != 0 ||
        json_object_set_new(body, "totp", json_string(req->totp)) != 0 ||
        json_object_set_new(body, "public_key", json_string(req->public_key)) != 0 ||
        (req->ttl > 0 &&
            json_object_set_new(body, "ttl", json_integer((json_int_t)req->ttl)) != 0)) {
        r = out_fail(SSHCERT_EXIT_ERROR, "cannot build the request (not UTF-8 text?)");
        goto out;
    }
    if (req->principals != NULL) {
        if ((pr = principals_array(req->principals)) == NULL ||
            json_object_set_new(body, "principals", pr) != 0) {
            r = out_fail(SSHCERT_EXIT_USAGE, "--principals: expected names separated by commas");
            goto out;
        }
    }
    if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    if ((r = http_post_json(c, "/v1/certificates", text, strlen(text), &resp)) != 0)
        goto out;
    if (resp.status != 201) {
        r = api_fail(&resp);
        goto out;
    }
    if ((reply = json_loadb(resp.body, resp.len, 0, NULL)) == NULL ||
        (line = json_string_value(json_object_get(reply, "certificate"))) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s: the reply holds no certificate", c->base);
        goto out;
    }
    if ((*cert_line = strdup(line)) == NULL) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    r = 0;
out:
    sshcert_secmem_free_str(text);
    if (body != NULL)
        wipe_secrets(body);
    json_decref(body);
    json_decref(reply);
    http_response_clear(&resp);
    return r;
}
