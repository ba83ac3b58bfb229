#include "text.h"

int
sshcert_text_printable(int c, enum sshcert_text_rule rule)
{
    if (c >= 0x20 && c < 0x7f)
        return 1;
    return rule == SSHCERT_TEXT_KEEP_HIGH && c >= 0x80 && c <= 0xff;
}

void
sshcert_text_sanitize(char *dst, size_t n, const char *src, enum sshcert_text_rule rule)
{
    size_t i;

    if (n == 0)
        return;
    /* i + 1 < n comes first: src[i] is not read once dst is full. */
    for (i = 0; src != NULL && i + 1 < n && src[i] != '\0'; i++)
        dst[i] = sshcert_text_printable((unsigned char)src[i], rule) ? src[i] : '?';
    dst[i] = '\0';
}

/* Length of the well-formed UTF-8 sequence at s, or 0. The table of RFC 3629 section 4: the
 * second byte's range depends on the first, which is what rules out overlong forms (E0, F0),
 * surrogates (ED) and code points past U+10FFFF (F4). A NUL is outside every continuation
 * range, so nothing past it is read. */
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

void
sshcert_text_utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t n;

    if (p == NULL)
        return;
    while (*p != '\0') {
        if ((n = utf8_len(p)) == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}
