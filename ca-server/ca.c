#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ca.h"
#include "cert.h"
#include "err.h"
#include "file.h"
#include "krl.h"
#include "buf.h"
#include "secmem.h"

#define CA_COMMENT "sshcert-ca"

static const char *
why(int r)
{
    if (r == SSHCERT_ERR_DUPLICATE) /* sshcert_file_write_new */
        return "another process made it meanwhile; it was kept, nothing replaced";
    return r == SSHCERT_ERR_SYSTEM ? strerror(errno) : sshcert_err_str(r);
}

/* Why the store would not open. SQLite leaves errno at whatever it last probed (often ENOENT
 * from a missing journal), so a system error is explained by what the server needs instead:
 * write access to data_dir (for the -wal and -shm files) and to the database. */
static const char *
db_why(const struct sshcert_config *cfg, int r)
{
    if (r != SSHCERT_ERR_SYSTEM)
        return sshcert_err_str(r);
    if (access(cfg->data_dir, W_OK) != 0 || access(cfg->db_path, W_OK) != 0)
        return errno == EROFS ? "not writable: read-only file system"
               : errno == EACCES ? "not writable: permission denied (data_dir and the database "
                                   "must be writable by this user)"
                                 : strerror(errno);
    return "SQLite could not open or set it up (disk full, locked or damaged?)";
}

static int
ensure_dir(const char *path, int *created, char **err)
{
    struct stat st;

    if (mkdir(path, 0700) == 0) {
        *created = 1;
        return 0;
    }
    if (errno != EEXIST)
        return sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "cannot create %s: %s", path, strerror(errno));
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "%s exists and is not a folder", path);
    return 0;
}

/* Reads and parses the CA key, checked on the descriptor it is read from: a private regular
 * file. A refusal's *err names the file and why; PERMISSIONS adds the fix. */
static int
load_ca_key(const char *path, struct sshcert_privkey **out, char **err)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    r = sshcert_file_read_checked(path, NULL, SSHCERT_FILE_PRIVATE, SSHCERT_MAX_KEY_FILE, &text,
        &len, err);
    if (r == SSHCERT_ERR_PERMISSIONS)
        /* *err is formatted into the new message before the old one is freed. */
        sshcert_err_msg(err, r, "refusing to use %s; run: chmod 600 %s",
            *err != NULL ? *err : path, path);
    if (r != 0)
        return r;
    if ((r = sshcert_privkey_parse(text, len, out)) != 0)
        sshcert_err_msg(err, r, "%s: %s", path, sshcert_err_str(r));
    sshcert_secmem_free_len(text, len);
    return r;
}

/* A missing key next to a database that exists is lost, not new: making one would orphan
 * what the database holds. Refused, saying what to do. */
static int
refuse_new_key(const struct sshcert_config *cfg, const char *path, const char *loss, char **err)
{
    return sshcert_err_msg(err, SSHCERT_ERR_NOT_FOUND,
        "%s is missing but the database %s exists: restore it from your backup (%s); to start a "
        "new CA instead, move %s away first",
        path, cfg->db_path, loss, cfg->db_path);
}

static int
ensure_ca_key(const struct sshcert_config *cfg, int db_exists, int *created, char **err)
{
    struct sshcert_privkey *k = NULL;
    struct sshcert_pubkey pub;
    char *line = NULL;
    int r;

    r = load_ca_key(cfg->ca_key_path, &k, err);
    if (r == SSHCERT_ERR_NOT_FOUND && db_exists) {
        free(*err);
        *err = NULL;
        r = refuse_new_key(cfg, cfg->ca_key_path,
            "devices trust that key, and a new one would not match the certificates on record",
            err);
        goto out;
    }
    if (r == SSHCERT_ERR_NOT_FOUND) {
        if ((r = sshcert_privkey_generate(&k)) != 0 ||
            (r = sshcert_privkey_set_comment(k, CA_COMMENT)) != 0 ||
            (r = sshcert_privkey_save_new(k, cfg->ca_key_path)) != 0) {
            sshcert_err_msg(err, r, "cannot create %s: %s", cfg->ca_key_path, why(r));
            goto out;
        }
        free(*err); /* the "cannot open" of the key that was missing */
        *err = NULL;
        *created = 1;
    } else if (r != 0) {
        goto out;
    }
    /* The .pub file is derived; rewrite it only when missing or different. */
    sshcert_privkey_public(k, &pub);
    if ((r = sshcert_pubkey_to_line(&pub, CA_COMMENT, &line)) != 0)
        goto out;
    {
        char *cur = NULL;
        size_t n = strlen(line);
        int same = sshcert_file_read(cfg->ca_pub_path, 64 * 1024, &cur, NULL) == 0 &&
                   strncmp(cur, line, n) == 0 && cur[n] == '\n' && cur[n + 1] == '\0';
        free(cur);
        if (!same) {
            line[n] = '\n';
            r = sshcert_file_write_atomic(cfg->ca_pub_path, line, n + 1, 0644);
            line[n] = '\0';
            if (r != 0) {
                sshcert_err_msg(err, r, "cannot write %s: %s", cfg->ca_pub_path, why(r));
                goto out;
            }
            *created = 1;
        }
    }
    r = 0;
out:
    free(line);
    sshcert_privkey_free(k);
    return r;
}

static int
ensure_secret_key(const struct sshcert_config *cfg, int db_exists, int *created, char **err)
{
    uint8_t key[SSHCERT_SECRET_KEY_LEN];
    struct stat st;
    int r;

    if (stat(cfg->secret_key_path, &st) == 0)
        return 0;
    if (errno != ENOENT)
        return sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "%s: %s", cfg->secret_key_path, strerror(errno));
    if (db_exists)
        return refuse_new_key(cfg, cfg->secret_key_path,
            "it seals the users' TOTP secrets, and with a new one no login could pass", err);
    randombytes_buf(key, sizeof(key));
    r = sshcert_file_write_new(cfg->secret_key_path, key, sizeof(key), 0600);
    sodium_memzero(key, sizeof(key));
    if (r != 0)
        return sshcert_err_msg(err, r, "cannot write %s: %s", cfg->secret_key_path, why(r));
    *created = 1;
    return 0;
}

int
sshcert_ca_init(const struct sshcert_config *cfg, int *created, char **err)
{
    struct sshcert_store *st = NULL;
    struct stat sb;
    int r, existed;

    *created = 0;
    *err = NULL;
    if ((r = ensure_dir(cfg->data_dir, created, err)) != 0)
        return r;
    if (stat(cfg->db_path, &sb) == 0)
        existed = 1;
    else if (errno == ENOENT)
        existed = 0;
    else
        return sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "%s: %s", cfg->db_path, strerror(errno));
    if ((r = ensure_ca_key(cfg, existed, created, err)) != 0 ||
        (r = ensure_secret_key(cfg, existed, created, err)) != 0)
        return r;
    if ((r = sshcert_store_open(cfg->db_path, 1, &st)) != 0)
        return sshcert_err_msg(err, r, "cannot open database %s: %s", cfg->db_path, db_why(cfg, r));
    /* Made under the process's umask 077 (admin.c, server.c), so it never was readable by
     * others; the chmod also covers a caller that set another umask. */
    if (!existed && chmod(cfg->db_path, 0600) != 0) {
        sshcert_store_close(st);
        return sshcert_err_msg(err, SSHCERT_ERR_SYSTEM, "%s: cannot make it private: %s",
            cfg->db_path, strerror(errno));
    }
    if (!existed)
        *created = 1;
    sshcert_store_close(st);
    return 0;
}

static int
load_secret_key(const struct sshcert_config *cfg, uint8_t **out, char **err)
{
    char *d = NULL;
    size_t len = 0;
    uint8_t *k;
    int r;

    *out = NULL;
    r = sshcert_file_read_checked(cfg->secret_key_path, NULL, SSHCERT_FILE_PRIVATE,
        SSHCERT_SECRET_KEY_LEN, &d, &len, err);
    if (r == SSHCERT_ERR_PERMISSIONS)
        /* *err is formatted into the new message before the old one is freed. */
        return sshcert_err_msg(err, r, "refusing to use %s; run: chmod 600 %s",
            *err != NULL ? *err : cfg->secret_key_path, cfg->secret_key_path);
    if (r == SSHCERT_ERR_TOO_LARGE || (r == 0 && len != SSHCERT_SECRET_KEY_LEN)) {
        sshcert_secmem_free_len(d, len);
        return sshcert_err_msg(err, r != 0 ? r : SSHCERT_ERR_INVALID_FORMAT,
            "%s: must hold exactly %u bytes", cfg->secret_key_path, SSHCERT_SECRET_KEY_LEN);
    }
    if (r != 0)
        return r;
    if ((k = sshcert_secmem_alloc(SSHCERT_SECRET_KEY_LEN)) == NULL) {
        sshcert_secmem_free_len(d, len);
        return SSHCERT_ERR_ALLOC;
    }
    memcpy(k, d, SSHCERT_SECRET_KEY_LEN);
    sshcert_secmem_free_len(d, len);
    *out = k;
    return 0;
}

int
sshcert_ca_open(const struct sshcert_config *cfg, struct sshcert_ca **out, char **err)
{
    struct sshcert_ca *ca;
    int r;

    *out = NULL;
    *err = NULL;
    if ((ca = calloc(1, sizeof(*ca))) == NULL)
        return SSHCERT_ERR_ALLOC;
    ca->cfg = cfg;
    r = load_ca_key(cfg->ca_key_path, &ca->key, err);
    if (r == SSHCERT_ERR_NOT_FOUND)
        sshcert_err_msg(err, r, "%s not found: run 'sshcert-admin -c CONFIG init' first",
            cfg->ca_key_path);
    if (r != 0)
        goto fail;
    sshcert_privkey_public(ca->key, &ca->pub);
    if ((r = sshcert_pubkey_fingerprint(&ca->pub, ca->fingerprint)) != 0 ||
        (r = sshcert_pubkey_to_line(&ca->pub, CA_COMMENT, &ca->pub_line)) != 0)
        goto fail;
    if ((r = load_secret_key(cfg, &ca->secret_key, err)) != 0)
        goto fail;
    if ((r = sshcert_store_open(cfg->db_path, 0, &ca->store)) != 0) {
        sshcert_err_msg(err, r, "cannot open database %s: %s", cfg->db_path,
            r == SSHCERT_ERR_NOT_FOUND ? "missing; run 'sshcert-admin -c CONFIG init'"
                                       : db_why(cfg, r));
        goto fail;
    }
    *out = ca;
    return 0;
fail:
    if (*err == NULL)
        sshcert_err_msg(err, r, "%s", sshcert_err_str(r));
    sshcert_ca_close(ca);
    return r;
}

void
sshcert_ca_close(struct sshcert_ca *ca)
{
    if (ca == NULL)
        return;
    sshcert_store_close(ca->store);
    sshcert_privkey_free(ca->key);
    sshcert_secmem_free(ca->secret_key);
    free(ca->pub_line);
    free(ca);
}

struct issue_ctx {
    struct sshcert_ca *ca;
    const struct sshcert_issue_req *req;
};

static char *
join_principals(const char *const *p, size_t n)
{
    size_t len = 1, i;
    char *s;

    for (i = 0; i < n; i++)
        len += strlen(p[i]) + 1;
    if ((s = malloc(len)) == NULL)
        return NULL;
    s[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, ",");
        strcat(s, p[i]);
    }
    return s;
}

/* Runs once the serial is known, before the store's transaction (store_cert.c). */
static int
issue_sign(void *vctx, uint64_t serial, struct sshcert_cert_record *rec)
{
    struct issue_ctx *ctx = vctx;
    const struct sshcert_issue_req *req = ctx->req;
    const struct sshcert_config *cfg = ctx->ca->cfg;
    struct sshcert_cert *c = NULL;
    char key_id[SSHCERT_MAX_KEY_ID + 1], fp[SSHCERT_FP_LEN];
    uint64_t after, before;
    size_t i;
    int r;

    after = req->now > cfg->backdate ? req->now - cfg->backdate : 0;
    before = req->now + req->ttl;
    if (req->key_id != NULL)
        snprintf(key_id, sizeof(key_id), "%s", req->key_id);
    else
        snprintf(key_id, sizeof(key_id), "%s#%llu", req->username, (unsigned long long)serial);
    if ((r = sshcert_cert_new(&c)) != 0)
        return r;
    if ((r = sshcert_cert_set_key(c, req->key)) != 0 ||
        (r = sshcert_cert_set_serial(c, serial)) != 0 ||
        (r = sshcert_cert_set_key_id(c, key_id)) != 0 ||
        (r = sshcert_cert_set_validity(c, after, before)) != 0)
        goto out;
    for (i = 0; i < req->nprincipals; i++)
        if ((r = sshcert_cert_add_principal(c, req->principals[i])) != 0)
            goto out;
    for (i = 0; i < cfg->nextensions; i++)
        if ((r = sshcert_cert_add_extension(c, cfg->extensions[i])) != 0)
            goto out;
    if (req->force_command != NULL &&
        (r = sshcert_cert_set_option(c, SSHCERT_OPT_FORCE_COMMAND, req->force_command)) != 0)
        goto out;
    if (req->source_address != NULL &&
        (r = sshcert_cert_set_option(c, SSHCERT_OPT_SOURCE_ADDRESS, req->source_address)) != 0)
        goto out;
    if ((r = sshcert_cert_sign(c, &ctx->ca->pub, sshcert_cert_signer_privkey, ctx->ca->key)) != 0)
        goto out;
    if ((r = sshcert_pubkey_fingerprint(req->key, fp)) != 0)
        goto out;
    r = SSHCERT_ERR_ALLOC;
    if ((rec->key_id = strdup(key_id)) == NULL || (rec->username = strdup(req->username)) == NULL ||
        (rec->principals = join_principals(req->principals, req->nprincipals)) == NULL ||
        (rec->key_fingerprint = strdup(fp)) == NULL ||
        (rec->issued_by = strdup(req->issued_by)) == NULL ||
        (req->client_address != NULL &&
            (rec->client_address = strdup(req->client_address)) == NULL))
        goto out;
    if ((r = sshcert_cert_to_line(c, key_id, &rec->certificate)) != 0)
        goto out;
    rec->valid_after = after;
    rec->valid_before = before;
    rec->issued_at = req->now;
    r = 0;
out:
    sshcert_cert_free(c);
    return r;
}

int
sshcert_ca_issue(struct sshcert_ca *ca, const struct sshcert_issue_req *req,
    struct sshcert_cert_record *rec)
{
    struct issue_ctx ctx = {ca, req};

    memset(rec, 0, sizeof(*rec));
    if (req->key == NULL || req->username == NULL || req->issued_by == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (req->nprincipals == 0)
        return SSHCERT_ERR_NO_PRINCIPALS;
    if (req->ttl == 0 || req->ttl > SSHCERT_MAX_DURATION)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    return sshcert_store_issue(ca->store, issue_sign, &ctx, req->claim, rec);
}

int
sshcert_ca_seal(const struct sshcert_ca *ca, const uint8_t *plain, size_t len, uint8_t **out,
    size_t *out_len)
{
    uint8_t *o;
    size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;

    *out = NULL;
    *out_len = 0;
    if ((o = malloc(n)) == NULL)
        return SSHCERT_ERR_ALLOC;
    randombytes_buf(o, crypto_secretbox_NONCEBYTES);
    if (crypto_secretbox_easy(o + crypto_secretbox_NONCEBYTES, plain, len, o,
            ca->secret_key) != 0) {
        free(o);
        return SSHCERT_ERR_CRYPTO;
    }
    *out = o;
    *out_len = n;
    return 0;
}

int
sshcert_ca_unseal(const struct sshcert_ca *ca, const uint8_t *sealed, size_t len, uint8_t *out,
    size_t out_cap, size_t *out_len)
{
    size_t n;

    *out_len = 0;
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return SSHCERT_ERR_INVALID_FORMAT;
    n = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (n > out_cap)
        return SSHCERT_ERR_TOO_LARGE;
    if (crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
            len - crypto_secretbox_NONCEBYTES, sealed, ca->secret_key) != 0)
        return SSHCERT_ERR_SIGNATURE;
    *out_len = n;
    return 0;
}

int
sshcert_ca_build_krl(struct sshcert_ca *ca, uint64_t now, struct sshcert_buf **out)
{
    struct sshcert_serial_range *ranges = NULL;
    uint64_t *serials = NULL, version = 0;
    size_t n = 0, nranges = 0;
    int r;

    *out = NULL;
    if ((r = sshcert_store_krl_read(ca->store, now, &serials, &n, &ranges, &nranges,
             &version)) == 0)
        r = sshcert_krl_build(&ca->pub, version, now, serials, n, ranges, nranges, out);
    free(serials);
    free(ranges);
    return r;
}

