/*
 * pam_sshcert.so: the PAM glue. Parses the options, asks sshcert_pam_authenticate() (check.c)
 * whether the requesting user is the user and the user's ssh-agent holds an acceptable
 * certificate, logs the outcome to syslog (authpriv) and maps it to a PAM code. The default is
 * failure; there is no switch to change that.
 *
 *   auth sufficient pam_sshcert.so ca_keys=FILE [revoked_keys=FILE]
 *                                  [principals=PATTERN|file:PATH] [debug]
 */
#define PAM_SM_AUTH

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "check.h"
#include "err.h"
#include "secmem.h"
#include "text.h"

/* pam_set_data key; its value is &authenticated only after a successful pam_sm_authenticate. */
#define DATA_AUTHENTICATED "pam_sshcert_authenticated"
static const int authenticated = 1;

struct glue {
    pam_handle_t *pamh;
    int debug;
};

/* Every note goes to syslog; with `debug` also to stderr, for an operator at pamtester. */
static void
log_line(void *ctx, int prio, const char *msg)
{
    const struct glue *g = ctx;

    pam_syslog(g->pamh, prio, "%s", msg);
    if (g->debug)
        fprintf(stderr, "pam_sshcert: %s\n", msg);
}

/* The one table from an outcome to a PAM code. */
static int
pam_code(int r, const struct sshcert_pam_result *res)
{
    if (r == 0)
        return PAM_SUCCESS;
    if (r == SSHCERT_ERR_ALLOC)
        return PAM_BUF_ERR;
    switch (res->stage) {
    case SSHCERT_PAM_STAGE_USER:
        return PAM_USER_UNKNOWN;
    case SSHCERT_PAM_STAGE_CONFIG:
    case SSHCERT_PAM_STAGE_AGENT:
        return PAM_AUTHINFO_UNAVAIL;
    case SSHCERT_PAM_STAGE_PRIVS:
        return PAM_SYSTEM_ERR;
    case SSHCERT_PAM_STAGE_REQUESTER:
    case SSHCERT_PAM_STAGE_SOCKET:
    case SSHCERT_PAM_STAGE_CHECK:
    case SSHCERT_PAM_STAGE_NONE:
    default:
        return PAM_AUTH_ERR;
    }
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct sshcert_pam_opts o;
    struct sshcert_pam_result res;
    struct sshcert_pam_log log;
    struct glue g = {pamh, 0};
    const char *user = NULL, *bad = NULL, *sock;
    const void *ruser = NULL;
    char shown[SSHCERT_PAM_KEY_ID_LEN], msg[2 * SSHCERT_PAM_REASON_LEN];
    int r, rc = PAM_AUTH_ERR;

    (void)flags;
    (void)pam_set_data(pamh, DATA_AUTHENTICATED, NULL, NULL);
    if (sshcert_pam_parse_opts(argc, argv, &o, &bad) != 0) {
        sshcert_text_sanitize(shown, sizeof(shown), bad, SSHCERT_TEXT_ASCII);
        pam_syslog(pamh, LOG_ERR, "refusing: bad module option \"%s\"", shown);
        return PAM_SERVICE_ERR;
    }
    g.debug = o.debug;
    log = (struct sshcert_pam_log){log_line, &g, o.debug};
    if (sshcert_secmem_init() != 0) {
        log_line(&g, LOG_ERR, "refusing: libsodium failed to initialise");
        return PAM_SYSTEM_ERR;
    }
    if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS || user == NULL || user[0] == '\0') {
        log_line(&g, LOG_NOTICE, "refusing: no user name");
        return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
    }
    /* The PAM environment first (pam_env, an application's pam_putenv), then the process's. */
    if ((sock = pam_getenv(pamh, "SSH_AUTH_SOCK")) == NULL || sock[0] == '\0')
        sock = getenv("SSH_AUTH_SOCK");
    /* Who asks: the real uid, or for an application running as root, PAM_RUSER. */
    if (pam_get_item(pamh, PAM_RUSER, &ruser) != PAM_SUCCESS)
        ruser = NULL;

    r = sshcert_pam_authenticate(&o, user, getuid(), ruser, sock, (uint64_t)time(NULL), &log,
        &res);
    rc = pam_code(r, &res);

    sshcert_text_sanitize(shown, sizeof(shown), user, SSHCERT_TEXT_ASCII);
    if (rc == PAM_SUCCESS) {
        snprintf(msg, sizeof(msg),
            "accepted user %s: certificate serial %llu key id \"%s\" "
            "principal %s CA %s key %s",
            shown, (unsigned long long)res.serial, res.key_id, res.principal, res.ca_fp,
            res.key_fp);
        log_line(&g, LOG_NOTICE, msg);
        (void)pam_set_data(pamh, DATA_AUTHENTICATED, (void *)(uintptr_t)&authenticated, NULL);
    } else {
        snprintf(msg, sizeof(msg), "refused user %s: %s", shown, res.reason);
        log_line(&g, res.stage == SSHCERT_PAM_STAGE_CONFIG ? LOG_ERR : LOG_NOTICE, msg);
    }
    return rc;
}

/* Nothing to establish; succeeds only after this handle authenticated through us, so a stack
 * that calls setcred without that never counts this module as a success. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const void *data = NULL;

    (void)flags;
    (void)argc;
    (void)argv;
    if (pam_get_data(pamh, DATA_AUTHENTICATED, &data) == PAM_SUCCESS && data == &authenticated)
        return PAM_SUCCESS;
    return PAM_IGNORE;
}
