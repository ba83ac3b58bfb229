/* Durations as people write them in configs and on command lines: "90s", "15m", "1h", "2d",
 * or whole seconds. One parser for the server, sshcert-admin and the client. */
#ifndef SSHCERT_DURATION_H
#define SSHCERT_DURATION_H

#include <stdint.h>

/* Parses s into seconds, at most max. 0, or SSHCERT_ERR_INVALID_FORMAT (empty, not a number
 * with an optional s/m/h/d unit, over 12 characters, or over max); *out is 0 on failure. */
int sshcert_duration_parse(const char *s, uint64_t max, uint64_t *out);

#endif
