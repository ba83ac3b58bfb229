/* sshcert: the user's client of the sshcert CA. Dispatches to one command. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cmd.h"
#include "out.h"
#include "secmem.h"
#include "text.h"

int
cmd_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sshcert: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see sshcert %s --help)\n", cmd);
    return SSHCERT_EXIT_USAGE;
}

int
cmd_bad_option(const char *cmd, int c, char **argv)
{
    char shown[64];

    /* getopt_long leaves the offending word just before optind. */
    sshcert_text_sanitize(shown, sizeof(shown), optind > 0 ? argv[optind - 1] : "",
        SSHCERT_TEXT_ASCII);
    if (c == ':')
        return cmd_usage(cmd, "%s needs a value", shown);
    if (optopt != 0)
        return cmd_usage(cmd, "unknown option -%c",
            sshcert_text_printable(optopt, SSHCERT_TEXT_ASCII) ? optopt : '?');
    return cmd_usage(cmd, "unknown option %s", shown);
}

static const struct {
    const char *name;
    int (*run)(int, char **);
} commands[] = {
    {"login", cmd_login},
    {"status", cmd_status},
    {"ca", cmd_ca},
    {"logout", cmd_logout},
};

int
main(int argc, char **argv)
{
    const char *cmd;
    size_t i;
    int r;

    if (argc < 2) {
        help_print(stderr, NULL);
        return SSHCERT_EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        help_print(stdout, NULL);
        return SSHCERT_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (help_print(stdout, argc > 2 ? argv[2] : NULL) != 0)
            return out_fail(SSHCERT_EXIT_USAGE, "no command \"%.32s\" (see sshcert --help)",
                argv[2]);
        return SSHCERT_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("sshcert %s\n", SSHCERT_VERSION);
        return SSHCERT_EXIT_OK;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        if (sshcert_secmem_init() != 0)
            return out_fail(SSHCERT_EXIT_ERROR, "cannot initialise libsodium");
        /* No core dump or ptrace of a process that holds a password and a private key. */
        (void)sshcert_secmem_no_dump();
        /* jansson and libcurl hold the password and code in buffers of their own (the
         * request JSON, the POST body): their frees wipe. */
        json_set_alloc_funcs(malloc, sshcert_secmem_free_wipe);
        if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, sshcert_secmem_free_wipe,
                sshcert_secmem_realloc_wipe, strdup, calloc) != CURLE_OK)
            return out_fail(SSHCERT_EXIT_ERROR, "cannot initialise libcurl");
        r = commands[i].run(argc - 1, argv + 1);
        curl_global_cleanup();
        return r;
    }
    return out_fail(SSHCERT_EXIT_USAGE, "unknown command \"%.32s\" (see sshcert --help)", cmd);
}
