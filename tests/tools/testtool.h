/* sshcert-testtool: small commands the oracle scripts run to drive lib/ against OpenSSH. */
#ifndef SSHCERT_TESTTOOL_H
#define SSHCERT_TESTTOOL_H

#include <stddef.h>

int tt_key_main(int argc, char **argv);
int tt_cert_main(int argc, char **argv);
int tt_krl_main(int argc, char **argv);
int tt_agent_main(int argc, char **argv);
/* Reads a whole file (max 64 MiB) or dies with a message; caller frees. */
char *tt_read_file(const char *path, size_t *len);
/* Prints "testtool: what: error text" to stderr and returns 1. */
int tt_fail(const char *what, int err);

#endif
