/* What login and status print about a certificate: one human line, or a JSON object. */
#ifndef SSHCERT_CLIENT_SUMMARY_H
#define SSHCERT_CLIENT_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct sshcert_cert;

/* "LEADserial 12, principals alice,ops, expires 2025-01-31 14:03 CET (in 59m)TAIL\n" */
void summary_print_line(FILE *f, const char *lead, const struct sshcert_cert *c, uint64_t now,
    const char *tail);
/* {"serial","key_id","principals","valid_after","valid_before","expires_in"}; NULL on
 * allocation failure. expires_in is 0 once expired. */
json_t *summary_json(const struct sshcert_cert *c, uint64_t now);
/* Prints j as one line of JSON on stdout and frees it. 0, or SSHCERT_EXIT_ERROR (printed). */
int summary_emit_json(json_t *j);

#endif
