/*
 * Where the client's defaults come from: SSHCERT_SERVER and SSHCERT_USER, then the config file
 * ~/.config/sshcert/config ($XDG_CONFIG_HOME/sshcert/config when that is set), whose lines are
 * `key = value` with keys server, user, ca_cert and ttl; `#` starts a comment. Flags given on
 * the command line override all of these; the commands apply them.
 */
#ifndef SSHCERT_CLIENT_CONFIG_H
#define SSHCERT_CLIENT_CONFIG_H

#include <stdint.h>

/* Largest config file read, and longest line in it. */
#define CFG_MAX_FILE (64u * 1024u)
#define CFG_MAX_LINE 4096u
/* Longest --ttl accepted: the same ceiling the server's durations have (366 days). */
#define CFG_MAX_TTL (366u * 24u * 3600u)

struct cfg {
    char *server;  /* malloc'd or NULL */
    char *user;    /* malloc'd or NULL */
    char *ca_cert; /* malloc'd or NULL; a relative path in the file is taken from its folder */
    uint64_t ttl;  /* 0: not set */
    char *path;    /* the config file's path (whether or not it exists) */
};

/* Fills c from the environment and the config file. 0, or an exit code after printing the
 * reason (SSHCERT_EXIT_USAGE for a malformed file, naming the line). Free with cfg_free. */
int cfg_load(struct cfg *c);
void cfg_free(struct cfg *c);
/* Replaces *slot with a copy of value (when value is non-NULL). 0 or SSHCERT_ERR_ALLOC. */
int cfg_set(char **slot, const char *value);

/* "90s", "15m", "1h", "2d" or whole seconds; 1 .. CFG_MAX_TTL. 0 or SSHCERT_ERR_INVALID_FORMAT. */
int cfg_parse_duration(const char *s, uint64_t *out);
/* The home folder ($HOME, else the password database); malloc'd, NULL when unknown. */
char *cfg_home(void);
/* The login name of the current user; malloc'd, NULL when unknown. */
char *cfg_login_name(void);

#endif
