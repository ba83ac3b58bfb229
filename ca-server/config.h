/* The CA host's JSON config file (schemas/config.schema.json): parse, defaults, derived paths. */
#ifndef SSHCERT_CONFIG_H
#define SSHCERT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Largest config file read. */
#define SSHCERT_MAX_CONFIG_FILE (64u * 1024u)
/* Most default extensions. */
#define SSHCERT_MAX_CONFIG_EXTENSIONS 16u
/* Longest accepted duration: a year. */
#define SSHCERT_MAX_DURATION (366u * 24u * 3600u)
/* Upper bounds of the config's counts (each at least 1; schemas/config.schema.json). */
#define SSHCERT_MAX_USER_FAILURES 1000u      /* auth.max_failures */
#define SSHCERT_MAX_CLIENT_FAILURES 1000000u /* auth.client_max_failures */
#define SSHCERT_MAX_HASH_WORKERS 256u        /* auth.hash_workers */
#define SSHCERT_MAX_THREADS 256u             /* threads */
#define SSHCERT_MAX_CONNECTIONS 65536u       /* max_connections */
#define SSHCERT_MAX_CONNECTION_TIMEOUT 3600u /* connection_timeout, seconds */

enum sshcert_hash_cost { SSHCERT_HASH_MIN, SSHCERT_HASH_INTERACTIVE, SSHCERT_HASH_MODERATE };
#define SSHCERT_HASH_COSTS 3
/* The name of cost in the config's auth.password_hash ("min", "interactive", "moderate"). */
const char *sshcert_hash_cost_name(enum sshcert_hash_cost cost);

struct sshcert_config {
    char *listen_host;  /* "127.0.0.1", "::1", "0.0.0.0" ... */
    uint16_t listen_port;
    char *data_dir;     /* absolute or relative to the config file's folder, resolved */
    char *tls_cert_file, *tls_key_file; /* both NULL without a tls section */
    uint64_t default_ttl, max_ttl, backdate;
    char *extensions[SSHCERT_MAX_CONFIG_EXTENSIONS];
    size_t nextensions;
    enum sshcert_hash_cost hash_cost;
    unsigned max_failures;        /* per username */
    uint64_t lockout;             /* seconds */
    unsigned client_max_failures; /* per client address, within lockout */
    unsigned threads;             /* HTTP worker threads (0: number of CPUs) */
    unsigned hash_workers;        /* concurrent password hashes (0: number of CPUs) */
    unsigned max_connections;
    unsigned connection_timeout;  /* seconds */
    int log_syslog;               /* 1: syslog, 0: stderr */
    /* Derived paths inside data_dir. */
    char *ca_key_path, *ca_pub_path, *db_path, *secret_key_path;
};

/* Parses a duration: whole seconds as a JSON integer, or text "90s", "15m", "1h", "2d", "30".
 * Returns 0 and sets *out, or SSHCERT_ERR_INVALID_FORMAT. */
int sshcert_config_parse_duration(const char *s, uint64_t *out);
/* Loads path; unknown keys and wrong types are errors. On failure *err (malloc'd) says what
 * is wrong, naming the key. */
int sshcert_config_load(const char *path, struct sshcert_config **out, char **err);
/* Parses text[0..len) (at most SSHCERT_MAX_CONFIG_FILE bytes, not necessarily NUL-terminated)
 * as a config file whose relative paths are relative to base_dir (NULL: kept as given). Same
 * rules and errors as sshcert_config_load, with "config" in place of the path. On success *out
 * is the caller's (sshcert_config_free); on failure *out is NULL and *err (malloc'd, may be
 * NULL only when out of memory) says what is wrong. */
int sshcert_config_parse(const char *text, size_t len, const char *base_dir,
    struct sshcert_config **out, char **err);
void sshcert_config_free(struct sshcert_config *c);

#endif
