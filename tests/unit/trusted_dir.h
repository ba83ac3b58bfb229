/*
 * A scratch folder for unit tests that read files with SSHCERT_FILE_TRUSTED. That rule wants
 * every folder from the file up to "/" owned by root or by us and not writable by group or
 * others, sticky or not, so /tmp itself (mode 1777) never qualifies. This picks the first
 * candidate whose real path passes that rule and makes a fresh 0700 folder in it.
 *
 * Its own check, written plainly (realpath, then stat up to "/"), so that the tests do not
 * take the code under test as their oracle.
 */
#ifndef SSHCERT_TEST_TRUSTED_DIR_H
#define SSHCERT_TEST_TRUSTED_DIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 when real (a path without links) and each folder above it pass the rule. */
static int
trusted_chain(const char *real)
{
    char p[PATH_MAX];
    struct stat st;
    char *slash;

    snprintf(p, sizeof(p), "%s", real);
    for (;;) {
        if (stat(p, &st) != 0 || (st.st_uid != 0 && st.st_uid != geteuid()) ||
            (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
            return 0;
        if (strcmp(p, "/") == 0)
            return 1;
        slash = strrchr(p, '/');
        slash[slash == p ? 1 : 0] = '\0';
    }
}

/* Makes out = "<candidate>/<name>.XXXXXX" (at most n bytes, the candidate's real path) with
 * mkdtemp; 0, or -1 after saying on stderr why no candidate would do. Candidates, in order:
 * $SSHCERT_TEST_TMP, /run (root only can write there), $XDG_RUNTIME_DIR, $HOME, $TMPDIR, /tmp,
 * /var/tmp. */
static int
trusted_mkdtemp(char *out, size_t n, const char *name)
{
    const char *cand[] = {getenv("SSHCERT_TEST_TMP"), "/run", getenv("XDG_RUNTIME_DIR"),
        getenv("HOME"), getenv("TMPDIR"), "/tmp", "/var/tmp"};
    char real[PATH_MAX];
    size_t i;
    int len;

    for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
        if (cand[i] == NULL || cand[i][0] == '\0' || realpath(cand[i], real) == NULL ||
            !trusted_chain(real))
            continue;
        len = snprintf(out, n, "%s/%s.XXXXXX", strcmp(real, "/") == 0 ? "" : real, name);
        if (len > 0 && (size_t)len < n && mkdtemp(out) != NULL)
            return 0;
    }
    fprintf(stderr,
        "no scratch folder for SSHCERT_FILE_TRUSTED tests: each of $SSHCERT_TEST_TMP, /run, "
        "$XDG_RUNTIME_DIR, $HOME, $TMPDIR, /tmp, /var/tmp is missing, cannot be written, is too "
        "long, or has a folder above it that is writable by group or others or owned by someone "
        "other than root or uid %u; point SSHCERT_TEST_TMP at one that is not\n",
        (unsigned)geteuid());
    return -1;
}

#endif
