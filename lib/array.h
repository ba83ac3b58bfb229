/* Growing arrays of any element: the one growth rule for the KRL builder and the store's
 * readers, so that none of them has its own copy of the doubling and the overflow checks. */
#ifndef SSHCERT_ARRAY_H
#define SSHCERT_ARRAY_H

#include <stddef.h>

/* Room for need elements of size bytes in arr, which holds *alloc of them: grows
 * geometrically (from 16), so repeated appends stay linear. Returns arr (possibly moved, with
 * *alloc raised) or NULL when the size overflows or memory runs out, leaving arr intact. */
void *sshcert_array_reserve(void *arr, size_t *alloc, size_t need, size_t size);
/* Room for one more element after the n held. */
void *sshcert_array_grow(void *arr, size_t *alloc, size_t n, size_t size);

#endif
