/* Untrusted text made safe to show: on a terminal, in a PAM message, in a log line, in JSON.
 * One rule for the client, the PAM module and the server, so that no copy of it lets a
 * terminal escape, a forged log line or a string that JSON cannot carry through. */
#ifndef SSHCERT_TEXT_H
#define SSHCERT_TEXT_H

#include <stddef.h>

/* Which bytes are kept as they are; every other byte is shown as '?'. */
enum sshcert_text_rule {
    /* Printable ASCII, 0x20..0x7e, only: for terminals and PAM messages. */
    SSHCERT_TEXT_ASCII,
    /* Everything but the controls 0x00..0x1f and 0x7f: bytes 0x80..0xff are kept (not checked
     * to be UTF-8), so that UTF-8 names stay readable in the server's log. */
    SSHCERT_TEXT_KEEP_HIGH,
};

/* 1 when c, a byte value 0..0xff (an unsigned char, or getopt's optopt), is kept under rule;
 * 0 when it would be shown as '?'. Values outside 0..0xff are never kept. */
int sshcert_text_printable(int c, enum sshcert_text_rule rule);

/* Copies the NUL-terminated src into dst, which holds n bytes, replacing each byte that rule
 * does not keep by '?'. At most n - 1 bytes are copied (a longer src is cut; under
 * SSHCERT_TEXT_KEEP_HIGH the cut may split a UTF-8 sequence) and dst is always NUL-terminated
 * when n > 0; n == 0 writes nothing. src is read up to its NUL or the cut, never further; a NULL
 * src reads as "". dst and src must not overlap. */
void sshcert_text_sanitize(char *dst, size_t n, const char *src, enum sshcert_text_rule rule);

/* Makes the NUL-terminated s valid UTF-8 in place, for a JSON string (jansson refuses any
 * other): each byte that is not part of a well-formed sequence (RFC 3629: no overlong form, no
 * surrogate U+D800..U+DFFF, nothing above U+10FFFF; a sequence cut short by the NUL or by
 * another byte is not well-formed) becomes '?', one '?' per byte, so the length does not
 * change; every well-formed character is kept. Controls are well-formed and kept: JSON writes
 * those below 0x20 as escapes, so they cannot drive a terminal that shows the JSON (DEL and
 * U+0080..U+009F pass as they would in any valid string). Not a rule for terminals or logs:
 * use sshcert_text_sanitize there. Reads s up to its NUL, never further; a NULL s is left
 * alone. */
void sshcert_text_utf8_clean(char *s);

#endif
