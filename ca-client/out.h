/*
 * The client's edge to the person and to scripts: exit codes, one-line failure reasons on
 * stderr, and the small formatters the commands share (durations, local times). Untrusted
 * text is made safe for a terminal by lib's sshcert_text_sanitize(), SSHCERT_TEXT_ASCII.
 */
#ifndef SSHCERT_CLIENT_OUT_H
#define SSHCERT_CLIENT_OUT_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes, as DESIGN.md fixes them. Local failures (the key dir cannot be written, out of
 * memory) also use SSHCERT_EXIT_ERROR: the contract has no separate code for them. */
enum sshcert_exit {
    SSHCERT_EXIT_OK = 0,
    SSHCERT_EXIT_NOT_LOGGED_IN = 1,
    SSHCERT_EXIT_USAGE = 2,
    SSHCERT_EXIT_CREDENTIALS = 3,
    SSHCERT_EXIT_FORBIDDEN = 4,
    SSHCERT_EXIT_TOO_MANY = 5,
    SSHCERT_EXIT_ERROR = 6,
};

/* Longest piece of server-supplied text echoed to the terminal: the buffers it is sanitized
 * into hold this many bytes plus the NUL. */
#define OUT_MAX_SERVER_TEXT 200u

/* Prints "sshcert: REASON" on stderr and returns code, so callers can `return out_fail(..)`. */
int out_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "sshcert: warning: TEXT" on stderr. */
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "45s", "59m", "7h59m", "2d3h"; rounds down. */
void out_duration(uint64_t secs, char *buf, size_t n);
/* Seconds rounded up to what a person reads: "40 s" under a minute, else "14 min". */
void out_wait(uint64_t secs, char *buf, size_t n);
/* "2025-01-31 14:03 CET" in the local time zone. */
void out_local_time(uint64_t t, char *buf, size_t n);

#endif
