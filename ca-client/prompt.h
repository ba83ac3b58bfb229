/*
 * Reading the secrets a login needs: from the terminal (the password without echo), or line by
 * line from a file descriptor (--password-stdin). Secrets live in guarded memory
 * (sshcert_secmem_alloc) and are freed with sshcert_secmem_free, which wipes them.
 */
#ifndef SSHCERT_CLIENT_PROMPT_H
#define SSHCERT_CLIENT_PROMPT_H

#include <stddef.h>

/* Longest password accepted (the server's SSHCERT_MAX_PASSWORD) and longest TOTP line. */
#define PROMPT_MAX_PASSWORD 1024u
#define PROMPT_MAX_TOTP 32u

/* Reads one line (without its "\n" or "\r\n") of at most max bytes from fd into guarded
 * memory; *out is freed with sshcert_secmem_free. Reads byte by byte so nothing past the line
 * is consumed or left in a stdio buffer. SSHCERT_ERR_NOT_FOUND at end of input before any
 * byte, SSHCERT_ERR_TOO_LARGE for a longer line, SSHCERT_ERR_SYSTEM on a read error. */
int prompt_read_line(int fd, size_t max, char **out);

/* Asks on the controlling terminal (/dev/tty): writes prompt, reads one line with echo off
 * unless echo is set, restores the terminal, also when a signal interrupts (the signal is then
 * raised again). SSHCERT_ERR_NOT_FOUND when there is no terminal, SSHCERT_ERR_TRUNCATED when
 * input ends before anything was typed (Ctrl-D); other errors as prompt_read_line. */
int prompt_tty(const char *prompt, int echo, size_t max, char **out);

/* Removes spaces from a TOTP code in place ("123 456" is how authenticator apps show it). */
void prompt_squeeze_code(char *code);

#endif
