/* The reply a handler builds: a status, a body and its type. http.c queues it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server.h"
#include "text.h"

void
reply_take(struct reply *rep, unsigned status, const char *type, char *body, size_t len)
{
    free(rep->body);
    rep->status = status;
    rep->content_type = type;
    rep->body = body;
    rep->len = len;
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
