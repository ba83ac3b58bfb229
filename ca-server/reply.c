/* The reply a handler builds: a status, a body and its type. http.c queues it. */
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

/* A string jansson writes as it is with reply's flags: printable ASCII, no '"' and no '\\'. */
static int
json_plain(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return 0;
    *len = (size_t)(p - (const unsigned char *)s);
    return 1;
}

static char *
put_str(char *p, const char *s, size_t len)
{
    *p++ = '"';
    memcpy(p, s, len);
    p += len;
    *p++ = '"';
    return p;
}

/* The body written directly, when every string in it is plain (always, for what the server
 * issues: base64, [a-z0-9_.-] names, key ids of printable ASCII); NULL otherwise. jansson's
 * json_dumps checks each character of the ~600-character certificate as UTF-8: 59 k of an
 * issuance's ~950 k instructions (tests/bench/README.md, eighteenth and twenty-first passes).
 * The result is byte for byte what jansson writes (tests/unit/test_reply.c). */
static char *
issued_plain(const struct sshcert_cert_record *rec, const struct sshcert_principals *pr,
    size_t *out_len)
{
    size_t cert_len, id_len, plen[SSHCERT_MAX_PRINCIPALS], cap, i;
    char *s, *p;
    int n;

    if (pr->n > SSHCERT_MAX_PRINCIPALS || !json_plain(rec->certificate, &cert_len) ||
        !json_plain(rec->key_id, &id_len))
        return NULL;
    /* the fixed text and three integers of up to 20 digits each */
    cap = 128 + 3 * 20 + cert_len + id_len;
    for (i = 0; i < pr->n; i++) {
        if (!json_plain(pr->v[i], &plen[i]))
            return NULL;
        cap += plen[i] + 3;
    }
    if ((p = s = malloc(cap)) == NULL)
        return NULL;
    memcpy(p, "{\"certificate\":", 15);
    p = put_str(p + 15, rec->certificate, cert_len);
    p += snprintf(p, cap - (size_t)(p - s), ",\"serial\":%" JSON_INTEGER_FORMAT ",\"key_id\":",
        (json_int_t)rec->serial);
    p = put_str(p, rec->key_id, id_len);
    memcpy(p, ",\"principals\":[", 15);
    p += 15;
    for (i = 0; i < pr->n; i++) {
        if (i > 0)
            *p++ = ',';
        p = put_str(p, pr->v[i], plen[i]);
    }
    n = snprintf(p, cap - (size_t)(p - s),
        "],\"valid_after\":%" JSON_INTEGER_FORMAT ",\"valid_before\":%" JSON_INTEGER_FORMAT "}",
        (json_int_t)rec->valid_after, (json_int_t)rec->valid_before);
    *out_len = (size_t)(p - s) + (size_t)n;
    return s;
}

void
reply_issued(struct reply *rep, const struct sshcert_cert_record *rec,
    const struct sshcert_principals *pr)
{
    json_t *j, *arr;
    size_t i, len;
    char *s;

    if ((s = issued_plain(rec, pr, &len)) != NULL) {
        reply_take(rep, 201, "application/json", s, len);
        return;
    }
    arr = json_array();
    for (i = 0; i < pr->n; i++)
        json_array_append_new(arr, json_string(pr->v[i]));
    j = json_pack("{s:s, s:I, s:s, s:o, s:I, s:I}", "certificate", rec->certificate, "serial",
        (json_int_t)rec->serial, "key_id", rec->key_id, "principals", arr, "valid_after",
        (json_int_t)rec->valid_after, "valid_before", (json_int_t)rec->valid_before);
    if (j == NULL || (s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        json_decref(j);
        reply_error(rep, 500, "internal", "out of memory");
        return;
    }
    json_decref(j);
    reply_take(rep, 201, "application/json", s, strlen(s));
}
