/* Secret lines read straight from a file descriptor, never through stdio. */
#include <errno.h>
#include <unistd.h>

#include "err.h"
#include "line.h"
#include "line_int.h"
#include "secmem.h"

int
sshcert_line_read(int fd, size_t max, char **out)
{
    return sshcert_line_read_waiting(fd, max, out, NULL);
}

int
sshcert_line_read_waiting(int fd, size_t max, char **out, int (*wait_input)(int fd))
{
    char *buf = NULL, c = 0;
    size_t n = 0;
    ssize_t got;
    int r = SSHCERT_ERR_INTERNAL, saved_errno, nul = 0;

    *out = NULL;
    if (max > SSHCERT_LINE_MAX)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    /* max characters, a '\r' before the newline (CRLF input) and the NUL */
    if ((buf = sshcert_secmem_alloc(max + 2)) == NULL)
        return SSHCERT_ERR_ALLOC;
    for (;;) {
        /* One byte at a time: a larger read would take the next line, or the TOTP code after
         * the password, out of fd. No retry on EINTR: the terminal prompt must restore echo and
         * let the signal act. */
        if ((wait_input != NULL && wait_input(fd) != 0) || (got = read(fd, &c, 1)) < 0) {
            r = SSHCERT_ERR_SYSTEM;
            goto out;
        }
        if (got == 0) {
            if (n == 0) {
                r = SSHCERT_ERR_NOT_FOUND;
                goto out;
            }
            break;
        }
        if (c == '\n')
            break;
        /* Past max only a '\r' fits, and only as the line's last byte. */
        if (n > max || (n == max && c != '\r')) {
            r = SSHCERT_ERR_TOO_LARGE;
            goto out;
        }
        /* A NUL would cut the secret where C strings end: the whole line is still read, so
         * the next line stays next, then refused. */
        nul |= c == '\0';
        buf[n++] = c;
    }
    if (nul) {
        r = SSHCERT_ERR_INVALID_FORMAT;
        goto out;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    r = 0;
out:
    saved_errno = errno;
    sshcert_secmem_wipe(&c, sizeof(c)); /* the last byte read, a secret's */
    sshcert_secmem_free(buf);           /* wipes what a failed call read */
    errno = saved_errno;
    return r;
}
