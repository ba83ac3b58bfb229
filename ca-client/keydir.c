/* Files in the key dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cert.h"
#include "config.h"
#include "err.h"
#include "file.h"
#include "key.h"
#include "keydir.h"
#include "out.h"

void
keydir_free(struct keydir *kd)
{
    free(kd->dir);
    free(kd->key);
    free(kd->pub);
    free(kd->cert);
    memset(kd, 0, sizeof(*kd));
}

static char *
join(const char *dir, const char *name)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL; /* asprintf leaves p undefined on failure */
    return p;
}

int
keydir_init(struct keydir *kd, const char *dir)
{
    char *home = NULL;
    size_t n;
    int r = SSHCERT_EXIT_ERROR;

    memset(kd, 0, sizeof(*kd));
    if (dir != NULL && *dir == '\0')
        return out_fail(SSHCERT_EXIT_USAGE, "--key-dir: empty path");
    if (dir != NULL)
        kd->dir = strdup(dir);
    else if ((home = cfg_home()) == NULL)
        return out_fail(SSHCERT_EXIT_ERROR, "no home folder: set HOME or use --key-dir");
    else
        kd->dir = join(home, KEYDIR_DEFAULT);
    free(home);
    if (kd->dir == NULL)
        goto oom;
    n = strlen(kd->dir);
    while (n > 1 && kd->dir[n - 1] == '/')
        kd->dir[--n] = '\0';
    if ((kd->key = join(kd->dir, KEYDIR_KEY)) == NULL ||
        (kd->pub = join(kd->dir, KEYDIR_PUB)) == NULL ||
        (kd->cert = join(kd->dir, KEYDIR_CERT)) == NULL)
        goto oom;
    return 0;
oom:
    keydir_free(kd);
    return out_fail(r, "out of memory");
}

static int
make_dir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int
keydir_create(const struct keydir *kd)
{
    char *parent = NULL, *slash;
    struct stat st;
    int r = 0;

    if ((parent = strdup(kd->dir)) == NULL)
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    /* ~/.ssh itself may not exist on a fresh account; make it the way ssh would (0700). */
    if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
        *slash = '\0';
        if (stat(parent, &st) != 0 && errno == ENOENT && make_dir(parent) != 0)
            r = out_fail(SSHCERT_EXIT_ERROR, "cannot create %s: %s", parent, strerror(errno));
    }
    if (r == 0 && make_dir(kd->dir) != 0)
        r = out_fail(SSHCERT_EXIT_ERROR, "cannot create %s: %s", kd->dir, strerror(errno));
    free(parent);
    return r;
}

static int
write_line(const char *path, const char *line)
{
    char *text = NULL;
    int r, len;

    if ((len = asprintf(&text, "%s\n", line)) < 0)
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    r = sshcert_file_write_atomic(path, text, (size_t)len, 0644);
    free(text);
    if (r != 0)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot write %s: %s", path,
            r == SSHCERT_ERR_SYSTEM ? strerror(errno) : sshcert_err_str(r));
    return 0;
}

int
keydir_write(const struct keydir *kd, const struct sshcert_privkey *key, const char *pub_line,
    const char *cert_line)
{
    int r;

    /* Each file is replaced atomically; the certificate goes last, so a reader never finds a
     * certificate whose key file is not there yet. */
    if ((r = sshcert_privkey_save(key, kd->key)) != 0)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot write %s: %s", kd->key,
            r == SSHCERT_ERR_SYSTEM ? strerror(errno) : sshcert_err_str(r));
    if ((r = write_line(kd->pub, pub_line)) != 0)
        return r;
    return write_line(kd->cert, cert_line);
}

int
keydir_load_cert(const struct keydir *kd, struct sshcert_cert **out)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    *out = NULL;
    if ((r = sshcert_file_read(kd->cert, SSHCERT_MAX_KEY_LINE, &text, &len)) != 0)
        return r;
    r = sshcert_cert_parse_line(text, len, out, NULL);
    free(text);
    return r;
}

void
keydir_blobs(const struct keydir *kd, struct keydir_blobs *out)
{
    struct sshcert_cert *c = NULL;
    struct sshcert_pubkey pk;
    struct sshcert_buf *b = NULL;
    const uint8_t *blob;
    char *text = NULL;
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    if (keydir_load_cert(kd, &c) == 0 && sshcert_cert_blob(c, &blob, &len) == 0 &&
        (out->cert = malloc(len)) != NULL) {
        memcpy(out->cert, blob, len);
        out->cert_len = len;
    }
    sshcert_cert_free(c);
    if (sshcert_file_read(kd->pub, SSHCERT_MAX_KEY_LINE, &text, &len) == 0 &&
        sshcert_pubkey_parse_line(text, len, &pk, NULL) == 0 &&
        (b = sshcert_buf_new(0)) != NULL && sshcert_pubkey_put_blob(b, &pk) == 0 &&
        (out->pub = malloc(sshcert_buf_len(b))) != NULL) {
        out->pub_len = sshcert_buf_len(b);
        memcpy(out->pub, sshcert_buf_ptr(b), out->pub_len);
    }
    sshcert_buf_free(b);
    free(text);
}

void
keydir_blobs_free(struct keydir_blobs *b)
{
    free(b->pub);
    free(b->cert);
    memset(b, 0, sizeof(*b));
}

int
keydir_remove(const struct keydir *kd, unsigned *removed)
{
    const char *paths[] = {kd->cert, kd->pub, kd->key};
    size_t i;

    *removed = 0;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (unlink(paths[i]) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            return out_fail(SSHCERT_EXIT_ERROR, "cannot remove %s: %s", paths[i],
                strerror(errno));
    }
    return 0;
}
