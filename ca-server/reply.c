/* The reply a handler builds: a status, a body and its type. http.c queues it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server.h"

void
reply_take(struct reply *rep, unsigned status, const char *type, char *body, size_t len)
{
    free(rep->body);
    rep->status = status;
    rep->content_type = type;
    rep->body = body;
    rep->len = len;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Messages quote what clients sent, cut to a length: a cut through a multi-byte character, or
 * bytes that never were UTF-8, would make jansson refuse the whole message. Each bad byte
 * becomes '?'. */
static void
utf8_clean(char *msg)
{
    unsigned char *s = (unsigned char *)msg;
    size_t r = 0, w = 0, n;

    while (s[r] != '\0') {
        if ((n = utf8_len(s + r)) == 0) {
            s[w++] = '?';
            r++;
            continue;
        }
        memmove(s + w, s + r, n);
        w += n;
        r += n;
    }
    s[w] = '\0';
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
    utf8_clean(msg);
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
