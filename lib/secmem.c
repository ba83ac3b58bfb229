#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "err.h"
#include "secmem.h"

int
sshcert_secmem_init(void)
{
    return sodium_init() < 0 ? SSHCERT_ERR_CRYPTO : 0;
}

void
sshcert_secmem_wipe(void *p, size_t len)
{
    if (p != NULL && len != 0)
        sodium_memzero(p, len);
}

int
sshcert_secmem_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    return sodium_memcmp(a, b, len) == 0;
}

int
sshcert_secmem_streq(const char *a, const char *b)
{
    size_t la, lb;

    if (a == NULL || b == NULL)
        return 0;
    la = strlen(a);
    lb = strlen(b);
    if (la != lb)
        return 0;
    return sshcert_secmem_equal(a, b, la);
}

void *
sshcert_secmem_alloc(size_t len)
{
    return sodium_malloc(len);
}

void
sshcert_secmem_free(void *p)
{
    if (p != NULL)
        sodium_free(p);
}

void
sshcert_secmem_free_str(char *s)
{
    if (s == NULL)
        return;
    sodium_memzero(s, strlen(s));
    free(s);
}

void
sshcert_secmem_free_len(void *p, size_t len)
{
    if (p == NULL)
        return;
    sodium_memzero(p, len);
    free(p);
}

void
sshcert_secmem_free_wipe(void *p)
{
    if (p == NULL)
        return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

void *
sshcert_secmem_realloc_wipe(void *p, size_t n)
{
    size_t old;
    void *q;

    if (p == NULL)
        return malloc(n);
    if (n == 0) {
        sshcert_secmem_free_wipe(p);
        return NULL;
    }
    /* Always move, so the old block can be wiped: realloc may copy and free it unwiped. */
    if ((q = malloc(n)) == NULL)
        return NULL;
    old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    sshcert_secmem_free_wipe(p);
    return q;
}

int
sshcert_secmem_no_dump(void)
{
    struct rlimit rl = {0, 0};

    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return SSHCERT_ERR_SYSTEM;
    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        return SSHCERT_ERR_SYSTEM;
    return 0;
}
