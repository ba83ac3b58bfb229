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
