/*
 * pam_sshcert's core (pam/check.h) without libpam: options, the policy files, every check on a
 * certificate with the clock as a parameter, the challenge through a fake signer, the socket
 * rules of connect_as, who may ask (the requester's uids as parameters), and the whole
 * authentication against a fake agent on a Unix socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "buf.h"
#include "cert.h"
#include "check.h"
#include "err.h"
#include "key.h"
#include "krl.h"
#include "secmem.h"

#include "../trusted_dir.h"

#define T0 1700000000u /* the test clock: certificates are valid [T0 - 60, T0 + 3600) */
#define VA (T0 - 60u)
#define VB (T0 + 3600u)

static char dir[80]; /* short: agent sockets go in it (sun_path holds 108 bytes) */
static char me[256]; /* the user running the test: connect_as needs no privileges for it */
static struct sshcert_privkey *ca_key, *ca2_key, *user_key, *other_key;
static struct sshcert_pubkey ca_pub, ca2_pub, user_pub;

/* ---- files ---- */

static char *
path_of(const char *name)
{
    static char p[4][256];
    static int i;

    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static void
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    const char *p = path_of(name);
    FILE *f;

    (void)unlink(p);
    f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(p, mode), 0);
}

static void
write_text(const char *name, const char *text)
{
    write_file(name, text, strlen(text), 0644);
}

static char *
pub_line(const struct sshcert_pubkey *k, const char *comment)
{
    char *line = NULL;

    assert_int_equal(sshcert_pubkey_to_line(k, comment, &line), 0);
    return line;
}

/* A ca_keys file with ca_pub (and ca2_pub when both). */
static void
write_ca_file(const char *name, int both)
{
    char text[1024], *a = pub_line(&ca_pub, "ca"), *b = pub_line(&ca2_pub, "ca2");

    snprintf(text, sizeof(text), "# trusted\n\n%s\r\n%s\n", a, both ? b : "# only one CA");
    write_text(name, text);
    free(a);
    free(b);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* ---- certificates ---- */

struct spec {
    const struct sshcert_privkey *ca; /* default ca_key */
    const struct sshcert_pubkey *key; /* default user_pub */
    uint64_t serial;
    uint32_t type;          /* default user */
    const char *principals; /* comma-separated; default me */
    const char *key_id;
    const char *option; /* a critical option name (value "x") */
    int bad_sig;        /* the CA's signature, with a bit flipped */
};

/* Signs a certificate from s and returns its blob (malloc'd) in *blob. */
static void
make_blob(const struct spec *s, uint8_t **blob, size_t *len)
{
    const struct sshcert_privkey *ca = s->ca != NULL ? s->ca : ca_key;
    struct sshcert_pubkey capub;
    struct sshcert_cert *c = NULL;
    const uint8_t *p;
    char names[512], *tok, *save = NULL;

    sshcert_privkey_public(ca, &capub);
    assert_int_equal(sshcert_cert_new(&c), 0);
    assert_int_equal(sshcert_cert_set_key(c, s->key != NULL ? s->key : &user_pub), 0);
    assert_int_equal(sshcert_cert_set_serial(c, s->serial != 0 ? s->serial : 42), 0);
    assert_int_equal(sshcert_cert_set_type(c, s->type != 0 ? s->type : SSHCERT_CERT_TYPE_USER), 0);
    assert_int_equal(sshcert_cert_set_key_id(c, s->key_id != NULL ? s->key_id : "test-id"), 0);
    snprintf(names, sizeof(names), "%s", s->principals != NULL ? s->principals : me);
    for (tok = strtok_r(names, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
        assert_int_equal(sshcert_cert_add_principal(c, tok), 0);
    assert_int_equal(sshcert_cert_set_validity(c, VA, VB), 0);
    if (s->option != NULL)
        assert_int_equal(sshcert_cert_set_option(c, s->option, "x"), 0);
    assert_int_equal(sshcert_cert_add_extension(c, "permit-pty"), 0);
    assert_int_equal(
        sshcert_cert_sign(c, &capub, sshcert_cert_signer_privkey, (void *)(uintptr_t)ca), 0);
    assert_int_equal(sshcert_cert_blob(c, &p, len), 0);
    *blob = malloc(*len);
    assert_non_null(*blob);
    memcpy(*blob, p, *len);
    /* The blob ends with the 64 raw signature bytes: one flipped bit breaks the signature. */
    if (s->bad_sig)
        (*blob)[*len - 1] ^= 0x01;
    sshcert_cert_free(c);
}

/* The certificate as the module sees it: parsed back from its blob. */
static struct sshcert_cert *
make_cert(const struct spec *s)
{
    struct sshcert_cert *c = NULL;
    uint8_t *blob;
    size_t len;

    make_blob(s, &blob, &len);
    assert_int_equal(sshcert_cert_parse_blob(blob, len, &c), 0);
    free(blob);
    return c;
}

static struct sshcert_agent_identities *
ids_new(void)
{
    struct sshcert_agent_identities *ids = calloc(1, sizeof(*ids));

    assert_non_null(ids);
    ids->ids = calloc(SSHCERT_PAM_MAX_CHALLENGES + 8, sizeof(*ids->ids));
    assert_non_null(ids->ids);
    return ids;
}

static void
ids_add_cert(struct sshcert_agent_identities *ids, const struct spec *s)
{
    struct sshcert_agent_identity *id = &ids->ids[ids->count++];

    make_blob(s, &id->blob, &id->blob_len);
    id->comment = strdup("cert");
}

static void
ids_add_plain(struct sshcert_agent_identities *ids, const struct sshcert_pubkey *k)
{
    struct sshcert_agent_identity *id = &ids->ids[ids->count++];
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_int_equal(sshcert_pubkey_put_blob(b, k), 0);
    id->blob_len = sshcert_buf_len(b);
    id->blob = malloc(id->blob_len);
    memcpy(id->blob, sshcert_buf_ptr(b), id->blob_len);
    id->comment = strdup("plain");
    sshcert_buf_free(b);
}

/* ---- a fake signer and a log that remembers ---- */

struct signer {
    const struct sshcert_privkey *key; /* signs with this key */
    int fail;                          /* return this instead */
    int calls;
    uint8_t data[64];
    size_t data_len;
};

static int
fake_sign(void *ctx, const uint8_t *blob, size_t blob_len, const uint8_t *data, size_t data_len,
    uint8_t sig[SSHCERT_ED25519_SIG_LEN])
{
    struct signer *s = ctx;

    (void)blob;
    (void)blob_len;
    s->calls++;
    s->data_len = data_len;
    memcpy(s->data, data, data_len < sizeof(s->data) ? data_len : sizeof(s->data));
    if (s->fail != 0)
        return s->fail;
    return sshcert_privkey_sign(s->key, data, data_len, sig);
}

struct notes {
    char text[4096];
    int info, debug;
};

static void
remember(void *ctx, int prio, const char *msg)
{
    struct notes *n = ctx;
    size_t used = strlen(n->text);

    if (prio == LOG_DEBUG)
        n->debug++;
    else
        n->info++;
    snprintf(n->text + used, sizeof(n->text) - used, "%s\n", msg);
}

/* ---- config helpers ---- */

static struct sshcert_pam_config *
load(const char *const *argv, int argc, const char *user, int want, struct sshcert_pam_result *res)
{
    struct sshcert_pam_opts o;
    struct sshcert_pam_config *cfg = NULL;
    const char *bad = NULL;

    assert_int_equal(sshcert_pam_parse_opts(argc, (const char **)(uintptr_t)argv, &o, &bad), 0);
    assert_int_equal(sshcert_pam_config_load(&o, user, &cfg, res), want);
    if (want != 0) {
        assert_null(cfg);
        assert_int_equal(res->stage, SSHCERT_PAM_STAGE_CONFIG);
        assert_true(strlen(res->reason) > 0);
    } else {
        assert_non_null(cfg);
    }
    return cfg;
}

/* The usual policy: ca_pub trusted, optionally a KRL and a principals option. */
static struct sshcert_pam_config *
policy(const char *principals, const char *krl_name)
{
    struct sshcert_pam_result res;
    char a[300], b[300], c[300];
    const char *argv[3];
    int argc = 0;

    write_ca_file("ca.pub", 0);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    argv[argc++] = a;
    if (krl_name != NULL) {
        snprintf(b, sizeof(b), "revoked_keys=%s", path_of(krl_name));
        argv[argc++] = b;
    }
    if (principals != NULL) {
        snprintf(c, sizeof(c), "principals=%s", principals);
        argv[argc++] = c;
    }
    return load(argv, argc, me, 0, &res);
}

/* ---- options ---- */

static void
test_opts_default(void **state)
{
    const char *argv[] = {"ca_keys=/etc/ssh/sshcert_ca.pub"};
    struct sshcert_pam_opts o;
    const char *bad = "x";

    (void)state;
    assert_int_equal(sshcert_pam_parse_opts(1, argv, &o, &bad), 0);
    assert_null(bad);
    assert_string_equal(o.ca_keys, "/etc/ssh/sshcert_ca.pub");
    assert_null(o.revoked_keys);
    assert_string_equal(o.principals, "%u");
    assert_false(o.principals_file);
    assert_false(o.debug);
}

static void
test_opts_all(void **state)
{
    const char *argv[] = {"debug", "principals=file:/etc/ssh/principals/%u",
        "revoked_keys=/etc/ssh/sshcert.krl", "ca_keys=/ca.pub"};
    const char *list[] = {"ca_keys=/ca.pub", "principals=%u,admin-%u,100%%"};
    struct sshcert_pam_opts o;
    const char *bad;

    (void)state;
    assert_int_equal(sshcert_pam_parse_opts(4, argv, &o, &bad), 0);
    assert_string_equal(o.ca_keys, "/ca.pub");
    assert_string_equal(o.revoked_keys, "/etc/ssh/sshcert.krl");
    assert_string_equal(o.principals, "/etc/ssh/principals/%u");
    assert_true(o.principals_file);
    assert_true(o.debug);
    assert_int_equal(sshcert_pam_parse_opts(2, list, &o, &bad), 0);
    assert_string_equal(o.principals, "%u,admin-%u,100%%");
    assert_false(o.principals_file);
}

static void
test_opts_refused(void **state)
{
    static const char *const bad_args[] = {"alwaysok", "nullok", "ca_keys=", "ca_keys=rel.pub",
        "revoked_keys=", "revoked_keys=krl", "principals=", "principals=a,,b", "principals=,a",
        "principals=a,", "principals=%h", "principals=%", "principals=a%",
        "principals=file:", "principals=file:rel/%u", "principals=file:/p/%h", "debug=1",
        "CA_KEYS=/ca.pub", "ca_keys", ""};
    struct sshcert_pam_opts o;
    const char *argv[2], *bad;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++) {
        argv[0] = "ca_keys=/ca.pub";
        argv[1] = bad_args[i];
        if (strncmp(bad_args[i], "ca_keys=", 8) == 0)
            argv[0] = "debug";
        bad = NULL;
        assert_int_equal(sshcert_pam_parse_opts(2, argv, &o, &bad), SSHCERT_ERR_INVALID_ARGUMENT);
        assert_ptr_equal(bad, argv[1]);
        assert_null(o.ca_keys);
    }
    /* Repeats are refused: a second ca_keys must not silently replace the first. */
    argv[0] = "ca_keys=/a.pub";
    argv[1] = "ca_keys=/b.pub";
    assert_int_equal(sshcert_pam_parse_opts(2, argv, &o, &bad), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_ptr_equal(bad, argv[1]);
    argv[0] = "debug";
    argv[1] = "debug";
    assert_int_equal(sshcert_pam_parse_opts(2, argv, &o, &bad), SSHCERT_ERR_INVALID_ARGUMENT);
    /* ca_keys is required. */
    assert_int_equal(sshcert_pam_parse_opts(1, argv, &o, &bad), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_string_equal(bad, "ca_keys=FILE is required");
    assert_int_equal(sshcert_pam_parse_opts(0, NULL, &o, &bad), SSHCERT_ERR_INVALID_ARGUMENT);
}

/* ---- configuration files ---- */

static void
test_config_ca_keys(void **state)
{
    struct sshcert_pam_result res;
    struct sshcert_pam_config *cfg;
    char arg[300], text[2048], *a = pub_line(&ca_pub, "one"), *b = pub_line(&ca2_pub, NULL);
    const char *argv[] = {arg};

    (void)state;
    snprintf(arg, sizeof(arg), "ca_keys=%s", path_of("cas.pub"));
    /* Comments, blank lines, CRLF, indentation and an RSA CA (skipped) around two keys. */
    snprintf(text, sizeof(text),
        "# CAs\n\n   %s\r\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDf rsa\n\t%s\n# end", a, b);
    write_text("cas.pub", text);
    cfg = load(argv, 1, me, 0, &res);
    assert_int_equal(sshcert_pam_config_ca_count(cfg), 2);
    assert_int_equal(sshcert_pam_config_allowed_count(cfg), 1);
    sshcert_pam_config_free(cfg);

    /* A broken line fails the whole file rather than being skipped. */
    snprintf(text, sizeof(text), "%s\nssh-ed25519 AAAA!!notbase64\n", a);
    write_text("cas.pub", text);
    load(argv, 1, me, SSHCERT_ERR_INVALID_FORMAT, &res);
    assert_non_null(strstr(res.reason, "line 2"));
    /* Only keys of other types: nothing to trust. */
    write_text("cas.pub", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDf rsa\n");
    load(argv, 1, me, SSHCERT_ERR_NOT_FOUND, &res);
    assert_non_null(strstr(res.reason, "no ssh-ed25519 key (1 of other types skipped)"));
    write_text("cas.pub", "");
    load(argv, 1, me, SSHCERT_ERR_NOT_FOUND, &res);
    /* A NUL byte is not text. */
    write_file("cas.pub", "ssh-ed25519\0AAAA\n", 17, 0644);
    load(argv, 1, me, SSHCERT_ERR_INVALID_FORMAT, &res);
    /* Writable by group or others, or not a regular file: refused. */
    write_text("cas.pub", a);
    assert_int_equal(chmod(path_of("cas.pub"), 0664), 0);
    load(argv, 1, me, SSHCERT_ERR_PERMISSIONS, &res);
    assert_non_null(strstr(res.reason, "not writable by group or others"));
    assert_int_equal(chmod(path_of("cas.pub"), 0646), 0);
    load(argv, 1, me, SSHCERT_ERR_PERMISSIONS, &res);
    assert_int_equal(chmod(path_of("cas.pub"), 0600), 0);
    sshcert_pam_config_free(load(argv, 1, me, 0, &res));
    snprintf(arg, sizeof(arg), "ca_keys=%s", dir);
    load(argv, 1, me, SSHCERT_ERR_INVALID_FORMAT, &res);
    assert_non_null(strstr(res.reason, "is not a regular file"));
    snprintf(arg, sizeof(arg), "ca_keys=%s", path_of("missing.pub"));
    load(argv, 1, me, SSHCERT_ERR_NOT_FOUND, &res);
    assert_non_null(strstr(res.reason, "cannot open ca_keys"));
    free(a);
    free(b);
}

/* The policy files go through lib/file's checked read: what is not a regular file fails
 * (a FIFO without waiting for a writer), and a symbolic link is followed with the rules
 * applied to its target. */
static void
test_config_file_kinds(void **state)
{
    struct sshcert_pam_result res;
    char arg[300], want[600];
    const char *argv[] = {arg};

    (void)state;
    assert_int_equal(mkfifo(path_of("cas.fifo"), 0644), 0);
    snprintf(arg, sizeof(arg), "ca_keys=%s", path_of("cas.fifo"));
    alarm(5); /* kills the test, a failure, if opening the FIFO waits */
    load(argv, 1, me, SSHCERT_ERR_INVALID_FORMAT, &res);
    alarm(0);
    snprintf(want, sizeof(want), "ca_keys %s is not a regular file", path_of("cas.fifo"));
    assert_string_equal(res.reason, want);
    (void)unlink(path_of("cas.fifo"));

    write_ca_file("linked.pub", 0);
    (void)unlink(path_of("cas.link"));
    assert_int_equal(symlink(path_of("linked.pub"), path_of("cas.link")), 0);
    snprintf(arg, sizeof(arg), "ca_keys=%s", path_of("cas.link"));
    sshcert_pam_config_free(load(argv, 1, me, 0, &res));
    assert_int_equal(chmod(path_of("linked.pub"), 0664), 0);
    load(argv, 1, me, SSHCERT_ERR_PERMISSIONS, &res);
    snprintf(want, sizeof(want),
        "ca_keys %s must be owned by root and not writable by group or others",
        path_of("cas.link"));
    assert_string_equal(res.reason, want);
    (void)unlink(path_of("cas.link"));
}

static void
test_config_caps(void **state)
{
    struct sshcert_pam_result res;
    struct sshcert_pam_config *cfg;
    struct sshcert_pubkey k;
    char arg[300], *line, *text;
    const char *argv[] = {arg};
    size_t i, used = 0, cap = 128u * (SSHCERT_PAM_MAX_CA_KEYS + 1);

    (void)state;
    snprintf(arg, sizeof(arg), "ca_keys=%s", path_of("many.pub"));
    text = malloc(SSHCERT_PAM_MAX_FILE + 2);
    assert_non_null(text);
    /* SSHCERT_PAM_MAX_CA_KEYS keys load; one more is refused. */
    for (i = 0; i < SSHCERT_PAM_MAX_CA_KEYS + 1; i++) {
        randombytes_buf(k.pk, sizeof(k.pk));
        line = pub_line(&k, NULL);
        used += (size_t)snprintf(text + used, cap - used, "%s\n", line);
        free(line);
        if (i + 1 == SSHCERT_PAM_MAX_CA_KEYS) {
            write_file("many.pub", text, used, 0644);
            cfg = load(argv, 1, me, 0, &res);
            assert_int_equal(sshcert_pam_config_ca_count(cfg), SSHCERT_PAM_MAX_CA_KEYS);
            sshcert_pam_config_free(cfg);
        }
    }
    write_file("many.pub", text, used, 0644);
    load(argv, 1, me, SSHCERT_ERR_TOO_LARGE, &res);

    /* A file of exactly SSHCERT_PAM_MAX_FILE bytes is read; one byte more is not. */
    line = pub_line(&ca_pub, NULL);
    used = (size_t)snprintf(text, SSHCERT_PAM_MAX_FILE, "%s\n#", line);
    memset(text + used, 'x', SSHCERT_PAM_MAX_FILE - used);
    text[SSHCERT_PAM_MAX_FILE - 1] = '\n';
    write_file("many.pub", text, SSHCERT_PAM_MAX_FILE, 0644);
    cfg = load(argv, 1, me, 0, &res);
    assert_int_equal(sshcert_pam_config_ca_count(cfg), 1);
    sshcert_pam_config_free(cfg);
    text[SSHCERT_PAM_MAX_FILE] = '\n';
    write_file("many.pub", text, SSHCERT_PAM_MAX_FILE + 1, 0644);
    load(argv, 1, me, SSHCERT_ERR_TOO_LARGE, &res);
    free(line);
    free(text);
}

static void
write_krl(const char *name, const struct sshcert_pubkey *ca, uint64_t serial)
{
    struct sshcert_krl *k = NULL;
    struct sshcert_buf *b = sshcert_buf_new(0);

    assert_int_equal(sshcert_krl_new(ca, &k), 0);
    if (serial != 0)
        assert_int_equal(sshcert_krl_revoke_serial(k, serial), 0);
    assert_int_equal(sshcert_krl_to_blob(k, b), 0);
    write_file(name, sshcert_buf_ptr(b), sshcert_buf_len(b), 0644);
    sshcert_buf_free(b);
    sshcert_krl_free(k);
}

static void
test_config_krl(void **state)
{
    struct sshcert_pam_result res;
    char a[300], b[300];
    const char *argv[] = {a, b};

    (void)state;
    write_ca_file("ca.pub", 0);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    snprintf(b, sizeof(b), "revoked_keys=%s", path_of("krl"));
    write_krl("krl", &ca_pub, 7);
    sshcert_pam_config_free(load(argv, 2, me, 0, &res));
    write_file("krl", "", 0, 0644); /* 0 bytes: revokes nothing, as in sshd */
    sshcert_pam_config_free(load(argv, 2, me, 0, &res));
}

static void
test_config_krl_errors(void **state)
{
    struct sshcert_pam_opts o;
    struct sshcert_pam_result res;
    struct sshcert_pam_config *cfg = NULL;
    static const uint8_t junk[] = {0x53, 0x53, 0x48, 0x4b, 0x52, 0x4c, 1, 2, 3};
    char a[300], b[300];
    const char *argv[] = {a, b}, *bad;

    (void)state;
    write_ca_file("ca.pub", 0);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    snprintf(b, sizeof(b), "revoked_keys=%s", path_of("krl"));
    assert_int_equal(sshcert_pam_parse_opts(2, argv, &o, &bad), 0);
    write_file("krl", junk, sizeof(junk), 0644);
    assert_int_not_equal(sshcert_pam_config_load(&o, me, &cfg, &res), 0);
    assert_null(cfg);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_CONFIG);
    assert_non_null(strstr(res.reason, "is not a usable KRL"));
    write_file("krl", "not a krl at all\n", 17, 0644);
    assert_int_not_equal(sshcert_pam_config_load(&o, me, &cfg, &res), 0);
    assert_int_equal(unlink(path_of("krl")), 0);
    assert_int_equal(sshcert_pam_config_load(&o, me, &cfg, &res), SSHCERT_ERR_NOT_FOUND);
    assert_non_null(strstr(res.reason, "cannot open revoked_keys"));
    write_krl("krl", &ca_pub, 7);
    assert_int_equal(chmod(path_of("krl"), 0666), 0);
    assert_int_equal(sshcert_pam_config_load(&o, me, &cfg, &res), SSHCERT_ERR_PERMISSIONS);
}

static void
test_config_principals(void **state)
{
    struct sshcert_pam_result res;
    struct sshcert_pam_config *cfg;
    char a[300], b[300], text[600];
    const char *argv[] = {a, b};

    (void)state;
    write_ca_file("ca.pub", 0);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    snprintf(b, sizeof(b), "principals=%%u,admin-%%u,ops");
    cfg = load(argv, 2, "alice", 0, &res);
    assert_int_equal(sshcert_pam_config_allowed_count(cfg), 3);
    sshcert_pam_config_free(cfg);

    /* A file per user, found through %u. */
    assert_int_equal(mkdir(path_of("pr"), 0755), 0);
    snprintf(b, sizeof(b), "principals=file:%s/%%u", path_of("pr"));
    write_text("pr/alice", "# who may sudo\n\n  ops  \r\nadmins\n\t# indented comment\nlast");
    cfg = load(argv, 2, "alice", 0, &res);
    assert_int_equal(sshcert_pam_config_allowed_count(cfg), 3);
    sshcert_pam_config_free(cfg);
    load(argv, 2, "bob", SSHCERT_ERR_NOT_FOUND, &res);
    assert_non_null(strstr(res.reason, "pr/bob"));
    /* A user name must not lead the path elsewhere. */
    load(argv, 2, "../alice", SSHCERT_ERR_INVALID_ARGUMENT, &res);
    load(argv, 2, "..", SSHCERT_ERR_INVALID_ARGUMENT, &res);
    /* sshd's key options in front of a name are not implemented: the file is refused. */
    write_text("pr/alice", "from=\"10.0.0.0/8\" ops\n");
    load(argv, 2, "alice", SSHCERT_ERR_INVALID_FORMAT, &res);
    assert_non_null(strstr(res.reason, "line 1"));
    write_text("pr/alice", "a,b\n");
    load(argv, 2, "alice", SSHCERT_ERR_INVALID_FORMAT, &res);
    /* As in sshd's AuthorizedPrincipalsFile, '#' starts a comment anywhere on a line: a
     * comment with blanks and commas after a name leaves the name. */
    write_text("pr/alice", "ops   # the ops team, and a,b\nadmins#x\n\t#\n#\nlast\t#\n");
    cfg = load(argv, 2, "alice", 0, &res);
    assert_int_equal(sshcert_pam_config_allowed_count(cfg), 3);
    sshcert_pam_config_free(cfg);
    write_text("pr/alice", "  # only a comment\n#ops\n");
    load(argv, 2, "alice", SSHCERT_ERR_NOT_FOUND, &res);
    write_text("pr/alice", "a b # two names\n");
    load(argv, 2, "alice", SSHCERT_ERR_INVALID_FORMAT, &res);
    write_text("pr/alice", "# nobody\n\n");
    load(argv, 2, "alice", SSHCERT_ERR_NOT_FOUND, &res);
    assert_non_null(strstr(res.reason, "lists no principal"));
    /* The longest principal name fits; one byte more does not. */
    memset(text, 'p', SSHCERT_MAX_PRINCIPAL_LEN + 1);
    text[SSHCERT_MAX_PRINCIPAL_LEN] = '\n';
    text[SSHCERT_MAX_PRINCIPAL_LEN + 1] = '\0';
    write_text("pr/alice", text);
    sshcert_pam_config_free(load(argv, 2, "alice", 0, &res));
    text[SSHCERT_MAX_PRINCIPAL_LEN] = 'p';
    text[SSHCERT_MAX_PRINCIPAL_LEN + 1] = '\n';
    text[SSHCERT_MAX_PRINCIPAL_LEN + 2] = '\0';
    write_text("pr/alice", text);
    load(argv, 2, "alice", SSHCERT_ERR_INVALID_FORMAT, &res);
    assert_int_equal(chmod(path_of("pr/alice"), 0620), 0);
    load(argv, 2, "alice", SSHCERT_ERR_PERMISSIONS, &res);
    assert_int_equal(chmod(path_of("pr/alice"), 0644), 0);

    /* SSHCERT_PAM_MAX_ALLOWED principals load, from a file or from the option; one more is
     * refused with its reason. */
    {
        char *many, *opt;
        size_t i, used = 0, cap = 16u * (SSHCERT_PAM_MAX_ALLOWED + 1) + 16;
        const char *argv2[] = {a, NULL};

        assert_non_null(many = malloc(cap));
        assert_non_null(opt = malloc(cap));
        for (i = 0; i < SSHCERT_PAM_MAX_ALLOWED; i++)
            used += (size_t)snprintf(many + used, cap - used, "p%zu\n", i);
        write_text("pr/alice", many);
        cfg = load(argv, 2, "alice", 0, &res);
        assert_int_equal(sshcert_pam_config_allowed_count(cfg), SSHCERT_PAM_MAX_ALLOWED);
        sshcert_pam_config_free(cfg);
        snprintf(many + used, cap - used, "p%zu\n", i);
        write_text("pr/alice", many);
        load(argv, 2, "alice", SSHCERT_ERR_TOO_LARGE, &res);
        assert_string_equal(res.reason, "more than 1024 allowed principals");

        used = (size_t)snprintf(opt, cap, "principals=p0");
        for (i = 1; i < SSHCERT_PAM_MAX_ALLOWED; i++)
            used += (size_t)snprintf(opt + used, cap - used, ",p%zu", i);
        argv2[1] = opt;
        cfg = load(argv2, 2, "alice", 0, &res);
        assert_int_equal(sshcert_pam_config_allowed_count(cfg), SSHCERT_PAM_MAX_ALLOWED);
        sshcert_pam_config_free(cfg);
        snprintf(opt + used, cap - used, ",p%zu", i);
        load(argv2, 2, "alice", SSHCERT_ERR_TOO_LARGE, &res);
        assert_string_equal(res.reason, "more than 1024 allowed principals");
        free(opt);
        free(many);
    }
}

/* Every folder on a policy file's path, links followed, must be root's (or ours) and not
 * writable by group or others, as sshd's StrictModes wants: whoever may write one could pick
 * which root-owned file becomes the list of principals, the CAs or the KRL. */
static void
test_config_folders(void **state)
{
    struct sshcert_pam_result res;
    struct sshcert_pam_config *cfg;
    char a[400], b[400], want[900], gw[200];
    size_t i;
    const char *argv[] = {a, b};

    (void)state;
    write_ca_file("ca.pub", 0);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    assert_int_equal(mkdir(path_of("pd"), 0700), 0);
    assert_int_equal(chmod(path_of("pd"), 0755), 0);
    assert_int_equal(mkdir(path_of("pd/gw"), 0700), 0);
    assert_int_equal(chmod(path_of("pd/gw"), 0775), 0);
    snprintf(gw, sizeof(gw), "%s", path_of("pd/gw"));
    write_text("pd/alice", "ops\n");
    write_text("pd/gw/alice", "ops\n");

    /* A safe folder: read. */
    snprintf(b, sizeof(b), "principals=file:%s/%%u", path_of("pd"));
    cfg = load(argv, 2, "alice", 0, &res);
    assert_int_equal(sshcert_pam_config_allowed_count(cfg), 1);
    sshcert_pam_config_free(cfg);
    /* The principals file in a group-writable folder: refused, naming the folder; sticky and
     * world-writable, as /tmp is: the same. */
    snprintf(b, sizeof(b), "principals=file:%s/%%u", gw);
    for (i = 0; i < 2; i++) {
        static const mode_t modes[] = {0775, 01777};

        assert_int_equal(chmod(gw, modes[i]), 0);
        load(argv, 2, "alice", SSHCERT_ERR_PERMISSIONS, &res);
        snprintf(want, sizeof(want),
            "principals file %s/alice: directory %s is writable by group or others (mode %04o)",
            gw, gw, (unsigned)modes[i]);
        assert_string_equal(res.reason, want);
    }
    assert_int_equal(chmod(gw, 0775), 0);
    /* A link in the writable folder to a folder of safe files (pd/gw/sub -> pd): refused. */
    assert_int_equal(symlink(path_of("pd"), path_of("pd/gw/sub")), 0);
    snprintf(b, sizeof(b), "principals=file:%s/sub/%%u", gw);
    load(argv, 2, "alice", SSHCERT_ERR_PERMISSIONS, &res);
    snprintf(want, sizeof(want),
        "principals file %s/sub/alice: directory %s is writable by group or others (mode 0775)",
        gw, gw);
    assert_string_equal(res.reason, want);
    /* A link in a safe folder through the writable one (pd/via -> pd/gw/sub): refused. */
    assert_int_equal(symlink(path_of("pd/gw/sub"), path_of("pd/via")), 0);
    snprintf(b, sizeof(b), "principals=file:%s/%%u", path_of("pd/via"));
    load(argv, 2, "alice", SSHCERT_ERR_PERMISSIONS, &res);
    snprintf(want, sizeof(want),
        "principals file %s/alice: directory %s is writable by group or others (mode 0775)",
        path_of("pd/via"), gw);
    assert_string_equal(res.reason, want);
    /* ca_keys and revoked_keys go through the same rule. */
    write_ca_file("pd/gw/ca.pub", 0);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("pd/gw/ca.pub"));
    load(argv, 1, "alice", SSHCERT_ERR_PERMISSIONS, &res);
    snprintf(want, sizeof(want),
        "ca_keys %s/ca.pub: directory %s is writable by group or others (mode 0775)", gw, gw);
    assert_string_equal(res.reason, want);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    write_file("pd/gw/krl", "", 0, 0644);
    snprintf(b, sizeof(b), "revoked_keys=%s", path_of("pd/gw/krl"));
    load(argv, 2, "alice", SSHCERT_ERR_PERMISSIONS, &res);
    snprintf(want, sizeof(want),
        "revoked_keys %s/krl: directory %s is writable by group or others (mode 0775)", gw, gw);
    assert_string_equal(res.reason, want);
}

/* ---- certificate checks ---- */

static void
check(struct sshcert_pam_config *cfg, const struct spec *s, uint64_t now, int want)
{
    struct sshcert_pam_result res;
    struct sshcert_cert *c = make_cert(s);

    assert_int_equal(sshcert_pam_check_cert(cfg, c, now, &res), want);
    if (want != 0) {
        assert_int_equal(res.stage, SSHCERT_PAM_STAGE_CHECK);
        assert_true(strlen(res.reason) > 0);
    } else {
        assert_int_equal(res.stage, SSHCERT_PAM_STAGE_NONE);
    }
    sshcert_cert_free(c);
}

static void
test_check_cert_ok(void **state)
{
    struct sshcert_pam_config *cfg = policy(NULL, NULL);
    struct spec s = {.serial = 1234, .key_id = "alice@laptop"};
    struct sshcert_pam_result res;
    struct sshcert_cert *c = make_cert(&s);
    char fp[SSHCERT_FP_LEN];

    (void)state;
    assert_int_equal(sshcert_pam_check_cert(cfg, c, T0, &res), 0);
    assert_int_equal(res.serial, 1234);
    assert_string_equal(res.key_id, "alice@laptop");
    assert_string_equal(res.principal, me);
    assert_int_equal(sshcert_pubkey_fingerprint(&ca_pub, fp), 0);
    assert_string_equal(res.ca_fp, fp);
    assert_int_equal(sshcert_pubkey_fingerprint(&user_pub, fp), 0);
    assert_string_equal(res.key_fp, fp);
    sshcert_cert_free(c);
    sshcert_pam_config_free(cfg);
}

static void
test_check_cert_refusals(void **state)
{
    struct sshcert_pam_config *cfg = policy(NULL, NULL);
    struct spec s;

    (void)state;
    s = (struct spec){.type = SSHCERT_CERT_TYPE_HOST};
    check(cfg, &s, T0, SSHCERT_ERR_CERT_TYPE);
    /* A perfectly signed certificate from a CA that is not listed. */
    s = (struct spec){.ca = ca2_key};
    check(cfg, &s, T0, SSHCERT_ERR_KEY_MISMATCH);
    /* The listed CA's key in the certificate, but a signature that is not its. */
    s = (struct spec){.bad_sig = 1};
    check(cfg, &s, T0, SSHCERT_ERR_SIGNATURE);
    s = (struct spec){.principals = "someone-else"};
    check(cfg, &s, T0, SSHCERT_ERR_PRINCIPAL);
    s = (struct spec){.option = SSHCERT_OPT_FORCE_COMMAND};
    check(cfg, &s, T0, SSHCERT_ERR_UNSUPPORTED);
    s = (struct spec){.option = SSHCERT_OPT_SOURCE_ADDRESS};
    check(cfg, &s, T0, SSHCERT_ERR_UNSUPPORTED);
    s = (struct spec){.principals = "a,b,c"};
    check(cfg, &s, T0, SSHCERT_ERR_PRINCIPAL);
    s = (struct spec){.principals = "a,b"};
    {
        char names[300];

        snprintf(names, sizeof(names), "a,%s,b", me);
        s.principals = names;
        check(cfg, &s, T0, 0);
    }
    sshcert_pam_config_free(cfg);
}

static void
test_check_cert_clock(void **state)
{
    struct sshcert_pam_config *cfg = policy(NULL, NULL);
    struct sshcert_pam_result res;
    struct spec s = {0};
    struct sshcert_cert *c = make_cert(&s);

    (void)state;
    /* valid_after <= now < valid_before, to the second. */
    assert_int_equal(sshcert_pam_check_cert(cfg, c, VA - 1, &res), SSHCERT_ERR_NOT_YET_VALID);
    assert_non_null(strstr(res.reason, "not valid before 2023-11-14 22:12:20 UTC"));
    assert_int_equal(sshcert_pam_check_cert(cfg, c, VA, &res), 0);
    assert_int_equal(sshcert_pam_check_cert(cfg, c, VB - 1, &res), 0);
    assert_int_equal(sshcert_pam_check_cert(cfg, c, VB, &res), SSHCERT_ERR_EXPIRED);
    assert_string_equal(res.reason, "expired at 2023-11-14 23:13:20 UTC");
    assert_int_equal(sshcert_pam_check_cert(cfg, c, UINT64_MAX, &res), SSHCERT_ERR_EXPIRED);
    assert_int_equal(sshcert_pam_check_cert(cfg, c, 0, &res), SSHCERT_ERR_NOT_YET_VALID);
    sshcert_cert_free(c);
    sshcert_pam_config_free(cfg);
}

static void
test_check_cert_krl(void **state)
{
    struct sshcert_pam_config *cfg;
    struct spec s = {.serial = 7};

    (void)state;
    write_krl("krl", &ca_pub, 7);
    cfg = policy(NULL, "krl");
    check(cfg, &s, T0, SSHCERT_ERR_REVOKED);
    s.serial = 8;
    check(cfg, &s, T0, 0);
    sshcert_pam_config_free(cfg);
    /* The same serial revoked for another CA does not touch ours. */
    write_krl("krl", &ca2_pub, 7);
    cfg = policy(NULL, "krl");
    s.serial = 7;
    check(cfg, &s, T0, 0);
    sshcert_pam_config_free(cfg);
    write_file("krl", "", 0, 0644);
    cfg = policy(NULL, "krl");
    check(cfg, &s, T0, 0);
    sshcert_pam_config_free(cfg);
}

static void
test_check_cert_principal_rules(void **state)
{
    struct sshcert_pam_config *cfg;
    struct sshcert_pam_result res;
    struct sshcert_cert *c;
    struct spec s = {0};
    char names[300];

    (void)state;
    cfg = policy("admin-%u", NULL);
    check(cfg, &s, T0, SSHCERT_ERR_PRINCIPAL); /* the plain user name no longer counts */
    snprintf(names, sizeof(names), "admin-%s", me);
    s.principals = names;
    c = make_cert(&s);
    assert_int_equal(sshcert_pam_check_cert(cfg, c, T0, &res), 0);
    assert_string_equal(res.principal, names);
    sshcert_cert_free(c);
    sshcert_pam_config_free(cfg);
    cfg = policy("ops,%u", NULL);
    s.principals = "ops";
    check(cfg, &s, T0, 0);
    s.principals = NULL;
    check(cfg, &s, T0, 0);
    s.principals = "op";
    check(cfg, &s, T0, SSHCERT_ERR_PRINCIPAL);
    s.principals = "OPS";
    check(cfg, &s, T0, SSHCERT_ERR_PRINCIPAL);
    sshcert_pam_config_free(cfg);
}

/* ---- identities and the challenge ---- */

static void
test_identities(void **state)
{
    struct sshcert_pam_config *cfg = policy(NULL, NULL);
    struct sshcert_agent_identities *ids;
    struct sshcert_pam_result res;
    struct signer sg = {.key = user_key};
    struct notes n = {0};
    struct sshcert_pam_log log = {remember, &n, 0};
    uint8_t first[SSHCERT_PAM_CHALLENGE_LEN];
    struct spec good = {.serial = 5, .key_id = "good"};

    (void)state;
    /* Nothing, or nothing but plain keys. */
    ids = ids_new();
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res),
        SSHCERT_ERR_NOT_FOUND);
    assert_string_equal(res.reason, "the agent holds no identities");
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_CHECK);
    ids_add_plain(ids, &user_pub);
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res),
        SSHCERT_ERR_NOT_FOUND);
    assert_non_null(strstr(res.reason, "no ssh-ed25519 certificate (1 other identities)"));
    assert_int_equal(sg.calls, 0);

    /* A good certificate: one challenge of 32 fresh bytes, signed and verified. */
    ids_add_cert(ids, &good);
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res), 0);
    assert_int_equal(res.serial, 5);
    assert_string_equal(res.key_id, "good");
    assert_int_equal(res.identities, 2);
    assert_int_equal(sg.calls, 1);
    assert_int_equal(sg.data_len, SSHCERT_PAM_CHALLENGE_LEN);
    memcpy(first, sg.data, sizeof(first));
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res), 0);
    assert_int_equal(sg.calls, 2);
    assert_memory_not_equal(first, sg.data, sizeof(first));

    /* The agent signs with some other key: the certificate's key did not sign. */
    sg.key = other_key;
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res),
        SSHCERT_ERR_SIGNATURE);
    assert_non_null(strstr(res.reason, "challenge signature does not verify"));
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_CHECK);
    /* The agent refuses to sign. */
    sg.key = user_key;
    sg.fail = SSHCERT_ERR_AGENT;
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res),
        SSHCERT_ERR_AGENT);
    assert_non_null(strstr(res.reason, "did not sign the challenge"));
    sg.fail = 0;
    /* The clock is a parameter: the same agent an hour and a bit later. */
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, VB, &log, &res),
        SSHCERT_ERR_EXPIRED);
    assert_non_null(strstr(res.reason, "certificate serial 5 key id \"good\": expired at"));
    sshcert_agent_identities_free(ids);
    sshcert_pam_config_free(cfg);
}

static void
test_identities_order(void **state)
{
    struct sshcert_pam_config *cfg = policy(NULL, NULL);
    struct sshcert_agent_identities *ids = ids_new();
    struct sshcert_pam_result res;
    struct signer sg = {.key = user_key};
    struct notes n = {0};
    struct sshcert_pam_log log = {remember, &n, 0};
    struct spec untrusted = {.ca = ca2_key, .serial = 1, .key_id = "untrusted"};
    struct spec wrong = {.serial = 2, .key_id = "wrong", .principals = "bob"};
    struct spec host = {.serial = 3, .type = SSHCERT_CERT_TYPE_HOST};
    struct spec good = {.serial = 4, .key_id = "good"};
    char *b64 = NULL;

    (void)state;
    /* Refusals: the one that got furthest (wrong principal) is the answer, whatever the order;
     * the agent is never asked to sign for a refused certificate. */
    ids_add_cert(ids, &untrusted);
    ids_add_cert(ids, &wrong);
    ids_add_cert(ids, &host);
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res),
        SSHCERT_ERR_PRINCIPAL);
    assert_non_null(strstr(res.reason, "certificate serial 2 key id \"wrong\": no principal"));
    assert_int_equal(res.identities, 3);
    assert_int_equal(sg.calls, 0);
    assert_int_equal(n.info, 3);
    assert_int_equal(n.debug, 0);
    assert_non_null(strstr(n.text, "which is not in ca_keys"));
    assert_non_null(strstr(n.text, "a host certificate"));
    /* No key material in what is logged. */
    assert_int_equal(sshcert_buf_to_base64(user_pub.pk, sizeof(user_pub.pk), &b64), 0);
    b64[20] = '\0';
    assert_null(strstr(n.text, b64));
    free(b64);
    /* A good one after them wins. */
    ids_add_cert(ids, &good);
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, &log, &res), 0);
    assert_int_equal(res.serial, 4);
    assert_int_equal(sg.calls, 1);
    /* debug adds notes about skipped identities. */
    n = (struct notes){0};
    log.debug = 1;
    ids_add_plain(ids, &user_pub);
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, VB, &log, &res),
        SSHCERT_ERR_EXPIRED);
    assert_int_equal(n.debug, 1);
    assert_non_null(strstr(n.text, "identity 5 is not an ssh-ed25519 certificate"));
    sshcert_agent_identities_free(ids);
    sshcert_pam_config_free(cfg);
}

static void
test_identities_challenge_cap(void **state)
{
    struct sshcert_pam_config *cfg = policy(NULL, NULL);
    struct sshcert_agent_identities *ids = ids_new();
    struct sshcert_pam_result res;
    struct signer sg = {.key = other_key};
    struct spec s = {0};
    size_t i;

    (void)state;
    /* An agent that offers many good certificates and never signs right is asked
     * SSHCERT_PAM_MAX_CHALLENGES times, no more. */
    for (i = 0; i < SSHCERT_PAM_MAX_CHALLENGES + 1; i++) {
        s.serial = 100 + i;
        ids_add_cert(ids, &s);
    }
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, NULL, &res),
        SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sg.calls, SSHCERT_PAM_MAX_CHALLENGES);
    /* One fewer: every one is tried. */
    sshcert_agent_identities_free(ids);
    ids = ids_new();
    for (i = 0; i < SSHCERT_PAM_MAX_CHALLENGES - 1; i++)
        ids_add_cert(ids, &s);
    sg = (struct signer){.key = other_key};
    assert_int_equal(sshcert_pam_check_identities(cfg, ids, fake_sign, &sg, T0, NULL, &res),
        SSHCERT_ERR_SIGNATURE);
    assert_int_equal(sg.calls, SSHCERT_PAM_MAX_CHALLENGES - 1);
    sshcert_agent_identities_free(ids);
    sshcert_pam_config_free(cfg);
}

/* ---- connect_as ---- */

static int
listen_at(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    (void)unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    return fd;
}

static void
test_connect_paths(void **state)
{
    struct sshcert_agent *a = NULL;
    struct sshcert_pam_result res;
    char longp[200];
    int lfd;

    (void)state;
    memset(&res, 0, sizeof(res));
    assert_int_equal(sshcert_pam_agent_connect_as(NULL, me, geteuid(), getegid(), &a, &res),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_string_equal(res.reason, "SSH_AUTH_SOCK is not set");
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_AGENT);
    assert_int_equal(sshcert_pam_agent_connect_as("", me, geteuid(), getegid(), &a, &res),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(sshcert_pam_agent_connect_as("agent.sock", me, geteuid(), getegid(), &a, &res),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(sshcert_pam_agent_connect_as(longp, me, geteuid(), getegid(), &a, &res),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(
        sshcert_pam_agent_connect_as(path_of("none.sock"), me, geteuid(), getegid(), &a, &res),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_non_null(strstr(res.reason, "No such file or directory"));
    assert_null(a);

    /* Our own socket, as ourselves. */
    lfd = listen_at(path_of("own.sock"));
    assert_int_equal(
        sshcert_pam_agent_connect_as(path_of("own.sock"), me, geteuid(), getegid(), &a, &res), 0);
    assert_non_null(a);
    sshcert_agent_close(a);
    a = NULL;
    /* A regular file where the socket should be. */
    write_text("file.sock", "x");
    assert_int_not_equal(
        sshcert_pam_agent_connect_as(path_of("file.sock"), me, geteuid(), getegid(), &a, &res), 0);
    assert_null(a);
    close(lfd);
    (void)unlink(path_of("own.sock"));
}

static void
test_connect_not_root(void **state)
{
    struct sshcert_agent *a = NULL;
    struct sshcert_pam_result res;
    int lfd;

    (void)state;
    if (geteuid() == 0) {
        skip();
        return;
    }
    /* Neither root nor the user: we cannot take the user's privileges, so we do not try. */
    lfd = listen_at(path_of("own.sock"));
    assert_int_equal(sshcert_pam_agent_connect_as(path_of("own.sock"), "root", 0, 0, &a, &res),
        SSHCERT_ERR_PERMISSIONS);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_PRIVS);
    assert_null(a);
    close(lfd);
}

static void
test_connect_as_root(void **state)
{
    struct sshcert_agent *a = NULL;
    struct sshcert_pam_result res;
    const uid_t nobody = 65534;
    gid_t before[256], after[256];
    int nb, na, lfd;

    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    nb = getgroups(256, before);
    assert_true(nb >= 0);
    assert_int_equal(chmod(dir, 0755), 0);
    /* Root's socket, open to everyone: nobody can connect, but it is not nobody's. */
    lfd = listen_at(path_of("root.sock"));
    assert_int_equal(chmod(path_of("root.sock"), 0666), 0);
    assert_int_equal(
        sshcert_pam_agent_connect_as(path_of("root.sock"), "nobody", nobody, nobody, &a, &res),
        SSHCERT_ERR_PERMISSIONS);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_SOCKET);
    assert_non_null(strstr(res.reason, "belongs to uid 0, not to nobody (uid 65534)"));
    /* The file handed to nobody, the listener still root's: SO_PEERCRED tells. */
    assert_int_equal(chown(path_of("root.sock"), nobody, nobody), 0);
    assert_int_equal(chmod(path_of("root.sock"), 0600), 0);
    assert_int_equal(
        sshcert_pam_agent_connect_as(path_of("root.sock"), "nobody", nobody, nobody, &a, &res),
        SSHCERT_ERR_PERMISSIONS);
    assert_non_null(strstr(res.reason, "runs as uid 0, not as nobody (uid 65534)"));
    /* Root's socket in a folder nobody may not enter: the connect itself fails. */
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(
        sshcert_pam_agent_connect_as(path_of("root.sock"), "nobody", nobody, nobody, &a, &res),
        SSHCERT_ERR_SYSTEM);
    assert_non_null(strstr(res.reason, "Permission denied"));
    assert_null(a);
    /* And we are root again, with our groups, every time. */
    assert_int_equal(geteuid(), 0);
    assert_int_equal(getegid(), 0);
    na = getgroups(256, after);
    assert_int_equal(na, nb);
    assert_memory_equal(before, after, (size_t)na * sizeof(gid_t));
    close(lfd);
}

/* ---- who asks ---- */

static void
refused_requester(uid_t ruid, const char *ruser, uid_t uid, const char *user, int want,
    const char *reason)
{
    struct sshcert_pam_result res;

    memset(&res, 0, sizeof(res));
    assert_int_equal(sshcert_pam_check_requester(ruid, ruser, uid, user, &res), want);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_REQUESTER);
    assert_string_equal(res.reason, reason);
}

static void
test_requester(void **state)
{
    struct sshcert_pam_result res;
    const struct passwd *pw;
    uid_t nobody;
    char want[SSHCERT_PAM_REASON_LEN];

    (void)state;
    memset(&res, 0, sizeof(res));
    assert_int_equal(sshcert_pam_check_requester(0, NULL, 0, "root", NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    /* A non-root real uid (sudo, su) is the requester; PAM_RUSER does not change it. */
    assert_int_equal(sshcert_pam_check_requester(1000, NULL, 1000, "alice", &res), 0);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_NONE);
    assert_int_equal(sshcert_pam_check_requester(1000, "bob", 1000, "alice", &res), 0);
    assert_int_equal(sshcert_pam_check_requester(1000, "no-such-user-sshcert", 1000, "alice", &res),
        0);
    refused_requester(1000, NULL, 1001, "bob", SSHCERT_ERR_PERMISSIONS,
        "the requesting user (real uid 1000) is not the user being authenticated, bob (uid 1001)");
    refused_requester(1000, "bob", 1001, "bob", SSHCERT_ERR_PERMISSIONS,
        "the requesting user (real uid 1000) is not the user being authenticated, bob (uid 1001)");
    refused_requester(1000, "root", 0, "root", SSHCERT_ERR_PERMISSIONS,
        "the requesting user (real uid 1000) is not the user being authenticated, root (uid 0)");
    refused_requester(1000, NULL, 0, "root", SSHCERT_ERR_PERMISSIONS,
        "the requesting user (real uid 1000) is not the user being authenticated, root (uid 0)");

    /* A root application without PAM_RUSER asks for root, and only for root. */
    assert_int_equal(sshcert_pam_check_requester(0, NULL, 0, "root", &res), 0);
    refused_requester(0, NULL, 1000, "alice", SSHCERT_ERR_PERMISSIONS,
        "the requesting user root (real uid 0, no PAM_RUSER) is not the user being "
        "authenticated, alice (uid 1000)");

    /* A root application with PAM_RUSER asks for that user, who must exist. */
    assert_int_equal(sshcert_pam_check_requester(0, "root", 0, "root", &res), 0);
    refused_requester(0, "root", 1000, "alice", SSHCERT_ERR_PERMISSIONS,
        "the requesting user root (uid 0, PAM_RUSER) is not the user being authenticated, "
        "alice (uid 1000)");
    refused_requester(0, "no-such-user-sshcert", 0, "root", SSHCERT_ERR_NOT_FOUND,
        "the requesting user PAM_RUSER=\"no-such-user-sshcert\" is not a known user");
    refused_requester(0, "", 0, "root", SSHCERT_ERR_NOT_FOUND,
        "the requesting user PAM_RUSER=\"\" is not a known user");
    refused_requester(0, "no\nsuch\x1b", 0, "ro\not", SSHCERT_ERR_NOT_FOUND,
        "the requesting user PAM_RUSER=\"no?such?\" is not a known user");
    if ((pw = getpwnam("nobody")) == NULL || pw->pw_uid == 0)
        return;
    nobody = pw->pw_uid;
    assert_int_equal(sshcert_pam_check_requester(0, "nobody", nobody, "nobody", &res), 0);
    snprintf(want, sizeof(want),
        "the requesting user nobody (uid %lu, PAM_RUSER) is not the user being authenticated, "
        "root (uid 0)",
        (unsigned long)nobody);
    refused_requester(0, "nobody", 0, "root", SSHCERT_ERR_PERMISSIONS, want);
    snprintf(want, sizeof(want),
        "the requesting user root (uid 0, PAM_RUSER) is not the user being authenticated, "
        "no?body (uid %lu)",
        (unsigned long)nobody);
    refused_requester(0, "root", nobody, "no\tbody", SSHCERT_ERR_PERMISSIONS, want);
}

/* ---- the whole authentication against a fake agent ---- */

struct fake_agent {
    int lfd;
    pthread_t thread;
    struct sshcert_agent_identities *ids;
    const struct sshcert_privkey *key;
    int requests;
};

static int
read_full(int fd, uint8_t *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        if ((n = recv(fd, p, len, 0)) <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void
send_msg(int fd, struct sshcert_buf *body)
{
    struct sshcert_buf *m = sshcert_buf_new(0);

    (void)sshcert_buf_put_stringb(m, body);
    (void)send(fd, sshcert_buf_ptr(m), sshcert_buf_len(m), MSG_NOSIGNAL);
    sshcert_buf_free(m);
}

/* Serves one client: identities from f->ids, signatures made with f->key. */
static void *
fake_agent_main(void *arg)
{
    struct fake_agent *f = arg;
    struct sshcert_buf *req, *rep, *sig;
    const uint8_t *kb, *data;
    size_t kl, dl, i;
    uint8_t hdr[4], *body, type, raw[SSHCERT_ED25519_SIG_LEN];
    uint32_t len;
    int fd = accept(f->lfd, NULL, NULL);

    while (fd >= 0 && read_full(fd, hdr, 4) == 0) {
        len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
        if (len == 0 || len > SSHCERT_AGENT_MAX_MSG || (body = malloc(len)) == NULL)
            break;
        if (read_full(fd, body, len) != 0) {
            free(body);
            break;
        }
        f->requests++;
        req = sshcert_buf_from(body, len);
        rep = sshcert_buf_new(0);
        (void)sshcert_buf_get_u8(req, &type);
        if (type == 11) {
            (void)sshcert_buf_put_u8(rep, 12);
            (void)sshcert_buf_put_u32(rep, (uint32_t)f->ids->count);
            for (i = 0; i < f->ids->count; i++) {
                (void)sshcert_buf_put_string(rep, f->ids->ids[i].blob, f->ids->ids[i].blob_len);
                (void)sshcert_buf_put_cstring(rep, f->ids->ids[i].comment);
            }
        } else if (type == 13 && sshcert_buf_get_string_direct(req, &kb, &kl) == 0 &&
                   sshcert_buf_get_string_direct(req, &data, &dl) == 0 &&
                   sshcert_privkey_sign(f->key, data, dl, raw) == 0) {
            sig = sshcert_buf_new(0);
            (void)sshcert_buf_put_cstring(sig, "ssh-ed25519");
            (void)sshcert_buf_put_string(sig, raw, sizeof(raw));
            (void)sshcert_buf_put_u8(rep, 14);
            (void)sshcert_buf_put_stringb(rep, sig);
            sshcert_buf_free(sig);
        } else {
            (void)sshcert_buf_put_u8(rep, 5);
        }
        send_msg(fd, rep);
        sshcert_buf_free(rep);
        sshcert_buf_free(req);
        free(body);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void
fake_agent_start(struct fake_agent *f, const char *path)
{
    f->lfd = listen_at(path);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_agent_main, f), 0);
}

static void
fake_agent_stop(struct fake_agent *f)
{
    assert_int_equal(pthread_join(f->thread, NULL), 0);
    close(f->lfd);
}

static int
authenticate_from(uid_t ruid, const char *ruser, const char *sock, uint64_t now,
    struct sshcert_pam_result *res, struct notes *n)
{
    char a[300];
    const char *argv[] = {a, "debug"}, *bad;
    struct sshcert_pam_opts o;
    struct sshcert_pam_log log = {remember, n, 1};

    write_ca_file("ca.pub", 1);
    snprintf(a, sizeof(a), "ca_keys=%s", path_of("ca.pub"));
    assert_int_equal(sshcert_pam_parse_opts(2, argv, &o, &bad), 0);
    return sshcert_pam_authenticate(&o, me, ruid, ruser, sock, now, &log, res);
}

/* Asked for by ourselves: our real uid, which is `me` (or root without PAM_RUSER). */
static int
authenticate(const char *sock, uint64_t now, struct sshcert_pam_result *res, struct notes *n)
{
    return authenticate_from(getuid(), NULL, sock, now, res, n);
}

static void
test_authenticate(void **state)
{
    struct fake_agent f = {.key = user_key};
    struct sshcert_pam_result res;
    struct notes n = {0};
    struct spec good = {.ca = ca2_key, .serial = 99, .key_id = "full"};

    (void)state;
    f.ids = ids_new();
    ids_add_plain(f.ids, &user_pub);
    ids_add_cert(f.ids, &good);
    /* List, then one sign request. */
    fake_agent_start(&f, path_of("agent.sock"));
    assert_int_equal(authenticate(path_of("agent.sock"), T0, &res, &n), 0);
    fake_agent_stop(&f);
    assert_int_equal(f.requests, 2);
    assert_int_equal(res.serial, 99);
    assert_string_equal(res.key_id, "full");
    assert_string_equal(res.principal, me);
    assert_int_equal(res.identities, 2);
    assert_non_null(strstr(n.text, "2 CA key(s), no KRL"));

    /* The same agent after the certificate expired: listed, never asked to sign. */
    f.requests = 0;
    fake_agent_start(&f, path_of("agent.sock"));
    assert_int_equal(authenticate(path_of("agent.sock"), VB, &res, &n), SSHCERT_ERR_EXPIRED);
    fake_agent_stop(&f);
    assert_int_equal(f.requests, 1);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_CHECK);

    /* An agent whose key does not match the certificate. */
    f.requests = 0;
    f.key = other_key;
    fake_agent_start(&f, path_of("agent.sock"));
    assert_int_equal(authenticate(path_of("agent.sock"), T0, &res, &n), SSHCERT_ERR_SIGNATURE);
    fake_agent_stop(&f);
    assert_int_equal(f.requests, 2);

    /* Asked for by someone else: refused before the agent's socket is even tried (it is still
     * there, nobody listens, which would be AGENT_UNAVAILABLE). */
    assert_int_equal(authenticate_from(geteuid() + 1, NULL, path_of("agent.sock"), T0, &res, &n),
        SSHCERT_ERR_PERMISSIONS);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_REQUESTER);
    assert_non_null(strstr(res.reason, "is not the user being authenticated"));
    assert_int_equal(
        authenticate_from(0, "no-such-user-sshcert", path_of("agent.sock"), T0, &res, &n),
        SSHCERT_ERR_NOT_FOUND);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_REQUESTER);
    assert_int_equal(authenticate_from(0, geteuid() == 0 ? "nobody" : NULL, path_of("agent.sock"),
                         T0, &res, &n),
        SSHCERT_ERR_PERMISSIONS);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_REQUESTER);
    /* PAM_RUSER naming ourselves, from a root application: on to the agent, which is gone. */
    assert_int_equal(authenticate_from(0, me, path_of("agent.sock"), T0, &res, &n),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_AGENT);

    /* No agent at all; then an unknown user. */
    assert_int_equal(authenticate(path_of("gone.sock"), T0, &res, &n),
        SSHCERT_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(res.stage, SSHCERT_PAM_STAGE_AGENT);
    assert_int_equal(authenticate(NULL, T0, &res, &n), SSHCERT_ERR_AGENT_UNAVAILABLE);
    {
        const char *argv[] = {"ca_keys=/nonexistent/ca.pub"}, *bad;
        struct sshcert_pam_opts o;

        assert_int_equal(sshcert_pam_parse_opts(1, argv, &o, &bad), 0);
        assert_int_equal(sshcert_pam_authenticate(&o, "no-such-user-sshcert", getuid(), NULL,
                             "/x", T0, NULL, &res),
            SSHCERT_ERR_NOT_FOUND);
        assert_int_equal(res.stage, SSHCERT_PAM_STAGE_USER);
        assert_int_equal(sshcert_pam_authenticate(&o, me, getuid(), NULL, "/x", T0, NULL, &res),
            SSHCERT_ERR_NOT_FOUND);
        assert_int_equal(res.stage, SSHCERT_PAM_STAGE_CONFIG);
        assert_int_equal(sshcert_pam_authenticate(&o, "", getuid(), NULL, "/x", T0, NULL, &res),
            SSHCERT_ERR_INVALID_ARGUMENT);
    }
    sshcert_agent_identities_free(f.ids);
    (void)unlink(path_of("agent.sock"));
}

/* ---- setup ---- */

static int
setup(void **state)
{
    struct passwd *pw;

    (void)state;
    if (sshcert_secmem_init() != 0)
        return -1;
    /* The policy files are read with lib/file's trusted rule, which refuses them under /tmp. */
    if (trusted_mkdtemp(dir, sizeof(dir), "pamcheck") != 0)
        return -1;
    if ((pw = getpwuid(geteuid())) == NULL)
        return -1;
    snprintf(me, sizeof(me), "%s", pw->pw_name);
    if (sshcert_privkey_generate(&ca_key) != 0 || sshcert_privkey_generate(&ca2_key) != 0 ||
        sshcert_privkey_generate(&user_key) != 0 || sshcert_privkey_generate(&other_key) != 0)
        return -1;
    sshcert_privkey_public(ca_key, &ca_pub);
    sshcert_privkey_public(ca2_key, &ca2_pub);
    sshcert_privkey_public(user_key, &user_pub);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    sshcert_privkey_free(ca_key);
    sshcert_privkey_free(ca2_key);
    sshcert_privkey_free(user_key);
    sshcert_privkey_free(other_key);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_default),
        cmocka_unit_test(test_opts_all),
        cmocka_unit_test(test_opts_refused),
        cmocka_unit_test(test_config_ca_keys),
        cmocka_unit_test(test_config_file_kinds),
        cmocka_unit_test(test_config_caps),
        cmocka_unit_test(test_config_krl),
        cmocka_unit_test(test_config_krl_errors),
        cmocka_unit_test(test_config_principals),
        cmocka_unit_test(test_config_folders),
        cmocka_unit_test(test_check_cert_ok),
        cmocka_unit_test(test_check_cert_refusals),
        cmocka_unit_test(test_check_cert_clock),
        cmocka_unit_test(test_check_cert_krl),
        cmocka_unit_test(test_check_cert_principal_rules),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_identities_order),
        cmocka_unit_test(test_identities_challenge_cap),
        cmocka_unit_test(test_connect_paths),
        cmocka_unit_test(test_connect_not_root),
        cmocka_unit_test(test_connect_as_root),
        cmocka_unit_test(test_requester),
        cmocka_unit_test(test_authenticate),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
