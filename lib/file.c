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

/* A file being read, as the caller names it in messages. */
struct src {
    const char *path;
    const char *what; /* NULL: the path alone names the file */
    char **msg;       /* NULL: no message wanted */
};

/* Sets *s->msg to pre, the file's name, then post; returns r with errno kept. */
static int
fail(const struct src *s, int r, const char *pre, const char *post)
{
    int saved = errno;

    if (s->msg != NULL)
        sshcert_err_msg(s->msg, r, "%s%s%s%s%s", pre, s->what != NULL ? s->what : "",
            s->what != NULL ? " " : "", s->path, post);
    errno = saved;
    return r;
}

static int
fail_errno(const struct src *s, int r, const char *pre)
{
    char post[128];
    int saved = errno;

    snprintf(post, sizeof(post), ": %s", strerror(saved));
    errno = saved;
    return fail(s, r, pre, post);
}

/* What the group and other bits of mode let them do, for the refusal of a private file. */
static void
describe_mode(char *out, size_t n, mode_t mode)
{
    static const char *const verbs[8] = {"", "execute", "write", "write and execute", "read",
        "read and execute", "read and write", "read, write and execute"};
    unsigned g = (mode >> 3) & 7u, o = mode & 7u;
    const char *kind = (mode & (S_IRGRP | S_IROTH)) != 0   ? "readable"
                       : (mode & (S_IWGRP | S_IWOTH)) != 0 ? "writable"
                                                           : "executable";

    if (g == o)
        snprintf(out, n, ": it is %s by group or others (mode %04o lets group and others %s it)",
            kind, mode & 07777u, verbs[g]);
    else if (o == 0)
        snprintf(out, n, ": it is %s by group or others (mode %04o lets group %s it)", kind,
            mode & 07777u, verbs[g]);
    else if (g == 0)
        snprintf(out, n, ": it is %s by group or others (mode %04o lets others %s it)", kind,
            mode & 07777u, verbs[o]);
    else
        snprintf(out, n,
            ": it is %s by group or others (mode %04o lets group %s it and others %s it)", kind,
            mode & 07777u, verbs[g], verbs[o]);
}

/* Opens s->path and checks what it is on the descriptor: *fdp is set whenever it was opened,
 * *size only when every check passed. */
static int
open_checked(const struct src *s, unsigned rules, size_t max, int *fdp, size_t *size)
{
    struct stat st;
    char post[160];
    int fl;

    /* O_NONBLOCK only so that opening a FIFO does not wait for a writer; cleared below. */
    if ((*fdp = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
        return fail_errno(s, errno == ENOENT ? SSHCERT_ERR_NOT_FOUND : SSHCERT_ERR_SYSTEM,
            "cannot open ");
    if (fstat(*fdp, &st) != 0)
        return fail_errno(s, SSHCERT_ERR_SYSTEM, "cannot stat ");
    if (!S_ISREG(st.st_mode))
        return fail(s, SSHCERT_ERR_INVALID_FORMAT, "", " is not a regular file");
    /* Others who may write a policy file could add a CA or drop a revocation. */
    if ((rules & SSHCERT_FILE_TRUSTED) != 0 &&
        ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0))
        return fail(s, SSHCERT_ERR_PERMISSIONS, "",
            " must be owned by root and not writable by group or others");
    if ((rules & SSHCERT_FILE_PRIVATE) != 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        describe_mode(post, sizeof(post), st.st_mode);
        return fail(s, SSHCERT_ERR_PERMISSIONS, "", post);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        snprintf(post, sizeof(post), " is larger than %zu bytes", max);
        return fail(s, SSHCERT_ERR_TOO_LARGE, "", post);
    }
    if ((fl = fcntl(*fdp, F_GETFL)) < 0 || fcntl(*fdp, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return fail_errno(s, SSHCERT_ERR_SYSTEM, "cannot read ");
    *size = (size_t)st.st_size;
    return 0;
}

/* Reads until EOF or cap bytes. */
static int
read_upto(int fd, char *d, size_t cap, size_t *got)
{
    ssize_t n;

    *got = 0;
    while (*got < cap) {
        n = read(fd, d + *got, cap - *got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return SSHCERT_ERR_SYSTEM;
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return 0;
}

int
sshcert_file_read_checked(const char *path, const char *what, unsigned rules, size_t max,
    char **out, size_t *len, char **msg)
{
    const struct src s = {path, what, msg};
    char *d = NULL;
    size_t size = 0, got = 0;
    int fd = -1, r = SSHCERT_ERR_INTERNAL, saved;

    if (out != NULL)
        *out = NULL;
    if (len != NULL)
        *len = 0;
    if (out == NULL || path == NULL || max >= SIZE_MAX ||
        (rules & ~(SSHCERT_FILE_PRIVATE | SSHCERT_FILE_TRUSTED)) != 0)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = open_checked(&s, rules, max, &fd, &size)) != 0)
        goto out;
    if ((d = malloc(size + 1)) == NULL) {
        r = fail(&s, SSHCERT_ERR_ALLOC, "out of memory reading ", "");
        goto out;
    }
    /* One byte more than fstat counted, to see a file that changed since. */
    if (read_upto(fd, d, size + 1, &got) != 0) {
        r = fail_errno(&s, SSHCERT_ERR_SYSTEM, "cannot read ");
        goto out;
    }
    if (got != size) {
        r = fail(&s, SSHCERT_ERR_INVALID_FORMAT, "", " changed while it was read");
        goto out;
    }
    d[got] = '\0';
    *out = d;
    d = NULL;
    if (len != NULL)
        *len = got;
    r = 0;
out:
    saved = errno;
    sshcert_secmem_free_len(d, size + 1); /* it may hold part of a key */
    if (fd >= 0)
        close(fd);
    errno = saved;
    return r;
}

int
sshcert_file_read(const char *path, size_t max, char **out, size_t *len)
{
    return sshcert_file_read_checked(path, NULL, 0, max, out, len, NULL);
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
