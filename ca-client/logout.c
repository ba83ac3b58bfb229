/* sshcert logout: our identities out of the agent, our files out of the key dir. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cmd.h"
#include "err.h"
#include "ident.h"
#include "keydir.h"
#include "out.h"

int
cmd_logout(int argc, char **argv)
{
    enum { O_NO_AGENT = 256, O_KEY_DIR };
    static const struct option longopts[] = {
        {"no-agent", no_argument, NULL, O_NO_AGENT},
        {"key-dir", required_argument, NULL, O_KEY_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct keydir kd = {0};
    struct keydir_keys known = {0};
    struct sshcert_agent *a = NULL;
    const char *dir = NULL, *sock = getenv("SSH_AUTH_SOCK");
    unsigned from_agent = 0, files = 0;
    int no_agent = 0, ch, r;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_NO_AGENT: no_agent = 1; break;
        case O_KEY_DIR: dir = optarg; break;
        case 'h': help_print(stdout, "logout"); return SSHCERT_EXIT_OK;
        default: return cmd_bad_option("logout", ch, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("logout", "unexpected argument \"%.64s\"", argv[optind]);
    if ((r = keydir_init(&kd, dir)) != 0)
        return r;
    /* The agent first, while the files still say which identities came from them. */
    if (!no_agent && sock != NULL && *sock != '\0') {
        keydir_keys(&kd, &known);
        r = sshcert_agent_connect(NULL, &a);
        if (r == 0)
            r = ident_remove_ours(a, &known, NULL, 0, &from_agent);
        else if (r == SSHCERT_ERR_AGENT_UNAVAILABLE)
            r = 0; /* no agent there: it holds nothing of ours */
        else if (r == SSHCERT_ERR_PERMISSIONS) {
            /* Another user's agent: login never gave it our keys (sshcert_agent_connect). */
            out_warn(IDENT_AGENT_NOT_OURS "left alone", sock);
            r = 0;
        }
        if (r != 0) {
            r = out_fail(SSHCERT_EXIT_ERROR, "cannot remove the identity from ssh-agent at %s: "
                "%s", sock, sshcert_err_str(r));
            goto out;
        }
    }
    if ((r = keydir_remove(&kd, &files)) != 0)
        goto out;
    printf("logged out: removed %u identit%s from ssh-agent and %u file%s from %s\n", from_agent,
        from_agent == 1 ? "y" : "ies", files, files == 1 ? "" : "s", kd.dir);
    r = fflush(stdout) == 0 ? 0 : out_fail(SSHCERT_EXIT_ERROR, "cannot write to stdout");
out:
    sshcert_agent_close(a);
    keydir_free(&kd);
    return r;
}
