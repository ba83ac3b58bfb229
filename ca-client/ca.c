/* sshcert ca: the CA's public key line, optionally checked against a known fingerprint. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "key.h"
#include "out.h"
#include "summary.h"
#include "text.h"

#define FP_PREFIX "SHA256:"

int
cmd_ca(int argc, char **argv)
{
    enum { O_SERVER = 256, O_CA_CERT, O_FINGERPRINT, O_JSON };
    static const struct option longopts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"ca-cert", required_argument, NULL, O_CA_CERT},
        {"fingerprint", required_argument, NULL, O_FINGERPRINT},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cfg cfg;
    struct http_client http = {0};
    struct api_ca ca = {0};
    const char *server = NULL, *ca_cert = NULL, *want = NULL;
    char shown[SSHCERT_FP_LEN + 8];
    json_t *j;
    int json = 0, ch, r;

    memset(&cfg, 0, sizeof(cfg));
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_SERVER: server = optarg; break;
        case O_CA_CERT: ca_cert = optarg; break;
        case O_FINGERPRINT: want = optarg; break;
        case O_JSON: json = 1; break;
        case 'h': help_print(stdout, "ca"); return SSHCERT_EXIT_OK;
        default: return cmd_bad_option("ca", ch, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("ca", "unexpected argument \"%.64s\"", argv[optind]);
    if (want != NULL &&
        (strncmp(want, FP_PREFIX, strlen(FP_PREFIX)) != 0 || strlen(want) != SSHCERT_FP_LEN - 1))
        return cmd_usage("ca", "--fingerprint: expected SHA256: and 43 base64 characters, as "
            "ssh-keygen -l prints it");
    if ((r = cfg_load(&cfg)) != 0)
        goto out;
    if (server == NULL)
        server = cfg.server;
    if (ca_cert == NULL)
        ca_cert = cfg.ca_cert;
    if (server == NULL) {
        r = cmd_usage("ca", "no server: use --server URL, SSHCERT_SERVER or `server = URL` in %s",
            cfg.path != NULL ? cfg.path : "~/.config/sshcert/config");
        goto out;
    }
    if (ca_cert != NULL && access(ca_cert, R_OK) != 0) {
        r = cmd_usage("ca", "cannot read the CA file %s: %s", ca_cert, strerror(errno));
        goto out;
    }
    if ((r = http_client_init(&http, server, ca_cert)) != 0)
        goto out;
    /* Over plain http to another host anyone on the path can hand out a key of their own, and
     * this line ends up in TrustedUserCAKeys: only a fingerprint the operator gave makes such
     * an answer trustworthy. Refused before anything is fetched. */
    if (want == NULL && !http_channel_trusted(&http)) {
        r = out_fail(SSHCERT_EXIT_USAGE, "refusing to print a CA key fetched over plain http:// "
            "from a host that is not loopback; use https:// or --fingerprint");
        goto out;
    }
    if ((r = api_get_ca(&http, &ca)) != 0)
        goto out;
    if (want != NULL && strcmp(want, ca.fp) != 0) {
        sshcert_text_sanitize(shown, sizeof(shown), want, SSHCERT_TEXT_ASCII);
        r = out_fail(SSHCERT_EXIT_ERROR, "CA key fingerprint mismatch: the server's key is %s, "
            "expected %s", ca.fp, shown);
        goto out;
    }
    if (json) {
        j = json_pack("{s:s, s:s}", "public_key", ca.line, "fingerprint", ca.fp);
        r = summary_emit_json(j);
        goto out;
    }
    /* The line as the server gave it, minus anything a terminal would act on. */
    for (const char *p = ca.line; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f) {
            r = out_fail(SSHCERT_EXIT_ERROR, "the CA key line holds control characters");
            goto out;
        }
    printf("%s\n", ca.line);
    r = fflush(stdout) == 0 ? 0 : out_fail(SSHCERT_EXIT_ERROR, "cannot write to stdout");
out:
    api_ca_free(&ca);
    http_client_free(&http);
    cfg_free(&cfg);
    return r;
}
