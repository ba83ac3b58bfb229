/*
 * pam_sshcert's options and the files they name: ca_keys, revoked_keys and the principals.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "check.h"
#include "check_int.h"
#include "err.h"
#include "file.h"
#include "key.h"
#include "krl.h"

/* ---- options ---- */

/* A principals template: only %u and %% escapes; with list, no empty comma-separated item. */
static int
template_ok(const char *t, int list)
{
    size_t i, item = 0;

    if (t[0] == '\0')
        return 0;
    for (i = 0; t[i] != '\0'; i++) {
        if (t[i] == '%') {
            if (t[i + 1] != 'u' && t[i + 1] != '%')
                return 0;
            i++;
            item++;
        } else if (list && t[i] == ',') {
            if (item == 0)
                return 0;
            item = 0;
        } else {
            item++;
        }
    }
    return !list || item > 0;
}

static int
opt_value(const char *arg, const char *name, const char **value)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return 0;
    *value = arg + n + 1;
    return 1;
}

int
sshcert_pam_parse_opts(int argc, const char **argv, struct sshcert_pam_opts *o, const char **bad)
{
    const char *v;
    int i;

    if (o == NULL || bad == NULL || argc < 0 || (argc > 0 && argv == NULL))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(o, 0, sizeof(*o));
    *bad = NULL;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (a == NULL)
            goto bad;
        if (opt_value(a, "ca_keys", &v)) {
            if (o->ca_keys != NULL || v[0] != '/')
                goto bad;
            o->ca_keys = v;
        } else if (opt_value(a, "revoked_keys", &v)) {
            if (o->revoked_keys != NULL || v[0] != '/')
                goto bad;
            o->revoked_keys = v;
        } else if (opt_value(a, "principals", &v)) {
            if (o->principals != NULL)
                goto bad;
            if (strncmp(v, "file:", 5) == 0) {
                v += 5;
                if (v[0] != '/' || !template_ok(v, 0))
                    goto bad;
                o->principals_file = 1;
            } else if (!template_ok(v, 1)) {
                goto bad;
            }
            o->principals = v;
        } else if (strcmp(a, "debug") == 0) {
            if (o->debug)
                goto bad;
            o->debug = 1;
        } else {
            goto bad;
        }
    }
    if (o->ca_keys == NULL) {
        *bad = "ca_keys=FILE is required";
        memset(o, 0, sizeof(*o));
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    if (o->principals == NULL)
        o->principals = "%u";
    return 0;
bad:
    *bad = argv[i] != NULL ? argv[i] : "(null)";
    memset(o, 0, sizeof(*o));
    return SSHCERT_ERR_INVALID_ARGUMENT;
}

/* Expands %u and %% in t[0..len) into a new string. path: the user name must not be able to
 * leave the folder it is put in. */
static int
expand(const char *t, size_t len, const char *user, int path, char **out)
{
    size_t i, n = 0, ulen = strlen(user);
    char *s;

    *out = NULL;
    if (path && (strchr(user, '/') != NULL || strcmp(user, ".") == 0 || strcmp(user, "..") == 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < len; i++) {
        if (t[i] == '%' && i + 1 < len && t[i + 1] == 'u') {
            n += ulen;
            i++;
        } else {
            n++;
            if (t[i] == '%')
                i++;
        }
    }
    if ((s = malloc(n + 1)) == NULL)
        return SSHCERT_ERR_ALLOC;
    for (i = 0, n = 0; i < len; i++) {
        if (t[i] == '%' && i + 1 < len && t[i + 1] == 'u') {
            memcpy(s + n, user, ulen);
            n += ulen;
            i++;
        } else {
            s[n++] = t[i];
            if (t[i] == '%')
                i++;
        }
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

/* ---- files ---- */

/* Reads a policy file: regular, owned by root or by us, not writable by group or others (a
 * file others may write would let them add a CA or drop a revocation), and so is every folder
 * on its path, links followed (whoever may write one could choose which file is read), at most
 * max bytes. */
static int
read_policy_file(const char *path, const char *what, size_t max, uint8_t **out, size_t *outlen,
    struct sshcert_pam_result *res)
{
    char *d = NULL, *msg = NULL;
    int r;

    *out = NULL;
    r = sshcert_file_read_checked(path, what, SSHCERT_FILE_TRUSTED, max, &d, outlen, &msg);
    if (r != 0)
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "%s",
            msg != NULL ? msg : sshcert_err_str(r));
    free(msg);
    *out = (uint8_t *)d;
    return r;
}

/* n less the blanks and '\r' that end line[0..n). */
static size_t
trimmed_len(const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        n--;
    return n;
}

/* The next line of text in [*pos, len): trimmed of surrounding blanks and a CR; 0 at the end. */
static int
next_line(const uint8_t *d, size_t len, size_t *pos, const char **line, size_t *llen)
{
    size_t s = *pos, e;

    if (s >= len)
        return 0;
    for (e = s; e < len && d[e] != '\n'; e++)
        ;
    *pos = e < len ? e + 1 : e;
    while (s < e && (d[s] == ' ' || d[s] == '\t'))
        s++;
    *line = (const char *)d + s;
    *llen = trimmed_len(*line, e - s);
    return 1;
}

static int
load_ca_keys(struct sshcert_pam_config *cfg, const char *path, struct sshcert_pam_result *res)
{
    uint8_t *d = NULL;
    size_t len, pos = 0, llen, lineno = 0, skipped = 0;
    const char *line;
    int r;

    if ((r = read_policy_file(path, "ca_keys", SSHCERT_PAM_MAX_FILE, &d, &len, res)) != 0)
        return r;
    if (memchr(d, '\0', len) != NULL) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "ca_keys %s is not text", path);
        goto out;
    }
    if ((cfg->ca = calloc(SSHCERT_PAM_MAX_CA_KEYS, sizeof(*cfg->ca))) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "out of memory reading ca_keys");
        goto out;
    }
    while (next_line(d, len, &pos, &line, &llen)) {
        lineno++;
        if (llen == 0 || line[0] == '#')
            continue;
        if (cfg->nca == SSHCERT_PAM_MAX_CA_KEYS) {
            r = SSHCERT_ERR_TOO_LARGE;
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "ca_keys %s holds more than %u keys",
                path, SSHCERT_PAM_MAX_CA_KEYS);
            goto out;
        }
        r = sshcert_pubkey_parse_line(line, llen, &cfg->ca[cfg->nca], NULL);
        if (r == SSHCERT_ERR_KEY_TYPE) {
            skipped++; /* an RSA or ECDSA CA that sshd may trust; it signs nothing we accept */
            continue;
        }
        if (r != 0) {
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "ca_keys %s line %zu: %s", path,
                lineno, sshcert_err_str(r));
            goto out;
        }
        cfg->nca++;
    }
    if (cfg->nca == 0) {
        r = SSHCERT_ERR_NOT_FOUND;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG,
            "ca_keys %s holds no ssh-ed25519 key (%zu of "
            "other types skipped)",
            path, skipped);
        goto out;
    }
    r = 0;
out:
    free(d);
    return r;
}

static int
load_krl(struct sshcert_pam_config *cfg, const char *path, struct sshcert_pam_result *res)
{
    uint8_t *d = NULL;
    size_t len;
    int r;

    if ((r = read_policy_file(path, "revoked_keys", SSHCERT_MAX_KRL_SIZE, &d, &len, res)) != 0)
        return r;
    /* sshd takes a 0-byte RevokedKeys file as revoking nothing; so do we. */
    r = len == 0 ? sshcert_krl_new(NULL, &cfg->krl) : sshcert_krl_from_blob(d, len, &cfg->krl);
    if (r != 0)
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "revoked_keys %s is not a usable KRL: %s",
            path, sshcert_err_str(r));
    free(d);
    return r;
}

static int
add_allowed(struct sshcert_pam_config *cfg, const char *name, size_t len,
    struct sshcert_pam_result *res)
{
    char *s;

    if (cfg->nallowed == SSHCERT_PAM_MAX_ALLOWED) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "more than %u allowed principals",
            SSHCERT_PAM_MAX_ALLOWED);
        return SSHCERT_ERR_TOO_LARGE;
    }
    if ((s = strndup(name, len)) == NULL) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "out of memory");
        return SSHCERT_ERR_ALLOC;
    }
    cfg->allowed[cfg->nallowed++] = s;
    return 0;
}

/* principals=a,%u,b: each item expanded. */
static int
load_principal_list(struct sshcert_pam_config *cfg, const char *tmpl, const char *user,
    struct sshcert_pam_result *res)
{
    const char *p = tmpl, *comma;
    char *name = NULL;
    int r = 0;

    while (r == 0 && *p != '\0') {
        comma = strchr(p, ',');
        if (comma == NULL)
            comma = p + strlen(p);
        if ((r = expand(p, (size_t)(comma - p), user, 0, &name)) != 0) {
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "out of memory");
            break;
        }
        r = add_allowed(cfg, name, strlen(name), res);
        free(name);
        p = *comma == ',' ? comma + 1 : comma;
    }
    return r;
}

/* principals=file:PATH: one principal per line, read as sshd reads AuthorizedPrincipalsFile: a
 * '#' starts a comment anywhere on a line ("ops  # the ops team" is ops, "ops#x" is ops), and
 * blanks around the name do not count. sshd also allows authorized_keys options in front of a
 * name; we do not implement them, so such a line fails the file rather than being accepted
 * without its restriction. */
static int
load_principal_file(struct sshcert_pam_config *cfg, const char *tmpl, const char *user,
    char **pathp, struct sshcert_pam_result *res)
{
    uint8_t *d = NULL;
    size_t len, pos = 0, llen, lineno = 0;
    const char *line;
    char *path = NULL;
    int r;

    if ((r = expand(tmpl, strlen(tmpl), user, 1, &path)) != 0) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG,
            r == SSHCERT_ERR_ALLOC ? "out of memory" : "user name unsafe in a principals path");
        return r;
    }
    *pathp = path;
    if ((r = read_policy_file(path, "principals file", SSHCERT_PAM_MAX_FILE, &d, &len, res)) != 0)
        return r;
    while (next_line(d, len, &pos, &line, &llen)) {
        const char *hash = memchr(line, '#', llen);

        lineno++;
        if (hash != NULL)
            llen = trimmed_len(line, (size_t)(hash - line));
        if (llen == 0)
            continue;
        if (llen > SSHCERT_MAX_PRINCIPAL_LEN || memchr(line, '\0', llen) != NULL ||
            memchr(line, ' ', llen) != NULL || memchr(line, '\t', llen) != NULL ||
            memchr(line, ',', llen) != NULL) {
            r = SSHCERT_ERR_INVALID_FORMAT;
            sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG,
                "principals file %s line %zu is not one principal name (options are not "
                "supported)",
                path, lineno);
            goto out;
        }
        if ((r = add_allowed(cfg, line, llen, res)) != 0)
            goto out;
    }
    if (cfg->nallowed == 0) {
        r = SSHCERT_ERR_NOT_FOUND;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "principals file %s lists no principal",
            path);
        goto out;
    }
    r = 0;
out:
    free(d);
    return r;
}

int
sshcert_pam_config_load(const struct sshcert_pam_opts *o, const char *user,
    struct sshcert_pam_config **out, struct sshcert_pam_result *res)
{
    struct sshcert_pam_config *cfg = NULL;
    char *ppath = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (res == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(res, 0, sizeof(*res));
    if (o == NULL || user == NULL || out == NULL || o->ca_keys == NULL || o->principals == NULL) {
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "invalid arguments");
        return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
        (cfg->allowed = calloc(SSHCERT_PAM_MAX_ALLOWED, sizeof(*cfg->allowed))) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "out of memory");
        goto out;
    }
    if ((r = load_ca_keys(cfg, o->ca_keys, res)) != 0)
        goto out;
    if (o->revoked_keys != NULL && (r = load_krl(cfg, o->revoked_keys, res)) != 0)
        goto out;
    if (o->principals_file)
        r = load_principal_file(cfg, o->principals, user, &ppath, res);
    else
        r = load_principal_list(cfg, o->principals, user, res);
    if (r != 0)
        goto out;
    if (o->principals_file) {
        if (asprintf(&cfg->allowed_from, "file %s", ppath) < 0)
            cfg->allowed_from = NULL;
    } else if (expand(o->principals, strlen(o->principals), user, 0, &cfg->allowed_from) != 0) {
        cfg->allowed_from = NULL;
    }
    if (cfg->allowed_from == NULL) {
        r = SSHCERT_ERR_ALLOC;
        sshcert_pam_refuse(res, SSHCERT_PAM_STAGE_CONFIG, "out of memory");
        goto out;
    }
    *out = cfg;
    cfg = NULL;
    r = 0;
out:
    free(ppath);
    sshcert_pam_config_free(cfg);
    return r;
}

void
sshcert_pam_config_free(struct sshcert_pam_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    free(cfg->ca);
    sshcert_krl_free(cfg->krl);
    for (i = 0; cfg->allowed != NULL && i < cfg->nallowed; i++)
        free(cfg->allowed[i]);
    free(cfg->allowed);
    free(cfg->allowed_from);
    free(cfg);
}

size_t
sshcert_pam_config_ca_count(const struct sshcert_pam_config *cfg)
{
    return cfg == NULL ? 0 : cfg->nca;
}

size_t
sshcert_pam_config_allowed_count(const struct sshcert_pam_config *cfg)
{
    return cfg == NULL ? 0 : cfg->nallowed;
}
