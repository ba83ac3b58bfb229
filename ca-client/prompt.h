/*
 * Reading the secrets a login needs: from the terminal (the password without echo), or line by
 * line from a file descriptor (--password-stdin, with lib/line.h's sshcert_line_read). Secrets
 * live in guarded memory (sshcert_secmem_alloc) and are freed with sshcert_secmem_free, which
 * wipes them.
 */
#ifndef SSHCERT_CLIENT_PROMPT_H
#define SSHCERT_CLIENT_PROMPT_H

#include <stddef.h>

/* Longest TOTP line (the password's cap is lib/line.h's SSHCERT_MAX_PASSWORD). */
#define PROMPT_MAX_TOTP 32u

/* Asks on the controlling terminal (/dev/tty) with lib/line.h's sshcert_line_prompt_tty:
 * writes prompt, reads one line with echo off unless echo is set, restores the terminal, also
 * when a signal interrupts (the signal is then raised again). SSHCERT_ERR_NOT_FOUND when there
 * is no terminal, SSHCERT_ERR_TRUNCATED when input ends before anything was typed (Ctrl-D),
 * SSHCERT_ERR_UNSUPPORTED when echo cannot be turned off (nothing is read); other errors as
 * sshcert_line_read. */
int prompt_tty(const char *prompt, int echo, size_t max, char **out);

/* Removes spaces from a TOTP code in place ("123 456" is how authenticator apps show it). */
void prompt_squeeze_code(char *code);

#endif
