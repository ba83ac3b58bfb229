/* sshcert-admin user commands: enrolment with password and TOTP, listing, locking. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <qrencode.h>

#include "admin.h"
#include "err.h"
#include "line.h"
#include "policy.h"
#include "secmem.h"
#include "totp.h"

/* One line of the password into *out (guarded memory: sshcert_secmem_free), never through
 * stdio, so no byte of it is left in stdin's stdio buffer. On a terminal (stdin) through the
 * client's prompt, sshcert_line_prompt_tty: the prompt on stderr, no echo while reading, the
 * terminal put back on every path, a signal's included, and no read at all when echo cannot be
 * turned off. */
static int
read_line(const char *prompt, int tty, char **out)
{
    if (tty)
        return sshcert_line_prompt_tty(STDIN_FILENO, STDERR_FILENO, prompt, 0,
            SSHCERT_MAX_PASSWORD, out);
    return sshcert_line_read(STDIN_FILENO, SSHCERT_MAX_PASSWORD, out);
}

/* The password from the terminal (twice) or the first stdin line, checked for length, into *pw
 * (guarded memory: sshcert_secmem_free). 0, or -1 after saying why. */
static int
read_password(char **pw)
{
    static const char no_echo[] = "cannot turn off echo on the terminal: password not read";
    static const char has_nul[] = "the password contains a NUL byte";
    char *line = NULL, *again = NULL;
    int tty = isatty(STDIN_FILENO), r, rc = -1;

    *pw = NULL;
    if ((r = read_line("Password: ", tty, &line)) != 0) {
        if (r == SSHCERT_ERR_TOO_LARGE)
            admin_err("password longer than %u characters", SSHCERT_MAX_PASSWORD);
        else if (r == SSHCERT_ERR_INVALID_FORMAT)
            admin_err("%s", has_nul);
        else if (r == SSHCERT_ERR_ALLOC)
            admin_err("out of memory");
        else if (r == SSHCERT_ERR_UNSUPPORTED)
            admin_err("%s", no_echo);
        else
            admin_err("no password given");
        goto out;
    }
    if (strlen(line) < SSHCERT_MIN_PASSWORD) {
        admin_err("password must have at least %u characters", SSHCERT_MIN_PASSWORD);
        goto out;
    }
    if (tty && (r = read_line("Password again: ", tty, &again)) == SSHCERT_ERR_UNSUPPORTED) {
        admin_err("%s", no_echo);
        goto out;
    }
    if (r == SSHCERT_ERR_INVALID_FORMAT) {
        admin_err("%s", has_nul);
        goto out;
    }
    if (tty && (r != 0 || !sshcert_secmem_streq(line, again))) {
        admin_err("passwords do not match");
        goto out;
    }
    *pw = line;
    line = NULL;
    rc = 0;
out:
    sshcert_secmem_free(line);
    sshcert_secmem_free(again);
    return rc;
}

/* Draws the QR code with Unicode half blocks, dark on a forced light background. */
static void
print_qr(FILE *out, const char *uri)
{
    QRcode *q;
    int x, y, quiet = 4, w; /* the quiet zone QR scanners expect */

    if ((q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
        return;
    w = q->width;
#define DARK(xx, yy)                                                                           \
    ((xx) >= 0 && (yy) >= 0 && (xx) < w && (yy) < w && (q->data[(yy) * w + (xx)] & 1))
    for (y = -quiet; y < w + quiet; y += 2) {
        fputs("\033[47;30m", out);
        for (x = -quiet; x < w + quiet; x++) {
            int top = DARK(x, y), bot = DARK(x, y + 1);
            fputs(top && bot ? "\u2588" : top ? "\u2580" : bot ? "\u2584" : " ", out);
        }
        fputs("\033[0m\n", out);
    }
#undef DARK
    QRcode_free(q);
}

/* Makes a TOTP secret, seals it, and returns base32 + URI for display. */
static int
new_totp(struct admin *a, const char *name, uint8_t **sealed, size_t *sealed_len, char **b32,
    char **uri)
{
    uint8_t secret[SSHCERT_TOTP_SECRET_LEN];
    int r;

    *b32 = *uri = NULL;
    sshcert_totp_new_secret(secret);
    if ((r = sshcert_ca_seal(a->ca, secret, sizeof(secret), sealed, sealed_len)) == 0 &&
        (r = sshcert_totp_base32(secret, sizeof(secret), b32)) == 0)
        r = sshcert_totp_uri(name, *b32, uri);
    sshcert_secmem_wipe(secret, sizeof(secret));
    return r;
}

static int
show_enrolment(const char *name, const char *principals, const char *b32, const char *uri,
    int json)
{
    json_t *j;
    char *s;

    if (json) {
        j = json_pack("{s:s, s:s, s:s, s:s}", "username", name, "principals", principals,
            "totp_secret", b32, "otpauth_uri", uri);
        if (j == NULL || (s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
            json_decref(j);
            return admin_err("out of memory");
        }
        printf("%s\n", s);
        sshcert_secmem_free_str(s);
        json_decref(j);
        /* JSON goes to a script; a person watching the terminal can still scan the code. */
        if (isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO)) {
            fprintf(stderr, "Scan this with an authenticator app:\n");
            print_qr(stderr, uri);
        }
        return ADMIN_OK;
    }
    printf("user:        %s\nprincipals:  %s\nTOTP secret: %s\nTOTP URI:    %s\n", name,
        principals, b32, uri);
    if (isatty(STDOUT_FILENO)) {
        printf("Scan this with an authenticator app (Google Authenticator, Aegis, 1Password):\n");
        print_qr(stdout, uri);
    }
    return ADMIN_OK;
}

static int
user_add(struct admin *a, int argc, char **argv)
{
    static const char *const with_value[] = {"--principals", "--max-ttl", NULL};
    static const char *const flags[] = {"--json", NULL};
    struct sshcert_principals pr = {0};
    struct sshcert_user u;
    const char *principals, *max_ttl_s;
    char *pos[1], hash[SSHCERT_PASSWORD_HASH_LEN];
    char *pw = NULL, *b32 = NULL, *uri = NULL;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    uint64_t max_ttl = 0;
    int bad = 0, r, rc = ADMIN_FAIL;

    memset(hash, 0, sizeof(hash));
    if ((r = admin_check_opts(argc, argv, with_value, flags)) != 0)
        return r;
    if (admin_positional(argc, argv, with_value, pos, 1) != 1)
        return admin_usage("user add needs one NAME");
    principals = admin_opt(argc, argv, "--principals", 1, &bad);
    max_ttl_s = admin_opt(argc, argv, "--max-ttl", 1, &bad);
    if (sshcert_policy_check_username(pos[0]) != 0)
        return admin_err("bad user name \"%s\": use 1..%u of a-z 0-9 _ . - starting with a "
                         "letter or _",
            pos[0], SSHCERT_MAX_USERNAME);
    if (principals == NULL || *principals == '\0')
        return admin_err("--principals is required and may not be empty");
    if (!admin_text_ok(principals))
        return admin_err("bad --principals: not UTF-8 text without control characters");
    if ((r = sshcert_policy_parse_principals(principals, &pr)) != 0)
        return admin_err("bad --principals \"%s\": %s", principals,
            r == SSHCERT_ERR_DUPLICATE ? "a principal is listed twice"
            : r == SSHCERT_ERR_TOO_LARGE ? "more than 256 principals"
                                         : "empty or non-printable principal");
    if (max_ttl_s != NULL &&
        (sshcert_config_parse_duration(max_ttl_s, &max_ttl) != 0 || max_ttl == 0)) {
        admin_err("--max-ttl \"%s\" is not a positive duration", max_ttl_s);
        goto out;
    }
    if (max_ttl > a->cfg->max_ttl) {
        admin_err("--max-ttl exceeds cert.max_ttl (%" PRIu64 "s)", a->cfg->max_ttl);
        goto out;
    }
    if (admin_open(a) != 0)
        goto out;
    {
        struct sshcert_user *existing = NULL;
        if (sshcert_store_user_get(a->ca->store, pos[0], &existing) == 0) {
            sshcert_user_free(existing);
            admin_err("user %s already exists", pos[0]);
            goto out;
        }
    }
    if (read_password(&pw) != 0)
        goto out;
    if ((r = sshcert_password_hash(pw, a->cfg->hash_cost, hash)) != 0) {
        admin_err("cannot hash the password: %s", sshcert_err_str(r));
        goto out;
    }
    if ((r = new_totp(a, pos[0], &sealed, &sealed_len, &b32, &uri)) != 0) {
        admin_err("cannot create the TOTP secret: %s", sshcert_err_str(r));
        goto out;
    }
    memset(&u, 0, sizeof(u));
    u.username = pos[0];
    u.password_hash = hash;
    u.totp_secret = sealed;
    u.totp_secret_len = sealed_len;
    u.principals = (char *)(uintptr_t)principals;
    u.max_ttl = max_ttl;
    if ((r = sshcert_store_user_add(a->ca->store, &u, admin_now())) != 0) {
        admin_err(r == SSHCERT_ERR_DUPLICATE ? "user %s already exists" : "cannot add %s: %s",
            pos[0], sshcert_err_str(r));
        goto out;
    }
    rc = show_enrolment(pos[0], principals, b32, uri,
        admin_opt(argc, argv, "--json", 0, &bad) != NULL);
out:
    sshcert_policy_principals_free(&pr);
    sshcert_secmem_free(pw);
    sshcert_secmem_wipe(hash, sizeof(hash));
    sshcert_secmem_free_len(sealed, sealed_len);
    sshcert_secmem_free_str(b32);
    sshcert_secmem_free_str(uri);
    return rc;
}

static json_t *
user_json(const struct sshcert_user *u, uint64_t locked_until, uint64_t now)
{
    return json_pack("{s:s, s:s, s:o, s:b, s:o, s:I, s:I, s:s}", "username", u->username,
        "principals", u->principals, "max_ttl",
        u->max_ttl ? json_integer((json_int_t)u->max_ttl) : json_null(), "disabled",
        u->disabled, "locked_until",
        locked_until > now ? json_integer((json_int_t)locked_until) : json_null(), "created_at",
        (json_int_t)u->created_at, "updated_at", (json_int_t)u->updated_at, "password_cost",
        sshcert_password_cost_name(u->password_hash));
}

static uint64_t
user_lock_until(struct admin *a, const char *name)
{
    char key[SSHCERT_THROTTLE_KEY_LEN];
    uint64_t until = 0;

    sshcert_store_user_key(key, name);
    (void)sshcert_store_failure_get(a->ca->store, key, &until);
    return until;
}

static const char *
user_state(const struct sshcert_user *u, uint64_t until, uint64_t now)
{
    return u->disabled ? "locked" : until > now ? "locked-out" : "active";
}

static int
user_list(struct admin *a, int argc, char **argv)
{
    static const char *const flags[] = {"--json", NULL};
    struct sshcert_user **users = NULL;
    char *pos[1];
    size_t n = 0, i;
    uint64_t now = admin_now();
    int bad = 0, r;
    json_t *arr;

    if ((r = admin_check_opts(argc, argv, NULL, flags)) != 0)
        return r;
    if (admin_positional(argc, argv, NULL, pos, 1) != 0)
        return admin_usage("user list takes no arguments");
    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if ((r = sshcert_store_user_list(a->ca->store, &users, &n)) != 0)
        return admin_err("cannot list users: %s", sshcert_err_str(r));
    if (admin_opt(argc, argv, "--json", 0, &bad) != NULL) {
        arr = json_array();
        for (i = 0; i < n; i++) {
            /* A row that JSON cannot carry (not UTF-8) fails the list: never a partial one. */
            if (arr == NULL ||
                json_array_append_new(arr, user_json(users[i],
                                               user_lock_until(a, users[i]->username), now)) != 0) {
                r = admin_err("cannot list users as JSON: %s holds text that is not UTF-8",
                    users[i]->username);
                json_decref(arr);
                sshcert_store_users_free(users, n);
                return r;
            }
        }
        sshcert_store_users_free(users, n);
        return admin_print_json(arr);
    }
    printf("%-20s %-11s %-9s %s\n", "USER", "STATE", "MAX_TTL", "PRINCIPALS");
    for (i = 0; i < n; i++) {
        char ttl[24];
        if (users[i]->max_ttl)
            snprintf(ttl, sizeof(ttl), "%" PRIu64 "s", users[i]->max_ttl);
        else
            snprintf(ttl, sizeof(ttl), "-");
        printf("%-20s %-11s %-9s %s\n", users[i]->username,
            user_state(users[i], user_lock_until(a, users[i]->username), now), ttl,
            users[i]->principals);
    }
    sshcert_store_users_free(users, n);
    return ADMIN_OK;
}

/* Loads the named user or prints why not. */
static int
get_user(struct admin *a, const char *name, struct sshcert_user **u)
{
    int r;

    if (admin_open(a) != 0)
        return ADMIN_FAIL;
    if ((r = sshcert_store_user_get(a->ca->store, name, u)) != 0)
        return admin_err(r == SSHCERT_ERR_NOT_FOUND ? "no user named %s" : "cannot read %s", name);
    return 0;
}

static int
user_show(struct admin *a, int argc, char **argv)
{
    static const char *const flags[] = {"--json", NULL};
    struct sshcert_user *u = NULL;
    char *pos[1], t[32];
    uint64_t now = admin_now(), until;
    int bad = 0, r;

    if ((r = admin_check_opts(argc, argv, NULL, flags)) != 0)
        return r;
    if (admin_positional(argc, argv, NULL, pos, 1) != 1)
        return admin_usage("user show needs one NAME");
    if (get_user(a, pos[0], &u) != 0)
        return ADMIN_FAIL;
    until = user_lock_until(a, u->username);
    if (admin_opt(argc, argv, "--json", 0, &bad) != NULL) {
        r = admin_print_json(user_json(u, until, now));
        sshcert_user_free(u);
        return r;
    }
    printf("user:       %s\nstate:      %s\nprincipals: %s\n", u->username,
        user_state(u, until, now), u->principals);
    if (u->max_ttl)
        printf("max ttl:    %" PRIu64 "s\n", u->max_ttl);
    if (until > now)
        printf("locked out until %s\n", admin_time(until, t, sizeof(t)));
    printf("created:    %s\n", admin_time(u->created_at, t, sizeof(t)));
    /* The rehash test is the one auth.c makes at a login, so this says what a login will do. */
    printf("password:   argon2id, %s cost%s\n", sshcert_password_cost_name(u->password_hash),
        sshcert_password_needs_rehash(u->password_hash, a->cfg->hash_cost)
            ? " (not auth.password_hash's: remade at the user's next login)"
            : "");
    sshcert_user_free(u);
    return ADMIN_OK;
}

static int
user_passwd(struct admin *a, const char *name)
{
    struct sshcert_user *u = NULL;
    char *pw = NULL, hash[SSHCERT_PASSWORD_HASH_LEN];
    int r, rc = ADMIN_FAIL;

    if (get_user(a, name, &u) != 0)
        return ADMIN_FAIL;
    sshcert_user_free(u);
    if (read_password(&pw) != 0)
        goto out;
    if ((r = sshcert_password_hash(pw, a->cfg->hash_cost, hash)) != 0) {
        admin_err("cannot hash the password: %s", sshcert_err_str(r));
        goto out;
    }
    if ((r = sshcert_store_user_set_password(a->ca->store, name, hash, admin_now())) != 0) {
        admin_err("cannot change the password: %s", sshcert_err_str(r));
        goto out;
    }
    fprintf(stderr, "sshcert-admin: password of %s changed\n", name);
    rc = ADMIN_OK;
out:
    sshcert_secmem_free(pw);
    sshcert_secmem_wipe(hash, sizeof(hash));
    return rc;
}

static int
user_totp_reset(struct admin *a, const char *name, int json)
{
    struct sshcert_user *u = NULL;
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    char *b32 = NULL, *uri = NULL;
    int r, rc = ADMIN_FAIL;

    if (get_user(a, name, &u) != 0)
        return ADMIN_FAIL;
    if ((r = new_totp(a, name, &sealed, &sealed_len, &b32, &uri)) != 0 ||
        (r = sshcert_store_user_set_totp(a->ca->store, name, sealed, sealed_len, admin_now())) !=
            0) {
        admin_err("cannot reset the TOTP secret: %s", sshcert_err_str(r));
        goto out;
    }
    rc = show_enrolment(name, u->principals, b32, uri, json);
out:
    sshcert_user_free(u);
    sshcert_secmem_free_len(sealed, sealed_len);
    sshcert_secmem_free_str(b32);
    sshcert_secmem_free_str(uri);
    return rc;
}

int
admin_cmd_user(struct admin *a, int argc, char **argv)
{
    static const char *const flags[] = {"--json", NULL};
    char *pos[2];
    uint64_t revoked = 0;
    int bad = 0, r;

    if (argc < 2)
        return admin_usage("user needs add, list, show, passwd, totp-reset, lock, unlock or del");
    argc--;
    argv++;
    if (strcmp(argv[0], "add") == 0)
        return user_add(a, argc, argv);
    if (strcmp(argv[0], "list") == 0)
        return user_list(a, argc, argv);
    if (strcmp(argv[0], "show") == 0)
        return user_show(a, argc, argv);
    if ((r = admin_check_opts(argc, argv, NULL,
             strcmp(argv[0], "totp-reset") == 0 ? flags : NULL)) != 0)
        return r;
    if (admin_positional(argc, argv, NULL, pos, 2) != 1)
        return admin_usage("user %s needs one NAME", argv[0]);
    if (strcmp(argv[0], "passwd") == 0)
        return user_passwd(a, pos[0]);
    if (strcmp(argv[0], "totp-reset") == 0)
        return user_totp_reset(a, pos[0], admin_opt(argc, argv, "--json", 0, &bad) != NULL);
    if (strcmp(argv[0], "lock") == 0 || strcmp(argv[0], "unlock") == 0 ||
        strcmp(argv[0], "del") == 0) {
        if (admin_open(a) != 0)
            return ADMIN_FAIL;
        if (strcmp(argv[0], "del") == 0)
            r = sshcert_store_user_delete(a->ca->store, pos[0], admin_now(), &revoked);
        else
            r = sshcert_store_user_set_disabled(a->ca->store, pos[0],
                strcmp(argv[0], "lock") == 0, admin_now());
        if (r == SSHCERT_ERR_NOT_FOUND)
            return admin_err("no user named %s", pos[0]);
        if (r != 0)
            return admin_err("cannot %s %s: %s", argv[0], pos[0], sshcert_err_str(r));
        if (strcmp(argv[0], "del") == 0)
            fprintf(stderr,
                "sshcert-admin: %s deleted (audit history kept); %" PRIu64
                " unexpired certificate%s revoked\n",
                pos[0], revoked, revoked == 1 ? "" : "s");
        else
            fprintf(stderr, "sshcert-admin: %s %s\n", pos[0],
                strcmp(argv[0], "lock") == 0 ? "locked" : "unlocked");
        return ADMIN_OK;
    }
    return admin_usage("unknown user command %s", argv[0]);
}
