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

/* A string jansson writes as it is with reply's flags: printable ASCII (lib/text.h's rule),
 * no '"' and no '\\'. *len is its length when it is. */
static int
json_plain(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;

    *len = 0;
    for (; *p != '\0'; p++)
        if (!sshcert_text_printable(*p, SSHCERT_TEXT_ASCII) || *p == '"' || *p == '\\')
            return 0;
    *len = (size_t)(p - (const unsigned char *)s);
    return 1;
}

/* The issuance body's fixed text, the longest integer jansson writes there (json_int_t's
 * minimum, "-9223372036854775808"), and what one plain string adds (its quotes, a comma). */
#define ISSUED_OPEN "{\"certificate\":"
#define ISSUED_SERIAL ",\"serial\":"
#define ISSUED_KEY_ID ",\"key_id\":"
#define ISSUED_PRINCIPALS ",\"principals\":["
#define ISSUED_VALID_AFTER "],\"valid_after\":"
#define ISSUED_VALID_BEFORE ",\"valid_before\":"
#define ISSUED_CLOSE "}"
#define ISSUED_FIXED_LEN                                                                        \
    (sizeof(ISSUED_OPEN ISSUED_SERIAL ISSUED_KEY_ID ISSUED_PRINCIPALS ISSUED_VALID_AFTER       \
         ISSUED_VALID_BEFORE ISSUED_CLOSE) -                                                   \
        1u)
#define ISSUED_INT_MAX_LEN 20u
#define ISSUED_STR_EXTRA 3u

/* A bounded writer: every put checks the room left, and a put that does not fit marks it
 * failed and writes nothing. */
struct out {
    char *p, *end;
    int failed;
};

static void
put_raw(struct out *o, const char *s, size_t len)
{
    if (o->failed || len > (size_t)(o->end - o->p)) {
        o->failed = 1;
        return;
    }
    memcpy(o->p, s, len);
    o->p += len;
}

static void
put_str(struct out *o, const char *s, size_t len)
{
    put_raw(o, "\"", 1);
    put_raw(o, s, len);
    put_raw(o, "\"", 1);
}

static void
put_int(struct out *o, uint64_t v)
{
    char d[ISSUED_INT_MAX_LEN + 1];
    int n = snprintf(d, sizeof(d), "%" JSON_INTEGER_FORMAT, (json_int_t)v);

    if (n <= 0 || (size_t)n >= sizeof(d))
        o->failed = 1;
    else
        put_raw(o, d, (size_t)n);
}

#define PUT_LIT(o, s) put_raw((o), (s), sizeof(s) - 1u)

/* The body written directly, when every string in it is plain (always, for what the server
 * issues: base64, [a-z0-9_.-] names, its NAME#SERIAL key ids); NULL otherwise, and when
 * out of memory (reply_issued then tries jansson, which fails the same way). jansson's
 * json_dumps checks each character of the ~600-character certificate as UTF-8: 59 k of an
 * issuance's ~950 k instructions (tests/bench/README.md, eighteenth and twenty-first passes;
 * the second pass had withdrawn a first hand-written reply, see there why it is back). The
 * result is byte for byte what jansson writes (tests/unit/test_reply.c). */
char *
reply_issued_direct(const struct sshcert_cert_record *rec, const struct sshcert_principals *pr,
    size_t *out_len)
{
    size_t cert_len, id_len, plen[SSHCERT_MAX_PRINCIPALS], cap, i;
    struct out o = {NULL, NULL, 1};
    char *s = NULL;

    *out_len = 0;
    if (pr->n > SSHCERT_MAX_PRINCIPALS || !json_plain(rec->certificate, &cert_len) ||
        !json_plain(rec->key_id, &id_len))
        goto out;
    cap = ISSUED_FIXED_LEN + 3 * ISSUED_INT_MAX_LEN + cert_len + id_len + 2 * ISSUED_STR_EXTRA;
    for (i = 0; i < pr->n; i++) {
        if (!json_plain(pr->v[i], &plen[i]))
            goto out;
        cap += plen[i] + ISSUED_STR_EXTRA;
    }
    if ((s = malloc(cap)) == NULL)
        goto out;
    o.p = s;
    o.end = s + cap;
    o.failed = 0;
    PUT_LIT(&o, ISSUED_OPEN);
    put_str(&o, rec->certificate, cert_len);
    PUT_LIT(&o, ISSUED_SERIAL);
    put_int(&o, rec->serial);
    PUT_LIT(&o, ISSUED_KEY_ID);
    put_str(&o, rec->key_id, id_len);
    PUT_LIT(&o, ISSUED_PRINCIPALS);
    for (i = 0; i < pr->n; i++) {
        if (i > 0)
            PUT_LIT(&o, ",");
        put_str(&o, pr->v[i], plen[i]);
    }
    PUT_LIT(&o, ISSUED_VALID_AFTER);
    put_int(&o, rec->valid_after);
    PUT_LIT(&o, ISSUED_VALID_BEFORE);
    put_int(&o, rec->valid_before);
    PUT_LIT(&o, ISSUED_CLOSE);
out:
    if (o.failed) {
        free(s); /* a short write cannot happen: cap counts every byte */
        s = NULL;
    } else {
        *out_len = (size_t)(o.p - s);
    }
    return s;
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
