#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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

/* ---- a trusted file's path ---- */

/* The one rule for a trusted file and every folder on its path (sshd's StrictModes): owned by
 * root or by us, not writable by group or others. 0, or 1 for the owner, 2 for the mode. */
static int
trusted_stat(const struct stat *st)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return 1;
    return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 ? 2 : 0;
}

/* The kernel's own limit on links followed while resolving one path. */
#define TRUSTED_MAX_LINKS 40u

/* A trusted path resolved one name at a time from "/", the way the kernel does, so that every
 * folder a name is looked up in (folders holding a link and folders a link leads through
 * included) is checked on the descriptor the next name is looked up from. */
struct walk {
    int dfd;             /* the folder names are looked up in; already checked */
    char dir[PATH_MAX];  /* its name, for messages: the physical path, no link in it */
    char rest[PATH_MAX]; /* names still to look up, '/'-separated; "" when none is left */
    unsigned links;      /* links followed so far */
};

/* sshd's StrictModes rule for each folder up to "/" (misc.c safe_path): owned by root or by
 * us, as the file must be, and not writable by group or others. The sticky bit does not
 * help: whoever may create names in the folder may create the one we are about to look up. */
static int
dir_trusted(const struct src *s, const struct walk *w)
{
    struct stat st;
    char post[sizeof(w->dir) + 96];
    uid_t me = geteuid();

    if (fstat(w->dfd, &st) != 0)
        return fail_errno(s, SSHCERT_ERR_SYSTEM, "cannot stat a directory above ");
    switch (trusted_stat(&st)) {
    case 0:
        return 0;
    case 1:
        if (me == 0)
            snprintf(post, sizeof(post), ": directory %s is owned by uid %u, not by root",
                w->dir, (unsigned)st.st_uid);
        else
            snprintf(post, sizeof(post),
                ": directory %s is owned by uid %u, not by root or uid %u", w->dir,
                (unsigned)st.st_uid, (unsigned)me);
        break;
    default:
        snprintf(post, sizeof(post), ": directory %s is writable by group or others (mode %04o)",
            w->dir, (unsigned)(st.st_mode & 07777u));
        break;
    }
    return fail(s, SSHCERT_ERR_PERMISSIONS, "", post);
}

/* Sets rest to a, then "/" and b when b is not empty; ENAMETOOLONG when it does not fit. */
static int
set_rest(struct walk *w, const char *a, const char *b)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s%s%s", a, b[0] != '\0' ? "/" : "", b);

    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(w->rest, tmp, (size_t)n + 1);
    return 0;
}

/* Takes the next name off w->rest into name; *last when no name follows it. A trailing slash
 * leaves "." behind, so the name before it must be a folder, as for open(2). Called only
 * while a name is left (rest is never "" then). */
static int
pop_name(struct walk *w, char name[NAME_MAX + 1], int *last)
{
    const char *p = w->rest, *next;
    size_t n;

    while (*p == '/')
        p++;
    if (*p == '\0')
        p = "."; /* nothing but slashes: the folder itself, as "/" is */
    n = strcspn(p, "/");
    if (n > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(name, p, n);
    name[n] = '\0';
    for (next = p + n; *next == '/'; next++)
        ;
    if (next != p + n && *next == '\0')
        next = ".";
    memmove(w->rest, next, strlen(next) + 1);
    *last = w->rest[0] == '\0';
    return 0;
}

/* Steps into the folder name, already looked up in w->dfd and not a link. */
static int
enter_dir(struct walk *w, const char *name)
{
    char *slash;
    size_t dl = strlen(w->dir);
    int fd;

    if ((fd = openat(w->dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return -1;
    if (strcmp(name, "..") == 0) {
        slash = strrchr(w->dir, '/');
        slash[slash == w->dir ? 1 : 0] = '\0';
    } else if (strcmp(name, ".") != 0) {
        if (dl + 1 + strlen(name) >= sizeof(w->dir)) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        snprintf(w->dir + dl, sizeof(w->dir) - dl, "%s%s", dl > 1 ? "/" : "", name);
    }
    close(w->dfd);
    w->dfd = fd;
    return 0;
}

/* Replaces the link name (in w->dfd) by its target in front of the names still to look up;
 * an absolute target starts again from "/". */
static int
follow_link(struct walk *w, const char *name)
{
    char target[PATH_MAX];
    ssize_t n;
    int fd;

    if (++w->links > TRUSTED_MAX_LINKS) {
        errno = ELOOP;
        return -1;
    }
    if ((n = readlinkat(w->dfd, name, target, sizeof(target))) < 0)
        return -1;
    if ((size_t)n >= sizeof(target) || n == 0) {
        errno = n == 0 ? ENOENT : ENAMETOOLONG;
        return -1;
    }
    target[n] = '\0';
    if (set_rest(w, target, w->rest) != 0)
        return -1;
    if (target[0] == '/') {
        if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return -1;
        close(w->dfd);
        w->dfd = fd;
        snprintf(w->dir, sizeof(w->dir), "/");
    }
    return 0;
}

/* Opens s->path for SSHCERT_FILE_TRUSTED: each folder is checked before a name is looked up
 * in it, and the file is opened in the last one without following a link, so what was
 * checked is what is opened. A relative path is taken from the working folder, whose own
 * parents are checked too. */
static int
open_trusted(const struct src *s, int *fdp)
{
    struct walk w;
    struct stat st;
    char name[NAME_MAX + 1], cwd[PATH_MAX];
    int last = 0, r = SSHCERT_ERR_INTERNAL;

    w.links = 0;
    snprintf(w.dir, sizeof(w.dir), "/");
    if ((w.dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return fail_errno(s, SSHCERT_ERR_SYSTEM, "cannot open ");
    if (s->path[0] == '\0')
        errno = ENOENT; /* as open("") */
    if (s->path[0] == '\0' || (s->path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL))
        goto sys;
    if (set_rest(&w, s->path[0] == '/' ? s->path : cwd, s->path[0] == '/' ? "" : s->path) != 0)
        goto sys;
    while (!last) {
        if ((r = dir_trusted(s, &w)) != 0)
            goto out;
        if (pop_name(&w, name, &last) != 0 ||
            fstatat(w.dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            goto sys;
        if (S_ISLNK(st.st_mode)) {
            if (follow_link(&w, name) != 0)
                goto sys;
            last = 0;
        } else if (!last && enter_dir(&w, name) != 0) {
            goto sys;
        }
    }
    /* O_NONBLOCK: see open_checked. A link put here since fstatat is refused (ELOOP). */
    if ((*fdp = openat(w.dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW)) < 0)
        goto sys;
    r = 0;
    goto out;
sys:
    r = fail_errno(s, errno == ENOENT ? SSHCERT_ERR_NOT_FOUND : SSHCERT_ERR_SYSTEM, "cannot open ");
out:
    close(w.dfd);
    return r;
}

/* ---- reading ---- */

/* Opens s->path and checks what it is on the descriptor: *fdp is set whenever it was opened,
 * *size only when every check passed. */
static int
open_checked(const struct src *s, unsigned rules, size_t max, int *fdp, size_t *size)
{
    struct stat st;
    char post[160];
    int fl, r;

    /* O_NONBLOCK only so that opening a FIFO does not wait for a writer; cleared below. */
    if ((rules & SSHCERT_FILE_TRUSTED) != 0) {
        if ((r = open_trusted(s, fdp)) != 0)
            return r;
    } else if ((*fdp = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        return fail_errno(s, errno == ENOENT ? SSHCERT_ERR_NOT_FOUND : SSHCERT_ERR_SYSTEM,
            "cannot open ");
    }
    if (fstat(*fdp, &st) != 0)
        return fail_errno(s, SSHCERT_ERR_SYSTEM, "cannot stat ");
    if (!S_ISREG(st.st_mode))
        return fail(s, SSHCERT_ERR_INVALID_FORMAT, "", " is not a regular file");
    /* Others who may write a policy file could add a CA or drop a revocation. */
    if ((rules & SSHCERT_FILE_TRUSTED) != 0 && trusted_stat(&st) != 0)
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

/* Both writers: the temp file takes path's name by rename (replace) or by link, which fails
 * when path exists. */
static int
file_write(const char *path, const void *data, size_t len, unsigned mode, int replace)
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
    if (replace ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
        r = !replace && errno == EEXIST ? SSHCERT_ERR_DUPLICATE : SSHCERT_ERR_SYSTEM;
        goto out;
    }
    /* Linked: the temp name goes (if it cannot, neither name stays: nothing half done). */
    if (!replace && unlink(tmp) != 0) {
        saved = errno;
        unlink(path);
        errno = saved;
        r = SSHCERT_ERR_SYSTEM;
        goto out;
    }
    free(tmp);
    tmp = NULL;
    /* Make the new name itself durable. */
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
sshcert_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    return file_write(path, data, len, mode, 1);
}

int
sshcert_file_write_new(const char *path, const void *data, size_t len, unsigned mode)
{
    return file_write(path, data, len, mode, 0);
}
