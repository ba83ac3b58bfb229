/* Secret memory: wiping, constant-time comparison, locked non-dumpable storage. */
#ifndef SSHCERT_SECMEM_H
#define SSHCERT_SECMEM_H

#include <stddef.h>

/* Initialises libsodium; call once before any other sshcert function. 0 or SSHCERT_ERR_CRYPTO. */
int sshcert_secmem_init(void);
/* Zeroes len bytes in a way the compiler keeps. */
void sshcert_secmem_wipe(void *p, size_t len);
/* 1 when the len bytes at a and b are equal, in time independent of their contents. */
int sshcert_secmem_equal(const void *a, const void *b, size_t len);
/* 1 when two NUL-terminated secrets are equal; time depends only on the lengths. */
int sshcert_secmem_streq(const char *a, const char *b);
/* Guarded, locked, non-dumpable allocation (sodium_malloc); NULL on failure. */
void *sshcert_secmem_alloc(size_t len);
/* Wipes and frees memory from sshcert_secmem_alloc. NULL-tolerant. */
void sshcert_secmem_free(void *p);
/* Wipes a malloc'd NUL-terminated string and frees it. NULL-tolerant. */
void sshcert_secmem_free_str(char *s);
/* Wipes len bytes of malloc'd memory and frees it. NULL-tolerant. */
void sshcert_secmem_free_len(void *p, size_t len);
/* free() and realloc() that wipe the whole malloc'd block first (malloc_usable_size), for
 * libraries that copy secrets into buffers of their own and free them: jansson's parser and
 * dumper (json_set_alloc_funcs), libcurl's request body (curl_global_init_mem). */
void sshcert_secmem_free_wipe(void *p);
void *sshcert_secmem_realloc_wipe(void *p, size_t n);
/* Marks the process non-dumpable (no core files, no ptrace by other users). */
int sshcert_secmem_no_dump(void);

#endif
