/* One line of secret input (a password, a TOTP code) from a file descriptor, into guarded
 * memory. The client's --password-stdin and its terminal prompt, and sshcert-admin's password
 * input, all read through it, so no copy of a secret is left in a stdio buffer. On a terminal
 * both programs ask through the one prompt here, which turns echo off and puts it back. */
#ifndef SSHCERT_LINE_H
#define SSHCERT_LINE_H

#include <stddef.h>

/* The largest max sshcert_line_read takes: far above any secret line, far below SIZE_MAX. */
#define SSHCERT_LINE_MAX (64u * 1024u)

/* The longest password, in bytes: sshcert login and sshcert-admin read at most this, and the
 * server refuses a longer one. */
#define SSHCERT_MAX_PASSWORD 1024u

/*
 * Reads one line of at most max characters from fd into *out, a NUL-terminated string in
 * guarded memory (sshcert_secmem_alloc) that the caller frees with sshcert_secmem_free. The
 * line ends at "\n" or at end of input; the "\n" and a '\r' just before it (CRLF input) or just
 * before the end of input are not part of it, nor counted against max. Reads one byte at a time,
 * so nothing after the line's "\n" is consumed: the next line stays in fd for the next reader.
 *
 * 0, or: SSHCERT_ERR_NOT_FOUND (end of input before any byte; "\n" alone is an empty line,
 * not this), SSHCERT_ERR_TOO_LARGE (more than max characters: at most max + 2 bytes of the line
 * are consumed, the rest is left in fd), SSHCERT_ERR_INVALID_FORMAT (a NUL byte in the line,
 * which would cut a C string there: the line is consumed, up to max), SSHCERT_ERR_SYSTEM (read
 * failed, errno kept; an interrupted read (EINTR) is not retried, so a caller that caught a
 * signal sees it),
 * SSHCERT_ERR_ALLOC, SSHCERT_ERR_INVALID_ARGUMENT (max > SSHCERT_LINE_MAX). *out is NULL
 * unless 0 is returned; the bytes read on a failed call are wiped.
 */
int sshcert_line_read(int fd, size_t max, char **out);

/*
 * Asks for one line on the terminal tty: writes prompt to prompt_fd (tty itself, or another
 * descriptor such as stderr), then reads the line from tty with sshcert_line_read (max, *out
 * and its codes as there), with the terminal's echo off unless echo is set. With echo off, the
 * terminal's settings are put back on every path (below: the few cases where they cannot be)
 * and a "\n" is written to prompt_fd after the read, once, for the newline that did not show.
 * Neither descriptor is closed.
 *
 * While it runs, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN and SIGTTOU are caught and
 * the caller's dispositions are put back before it returns. One that arrives ends the prompt
 * at once, even one that arrives just before it waits for a key (it does not wait then): the
 * terminal is put back, what was read is wiped, and each of them that arrived is raised again,
 * once, under the caller's dispositions and signal mask, so the process ends or stops as it
 * would have. If it returns after that (stopped and continued, or a signal the caller handles,
 * ignores or blocks): SSHCERT_ERR_SYSTEM, errno EINTR.
 *
 * While it waits for a key, and only then, those seven are unblocked even where the caller's
 * mask blocks them: one the caller blocks ends the prompt then and is pending for the caller
 * again when it returns; one that arrives outside the wait stays pending, untouched. Any other
 * signal the caller handles that arrives during the wait ends it too (SSHCERT_ERR_SYSTEM,
 * EINTR, SA_RESTART or not). In the background it does not wait: its read stops it with
 * SIGTTIN. One prompt at a time, and every other thread must block those seven while it runs.
 *
 * Putting the terminal back, when interrupted, is tried again without waiting for the output
 * to drain, then under the caller's dispositions before any signal is raised again: with
 * SIGTTOU at its default, a process moved to the background meanwhile stops until it is in the
 * foreground again, then puts it back (the SIGTTOU that drew is not raised again). Echo stays
 * off only where the caller handles SIGTTOU itself, where a handler of the caller's interrupts
 * three tries, or where the terminal cannot be changed (EIO). line_tty.c says why.
 *
 * 0, or: SSHCERT_ERR_UNSUPPORTED (echo off was asked and could not be had: tcgetattr or
 * tcsetattr failed, as on a non-terminal or from an orphaned background process group; nothing
 * was written or read, and the terminal is as it was), SSHCERT_ERR_SYSTEM (a signal, above, or
 * the wait or the read failed, errno kept), or sshcert_line_read's other codes:
 * SSHCERT_ERR_NOT_FOUND is end of input before anything was typed (Ctrl-D). *out is NULL
 * unless 0 is returned.
 */
int sshcert_line_prompt_tty(int tty, int prompt_fd, const char *prompt, int echo, size_t max,
    char **out);

#endif
