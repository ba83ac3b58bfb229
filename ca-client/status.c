/* sshcert status: the certificate in the key dir, its principals and time left. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "cert.h"
#include "cmd.h"
#include "err.h"
#include "ident.h"
#include "keydir.h"
#include "out.h"
#include "summary.h"

/* "in ssh-agent" for the human line and true/false/null for JSON: null when there is no agent
 * to ask. */
static int
in_agent(const struct sshcert_cert *c)
{
    const char *sock = getenv("SSH_AUTH_SOCK");
    struct sshcert_agent *a = NULL;
    const uint8_t *blob;
    size_t len;
    int held = 0;

    if (sock == NULL || *sock == '\0' || sshcert_cert_blob(c, &blob, &len) != 0 ||
        sshcert_agent_connect(NULL, &a) != 0)
        return -1;
    if (ident_holds(a, blob, len, &held) != 0)
        held = -1;
    sshcert_agent_close(a);
    return held;
}

static int
not_logged_in(int json, const char *reason, const struct sshcert_cert *c, uint64_t now)
{
    json_t *j;

    if (json) {
        j = c != NULL ? summary_json(c, now) : json_object();
        if (j == NULL || json_object_set_new(j, "logged_in", json_false()) != 0 ||
            json_object_set_new(j, "reason", json_string(reason)) != 0) {
            json_decref(j);
            return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        }
        if (summary_emit_json(j) != 0)
            return SSHCERT_EXIT_ERROR;
    }
    return SSHCERT_EXIT_NOT_LOGGED_IN;
}

int
cmd_status(int argc, char **argv)
{
    enum { O_JSON = 256, O_KEY_DIR };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, O_JSON},
        {"key-dir", required_argument, NULL, O_KEY_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct keydir kd = {0};
    struct sshcert_cert *c = NULL;
    const char *dir = NULL;
    char when[64], left[32];
    uint64_t now = (uint64_t)time(NULL);
    json_t *j;
    int json = 0, ch, r, held;

    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_JSON: json = 1; break;
        case O_KEY_DIR: dir = optarg; break;
        case 'h': help_print(stdout, "status"); return SSHCERT_EXIT_OK;
        default: return cmd_bad_option("status", ch, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("status", "unexpected argument \"%.64s\"", argv[optind]);
    if ((r = keydir_init(&kd, dir)) != 0)
        return r;
    r = keydir_load_cert(&kd, &c);
    if (r == SSHCERT_ERR_NOT_FOUND) {
        out_fail(SSHCERT_EXIT_NOT_LOGGED_IN,
            "not logged in: no certificate in %s (run sshcert login)", kd.dir);
        r = not_logged_in(json, "no_certificate", NULL, now);
        goto out;
    }
    /* A file that cannot be read or parsed is something broken, not "logged out": a script
     * must be able to tell the two apart, so it is a local error like any other. */
    if (r == SSHCERT_ERR_SYSTEM) {
        r = out_fail(SSHCERT_EXIT_ERROR, "cannot read %s: %s", kd.cert, strerror(errno));
        goto out;
    }
    if (r != 0) {
        r = out_fail(SSHCERT_EXIT_ERROR, "%s does not hold a valid certificate: %s", kd.cert,
            sshcert_err_str(r));
        goto out;
    }
    /* Outside its validity window a certificate logs nobody in, whichever side of it now is:
     * sshd refuses a certificate that is not valid yet just as it refuses an expired one. */
    switch (sshcert_cert_check_time(c, now)) {
    case 0:
        break;
    case SSHCERT_ERR_NOT_YET_VALID:
        out_local_time(sshcert_cert_valid_after(c), when, sizeof(when));
        out_duration(sshcert_cert_valid_after(c) - now, left, sizeof(left));
        out_fail(SSHCERT_EXIT_NOT_LOGGED_IN,
            "not logged in: certificate serial %llu is not valid until %s (in %s; check the "
            "clock)", (unsigned long long)sshcert_cert_serial(c), when, left);
        r = not_logged_in(json, "not_yet_valid", c, now);
        goto out;
    default: /* SSHCERT_ERR_EXPIRED: c is not NULL, so nothing else comes back */
        out_local_time(sshcert_cert_valid_before(c), when, sizeof(when));
        out_duration(now - sshcert_cert_valid_before(c), left, sizeof(left));
        out_fail(SSHCERT_EXIT_NOT_LOGGED_IN,
            "not logged in: certificate serial %llu expired %s (%s ago; run sshcert login)",
            (unsigned long long)sshcert_cert_serial(c), when, left);
        r = not_logged_in(json, "expired", c, now);
        goto out;
    }
    held = in_agent(c);
    if (!json) {
        summary_print_line(stdout, "", c, now,
            held == 1 ? ", in ssh-agent" : held == 0 ? ", not in ssh-agent" : "");
        r = fflush(stdout) == 0 ? 0 : out_fail(SSHCERT_EXIT_ERROR, "cannot write to stdout");
        goto out;
    }
    r = SSHCERT_EXIT_ERROR;
    if ((j = summary_json(c, now)) == NULL ||
        json_object_set_new(j, "logged_in", json_true()) != 0 ||
        json_object_set_new(j, "certificate_file", json_string(kd.cert)) != 0 ||
        json_object_set_new(j, "in_agent", held < 0 ? json_null() : json_boolean(held)) != 0) {
        json_decref(j);
        out_fail(r, "out of memory");
        goto out;
    }
    r = summary_emit_json(j);
out:
    sshcert_cert_free(c);
    keydir_free(&kd);
    return r;
}
