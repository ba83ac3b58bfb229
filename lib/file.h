/* Small-file I/O used by the key, KRL and config readers: bounded reads, atomic writes. */
#ifndef SSHCERT_FILE_H
#define SSHCERT_FILE_H

#include <stddef.h>

/* Reads a whole file into a NUL-terminated malloc'd buffer of at most max bytes.
 * SSHCERT_ERR_TOO_LARGE when bigger, SSHCERT_ERR_NOT_FOUND when missing, SSHCERT_ERR_SYSTEM
 * (errno kept) on other I/O errors. *len (optional) excludes the NUL. */
int sshcert_file_read(const char *path, size_t max, char **out, size_t *len);
/* Writes data to path atomically: a temp file in the same folder with `mode`, fsync, rename,
 * fsync of the folder. On failure the old file is untouched and the temp file removed. */
int sshcert_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* SSHCERT_ERR_PERMISSIONS when path is readable or writable by group or others, 0 when not,
 * SSHCERT_ERR_NOT_FOUND / SSHCERT_ERR_SYSTEM when it cannot be checked. */
int sshcert_file_check_private(const char *path);

#endif
