/* sshcert login: credentials in, a fresh key and a verified certificate out, on disk and in
 * the agent. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "api.h"
#include "buf.h"
#include "cert.h"
#include "cmd.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "ident.h"
#include "key.h"
#include "keydir.h"
#include "line.h"
#include "out.h"
#include "prompt.h"
#include "secmem.h"
#include "summary.h"

struct login_opts {
    const char *server, *user, *ttl, *principals, *ca_cert, *totp, *key_dir;
    int password_stdin, no_agent, json;
};

struct secrets {
    char *password, *totp; /* guarded memory */
};

static int
parse_opts(int argc, char **argv, struct login_opts *o)
{
    enum { O_SERVER = 256, O_USER, O_TTL, O_PRINCIPALS, O_CA_CERT, O_PWSTDIN, O_TOTP,
        O_NO_AGENT, O_KEY_DIR, O_JSON };
    static const struct option longopts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"user", required_argument, NULL, O_USER},
        {"ttl", required_argument, NULL, O_TTL},
        {"principals", required_argument, NULL, O_PRINCIPALS},
        {"ca-cert", required_argument, NULL, O_CA_CERT},
        {"password-stdin", no_argument, NULL, O_PWSTDIN},
        {"totp", required_argument, NULL, O_TOTP},
        {"no-agent", no_argument, NULL, O_NO_AGENT},
        {"key-dir", required_argument, NULL, O_KEY_DIR},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_SERVER: o->server = optarg; break;
        case O_USER: o->user = optarg; break;
        case O_TTL: o->ttl = optarg; break;
        case O_PRINCIPALS: o->principals = optarg; break;
        case O_CA_CERT: o->ca_cert = optarg; break;
        case O_PWSTDIN: o->password_stdin = 1; break;
        case O_TOTP: o->totp = optarg; break;
        case O_NO_AGENT: o->no_agent = 1; break;
        case O_KEY_DIR: o->key_dir = optarg; break;
        case O_JSON: o->json = 1; break;
        case 'h': help_print(stdout, "login"); return -1;
        default: return cmd_bad_option("login", c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("login", "unexpected argument \"%.64s\"", argv[optind]);
    return 0;
}

/* Principals as the user typed them: names separated by commas, none empty, at most
 * SSHCERT_MAX_PRINCIPALS. The server checks them against the user's. */
static int
check_principals(const char *list)
{
    const char *p;
    size_t n = 1, len = 0;

    for (p = list; *p != '\0'; p++) {
        if (*p == ',') {
            if (len == 0)
                return -1;
            n++;
            len = 0;
        } else if (iscntrl((unsigned char)*p) || *p == ' ' ||
                   ++len > SSHCERT_MAX_PRINCIPAL_LEN) {
            return -1;
        }
    }
    return len == 0 || n > SSHCERT_MAX_PRINCIPALS ? -1 : 0;
}

static int
check_code(char *code)
{
    size_t i;

    prompt_squeeze_code(code);
    if (code[0] == '\0')
        return out_fail(SSHCERT_EXIT_USAGE, "no TOTP code given");
    for (i = 0; code[i] != '\0'; i++)
        if (!isdigit((unsigned char)code[i]))
            break;
    if (code[i] != '\0' || i < 6 || i > 10)
        return out_fail(SSHCERT_EXIT_USAGE, "the TOTP code must be 6 to 10 digits");
    return 0;
}

static void
secrets_free(struct secrets *s)
{
    sshcert_secmem_free(s->password);
    sshcert_secmem_free(s->totp);
    s->password = s->totp = NULL;
}

/* The password (then the code, unless --totp) from stdin, or from the terminal. 0, or an exit
 * code after printing the reason. */
static int
read_secrets(const struct login_opts *o, const char *user, struct secrets *s)
{
    char prompt[128];
    int r;

    memset(s, 0, sizeof(*s));
    if (o->password_stdin) {
        r = sshcert_line_read(STDIN_FILENO, SSHCERT_MAX_PASSWORD, &s->password);
        if (r == SSHCERT_ERR_NOT_FOUND)
            return out_fail(SSHCERT_EXIT_USAGE, "--password-stdin: stdin is empty");
    } else {
        snprintf(prompt, sizeof(prompt), "Password for %.64s: ", user);
        r = prompt_tty(prompt, 0, SSHCERT_MAX_PASSWORD, &s->password);
        if (r == SSHCERT_ERR_NOT_FOUND)
            return out_fail(SSHCERT_EXIT_USAGE,
                "no terminal to ask for the password: use --password-stdin");
    }
    if (r == SSHCERT_ERR_TOO_LARGE)
        return out_fail(SSHCERT_EXIT_USAGE, "password longer than %u bytes", SSHCERT_MAX_PASSWORD);
    if (r == SSHCERT_ERR_INVALID_FORMAT)
        return out_fail(SSHCERT_EXIT_USAGE, "the password contains a NUL byte");
    if (r != 0)
        return out_fail(SSHCERT_EXIT_USAGE, "no password read");
    if (s->password[0] == '\0')
        return out_fail(SSHCERT_EXIT_USAGE, "empty password");

    if (o->totp != NULL) {
        if ((s->totp = sshcert_secmem_alloc(strlen(o->totp) + 1)) == NULL)
            return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        memcpy(s->totp, o->totp, strlen(o->totp) + 1);
    } else if (o->password_stdin) {
        r = sshcert_line_read(STDIN_FILENO, PROMPT_MAX_TOTP, &s->totp);
        if (r == SSHCERT_ERR_NOT_FOUND)
            return out_fail(SSHCERT_EXIT_USAGE,
                "--password-stdin: expected the TOTP code on the line after the password "
                "(or use --totp)");
    } else {
        r = prompt_tty("TOTP code: ", 1, PROMPT_MAX_TOTP, &s->totp);
    }
    if (r == SSHCERT_ERR_TOO_LARGE || r == SSHCERT_ERR_INVALID_FORMAT)
        return out_fail(SSHCERT_EXIT_USAGE, "the TOTP code must be 6 to 10 digits");
    if (r != 0)
        return out_fail(SSHCERT_EXIT_USAGE, "no TOTP code read");
    return check_code(s->totp);
}

/* The certificate the server returned must be a valid user certificate for our new key,
 * signed by the CA key /v1/ca showed. 0, or an exit code after printing the reason. */
static int
verify_cert(const char *line, const struct sshcert_pubkey *ours, const struct api_ca *ca,
    uint64_t now, struct sshcert_cert **out)
{
    struct sshcert_cert *c = NULL;
    char when[64];
    int r;

    *out = NULL;
    if ((r = sshcert_cert_parse_line(line, strlen(line), &c, NULL)) != 0) {
        r = out_fail(SSHCERT_EXIT_ERROR, "the server's certificate does not parse: %s",
            sshcert_err_str(r));
        goto out;
    }
    r = SSHCERT_EXIT_ERROR;
    if (sshcert_cert_type(c) != SSHCERT_CERT_TYPE_USER) {
        out_fail(r, "the server returned a host certificate, not a user certificate");
        goto out;
    }
    if (!sshcert_pubkey_equal(sshcert_cert_key(c), ours)) {
        out_fail(r, "the server's certificate is for another key than the one just made");
        goto out;
    }
    if (!sshcert_pubkey_equal(sshcert_cert_ca_key(c), &ca->key)) {
        out_fail(r, "the server's certificate is signed by another key than the CA's (%s)",
            ca->fp);
        goto out;
    }
    if (sshcert_cert_verify(c) != 0) {
        out_fail(r, "the server's certificate has a bad signature");
        goto out;
    }
    if (sshcert_cert_principal_count(c) == 0) {
        out_fail(r, "the server's certificate has no principals");
        goto out;
    }
    switch (sshcert_cert_check_time(c, now)) {
    case 0:
        break;
    case SSHCERT_ERR_NOT_YET_VALID:
        out_local_time(sshcert_cert_valid_after(c), when, sizeof(when));
        out_warn("the certificate is valid only from %s: is this machine's clock right?", when);
        break;
    default:
        out_fail(r, "the server's certificate has already expired: is this machine's clock "
            "right?");
        goto out;
    }
    *out = c;
    c = NULL;
    r = 0;
out:
    sshcert_cert_free(c);
    return r;
}

/* Replaces our identities in the agent. Returns what happened, for --json; failures are
 * warnings, never fatal: the key files are already in place. */
static const char *
update_agent(const struct login_opts *o, const struct keydir_keys *old,
    const struct sshcert_privkey *key, const struct sshcert_cert *cert, const char *user,
    const struct keydir *kd)
{
    const char *sock = getenv("SSH_AUTH_SOCK");
    struct sshcert_agent *a = NULL;
    const uint8_t *blob = NULL;
    size_t blen = 0;
    unsigned removed = 0;
    const char *what = "added";
    int r;

    if (o->no_agent)
        return "skipped";
    if (sock == NULL || *sock == '\0')
        return "none";
    if ((r = sshcert_agent_connect(NULL, &a)) == SSHCERT_ERR_PERMISSIONS) {
        /* The new private key goes only to an agent of our own. */
        out_warn(IDENT_AGENT_NOT_OURS "the key was not given to it; use the key files "
                                      "(ssh -i %s)",
            sock, kd->key);
        return "unavailable";
    }
    if (r != 0) {
        out_warn("no ssh-agent answers at %s; use the key files (ssh -i %s)", sock, kd->key);
        return "unavailable";
    }
    r = ident_add(a, key, cert, user, (uint64_t)time(NULL));
    if (r == SSHCERT_ERR_AGENT) {
        out_warn("the ssh-agent at %s refused the certificate (gpg-agent and gnome-keyring do); "
            "use the key files (ssh -i %s)", sock, kd->key);
        what = "refused";
    } else if (r != 0) {
        out_warn("could not add the certificate to ssh-agent: %s; use the key files (ssh -i %s)",
            sshcert_err_str(r), kd->key);
        what = "unavailable";
    } else {
        (void)sshcert_cert_blob(cert, &blob, &blen);
    }
    /* The previous key's identities go either way: its files were just replaced. Only that
     * key's: what another key dir or another CA added stays (ident.h). */
    if ((r = ident_remove_ours(a, old, blob, blen, &removed)) != 0)
        out_warn("could not remove the previous sshcert identity from ssh-agent: %s",
            sshcert_err_str(r));
    sshcert_agent_close(a);
    return what;
}

static int
print_result(const struct login_opts *o, const struct sshcert_cert *cert,
    const struct keydir *kd, const char *agent, uint64_t now)
{
    json_t *j;

    if (!o->json) {
        summary_print_line(stdout, "logged in: ", cert, now, "");
        return fflush(stdout) == 0 ? 0 : out_fail(SSHCERT_EXIT_ERROR, "cannot write to stdout");
    }
    if ((j = summary_json(cert, now)) == NULL ||
        json_object_set_new(j, "key_file", json_string(kd->key)) != 0 ||
        json_object_set_new(j, "certificate_file", json_string(kd->cert)) != 0 ||
        json_object_set_new(j, "agent", json_string(agent)) != 0) {
        json_decref(j);
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    }
    return summary_emit_json(j);
}

int
cmd_login(int argc, char **argv)
{
    struct login_opts o;
    struct cfg cfg;
    struct keydir kd = {0};
    struct keydir_keys old = {0};
    struct http_client http = {0};
    struct api_ca ca = {0};
    struct secrets sec = {0};
    struct api_issue_req req;
    struct sshcert_privkey *key = NULL;
    struct sshcert_pubkey pub;
    struct sshcert_cert *cert = NULL;
    char *login_name = NULL, *pub_line = NULL, *cert_line = NULL, *stored_line = NULL;
    char comment[IDENT_MAX_COMMENT];
    const char *server, *user, *ca_cert, *agent;
    uint64_t ttl = 0, now;
    int r;

    memset(&cfg, 0, sizeof(cfg));
    if ((r = parse_opts(argc, argv, &o)) != 0)
        return r < 0 ? SSHCERT_EXIT_OK : r;
    /* 1. settle the parameters: flags, then environment, then the config file */
    if ((r = cfg_load(&cfg)) != 0)
        goto out;
    server = o.server != NULL ? o.server : cfg.server;
    if (server == NULL) {
        r = cmd_usage("login", "no server: use --server URL, SSHCERT_SERVER or `server = URL` "
            "in %s", cfg.path != NULL ? cfg.path : "~/.config/sshcert/config");
        goto out;
    }
    user = o.user != NULL ? o.user : cfg.user;
    if (user == NULL && (user = login_name = cfg_login_name()) == NULL) {
        r = cmd_usage("login", "no user name: use --user NAME or SSHCERT_USER");
        goto out;
    }
    if (o.ttl != NULL && cfg_parse_duration(o.ttl, &ttl) != 0) {
        r = cmd_usage("login", "--ttl: expected a duration like 90s, 15m, 1h or whole seconds");
        goto out;
    }
    if (o.ttl == NULL)
        ttl = cfg.ttl;
    if (o.principals != NULL && check_principals(o.principals) != 0) {
        r = cmd_usage("login", "--principals: expected names separated by commas");
        goto out;
    }
    ca_cert = o.ca_cert != NULL ? o.ca_cert : cfg.ca_cert;
    if (ca_cert != NULL && access(ca_cert, R_OK) != 0) {
        r = cmd_usage("login", "cannot read the CA file %s: %s", ca_cert, strerror(errno));
        goto out;
    }
    if ((r = keydir_init(&kd, o.key_dir)) != 0 ||
        (r = http_client_init(&http, server, ca_cert)) != 0)
        goto out;
    if (!http_channel_trusted(&http)) {
        r = out_fail(SSHCERT_EXIT_USAGE, "refusing to send credentials over plain http:// to a "
            "host that is not loopback; use https://");
        goto out;
    }
    /* 2. what can fail without a password fails first: the key dir, then the server */
    if ((r = keydir_open(&kd)) != 0 || (r = api_get_ca(&http, &ca)) != 0)
        goto out;
    /* 3. credentials */
    if ((r = read_secrets(&o, user, &sec)) != 0)
        goto out;
    /* 4. a fresh key pair, certified */
    r = SSHCERT_EXIT_ERROR;
    snprintf(comment, sizeof(comment), "%s%.64s", IDENT_COMMENT_PREFIX, user);
    if (sshcert_privkey_generate(&key) != 0 || sshcert_privkey_set_comment(key, comment) != 0) {
        out_fail(r, "cannot make a key pair");
        goto out;
    }
    sshcert_privkey_public(key, &pub);
    if (sshcert_pubkey_to_line(&pub, comment, &pub_line) != 0) {
        out_fail(r, "out of memory");
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.username = user;
    req.password = sec.password;
    req.totp = sec.totp;
    req.public_key = pub_line;
    req.ttl = ttl;
    req.principals = o.principals;
    r = api_issue(&http, &req, &cert_line);
    secrets_free(&sec); /* checked or refused: either way no longer needed */
    if (r != 0)
        goto out;
    now = (uint64_t)time(NULL);
    if ((r = verify_cert(cert_line, &pub, &ca, now, &cert)) != 0)
        goto out;
    /* 5. the files: remember which key the old ones held, for the agent clean-up */
    keydir_keys(&kd, &old);
    if (sshcert_cert_to_line(cert, comment, &stored_line) != 0) {
        r = out_fail(SSHCERT_EXIT_ERROR, "out of memory");
        goto out;
    }
    if ((r = keydir_write(&kd, key, pub_line, stored_line)) != 0)
        goto out;
    /* 6. the agent */
    agent = update_agent(&o, &old, key, cert, user, &kd);
    /* 7. tell */
    r = print_result(&o, cert, &kd, agent, now);
out:
    secrets_free(&sec);
    sshcert_privkey_free(key);
    sshcert_cert_free(cert);
    free(pub_line);
    free(cert_line);
    free(stored_line);
    free(login_name);
    api_ca_free(&ca);
    http_client_free(&http);
    keydir_free(&kd);
    cfg_free(&cfg);
    return r;
}
