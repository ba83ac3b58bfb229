/* One line of secret input (a password, a TOTP code) from a file descriptor, into guarded
 * memory. The client's --password-stdin and its terminal prompt, and sshcert-admin's password
 * input, all read through it, so no copy of a secret is left in a stdio buffer. On a terminal
 * both programs ask through the one prompt here, which turns echo off and puts it back. */
#ifndef SSHCERT_LINE_H
#define SSHCERT_LINE_H

#include <stddef.h>

/* The largest max sshcert_line_read takes: far above any secret line, far below SIZE_MAX. */
#define SSHCERT_LINE_MAX (64u * 1024u)

/*
 * Reads one line of at most max characters from fd into *out, a NUL-terminated string in
 * guarded memory (sshcert_secmem_alloc) that the caller frees with sshcert_secmem_free. The
 * line ends at "\n" or at end of input; the "\n" and a '\r' just before it (CRLF input) or just
 * before the end of input are not part of it, nor counted against max. Reads one byte at a time,
 * so nothing after the line's "\n" is consumed: the next line stays in fd for the next reader.
 * A NUL byte in the line is kept, so the string reads as cut at it.
 *
 * 0, or: SSHCERT_ERR_NOT_FOUND (end of input before any byte; "\n" alone is an empty line,
 * not this), SSHCERT_ERR_TOO_LARGE (more than max characters: at most max + 2 bytes of the line
 * are consumed, the rest is left in fd), SSHCERT_ERR_SYSTEM (read failed, errno kept; an
 * interrupted read (EINTR) is not retried, so a caller that caught a signal sees it),
 * SSHCERT_ERR_ALLOC, SSHCERT_ERR_INVALID_ARGUMENT (max > SSHCERT_LINE_MAX). *out is NULL
 * unless 0 is returned; the bytes read on a failed call are wiped.
 */
int sshcert_line_read(int fd, size_t max, char **out);

/*
 * Asks for one line on the terminal tty: writes prompt to prompt_fd (tty itself, or another
 * descriptor such as stderr), then reads the line from tty with sshcert_line_read (max, *out
 * and its codes as there), with the terminal's echo off unless echo is set. With echo off, the
 * terminal's settings are put back on every path and a "\n" is written to prompt_fd after the
 * read, for the newline that did not show. Neither descriptor is closed.
 *
 * While it waits, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN and SIGTTOU are caught and
 * the caller's dispositions are put back before it returns. One that arrives interrupts the
 * read; the terminal is put back, what was read is wiped, and the signal is raised again under
 * the caller's disposition, so the process ends or stops as it would have. If it returns after
 * that (stopped and continued, or a signal the caller handles or ignores): SSHCERT_ERR_SYSTEM.
 * The dispositions are the process's: one prompt at a time, not from several threads.
 *
 * 0, or: SSHCERT_ERR_UNSUPPORTED (echo off was asked and could not be had: tcgetattr or
 * tcsetattr failed, as on a non-terminal or from an orphaned background process group; nothing
 * was written or read, and the terminal is as it was), SSHCERT_ERR_SYSTEM (a signal, above, or
 * read failed), or sshcert_line_read's other codes: SSHCERT_ERR_NOT_FOUND is end of input before
 * anything was typed (Ctrl-D). *out is NULL unless 0 is returned.
 */
int sshcert_line_prompt_tty(int tty, int prompt_fd, const char *prompt, int echo, size_t max,
    char **out);

#endif
