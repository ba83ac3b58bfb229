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
 * terminal's settings are put back on every path (below: where that is held up, and the few
 * cases where it cannot be) and a "\n" is written to prompt_fd after the read, once, for the
 * newline that did not show. Neither descriptor is closed.
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
 * mask blocks them, so a prompt is never deaf to Ctrl-C. One the caller blocks that is pending
 * or arrives then ends the prompt as above, and is pending for the caller again when it
 * returns (its handler has not run yet: it acts once, when the caller unblocks it); one the
 * caller blocks that arrives when the prompt is not waiting (after the last key, or while the
 * line typed ahead is read) stays pending for the caller, untouched. Any other signal that the
 * caller handles and that arrives during the wait ends the prompt too, SSHCERT_ERR_SYSTEM with
 * errno EINTR, even with SA_RESTART: the wait is a ppoll(), which no handler restarts. A
 * process in the background does not wait: its read stops it with SIGTTIN, as before. The
 * dispositions are the process's and the mask the thread's: one prompt at a time, and while it
 * runs every other thread of the process must block those seven. One sent to the process and
 * handled on another thread is taken as having come, but does not interrupt this thread's wait,
 * which then lasts until the next key; and a SIGTTOU drawn by putting the terminal back could
 * go to another thread while this one's call is made again and again.
 *
 * Putting the terminal back can be held up. A signal that interrupts it while it waits for the
 * output to drain (output held by XOFF) has it tried again at once, without that wait. A
 * process that another process group has taken the terminal's foreground from while it waited
 * (job control) draws SIGTTOU, which the prompt catches: then, and where the try without the
 * wait was interrupted too, it is tried again with the caller's dispositions back, before any
 * signal is raised again (one left at its default would end the process with echo off). With
 * SIGTTOU at its default, the process stops there (SIGTTOU) until it is continued in the
 * foreground, and the settings are put back then, as a job-control shell expects; with SIGTTOU
 * ignored they are put back from the background. Each try that a handler of the caller's
 * interrupts (one for SIGCONT, say) counts; after three, echo stays off. The SIGTTOU that
 * putting back drew is not raised again: the stop it stands for happens in the try (one that
 * came before, from elsewhere, still is). Where the caller handles SIGTTOU
 * itself there is no such try (its handler would run at each, or endlessly with SA_RESTART):
 * SIGTTOU is raised again as the others, and echo stays off, as it does where the terminal
 * cannot be changed at all (hung up, or an orphaned process group: EIO). Either way, after a
 * signal the code is SSHCERT_ERR_SYSTEM with errno EINTR, the SIGTTOU drawn included.
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
