/*
 * cert commands:
 *   sign CA_PRIV USER_PUB SERIAL KEYID P1,P2 AFTER BEFORE [-O name=value]... [-E ext]...
 *   show CERTFILE            fields, one per line, and "signature: ok|<error>"
 *   check CERTFILE NOW       "time: ok|<error>"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "err.h"
#include "key.h"
#include "testtool.h"

static int
do_sign(int argc, char **argv)
{
    struct sshcert_privkey *ca = NULL;
    struct sshcert_pubkey cap, uk;
    struct sshcert_cert *c = NULL;
    char *text = NULL, *line = NULL, *p, *save = NULL, *comment = NULL;
    const char *what = "build";
    size_t len;
    int i, r, rc = 1;

    if ((r = sshcert_privkey_load(argv[2], &ca)) != 0) {
        what = "load CA";
        goto out;
    }
    sshcert_privkey_public(ca, &cap);
    text = tt_read_file(argv[3], &len);
    if ((r = sshcert_pubkey_parse_line(text, len, &uk, &comment)) != 0) {
        what = "user key";
        goto out;
    }
    if ((r = sshcert_cert_new(&c)) != 0 || (r = sshcert_cert_set_key(c, &uk)) != 0 ||
        (r = sshcert_cert_set_serial(c, strtoull(argv[4], NULL, 0))) != 0 ||
        (r = sshcert_cert_set_key_id(c, argv[5])) != 0 ||
        (r = sshcert_cert_set_validity(c, strtoull(argv[7], NULL, 0),
             strtoull(argv[8], NULL, 0))) != 0)
        goto out;
    what = "principal";
    for (p = strtok_r(argv[6], ",", &save); p != NULL; p = strtok_r(NULL, ",", &save))
        if ((r = sshcert_cert_add_principal(c, p)) != 0)
            goto out;
    for (i = 9; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-O") == 0) {
            char *eq = strchr(argv[i + 1], '=');
            what = "option";
            if (eq == NULL) {
                r = SSHCERT_ERR_INVALID_ARGUMENT;
                goto out;
            }
            *eq = '\0';
            if ((r = sshcert_cert_set_option(c, argv[i + 1], eq + 1)) != 0)
                goto out;
        } else if (strcmp(argv[i], "-E") == 0) {
            what = "extension";
            if ((r = sshcert_cert_add_extension(c, argv[i + 1])) != 0)
                goto out;
        }
    }
    what = "sign";
    if ((r = sshcert_cert_sign(c, &cap, sshcert_cert_signer_privkey, ca)) != 0)
        goto out;
    what = "format";
    if ((r = sshcert_cert_to_line(c, comment, &line)) != 0)
        goto out;
    printf("%s\n", line);
    rc = 0;
out:
    if (rc != 0)
        tt_fail(what, r);
    free(text);
    free(line);
    free(comment);
    sshcert_cert_free(c);
    sshcert_privkey_free(ca);
    return rc;
}

static int
do_show(const char *path)
{
    struct sshcert_cert *c = NULL;
    char *text, *v, fp[SSHCERT_FP_LEN];
    size_t len, i;
    int r;

    text = tt_read_file(path, &len);
    r = sshcert_cert_parse_line(text, len, &c, NULL);
    free(text);
    if (r != 0)
        return tt_fail("parse", r);
    printf("serial: %" PRIu64 "\n", sshcert_cert_serial(c));
    printf("type: %" PRIu32 "\n", sshcert_cert_type(c));
    printf("key_id: %s\n", sshcert_cert_key_id(c));
    for (i = 0; i < sshcert_cert_principal_count(c); i++)
        printf("principal: %s\n", sshcert_cert_principal(c, i));
    printf("valid_after: %" PRIu64 "\n", sshcert_cert_valid_after(c));
    printf("valid_before: %" PRIu64 "\n", sshcert_cert_valid_before(c));
    for (i = 0; i < sshcert_cert_option_count(c); i++) {
        const char *n = sshcert_cert_option_name(c, i);
        if (sshcert_cert_option_value(c, n, &v) == 0) {
            printf("option: %s=%s\n", n, v);
            free(v);
        } else {
            printf("option: %s\n", n);
        }
    }
    for (i = 0; i < sshcert_cert_extension_count(c); i++)
        printf("extension: %s\n", sshcert_cert_extension_name(c, i));
    sshcert_pubkey_fingerprint(sshcert_cert_key(c), fp);
    printf("key_fp: %s\n", fp);
    sshcert_pubkey_fingerprint(sshcert_cert_ca_key(c), fp);
    printf("ca_fp: %s\n", fp);
    r = sshcert_cert_verify(c);
    printf("signature: %s\n", r == 0 ? "ok" : sshcert_err_str(r));
    sshcert_cert_free(c);
    return r == 0 ? 0 : 1;
}

static int
do_check(const char *path, const char *now)
{
    struct sshcert_cert *c = NULL;
    char *text;
    size_t len;
    int r;

    text = tt_read_file(path, &len);
    r = sshcert_cert_parse_line(text, len, &c, NULL);
    free(text);
    if (r != 0)
        return tt_fail("parse", r);
    r = sshcert_cert_check_time(c, strtoull(now, NULL, 0));
    printf("time: %s\n", r == 0 ? "ok" : sshcert_err_str(r));
    sshcert_cert_free(c);
    return r == 0 ? 0 : 1;
}

int
tt_cert_main(int argc, char **argv)
{
    if (argc >= 9 && strcmp(argv[1], "sign") == 0)
        return do_sign(argc, argv);
    if (argc == 3 && strcmp(argv[1], "show") == 0)
        return do_show(argv[2]);
    if (argc == 4 && strcmp(argv[1], "check") == 0)
        return do_check(argv[2], argv[3]);
    fprintf(stderr, "usage: cert sign|show|check ...\n");
    return 2;
}
