/* The reply a handler builds: a status, a body and its type. http.c queues it. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
