/* Small-file I/O used by the key, KRL and config readers: bounded reads, atomic writes. */
#ifndef SSHCERT_FILE_H
#define SSHCERT_FILE_H

#include <stddef.h>

/* Rules sshcert_file_read_checked applies to the opened file, or'ed together. */
/* A secret (CA key, secret.key, TLS key): no permission bit for group or others. */
#define SSHCERT_FILE_PRIVATE 0x1u
/* Policy a root process trusts (pam_sshcert's ca_keys, KRL, principals): owned by root or by
 * the effective uid, and not writable by group or others; and so is every folder the path
 * passes through, up to "/" (sshd's StrictModes rule, with no exception for the sticky bit, so
 * nothing under /tmp qualifies), including each folder that holds a symbolic link on the way
 * and each folder a link leads through. */
#define SSHCERT_FILE_TRUSTED 0x2u

/*
 * Reads a whole file into a NUL-terminated malloc'd buffer, checking the file on the one
 * descriptor it reads from (so a rename between check and read cannot swap it): the file must
 * be a regular file, follow `rules`, and hold at most max bytes. Symbolic links are followed
 * and the rules apply to the file they lead to: operators link keys into place (certbot's
 * live/, Kubernetes secret volumes), and whoever can replace a link in the folder can replace
 * the file too. Opening does not wait on a FIFO.
 *
 * With SSHCERT_FILE_TRUSTED the path is resolved here one name at a time from "/" (a relative
 * path from the working folder), as the kernel would, at most 40 links (ELOOP beyond): each
 * folder is checked on a descriptor before a name is looked up in it, and the file is opened
 * in the last folder without following a link, so no one outside the rule can swap what was
 * checked for what is read. A folder that breaks the rule is SSHCERT_ERR_PERMISSIONS with a
 * message naming it, e.g. "principals file /x/y/p: directory /x/y is writable by group or
 * others (mode 0775)" or "...: directory /x/y is owned by uid 1000, not by root".
 *
 * 0, or: SSHCERT_ERR_NOT_FOUND (missing), SSHCERT_ERR_INVALID_FORMAT (not a regular file, or
 * its size changed while it was read), SSHCERT_ERR_PERMISSIONS (a rule is broken),
 * SSHCERT_ERR_TOO_LARGE (over max), SSHCERT_ERR_SYSTEM (errno kept: cannot open, stat or
 * read), SSHCERT_ERR_ALLOC, SSHCERT_ERR_INVALID_ARGUMENT.
 *
 * *out is set only on success; the caller frees it (sshcert_secmem_free_len for a secret).
 * Whatever was read is wiped on every failure. *len (optional) excludes the NUL. msg
 * (optional) gets a malloc'd message for the user that names the file (as "WHAT PATH" when
 * what is not NULL, else as PATH) and the reason, e.g. "PATH: it is readable by group or
 * others (mode 0640 lets group read it)"; NULL when it cannot be allocated. The caller frees
 * it, and it is left unchanged on success.
 */
int sshcert_file_read_checked(const char *path, const char *what, unsigned rules, size_t max,
    char **out, size_t *len, char **msg);
/* sshcert_file_read_checked with no rule beyond a regular file and no message. */
int sshcert_file_read(const char *path, size_t max, char **out, size_t *len);
/* Writes data to path atomically: a temp file in the same folder with `mode`, fsync, rename,
 * fsync of the folder. On failure the old file is untouched and the temp file removed. */
int sshcert_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* The same for a file that must not exist yet: the temp file is linked to path, never renamed
 * over it, so a file that appeared at path meanwhile is kept, and SSHCERT_ERR_DUPLICATE
 * returned (errno EEXIST). */
int sshcert_file_write_new(const char *path, const void *data, size_t len, unsigned mode);

#endif
