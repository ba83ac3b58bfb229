/* Defaults: environment, then the config file. */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "err.h"
#include "file.h"
#include "out.h"

int
cfg_set(char **slot, const char *value)
{
    char *copy;

    if (value == NULL)
        return 0;
    if ((copy = strdup(value)) == NULL)
        return SSHCERT_ERR_ALLOC;
    free(*slot);
    *slot = copy;
    return 0;
}

void
cfg_free(struct cfg *c)
{
    if (c == NULL)
        return;
    free(c->server);
    free(c->user);
    free(c->ca_cert);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

int
cfg_parse_duration(const char *s, uint64_t *out)
{
    int r = sshcert_duration_parse(s, CFG_MAX_TTL, out);

    /* A ttl of zero is never what a user means. */
    return r == 0 && *out == 0 ? SSHCERT_ERR_INVALID_FORMAT : r;
}

char *
cfg_home(void)
{
    const char *h = getenv("HOME");
    struct passwd *pw;

    if (h != NULL && h[0] == '/')
        return strdup(h);
    if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
        return strdup(pw->pw_dir);
    return NULL;
}

char *
cfg_login_name(void)
{
    struct passwd *pw = getpwuid(getuid());

    return pw != NULL && pw->pw_name != NULL ? strdup(pw->pw_name) : NULL;
}

static char *
trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* A relative ca_cert in the file means "next to the config file"; "~/" means the home folder. */
static char *
resolve_path(const char *cfg_path, const char *v)
{
    char *p = NULL, *home;
    const char *slash;

    if (v[0] == '/')
        return strdup(v);
    if (v[0] == '~' && v[1] == '/') {
        if ((home = cfg_home()) == NULL)
            return NULL;
        if (asprintf(&p, "%s/%s", home, v + 2) < 0)
            p = NULL;
        free(home);
        return p;
    }
    slash = strrchr(cfg_path, '/');
    if (asprintf(&p, "%.*s/%s", slash != NULL ? (int)(slash - cfg_path) : 1,
            slash != NULL ? cfg_path : ".", v) < 0)
        p = NULL;
    return p;
}

/* One `key = value` line. 0, or an exit code after printing the reason. */
static int
parse_line(struct cfg *c, char *line, unsigned lineno)
{
    char *eq, *key, *val, *resolved;
    size_t vlen;

    if ((eq = strchr(line, '#')) != NULL)
        *eq = '\0';
    key = trim(line);
    if (*key == '\0')
        return 0;
    if ((eq = strchr(key, '=')) == NULL)
        return out_fail(SSHCERT_EXIT_USAGE, "%s:%u: expected `key = value`", c->path, lineno);
    *eq = '\0';
    key = trim(key);
    val = trim(eq + 1);
    vlen = strlen(val);
    if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
        val[vlen - 1] = '\0';
        val++;
    }
    if (*val == '\0')
        return out_fail(SSHCERT_EXIT_USAGE, "%s:%u: empty value for \"%.64s\"", c->path, lineno,
            key);
    if (strcmp(key, "server") == 0) {
        if (c->server == NULL && cfg_set(&c->server, val) != 0)
            return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    } else if (strcmp(key, "user") == 0) {
        if (c->user == NULL && cfg_set(&c->user, val) != 0)
            return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    } else if (strcmp(key, "ca_cert") == 0) {
        if ((resolved = resolve_path(c->path, val)) == NULL)
            return out_fail(SSHCERT_EXIT_ERROR, "%s:%u: cannot resolve ca_cert", c->path, lineno);
        free(c->ca_cert);
        c->ca_cert = resolved;
    } else if (strcmp(key, "ttl") == 0) {
        if (cfg_parse_duration(val, &c->ttl) != 0)
            return out_fail(SSHCERT_EXIT_USAGE,
                "%s:%u: ttl: expected a duration like 90s, 15m, 1h or whole seconds", c->path,
                lineno);
    } else {
        return out_fail(SSHCERT_EXIT_USAGE,
            "%s:%u: unknown key \"%.64s\" (known: server, user, ca_cert, ttl)", c->path, lineno,
            key);
    }
    return 0;
}

static int
read_file(struct cfg *c)
{
    char *text = NULL, *line, *next;
    unsigned lineno = 0;
    int r;

    r = sshcert_file_read(c->path, CFG_MAX_FILE, &text, NULL);
    if (r == SSHCERT_ERR_NOT_FOUND)
        return 0;
    if (r == SSHCERT_ERR_TOO_LARGE)
        return out_fail(SSHCERT_EXIT_USAGE, "%s: larger than %u bytes", c->path, CFG_MAX_FILE);
    if (r != 0)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot read %s: %s", c->path, strerror(errno));
    r = 0;
    for (line = text; line != NULL && r == 0; line = next) {
        lineno++;
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        if (strlen(line) > CFG_MAX_LINE)
            r = out_fail(SSHCERT_EXIT_USAGE, "%s:%u: line longer than %u bytes", c->path, lineno,
                CFG_MAX_LINE);
        else
            r = parse_line(c, line, lineno);
    }
    free(text);
    return r;
}

int
cfg_load(struct cfg *c)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *v;
    char *home = NULL;
    int r;

    memset(c, 0, sizeof(*c));
    /* The environment wins over the file: take it first, the file fills only what is unset. */
    if (((v = getenv("SSHCERT_SERVER")) != NULL && *v != '\0' && cfg_set(&c->server, v) != 0) ||
        ((v = getenv("SSHCERT_USER")) != NULL && *v != '\0' && cfg_set(&c->user, v) != 0))
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    if (xdg != NULL && xdg[0] == '/') {
        if (asprintf(&c->path, "%s/sshcert/config", xdg) < 0)
            c->path = NULL;
    } else if ((home = cfg_home()) != NULL) {
        if (asprintf(&c->path, "%s/.config/sshcert/config", home) < 0)
            c->path = NULL;
        free(home);
    } else {
        return 0; /* no home: no file to read */
    }
    if (c->path == NULL)
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    if ((r = read_file(c)) != 0)
        return r;
    return 0;
}
