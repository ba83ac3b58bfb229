/* Certificate summaries. */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "out.h"
#include "summary.h"
#include "text.h"

void
summary_print_line(FILE *f, const char *lead, const struct sshcert_cert *c, uint64_t now,
    const char *tail)
{
    char when[64], left[32], name[OUT_MAX_SERVER_TEXT + 1];
    uint64_t vb = sshcert_cert_valid_before(c);
    size_t i, n = sshcert_cert_principal_count(c);

    out_local_time(vb, when, sizeof(when));
    out_duration(vb > now ? vb - now : now - vb, left, sizeof(left));
    fprintf(f, "%sserial %llu, principals ", lead, (unsigned long long)sshcert_cert_serial(c));
    for (i = 0; i < n; i++) {
        /* Principals come from the server: never let one drive the terminal. */
        sshcert_text_sanitize(name, sizeof(name), sshcert_cert_principal(c, i),
            SSHCERT_TEXT_ASCII);
        fprintf(f, "%s%s", i > 0 ? "," : "", name);
    }
    if (vb > now)
        fprintf(f, ", expires %s (in %s)%s\n", when, left, tail);
    else
        fprintf(f, ", expired %s (%s ago)%s\n", when, left, tail);
}

/* A certificate's text as a JSON string. jansson refuses invalid UTF-8, and a certificate
 * signed offline may carry any bytes: each byte that is not UTF-8 is shown as '?', every UTF-8
 * character kept (sshcert_text_utf8_clean; controls too, which the JSON escapes). NULL only
 * when out of memory. */
static json_t *
text_json(const char *s)
{
    json_t *v;
    char *safe;

    if (s == NULL)
        return json_null();
    if ((v = json_string(s)) != NULL)
        return v;
    if ((safe = strdup(s)) == NULL)
        return NULL;
    sshcert_text_utf8_clean(safe);
    v = json_string(safe);
    free(safe);
    return v;
}

json_t *
summary_json(const struct sshcert_cert *c, uint64_t now)
{
    json_t *j, *pr;
    uint64_t vb = sshcert_cert_valid_before(c);
    size_t i, n = sshcert_cert_principal_count(c);

    if ((pr = json_array()) == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (json_array_append_new(pr, text_json(sshcert_cert_principal(c, i))) != 0) {
            json_decref(pr);
            return NULL;
        }
    }
    j = json_pack("{s:I, s:o, s:o, s:I, s:I, s:I}", "serial",
        (json_int_t)sshcert_cert_serial(c), "key_id", text_json(sshcert_cert_key_id(c)),
        "principals", pr, "valid_after", (json_int_t)sshcert_cert_valid_after(c),
        "valid_before", (json_int_t)vb, "expires_in", (json_int_t)(vb > now ? vb - now : 0));
    return j;
}

int
summary_emit_json(json_t *j)
{
    char *s;

    if (j == NULL || (s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(j);
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    }
    json_decref(j);
    puts(s);
    free(s);
    return fflush(stdout) == 0 ? 0 : out_fail(SSHCERT_EXIT_ERROR, "cannot write to stdout");
}
