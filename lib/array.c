/* Growing arrays (array.h). */
#include <stdint.h>
#include <stdlib.h>

#include "array.h"

void *
sshcert_array_reserve(void *arr, size_t *alloc, size_t need, size_t size)
{
    size_t na;

    if (need <= *alloc)
        return arr;
    na = *alloc < 8 ? 16 : *alloc;
    while (na < need)
        na = na > SIZE_MAX / 2 ? need : na * 2;
    if (size == 0 || na > SIZE_MAX / size)
        return NULL;
    if ((arr = realloc(arr, na * size)) == NULL)
        return NULL;
    *alloc = na;
    return arr;
}

void *
sshcert_array_grow(void *arr, size_t *alloc, size_t n, size_t size)
{
    return n == SIZE_MAX ? NULL : sshcert_array_reserve(arr, alloc, n + 1, size);
}
