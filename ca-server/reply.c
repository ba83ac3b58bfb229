/* The reply a handler builds: a status, a body and its type. http.c queues it. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy.h"
#include "server.h"
#include "text.h"

void
reply_drop(struct reply *rep)
{
    if (rep->release != NULL)
        rep->release(rep->release_cls);
    else
        free(rep->body);
    rep->body = NULL;
    rep->len = 0;
    rep->release = NULL;
    rep->release_cls = NULL;
}

void
reply_take(struct reply *rep, unsigned status, const char *type, char *body, size_t len)
{
    reply_drop(rep);
    rep->status = status;
    rep->content_type = type;
    rep->body = body;
    rep->len = len;
}

void
reply_share(struct reply *rep, unsigned status, const char *type, const void *body, size_t len,
    void (*release)(void *cls), void *cls)
{
    reply_drop(rep);
    rep->status = status;
    rep->content_type = type;
    rep->body = (char *)(uintptr_t)body; /* never written through: see send_reply */
    rep->len = len;
    rep->release = release;
    rep->release_cls = cls;
}

void
reply_error(struct reply *rep, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *j;
    char *s;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Messages quote what clients sent, cut to a length: a cut through a multi-byte character,
     * or bytes that never were UTF-8, would make jansson refuse the whole message. */
    sshcert_text_utf8_clean(msg);
    j = json_pack("{s:s, s:s}", "error", code, "message", msg);
    s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (s == NULL) {
        /* Out of memory: a static body still tells the client what happened. */
        static const char fallback[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        s = strdup(fallback);
        status = 500;
    }
    reply_take(rep, status, "application/json", s, s != NULL ? strlen(s) : 0);
}

/* A string jansson writes as it is with reply's flags: printable ASCII, no '"' and no '\\'.
 * *len is its length when it is. */
static int
json_plain(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;

    *len = 0;
    for (; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return 0;
    *len = (size_t)(p - (const unsigned char *)s);
    return 1;
}

/* The fixed text around the issuance body's values, and the longest integer jansson writes
 * (json_int_t's minimum, "-9223372036854775808"). */
#define LIT(s) (s), (sizeof(s) - 1u)
#define ISSUED_OPEN "{\"certificate\":"
#define ISSUED_PRINCIPALS ",\"principals\":["
#define ISSUED_FIXED_MAX 128u
#define JSON_INT_MAX_LEN 20u

static char *
put_raw(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}

static char *
put_str(char *p, const char *s, size_t len)
{
    *p++ = '"';
    p = put_raw(p, s, len);
    *p++ = '"';
    return p;
}

/* The body written directly, when every string in it is plain (always, for what the server
 * issues: base64, [a-z0-9_.-] names, key ids of printable ASCII); NULL otherwise, and when
 * out of memory (reply_issued then tries jansson, which fails the same way). jansson's
 * json_dumps checks each character of the ~600-character certificate as UTF-8: 59 k of an
 * issuance's ~950 k instructions (tests/bench/README.md, eighteenth and twenty-first passes).
 * The result is byte for byte what jansson writes (tests/unit/test_reply.c). */
char *
reply_issued_direct(const struct sshcert_cert_record *rec, const struct sshcert_principals *pr,
    size_t *out_len)
{
    size_t cert_len, id_len, plen[SSHCERT_MAX_PRINCIPALS], cap, i;
    char *s = NULL, *p;
    int n, m;

    *out_len = 0;
    if (pr->n > SSHCERT_MAX_PRINCIPALS || !json_plain(rec->certificate, &cert_len) ||
        !json_plain(rec->key_id, &id_len))
        return NULL;
    cap = ISSUED_FIXED_MAX + 3 * JSON_INT_MAX_LEN + cert_len + id_len;
    for (i = 0; i < pr->n; i++) {
        if (!json_plain(pr->v[i], &plen[i]))
            return NULL;
        cap += plen[i] + 3; /* quotes and comma */
    }
    if ((p = s = malloc(cap)) == NULL)
        return NULL;
    p = put_str(put_raw(p, LIT(ISSUED_OPEN)), rec->certificate, cert_len);
    n = snprintf(p, cap - (size_t)(p - s), ",\"serial\":%" JSON_INTEGER_FORMAT ",\"key_id\":",
        (json_int_t)rec->serial);
    if (n > 0 && (size_t)n < cap - (size_t)(p - s)) {
        p = put_raw(put_str(p + n, rec->key_id, id_len), LIT(ISSUED_PRINCIPALS));
        for (i = 0; i < pr->n; i++) {
            if (i > 0)
                *p++ = ',';
            p = put_str(p, pr->v[i], plen[i]);
        }
        m = snprintf(p, cap - (size_t)(p - s),
            "],\"valid_after\":%" JSON_INTEGER_FORMAT ",\"valid_before\":%" JSON_INTEGER_FORMAT
            "}",
            (json_int_t)rec->valid_after, (json_int_t)rec->valid_before);
        if (m > 0 && (size_t)m < cap - (size_t)(p - s)) {
            *out_len = (size_t)(p - s) + (size_t)m;
            return s;
        }
    }
    free(s); /* cannot happen: cap counts every byte */
    return NULL;
}

void
reply_issued(struct reply *rep, const struct sshcert_cert_record *rec,
    const struct sshcert_principals *pr)
{
    json_t *j = NULL, *arr;
    size_t i, len;
    char *s;

    if ((s = reply_issued_direct(rec, pr, &len)) == NULL) {
        /* A principal jansson refuses (not UTF-8) fails the reply rather than go missing. */
        arr = json_array();
        for (i = 0; arr != NULL && i < pr->n; i++)
            if (json_array_append_new(arr, json_string(pr->v[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        if (arr != NULL)
            j = json_pack("{s:s, s:I, s:s, s:o, s:I, s:I}", "certificate", rec->certificate,
                "serial", (json_int_t)rec->serial, "key_id", rec->key_id, "principals", arr,
                "valid_after", (json_int_t)rec->valid_after, "valid_before",
                (json_int_t)rec->valid_before);
        s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        len = s != NULL ? strlen(s) : 0;
        json_decref(j);
    }
    if (s != NULL)
        reply_take(rep, 201, "application/json", s, len);
    else
        reply_error(rep, 500, "internal",
            "certificate serial %" PRIu64 " was issued, but its reply could not be written",
            rec->serial);
}
