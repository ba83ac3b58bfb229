#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "secmem.h"

int
sshcert_file_read(const char *path, size_t max, char **out, size_t *len)
{
    struct stat st;
    char *d = NULL;
    size_t got = 0;
    ssize_t n;
    int fd = -1, r = SSHCERT_ERR_INTERNAL, saved;

    if (out == NULL || path == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (len != NULL)
        *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        r = errno == ENOENT ? SSHCERT_ERR_NOT_FOUND : SSHCERT_ERR_SYSTEM;
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    if ((size_t)st.st_size > max) {
        r = SSHCERT_ERR_TOO_LARGE;
        goto out;
    }
    if ((d = malloc(max + 1)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    /* Read until EOF rather than trusting st_size: the file may be growing. */
    for (;;) {
        if (got == max) {
            char extra;
            if ((n = read(fd, &extra, 1)) > 0) {
                r = SSHCERT_ERR_TOO_LARGE;
                goto out;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                r = SSHCERT_ERR_SYSTEM;
                goto out;
            }
            break;
        }
        n = read(fd, d + got, max - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = SSHCERT_ERR_SYSTEM;
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    d[got] = '\0';
    *out = d;
    d = NULL;
    if (len != NULL)
        *len = got;
    r = 0;
out:
    saved = errno;
    sshcert_secmem_free_len(d, max + 1); /* it may hold part of a key */
    if (fd >= 0)
        close(fd);
    errno = saved;
    return r;
}

int
sshcert_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char *tmp = NULL, *dircopy = NULL;
    const uint8_t *p = data;
    size_t off = 0, tlen;
    ssize_t n;
    int fd = -1, dfd = -1, r = SSHCERT_ERR_INTERNAL, saved;

    if (path == NULL || (data == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    tlen = strlen(path) + 16;
    if ((tmp = malloc(tlen)) == NULL)
        return SSHCERT_ERR_ALLOC;
    snprintf(tmp, tlen, "%s.tmpXXXXXX", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        free(tmp);
        return SSHCERT_ERR_SYSTEM;
    }
    if (fchmod(fd, (mode_t)mode) != 0) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    while (off < len) {
        n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = SSHCERT_ERR_SYSTEM;
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    free(tmp);
    tmp = NULL;
    /* Make the rename itself durable. */
    if ((dircopy = strdup(path)) != NULL &&
        (dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    r = 0;
out:
    saved = errno;
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    free(dircopy);
    errno = saved;
    return r;
}

int
sshcert_file_check_private(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return errno == ENOENT ? SSHCERT_ERR_NOT_FOUND : SSHCERT_ERR_SYSTEM;
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return SSHCERT_ERR_PERMISSIONS;
    return 0;
}
