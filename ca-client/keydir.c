/* Files in the key dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cert.h"
#include "config.h"
#include "err.h"
#include "file.h"
#include "key.h"
#include "keydir.h"
#include "out.h"
#include "secmem.h"

/* The temp file beside each file it replaces: NAME.tmp and 16 random hex digits (the longest
 * NAME is KEYDIR_CERT). */
#define TMP_SUFFIX ".tmp"
#define TMP_RANDOM_BYTES 8u
#define TMP_NAME_MAX (sizeof(KEYDIR_CERT) + sizeof(TMP_SUFFIX) + 2 * TMP_RANDOM_BYTES)

void
keydir_free(struct keydir *kd)
{
    /* A zeroed keydir that never went through keydir_init has dir NULL and dfd 0, which is
     * not a descriptor of ours. */
    if (kd->dir != NULL && kd->dfd >= 0)
        close(kd->dfd);
    free(kd->dir);
    free(kd->key);
    free(kd->pub);
    free(kd->cert);
    memset(kd, 0, sizeof(*kd));
    kd->dfd = -1;
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
    kd->dfd = -1;
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

/* ~/.ssh itself may not exist on a fresh account; make it the way ssh would (0700). */
static int
make_parent(const char *dir)
{
    char *parent = NULL, *slash;
    struct stat st;
    int r = 0;

    if ((parent = strdup(dir)) == NULL)
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
        *slash = '\0';
        if (stat(parent, &st) != 0 && errno == ENOENT && mkdir(parent, 0700) != 0 &&
            errno != EEXIST)
            r = out_fail(SSHCERT_EXIT_ERROR, "cannot create %s: %s", parent, strerror(errno));
    }
    free(parent);
    return r;
}

/* Why the opened folder st must not hold a private key, or NULL when it may. */
static const char *
unsafe_reason(const struct stat *st, char *buf, size_t n)
{
    if (st->st_uid != geteuid()) {
        snprintf(buf, n, "is owned by uid %lu, not by you (uid %lu)", (unsigned long)st->st_uid,
            (unsigned long)geteuid());
        return buf;
    }
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(buf, n, "is writable by group or others (mode %04o)",
            (unsigned)(st->st_mode & 07777));
        return buf;
    }
    return NULL;
}

int
keydir_open(struct keydir *kd)
{
    struct stat st;
    const char *why;
    char reason[96];
    int fd = -1, r;

    if ((r = make_parent(kd->dir)) != 0)
        return r;
    if (mkdir(kd->dir, 0700) != 0 && errno != EEXIST)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot create %s: %s", kd->dir, strerror(errno));
    /* Whatever sits at the path now is what gets checked and then written into: no second
     * lookup of the path follows. */
    if ((fd = open(kd->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        if (errno == ENOTDIR && lstat(kd->dir, &st) == 0 && S_ISLNK(st.st_mode))
            return out_fail(SSHCERT_EXIT_ERROR, "key dir %s is a symbolic link: refusing to "
                "write a private key there (give the folder it points to with --key-dir)",
                kd->dir);
        return out_fail(SSHCERT_EXIT_ERROR, "cannot open the key dir %s: %s", kd->dir,
            strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        r = out_fail(SSHCERT_EXIT_ERROR, "cannot check the key dir %s: %s", kd->dir,
            strerror(errno));
        close(fd);
        return r;
    }
    if ((why = unsafe_reason(&st, reason, sizeof(reason))) != NULL) {
        close(fd);
        return out_fail(SSHCERT_EXIT_ERROR, "key dir %s %s: refusing to write a private key "
            "there", kd->dir, why);
    }
    kd->dfd = fd;
    return 0;
}

/* Replaces name in the opened folder atomically: a fresh temp file beside it (O_EXCL, never
 * through a link) with mode, written, synced, renamed over name, then the folder synced. On
 * failure the old file is untouched. 0, or -1 with errno set. */
static int
write_at(int dfd, const char *name, const char *data, size_t len, mode_t mode)
{
    char tmp[TMP_NAME_MAX], hex[2 * TMP_RANDOM_BYTES + 1];
    unsigned char rnd[TMP_RANDOM_BYTES];
    size_t off = 0;
    ssize_t n;
    int fd, closed, saved;

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(tmp, sizeof(tmp), "%s%s%s", name, TMP_SUFFIX, hex);
    if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0)
        return -1;
    /* Exactly mode, whatever the umask. */
    if (fchmod(fd, mode) != 0)
        goto out;
    while (off < len) {
        if ((n = write(fd, data + off, len - off)) < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto out;
    closed = close(fd);
    fd = -1;
    if (closed != 0 || renameat(dfd, tmp, dfd, name) != 0)
        goto out;
    (void)fsync(dfd); /* makes the rename itself durable */
    return 0;
out:
    saved = errno;
    if (fd >= 0)
        close(fd);
    (void)unlinkat(dfd, tmp, 0);
    errno = saved;
    return -1;
}

static int
write_line(const struct keydir *kd, const char *name, const char *path, const char *line)
{
    char *text = NULL;
    int r, len, saved;

    if ((len = asprintf(&text, "%s\n", line)) < 0)
        return out_fail(SSHCERT_EXIT_ERROR, "out of memory");
    r = write_at(kd->dfd, name, text, (size_t)len, 0644);
    saved = errno;
    free(text);
    if (r != 0)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot write %s: %s", path, strerror(saved));
    return 0;
}

int
keydir_write(const struct keydir *kd, const struct sshcert_privkey *key, const char *pub_line,
    const char *cert_line)
{
    char *text = NULL;
    int r, saved;

    if (kd->dfd < 0)
        return out_fail(SSHCERT_EXIT_ERROR, "internal error: the key dir is not open");
    /* Each file is replaced atomically; the certificate goes last, so a reader never finds a
     * certificate whose key file is not there yet. */
    if ((r = sshcert_privkey_to_text(key, &text)) != 0)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot encode the private key: %s",
            sshcert_err_str(r));
    r = write_at(kd->dfd, KEYDIR_KEY, text, strlen(text), 0600);
    saved = errno;
    sshcert_secmem_free_str(text);
    if (r != 0)
        return out_fail(SSHCERT_EXIT_ERROR, "cannot write %s: %s", kd->key, strerror(saved));
    if ((r = write_line(kd, KEYDIR_PUB, kd->pub, pub_line)) != 0)
        return r;
    return write_line(kd, KEYDIR_CERT, kd->cert, cert_line);
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

static void
add_key(struct keydir_keys *out, const struct sshcert_pubkey *k)
{
    size_t i;

    for (i = 0; i < out->count; i++)
        if (sshcert_pubkey_equal(&out->key[i], k))
            return;
    if (out->count < KEYDIR_MAX_KEYS)
        out->key[out->count++] = *k;
}

void
keydir_keys(const struct keydir *kd, struct keydir_keys *out)
{
    struct sshcert_cert *c = NULL;
    struct sshcert_pubkey pk;
    char *text = NULL;
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    if (sshcert_file_read(kd->pub, SSHCERT_MAX_KEY_LINE, &text, &len) == 0 &&
        sshcert_pubkey_parse_line(text, len, &pk, NULL) == 0)
        add_key(out, &pk);
    free(text);
    if (keydir_load_cert(kd, &c) == 0)
        add_key(out, sshcert_cert_key(c));
    sshcert_cert_free(c);
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
