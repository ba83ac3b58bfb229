/* The sshcert commands. Each takes its own argv (argv[0] is the command name) and returns the
 * process exit code (enum sshcert_exit). */
#ifndef SSHCERT_CLIENT_CMD_H
#define SSHCERT_CLIENT_CMD_H

#include <stdio.h>

int cmd_login(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_logout(int argc, char **argv);

/* Prints the help of cmd (NULL: the overview) to f. 0, or -1 for an unknown command. */
int help_print(FILE *f, const char *cmd);

/* For getopt_long's '?' and ':' results and stray arguments: prints
 * "sshcert: CMD: REASON (see sshcert CMD --help)" and returns SSHCERT_EXIT_USAGE. */
int cmd_bad_option(const char *cmd, int c, char **argv);
int cmd_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
