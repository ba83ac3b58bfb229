/*
 * lib/file: the checked read behind every key, secret and policy file. Each rule at its
 * boundary with the exact code and message: modes, owners, what is not a regular file (a FIFO
 * must not block), symbolic links (followed; the rules apply to the target), the folders on a
 * trusted file's path (sshd's StrictModes rule for each, through every link), the size cap one
 * byte under and over, a missing file, a file that changes while it is read.
 *
 * The scratch folder is one the trusted rule accepts (trusted_dir.h): not under /tmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "secmem.h"
#include "trusted_dir.h"

#define MAX 64u /* the cap the tests read with */

static char dir[512];

static const char *
path_of(const char *name)
{
    static char p[4][600];
    static int i;

    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

/* Writes len bytes of 'k' to name with mode (exactly: chmod, not the umask). */
static const char *
make_file(const char *name, size_t len, mode_t mode)
{
    const char *p = path_of(name);
    FILE *f;
    size_t i;

    (void)unlink(p);
    assert_non_null(f = fopen(p, "w"));
    for (i = 0; i < len; i++)
        assert_int_equal(fputc('k', f), 'k');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(p, mode), 0);
    return p;
}

/* Makes the folder name with mode (exactly: chmod, not the umask). */
static const char *
make_dir(const char *name, mode_t mode)
{
    const char *p = path_of(name);

    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(chmod(p, mode), 0);
    return p;
}

/* A read that must fail with want and exactly the message "<pre><path><post>". */
static void
refused(const char *path, const char *what, unsigned rules, size_t max, int want, const char *pre,
    const char *post)
{
    char *out = (char *)1, *msg = NULL, expect[1200];
    size_t len = 99;

    assert_int_equal(sshcert_file_read_checked(path, what, rules, max, &out, &len, &msg), want);
    assert_null(out);
    assert_int_equal(len, 0);
    snprintf(expect, sizeof(expect), "%s%s%s%s%s", pre, what != NULL ? what : "",
        what != NULL ? " " : "", path, post);
    assert_non_null(msg);
    assert_string_equal(msg, expect);
    free(msg);
}

/* A read that must succeed with len bytes of 'k'. */
static void
accepted(const char *path, unsigned rules, size_t max, size_t want_len)
{
    char *out = NULL, *msg = NULL;
    size_t len = 99, i;

    assert_int_equal(sshcert_file_read_checked(path, NULL, rules, max, &out, &len, &msg), 0);
    assert_null(msg);
    assert_non_null(out);
    assert_int_equal(len, want_len);
    for (i = 0; i < len; i++)
        assert_int_equal(out[i], 'k');
    assert_int_equal(out[len], '\0');
    sshcert_secmem_free_len(out, len);
}

static void
test_private_modes(void **state)
{
    static const struct {
        mode_t mode;
        const char *post;
    } bad[] = {
        {0640, ": it is readable by group or others (mode 0640 lets group read it)"},
        {0604, ": it is readable by group or others (mode 0604 lets others read it)"},
        {0644, ": it is readable by group or others (mode 0644 lets group and others read it)"},
        {0660, ": it is readable by group or others (mode 0660 lets group read and write it)"},
        {0642, ": it is readable by group or others (mode 0642 lets group read it and others "
               "write it)"},
        {0620, ": it is writable by group or others (mode 0620 lets group write it)"},
        {0601, ": it is executable by group or others (mode 0601 lets others execute it)"},
        {0677, ": it is readable by group or others (mode 0677 lets group and others read, "
               "write and execute it)"},
    };
    const char *p;
    char *out = NULL;
    size_t i, len;

    (void)state;
    p = make_file("key", 10, 0600);
    accepted(p, SSHCERT_FILE_PRIVATE, MAX, 10);
    assert_int_equal(chmod(p, 0400), 0);
    accepted(p, SSHCERT_FILE_PRIVATE, MAX, 10);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(chmod(p, bad[i].mode), 0);
        refused(p, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_PERMISSIONS, "", bad[i].post);
    }
    /* Named by the caller's word for it. */
    assert_int_equal(chmod(p, 0640), 0);
    refused(p, "TLS key", SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_PERMISSIONS, "",
        ": it is readable by group or others (mode 0640 lets group read it)");
    /* The rule is asked for: a public file may be read by all. */
    assert_int_equal(chmod(p, 0644), 0);
    accepted(p, 0, MAX, 10);
    assert_int_equal(sshcert_file_read(p, MAX, &out, &len), 0);
    assert_int_equal(len, 10);
    free(out);
}

static void
test_trusted_owner_and_mode(void **state)
{
    const char *p;

    (void)state;
    /* Ours and read-only for the rest: trusted (a policy file is public). */
    p = make_file("cas.pub", 5, 0644);
    accepted(p, SSHCERT_FILE_TRUSTED, MAX, 5);
    assert_int_equal(chmod(p, 0664), 0);
    refused(p, "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_PERMISSIONS, "",
        " must be owned by root and not writable by group or others");
    assert_int_equal(chmod(p, 0646), 0);
    refused(p, "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_PERMISSIONS, "",
        " must be owned by root and not writable by group or others");
    /* Both rules: the owner rule speaks first, the private rule still holds. */
    assert_int_equal(chmod(p, 0640), 0);
    refused(p, NULL, SSHCERT_FILE_TRUSTED | SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_PERMISSIONS, "",
        ": it is readable by group or others (mode 0640 lets group read it)");
    assert_int_equal(chmod(p, 0600), 0);
    accepted(p, SSHCERT_FILE_TRUSTED | SSHCERT_FILE_PRIVATE, MAX, 5);
    /* Another account's file: only root can hand one over, so only root can test it. */
    if (geteuid() != 0)
        return;
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(chown(p, 65534, 65534), 0);
    refused(p, "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_PERMISSIONS, "",
        " must be owned by root and not writable by group or others");
    /* The private rule alone does not look at the owner. */
    assert_int_equal(chmod(p, 0600), 0);
    accepted(p, SSHCERT_FILE_PRIVATE, MAX, 5);
}

static void
test_not_regular(void **state)
{
    const char *p;
    char *out = NULL;

    (void)state;
    p = path_of("sub");
    assert_int_equal(mkdir(p, 0700), 0);
    refused(p, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_INVALID_FORMAT, "",
        " is not a regular file");
    refused(p, "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_INVALID_FORMAT, "",
        " is not a regular file");
    assert_int_equal(sshcert_file_read(p, MAX, &out, NULL), SSHCERT_ERR_INVALID_FORMAT);
    assert_null(out);
    /* A FIFO nobody writes to: opening it must not wait for a writer. The alarm kills the test
     * (a failure) if it does. */
    p = path_of("fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(5);
    refused(p, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_INVALID_FORMAT, "",
        " is not a regular file");
    assert_int_equal(sshcert_file_read(p, MAX, &out, NULL), SSHCERT_ERR_INVALID_FORMAT);
    alarm(0);
    assert_null(out);
    /* A character device, read-write for all. */
    refused("/dev/null", NULL, 0, MAX, SSHCERT_ERR_INVALID_FORMAT, "", " is not a regular file");
}

static void
test_symlinks(void **state)
{
    const char *target, *link;

    (void)state;
    /* Followed; the rules apply to the file the link leads to, not to the link's own 0777
     * (links through folders: test_trusted_folders). */
    target = make_file("real_key", 7, 0600);
    link = path_of("key_link");
    assert_int_equal(symlink(target, link), 0);
    accepted(link, SSHCERT_FILE_PRIVATE, MAX, 7);
    accepted(link, SSHCERT_FILE_TRUSTED, MAX, 7);
    assert_int_equal(chmod(target, 0644), 0);
    refused(link, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_PERMISSIONS, "",
        ": it is readable by group or others (mode 0644 lets group and others read it)");
    assert_int_equal(chmod(target, 0666), 0);
    refused(link, "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_PERMISSIONS, "",
        " must be owned by root and not writable by group or others");
    /* A link to a folder is not a regular file; a dangling link is a missing file. */
    assert_int_equal(symlink(dir, path_of("dir_link")), 0);
    refused(path_of("dir_link"), NULL, 0, MAX, SSHCERT_ERR_INVALID_FORMAT, "",
        " is not a regular file");
    assert_int_equal(symlink(path_of("nowhere"), path_of("dangling")), 0);
    refused(path_of("dangling"), NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_NOT_FOUND,
        "cannot open ", ": No such file or directory");
}

/* A trusted read refused because of the folder bad, with "<what> <path>: directory <bad> <why>". */
static void
refused_dir(const char *path, const char *bad, const char *why)
{
    char post[1400];

    snprintf(post, sizeof(post), ": directory %s %s", bad, why);
    refused(path, "principals file", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_PERMISSIONS, "", post);
}

/* SSHCERT_FILE_TRUSTED: every folder the path passes through, up to "/", must be owned by root
 * or by us and not writable by group or others (sshd's StrictModes, misc.c safe_path). */
static void
test_trusted_folders(void **state)
{
    const char *gw, *top;
    char gw_s[700], top_s[700];

    (void)state;
    top = make_dir("tr", 0755);
    snprintf(top_s, sizeof(top_s), "%s", top);
    make_dir("tr/safe", 0755);
    make_file("tr/safe/p", 5, 0644);
    accepted(path_of("tr/safe/p"), SSHCERT_FILE_TRUSTED, MAX, 5);
    /* The file's folder writable by group, by others, or by all with the sticky bit (as /tmp
     * is): whoever may create names in it chooses the file. */
    gw = make_dir("tr/gw", 0775);
    snprintf(gw_s, sizeof(gw_s), "%s", gw);
    make_file("tr/gw/p", 5, 0644);
    refused_dir(path_of("tr/gw/p"), gw_s, "is writable by group or others (mode 0775)");
    assert_int_equal(chmod(gw_s, 0757), 0);
    refused_dir(path_of("tr/gw/p"), gw_s, "is writable by group or others (mode 0757)");
    assert_int_equal(chmod(gw_s, 01777), 0);
    refused_dir(path_of("tr/gw/p"), gw_s, "is writable by group or others (mode 1777)");
    assert_int_equal(chmod(gw_s, 0775), 0);
    /* A folder further up. */
    assert_int_equal(chmod(top_s, 0770), 0);
    refused_dir(path_of("tr/safe/p"), top_s, "is writable by group or others (mode 0770)");
    assert_int_equal(chmod(top_s, 0755), 0);
    /* Only the trusted rule looks at folders. */
    accepted(path_of("tr/gw/p"), 0, MAX, 5);

    /* Links: a link in a safe folder to a file in a writable one (what sshd's realpath check
     * sees too); a link in a writable folder to a safe file, to a safe folder, or a chain of
     * links that passes through it (sshd would accept these: it checks only the path the links
     * lead to, yet whoever writes that folder chooses where they lead). */
    assert_int_equal(symlink("../gw/p", path_of("tr/safe/to_gw")), 0);
    refused_dir(path_of("tr/safe/to_gw"), gw_s, "is writable by group or others (mode 0775)");
    assert_int_equal(symlink(path_of("tr/safe/p"), path_of("tr/gw/to_safe")), 0);
    refused_dir(path_of("tr/gw/to_safe"), gw_s, "is writable by group or others (mode 0775)");
    assert_int_equal(symlink(path_of("tr/safe"), path_of("tr/gw/safe_dir")), 0);
    refused_dir(path_of("tr/gw/safe_dir/p"), gw_s, "is writable by group or others (mode 0775)");
    assert_int_equal(symlink(path_of("tr/gw/to_safe"), path_of("tr/safe/hop")), 0);
    refused_dir(path_of("tr/safe/hop"), gw_s, "is writable by group or others (mode 0775)");
    /* A path that only passes by a writable folder with "..": refused too, which is stricter
     * than needed but simple to state, and no operator writes such a path. */
    refused_dir(path_of("tr/gw/../safe/p"), gw_s, "is writable by group or others (mode 0775)");

    /* Links and names that stay among safe folders resolve as the kernel resolves them. */
    assert_int_equal(symlink("p", path_of("tr/safe/rel")), 0);
    accepted(path_of("tr/safe/rel"), SSHCERT_FILE_TRUSTED, MAX, 5);
    assert_int_equal(symlink(path_of("tr/safe/rel"), path_of("tr/safe/abs")), 0);
    accepted(path_of("tr/safe/abs"), SSHCERT_FILE_TRUSTED, MAX, 5);
    make_dir("tr/safe2", 0755);
    assert_int_equal(symlink("../safe", path_of("tr/safe2/up")), 0);
    accepted(path_of("tr/safe2/up/p"), SSHCERT_FILE_TRUSTED, MAX, 5);
    accepted(path_of("tr/safe2/up/../safe/./p"), SSHCERT_FILE_TRUSTED, MAX, 5);
    accepted(path_of("tr//safe///p"), SSHCERT_FILE_TRUSTED, MAX, 5);
    /* The file's own rule still holds in a safe folder. */
    assert_int_equal(chmod(path_of("tr/safe/p"), 0664), 0);
    refused(path_of("tr/safe/abs"), "ca_keys", SSHCERT_FILE_TRUSTED, MAX,
        SSHCERT_ERR_PERMISSIONS, "", " must be owned by root and not writable by group or others");
    assert_int_equal(chmod(path_of("tr/safe/p"), 0644), 0);
}

/* What the walk of a trusted path does with what is not a plain path to a file. */
static void
test_trusted_walk_edges(void **state)
{
    char cwd[PATH_MAX], through[700];
    char *out = NULL;

    (void)state;
    make_dir("te", 0755);
    make_dir("te/gw", 0775);
    make_file("te/p", 3, 0644);
    make_file("te/gw/p", 3, 0644);
    /* A trailing slash asks for a folder, as open(2) does. */
    snprintf(through, sizeof(through), "%s/", path_of("te/p"));
    refused(through, "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_SYSTEM, "cannot open ",
        ": Not a directory");
    assert_int_equal(errno, ENOTDIR);
    /* A loop of links ends like the kernel's. */
    assert_int_equal(symlink("loop", path_of("te/loop")), 0);
    refused(path_of("te/loop"), "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_SYSTEM,
        "cannot open ", ": Too many levels of symbolic links");
    assert_int_equal(errno, ELOOP);
    /* At most 40 links (the cap the kernel has too, which is the oracle here): lkN leads to p
     * through N links. */
    {
        char name[16], to[16];
        int i;

        for (i = 1; i <= 41; i++) {
            snprintf(name, sizeof(name), "te/lk%d", i);
            if (i == 1)
                snprintf(to, sizeof(to), "p");
            else
                snprintf(to, sizeof(to), "lk%d", i - 1);
            assert_int_equal(symlink(to, path_of(name)), 0);
        }
    }
    accepted(path_of("te/lk40"), 0, MAX, 3);
    accepted(path_of("te/lk40"), SSHCERT_FILE_TRUSTED, MAX, 3);
    refused(path_of("te/lk41"), "ca_keys", 0, MAX, SSHCERT_ERR_SYSTEM, "cannot open ",
        ": Too many levels of symbolic links");
    refused(path_of("te/lk41"), "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_SYSTEM,
        "cannot open ", ": Too many levels of symbolic links");
    assert_int_equal(errno, ELOOP);
    /* Names and paths over the kernel's caps fail as open(2) does (the oracle). */
    {
        static char longer[PATH_MAX + 8];
        char *msg = NULL, *out2 = NULL;
        size_t i;

        snprintf(longer, sizeof(longer), "%s/", path_of("te"));
        for (i = strlen(longer); i < NAME_MAX + 1 + strlen(path_of("te")) + 1; i++)
            longer[i] = 'n';
        longer[i] = '\0';
        refused(longer, NULL, 0, MAX, SSHCERT_ERR_SYSTEM, "cannot open ", ": File name too long");
        refused(longer, NULL, SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_SYSTEM, "cannot open ",
            ": File name too long");
        for (i = 0; i + 2 < PATH_MAX + 4; i += 2)
            memcpy(longer + i, "./", 2);
        memcpy(longer + i, "p", 2);
        assert_int_equal(sshcert_file_read_checked(longer, NULL, 0, MAX, &out2, NULL, &msg),
            SSHCERT_ERR_SYSTEM);
        assert_int_equal(errno, ENAMETOOLONG);
        assert_int_equal(sshcert_file_read_checked(longer, NULL, SSHCERT_FILE_TRUSTED, MAX, &out2,
                             NULL, &msg),
            SSHCERT_ERR_SYSTEM);
        assert_int_equal(errno, ENAMETOOLONG);
        assert_null(out2);
        free(msg);
    }
    /* A missing folder is a missing file; so is the empty path. */
    refused(path_of("te/nope/p"), "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_NOT_FOUND,
        "cannot open ", ": No such file or directory");
    refused("", "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_NOT_FOUND, "cannot open ",
        ": No such file or directory");
    /* "/" and a link to it are folders. */
    refused("/", "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_INVALID_FORMAT, "",
        " is not a regular file");
    assert_int_equal(symlink("/", path_of("te/root")), 0);
    refused(path_of("te/root"), "ca_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_INVALID_FORMAT,
        "", " is not a regular file");
    /* A relative path starts from the working folder, whose parents count too. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(path_of("te")), 0);
    assert_int_equal(sshcert_file_read_checked("p", NULL, SSHCERT_FILE_TRUSTED, MAX, &out, NULL,
                         NULL),
        0);
    assert_string_equal(out, "kkk");
    free(out);
    refused_dir("gw/p", path_of("te/gw"), "is writable by group or others (mode 0775)");
    assert_int_equal(chdir(path_of("te/gw")), 0);
    refused_dir("p", path_of("te/gw"), "is writable by group or others (mode 0775)");
    refused_dir("../p", path_of("te/gw"), "is writable by group or others (mode 0775)");
    assert_int_equal(chdir(cwd), 0);
}

/* A folder of another account: only root can hand one over, so only root can test it. */
static void
test_trusted_folder_owner(void **state)
{
    char other[700];

    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    snprintf(other, sizeof(other), "%s", make_dir("to", 0755));
    make_file("to/p", 3, 0644);
    accepted(path_of("to/p"), SSHCERT_FILE_TRUSTED, MAX, 3);
    assert_int_equal(chown(other, 65534, 65534), 0);
    refused_dir(path_of("to/p"), other, "is owned by uid 65534, not by root");
    /* Only the trusted rule looks at the folder's owner. */
    accepted(path_of("to/p"), 0, MAX, 3);
    assert_int_equal(chown(other, 0, 0), 0);
    assert_int_equal(symlink(path_of("to/p"), path_of("to/link")), 0);
    accepted(path_of("to/link"), SSHCERT_FILE_TRUSTED, MAX, 3);
    assert_int_equal(lchown(path_of("to/link"), 65534, 65534), 0);
    /* A link's own owner does not matter: only the folder it is in can change it. */
    accepted(path_of("to/link"), SSHCERT_FILE_TRUSTED, MAX, 3);
}

static void
test_size_cap(void **state)
{
    const char *p;
    char text[40], *out = NULL;

    (void)state;
    p = make_file("sized", MAX, 0600);
    accepted(p, SSHCERT_FILE_PRIVATE, MAX, MAX);
    p = make_file("sized", MAX + 1, 0600);
    snprintf(text, sizeof(text), " is larger than %u bytes", MAX);
    refused(p, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_TOO_LARGE, "", text);
    assert_int_equal(sshcert_file_read(p, MAX, &out, NULL), SSHCERT_ERR_TOO_LARGE);
    assert_null(out);
    accepted(p, SSHCERT_FILE_PRIVATE, MAX + 1, MAX + 1);
    /* An empty file is a file of 0 bytes, also under a cap of 0; one byte is over it. */
    p = make_file("empty", 0, 0600);
    accepted(p, SSHCERT_FILE_PRIVATE, 0, 0);
    p = make_file("one", 1, 0600);
    refused(p, NULL, 0, 0, SSHCERT_ERR_TOO_LARGE, "", " is larger than 0 bytes");
}

/* Files in dir whose name starts with prefix (the writers' temp files are "NAME.tmpXXXXXX"). */
static int
count_named(const char *prefix)
{
    char cmd[1200];
    FILE *f;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '^%s' || true", dir, prefix);
    assert_non_null(f = popen(cmd, "r"));
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    return n;
}

/* path holds exactly text, with mode, under one name (no temp name linked to it). */
static void
holds(const char *path, const char *text, mode_t mode)
{
    char *out = NULL;
    size_t len = 0;
    struct stat st;

    assert_int_equal(sshcert_file_read(path, MAX, &out, &len), 0);
    assert_int_equal(len, strlen(text));
    assert_string_equal(out, text);
    free(out);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, mode);
    assert_int_equal(st.st_nlink, 1);
}

/* The two writers: atomic replaces what is there; new writes only where nothing is, keeps
 * what appeared meanwhile (EEXIST), and leaves no temp file either way. */
static void
test_write_new_and_atomic(void **state)
{
    const char *p = path_of("written");

    (void)state;
    (void)unlink(p);
    assert_int_equal(sshcert_file_write_new(p, "first", 5, 0600), 0);
    holds(p, "first", 0600);
    errno = 0;
    assert_int_equal(sshcert_file_write_new(p, "second", 6, 0644), SSHCERT_ERR_DUPLICATE);
    assert_int_equal(errno, EEXIST);
    holds(p, "first", 0600);
    assert_int_equal(count_named("written"), 1);
    assert_int_equal(sshcert_file_write_atomic(p, "third", 5, 0644), 0);
    holds(p, "third", 0644);
    assert_int_equal(count_named("written"), 1);
    /* Where the folder is missing, neither writes, and nothing is left. */
    assert_int_equal(sshcert_file_write_new(path_of("nofolder/x"), "x", 1, 0600),
        SSHCERT_ERR_SYSTEM);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(unlink(p), 0);
}

static void
test_missing_and_unreadable(void **state)
{
    const char *p;
    char *out = NULL;

    (void)state;
    p = path_of("missing");
    refused(p, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_NOT_FOUND, "cannot open ",
        ": No such file or directory");
    refused(p, "revoked_keys", SSHCERT_FILE_TRUSTED, MAX, SSHCERT_ERR_NOT_FOUND, "cannot open ",
        ": No such file or directory");
    assert_int_equal(sshcert_file_read(p, MAX, &out, NULL), SSHCERT_ERR_NOT_FOUND);
    /* A path through a file is ENOTDIR: a system error with errno kept. */
    p = make_file("plain", 1, 0600);
    {
        char through[700];

        snprintf(through, sizeof(through), "%s/x", p);
        refused(through, NULL, 0, MAX, SSHCERT_ERR_SYSTEM, "cannot open ", ": Not a directory");
        assert_int_equal(sshcert_file_read(through, MAX, &out, NULL), SSHCERT_ERR_SYSTEM);
        assert_int_equal(errno, ENOTDIR);
    }
    /* Unreadable to us: root reads anything, so only others can see EACCES. */
    if (geteuid() != 0) {
        p = make_file("locked", 1, 0000);
        refused(p, NULL, SSHCERT_FILE_PRIVATE, MAX, SSHCERT_ERR_SYSTEM, "cannot open ",
            ": Permission denied");
    }
}

static void
test_changed_while_read(void **state)
{
    char *out = NULL, *msg = NULL;
    size_t len = 99;

    (void)state;
    /* A regular file whose size fstat gives as 0 while it reads as more: the file changed
     * between the check and the read, and what was read is not used. */
    assert_int_equal(
        sshcert_file_read_checked("/proc/self/status", "status", 0, MAX, &out, &len, &msg),
        SSHCERT_ERR_INVALID_FORMAT);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_string_equal(msg, "status /proc/self/status changed while it was read");
    free(msg);
}

static void
test_arguments_and_message(void **state)
{
    const char *p;
    char *out = NULL, *msg;
    size_t len;

    (void)state;
    p = make_file("args", 3, 0600);
    assert_int_equal(sshcert_file_read_checked(p, NULL, 0x4u, MAX, &out, &len, NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(out);
    assert_int_equal(sshcert_file_read_checked(NULL, NULL, 0, MAX, &out, &len, NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        sshcert_file_read_checked(p, NULL, 0, MAX, NULL, &len, NULL), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_int_equal(sshcert_file_read_checked(p, NULL, 0, SIZE_MAX, &out, &len, NULL),
        SSHCERT_ERR_INVALID_ARGUMENT);
    /* No message wanted, no length wanted. */
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(
        sshcert_file_read_checked(p, NULL, SSHCERT_FILE_PRIVATE, MAX, &out, NULL, NULL),
        SSHCERT_ERR_PERMISSIONS);
    assert_null(out);
    /* On success an earlier message is left as it was. */
    assert_int_equal(chmod(p, 0600), 0);
    assert_non_null(msg = strdup("earlier"));
    assert_int_equal(
        sshcert_file_read_checked(p, NULL, SSHCERT_FILE_PRIVATE, MAX, &out, NULL, &msg), 0);
    assert_string_equal(msg, "earlier");
    assert_string_equal(out, "kkk");
    free(out);
    free(msg);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int
setup(void **state)
{
    const char *base = getenv("SSHCERT_TEST_TMP");

    (void)state;
    if (base != NULL)
        (void)mkdir(base, 0700);
    return trusted_mkdtemp(dir, sizeof(dir), "test_file");
}

static int
teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_modes),
        cmocka_unit_test(test_trusted_owner_and_mode),
        cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_symlinks),
        cmocka_unit_test(test_trusted_folders),
        cmocka_unit_test(test_trusted_walk_edges),
        cmocka_unit_test(test_trusted_folder_owner),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_write_new_and_atomic),
        cmocka_unit_test(test_missing_and_unreadable),
        cmocka_unit_test(test_changed_while_read),
        cmocka_unit_test(test_arguments_and_message),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
