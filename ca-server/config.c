#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cert.h"
#include "config.h"
#include "duration.h"
#include "err.h"
#include "file.h"

static const char *const default_extensions[] = {
    "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc"};

int
sshcert_config_parse_duration(const char *s, uint64_t *out)
{
    return sshcert_duration_parse(s, SSHCERT_MAX_DURATION, out);
}

static char *
path_join(const char *dir, const char *name)
{
    char *p;
    size_t n;

    if (name[0] == '/' || dir == NULL)
        return strdup(name);
    n = strlen(dir) + strlen(name) + 2;
    if ((p = malloc(n)) == NULL)
        return NULL;
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int
derive_paths(struct sshcert_config *c)
{
    if ((c->ca_key_path = path_join(c->data_dir, "ca_key")) == NULL ||
        (c->ca_pub_path = path_join(c->data_dir, "ca_key.pub")) == NULL ||
        (c->db_path = path_join(c->data_dir, "sshcert.db")) == NULL ||
        (c->secret_key_path = path_join(c->data_dir, "secret.key")) == NULL)
        return SSHCERT_ERR_ALLOC;
    return 0;
}

static int
set_defaults(struct sshcert_config *c, const char *base_dir)
{
    size_t i;

    c->listen_port = 8443;
    c->default_ttl = 3600;
    c->max_ttl = 8 * 3600;
    c->backdate = 60;
    c->hash_cost = SSHCERT_HASH_INTERACTIVE;
    c->max_failures = 5;
    c->lockout = 15 * 60;
    c->client_max_failures = 100;
    c->max_connections = 512;
    c->connection_timeout = 10;
    if ((c->listen_host = strdup("127.0.0.1")) == NULL ||
        (c->data_dir = path_join(base_dir, "sshcert-data")) == NULL)
        return SSHCERT_ERR_ALLOC;
    for (i = 0; i < sizeof(default_extensions) / sizeof(default_extensions[0]); i++)
        if ((c->extensions[c->nextensions++] = strdup(default_extensions[i])) == NULL)
            return SSHCERT_ERR_ALLOC;
    return 0;
}

void
sshcert_config_free(struct sshcert_config *c)
{
    size_t i;

    if (c == NULL)
        return;
    free(c->listen_host);
    free(c->data_dir);
    free(c->tls_cert_file);
    free(c->tls_key_file);
    for (i = 0; i < c->nextensions; i++)
        free(c->extensions[i]);
    free(c->ca_key_path);
    free(c->ca_pub_path);
    free(c->db_path);
    free(c->secret_key_path);
    free(c);
}

/* Every config error is a format error with a message naming the key. */
#define fail(err, ...) sshcert_err_msg((err), SSHCERT_ERR_INVALID_FORMAT, __VA_ARGS__)

static int
get_duration(json_t *v, const char *key, uint64_t *out, char **err)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > SSHCERT_MAX_DURATION)
            return fail(err, "%s: duration out of range", key);
        *out = (uint64_t)i;
        return 0;
    }
    if (json_is_string(v) && sshcert_config_parse_duration(json_string_value(v), out) == 0)
        return 0;
    return fail(err, "%s: expected a duration like \"90s\", \"15m\", \"1h\" or whole seconds", key);
}

static int
get_uint(json_t *v, const char *key, unsigned lo, unsigned hi, unsigned *out, char **err)
{
    json_int_t i;

    if (!json_is_integer(v))
        return fail(err, "%s: expected an integer", key);
    i = json_integer_value(v);
    if (i < (json_int_t)lo || i > (json_int_t)hi)
        return fail(err, "%s: must be between %u and %u", key, lo, hi);
    *out = (unsigned)i;
    return 0;
}

static int
get_string(json_t *v, const char *key, char **out, char **err)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > PATH_MAX ||
        strlen(json_string_value(v)) != json_string_length(v))
        return fail(err, "%s: expected a non-empty string", key);
    free(*out);
    if ((*out = strdup(json_string_value(v))) == NULL)
        return SSHCERT_ERR_ALLOC;
    return 0;
}

static int
parse_listen(struct sshcert_config *c, json_t *v, char **err)
{
    const char *s, *colon;
    char *host, *end;
    unsigned long port;
    size_t hlen;

    if (!json_is_string(v))
        return fail(err, "listen: expected \"ADDR:PORT\"");
    s = json_string_value(v);
    if ((colon = strrchr(s, ':')) == NULL || colon == s)
        return fail(err, "listen: expected \"ADDR:PORT\"");
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port == 0 || port > UINT16_MAX)
        return fail(err, "listen: bad port in \"%s\"", s);
    hlen = (size_t)(colon - s);
    /* "[::1]:8443" */
    if (s[0] == '[' && hlen >= 2 && s[hlen - 1] == ']') {
        s++;
        hlen -= 2;
    }
    if ((host = strndup(s, hlen)) == NULL)
        return SSHCERT_ERR_ALLOC;
    free(c->listen_host);
    c->listen_host = host;
    c->listen_port = (uint16_t)port;
    return 0;
}

/* An extension name the certificate encoder accepts: 1..SSHCERT_MAX_OPTION_NAME bytes, no
 * control characters or commas, not listed twice. */
static int
check_extension(const struct sshcert_config *c, size_t i, char **err)
{
    const char *name = c->extensions[i];
    size_t j, n = strlen(name);

    if (n > SSHCERT_MAX_OPTION_NAME)
        return fail(err, "cert.extensions: \"%.32s...\" is longer than %u bytes", name,
            SSHCERT_MAX_OPTION_NAME);
    for (j = 0; j < n; j++)
        if ((unsigned char)name[j] < 0x20 || name[j] == 0x7f || name[j] == ',')
            return fail(err, "cert.extensions: \"%s\" holds a comma or a control character",
                name);
    for (j = 0; j < i; j++)
        if (strcmp(c->extensions[j], name) == 0)
            return fail(err, "cert.extensions: \"%s\" is listed twice", name);
    return 0;
}

static int
parse_cert(struct sshcert_config *c, json_t *o, char **err)
{
    const char *k;
    json_t *v, *e;
    size_t i;
    int r;

    if (!json_is_object(o))
        return fail(err, "cert: expected an object");
    json_object_foreach(o, k, v) {
        if (strcmp(k, "default_ttl") == 0)
            r = get_duration(v, "cert.default_ttl", &c->default_ttl, err);
        else if (strcmp(k, "max_ttl") == 0)
            r = get_duration(v, "cert.max_ttl", &c->max_ttl, err);
        else if (strcmp(k, "backdate") == 0)
            r = get_duration(v, "cert.backdate", &c->backdate, err);
        else if (strcmp(k, "extensions") == 0) {
            if (!json_is_array(v) || json_array_size(v) > SSHCERT_MAX_CONFIG_EXTENSIONS)
                return fail(err, "cert.extensions: expected an array of at most %u names",
                    SSHCERT_MAX_CONFIG_EXTENSIONS);
            for (i = 0; i < c->nextensions; i++)
                free(c->extensions[i]);
            c->nextensions = 0;
            json_array_foreach(v, i, e) {
                c->extensions[i] = NULL;
                if ((r = get_string(e, "cert.extensions[]", &c->extensions[i], err)) != 0)
                    return r;
                c->nextensions = i + 1;
                /* What the certificate encoder would refuse must fail here, at start-up,
                 * not as a 500 on every issuance. */
                if ((r = check_extension(c, i, err)) != 0)
                    return r;
            }
            r = 0;
        } else
            return fail(err, "unknown key \"cert.%s\"", k);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Indexed by enum sshcert_hash_cost. */
static const char *const cost_names[SSHCERT_HASH_COSTS] = {"min", "interactive", "moderate"};

const char *
sshcert_hash_cost_name(enum sshcert_hash_cost cost)
{
    return (unsigned)cost < SSHCERT_HASH_COSTS ? cost_names[cost] : "interactive";
}

static int
parse_auth(struct sshcert_config *c, json_t *o, char **err)
{
    const char *k, *s;
    json_t *v;
    unsigned i;
    int r;

    if (!json_is_object(o))
        return fail(err, "auth: expected an object");
    json_object_foreach(o, k, v) {
        if (strcmp(k, "password_hash") == 0) {
            s = json_is_string(v) ? json_string_value(v) : "";
            for (i = 0; i < SSHCERT_HASH_COSTS; i++)
                if (strcmp(s, cost_names[i]) == 0)
                    break;
            if (i == SSHCERT_HASH_COSTS)
                return fail(err, "auth.password_hash: expected \"min\", \"interactive\" or "
                                 "\"moderate\"");
            c->hash_cost = (enum sshcert_hash_cost)i;
            r = 0;
        } else if (strcmp(k, "max_failures") == 0)
            r = get_uint(v, "auth.max_failures", 1, SSHCERT_MAX_USER_FAILURES,
                &c->max_failures, err);
        else if (strcmp(k, "lockout") == 0)
            r = get_duration(v, "auth.lockout", &c->lockout, err);
        else if (strcmp(k, "client_max_failures") == 0)
            r = get_uint(v, "auth.client_max_failures", 1, SSHCERT_MAX_CLIENT_FAILURES,
                &c->client_max_failures, err);
        else if (strcmp(k, "hash_workers") == 0)
            r = get_uint(v, "auth.hash_workers", 1, SSHCERT_MAX_HASH_WORKERS,
                &c->hash_workers, err);
        else
            return fail(err, "unknown key \"auth.%s\"", k);
        if (r != 0)
            return r;
    }
    return 0;
}

static int
parse_tls(struct sshcert_config *c, json_t *o, const char *base, char **err)
{
    const char *k;
    json_t *v;
    char *s = NULL;
    int r;

    if (!json_is_object(o))
        return fail(err, "tls: expected an object");
    json_object_foreach(o, k, v) {
        if (strcmp(k, "cert_file") != 0 && strcmp(k, "key_file") != 0)
            return fail(err, "unknown key \"tls.%s\"", k);
        if ((r = get_string(v, strcmp(k, "cert_file") == 0 ? "tls.cert_file" : "tls.key_file",
                 &s, err)) != 0)
            return r;
        char **dst = strcmp(k, "cert_file") == 0 ? &c->tls_cert_file : &c->tls_key_file;
        free(*dst);
        *dst = path_join(base, s);
        free(s);
        s = NULL;
        if (*dst == NULL)
            return SSHCERT_ERR_ALLOC;
    }
    if (c->tls_cert_file == NULL || c->tls_key_file == NULL)
        return fail(err, "tls: both cert_file and key_file are required");
    return 0;
}

static int
parse_root(struct sshcert_config *c, json_t *root, const char *base, char **err)
{
    const char *k, *s;
    json_t *v;
    char *dd = NULL;
    int r;

    if (!json_is_object(root))
        return fail(err, "the config must be a JSON object");
    json_object_foreach(root, k, v) {
        if (strcmp(k, "listen") == 0)
            r = parse_listen(c, v, err);
        else if (strcmp(k, "data_dir") == 0) {
            if ((r = get_string(v, "data_dir", &dd, err)) == 0) {
                free(c->data_dir);
                c->data_dir = path_join(base, dd);
                free(dd);
                dd = NULL;
                r = c->data_dir == NULL ? SSHCERT_ERR_ALLOC : 0;
            }
        } else if (strcmp(k, "tls") == 0)
            r = parse_tls(c, v, base, err);
        else if (strcmp(k, "cert") == 0)
            r = parse_cert(c, v, err);
        else if (strcmp(k, "auth") == 0)
            r = parse_auth(c, v, err);
        else if (strcmp(k, "threads") == 0)
            r = get_uint(v, "threads", 1, SSHCERT_MAX_THREADS, &c->threads, err);
        else if (strcmp(k, "max_connections") == 0)
            r = get_uint(v, "max_connections", 1, SSHCERT_MAX_CONNECTIONS,
                &c->max_connections, err);
        else if (strcmp(k, "connection_timeout") == 0)
            r = get_uint(v, "connection_timeout", 1, SSHCERT_MAX_CONNECTION_TIMEOUT,
                &c->connection_timeout, err);
        else if (strcmp(k, "log") == 0) {
            s = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(s, "stderr") == 0)
                c->log_syslog = 0;
            else if (strcmp(s, "syslog") == 0)
                c->log_syslog = 1;
            else
                return fail(err, "log: expected \"stderr\" or \"syslog\"");
            r = 0;
        } else
            return fail(err, "unknown key \"%s\"", k);
        if (r != 0)
            return r;
    }
    if (c->default_ttl == 0 || c->max_ttl == 0)
        return fail(err, "cert.default_ttl and cert.max_ttl must be at least 1s");
    if (c->default_ttl > c->max_ttl)
        return fail(err, "cert.default_ttl exceeds cert.max_ttl");
    if (c->lockout == 0)
        return fail(err, "auth.lockout must be at least 1s");
    return 0;
}

/* The parse shared by sshcert_config_parse and sshcert_config_load; label names the source
 * in error messages. */
static int
parse_text(const char *text, size_t len, const char *base, const char *label,
    struct sshcert_config **out, char **err)
{
    struct sshcert_config *c = NULL;
    json_error_t jerr;
    json_t *root = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if ((c = calloc(1, sizeof(*c))) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = set_defaults(c, base)) != 0)
        goto out;
    if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        r = fail(err, "%s:%d: %s", label, jerr.line, jerr.text);
        goto out;
    }
    if ((r = parse_root(c, root, base, err)) != 0)
        goto out;
    if ((r = derive_paths(c)) != 0)
        goto out;
    *out = c;
    c = NULL;
    r = 0;
out:
    json_decref(root);
    sshcert_config_free(c);
    return r;
}

int
sshcert_config_parse(const char *text, size_t len, const char *base_dir,
    struct sshcert_config **out, char **err)
{
    int r;

    *out = NULL;
    *err = NULL;
    if (text == NULL || len > SSHCERT_MAX_CONFIG_FILE)
        r = fail(err, "config: larger than %u bytes", SSHCERT_MAX_CONFIG_FILE);
    else
        r = parse_text(text, len, base_dir, "config", out, err);
    if (r != 0 && *err == NULL)
        fail(err, "config: %s", sshcert_err_str(r));
    return r;
}

int
sshcert_config_load(const char *path, struct sshcert_config **out, char **err)
{
    char *text = NULL, *pcopy = NULL;
    size_t len;
    int r = SSHCERT_ERR_INTERNAL;

    *out = NULL;
    *err = NULL;
    if ((r = sshcert_file_read_checked(path, NULL, 0, SSHCERT_MAX_CONFIG_FILE, &text, &len,
             err)) != 0)
        goto out;
    if ((pcopy = strdup(path)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    r = parse_text(text, len, dirname(pcopy), path, out, err);
out:
    if (r != 0 && *err == NULL)
        fail(err, "%s: %s", path, sshcert_err_str(r));
    free(pcopy);
    free(text);
    return r;
}
