/* sshcert-admin internals: the command groups share one context. */
#ifndef SSHCERT_ADMIN_H
#define SSHCERT_ADMIN_H

#include <stdint.h>

#include "ca.h"
#include "config.h"

/* Exit codes of sshcert-admin. */
#define ADMIN_OK 0
#define ADMIN_FAIL 1  /* refused or failed; a message says why */
#define ADMIN_USAGE 2 /* bad command line */

struct admin {
    const char *config_path;
    struct sshcert_config *cfg;
    struct sshcert_ca *ca; /* opened on demand by admin_open */
};

int admin_open(struct admin *a);
/* Prints "sshcert-admin: ..." to stderr; returns ADMIN_FAIL. */
int admin_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* out: what an audit cross-check's mismatch x is, naming its serial or user (as audit verify,
 * backup and restore say it); -1 when x reports none. Its longest text fits in this. */
#define ADMIN_XCHECK_TEXT_MAX 512
int admin_xcheck_text(const struct sshcert_audit_xcheck *x, char *out, size_t n);
int admin_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Finds "--name VALUE" (or flag "--name") in argv from index start; removes nothing.
 * Returns the value, "" for a present flag, NULL when absent. *bad set on a missing value. */
const char *admin_opt(int argc, char **argv, const char *name, int has_value, int *bad);
/* 1 when s is UTF-8 text without control characters (0x00..0x1f, 0x7f): what an operator's
 * value must be before it is recorded, since the audit log and the JSON reports carry it and
 * jansson cannot write anything else (a stored row that is not would break them for good). */
int admin_text_ok(const char *s);
/* Rejects any "-x"/"--x" option in argv not in the NULL-terminated allowed list. */
int admin_check_opts(int argc, char **argv, const char *const *allowed_with_value,
    const char *const *allowed_flags);
/* Positional arguments (not options or option values), in order. */
int admin_positional(int argc, char **argv, const char *const *with_value, char **out, int max);
/* Prints j indented on stdout and releases it; ADMIN_OK or ADMIN_FAIL. */
struct json_t;
int admin_print_json(struct json_t *j);
uint64_t admin_now(void);
/* Local time "2026-11-21 07:48:56" into buf. */
const char *admin_time(uint64_t t, char *buf, size_t len);

int admin_cmd_user(struct admin *a, int argc, char **argv);
int admin_cmd_cert(struct admin *a, int argc, char **argv);
int admin_cmd_sign(struct admin *a, int argc, char **argv);
int admin_cmd_krl(struct admin *a, int argc, char **argv);
int admin_cmd_audit(struct admin *a, int argc, char **argv);

#endif
