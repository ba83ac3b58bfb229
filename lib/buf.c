#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"

struct sshcert_buf {
    uint8_t *d;     /* storage; not owned when readonly */
    size_t off;     /* read position */
    size_t size;    /* end of valid data */
    size_t alloc;   /* capacity of d */
    size_t max;     /* cap on size */
    int readonly;
};

struct sshcert_buf *
sshcert_buf_new(size_t max)
{
    struct sshcert_buf *b;

    if (max == 0 || max > SSHCERT_BUF_MAX_DEFAULT)
        max = SSHCERT_BUF_MAX_DEFAULT;
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return NULL;
    b->max = max;
    return b;
}

struct sshcert_buf *
sshcert_buf_from(const void *p, size_t len)
{
    struct sshcert_buf *b;

    if (p == NULL && len != 0)
        return NULL;
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return NULL;
    /* The view never writes: the cast only lets one struct serve both roles. */
    b->d = (uint8_t *)(uintptr_t)p;
    b->size = b->alloc = b->max = len;
    b->readonly = 1;
    return b;
}

void
sshcert_buf_free(struct sshcert_buf *b)
{
    if (b == NULL)
        return;
    if (!b->readonly && b->d != NULL) {
        sodium_memzero(b->d, b->alloc);
        free(b->d);
    }
    sodium_memzero(b, sizeof(*b));
    free(b);
}

void
sshcert_buf_reset(struct sshcert_buf *b)
{
    if (b == NULL || b->readonly)
        return;
    if (b->d != NULL)
        sodium_memzero(b->d, b->alloc);
    b->off = b->size = 0;
}

size_t
sshcert_buf_len(const struct sshcert_buf *b)
{
    return b == NULL ? 0 : b->size - b->off;
}

const uint8_t *
sshcert_buf_ptr(const struct sshcert_buf *b)
{
    return b == NULL || b->d == NULL ? (const uint8_t *)"" : b->d + b->off;
}

int
sshcert_buf_expect_end(const struct sshcert_buf *b)
{
    return sshcert_buf_len(b) == 0 ? 0 : SSHCERT_ERR_TRAILING_DATA;
}

int
sshcert_buf_reserve(struct sshcert_buf *b, size_t len, uint8_t **out)
{
    size_t need, nalloc;
    uint8_t *nd;

    if (out != NULL)
        *out = NULL;
    if (b == NULL || b->readonly)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    /* Compare against what remains so the addition cannot overflow. */
    if (len > b->max - b->size)
        return SSHCERT_ERR_TOO_LARGE;
    need = b->size + len;
    if (need > b->alloc) {
        nalloc = b->alloc < 256 ? 256 : b->alloc;
        while (nalloc < need)
            nalloc = nalloc > b->max / 2 ? b->max : nalloc * 2;
        if ((nd = malloc(nalloc)) == NULL)
            return SSHCERT_ERR_ALLOC;
        /* Grow by copy so the old storage can be wiped: it may hold secrets. */
        if (b->d != NULL) {
            memcpy(nd, b->d, b->size);
            sodium_memzero(b->d, b->alloc);
            free(b->d);
        }
        b->d = nd;
        b->alloc = nalloc;
    }
    if (out != NULL)
        *out = b->d + b->size;
    b->size = need;
    return 0;
}

int
sshcert_buf_put(struct sshcert_buf *b, const void *p, size_t len)
{
    uint8_t *w;
    int r;

    if (len == 0)
        return b == NULL || b->readonly ? SSHCERT_ERR_INVALID_ARGUMENT : 0;
    if ((r = sshcert_buf_reserve(b, len, &w)) != 0)
        return r;
    memcpy(w, p, len);
    return 0;
}

int
sshcert_buf_put_u8(struct sshcert_buf *b, uint8_t v)
{
    return sshcert_buf_put(b, &v, 1);
}

int
sshcert_buf_put_u32(struct sshcert_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

    return sshcert_buf_put(b, x, sizeof(x));
}

int
sshcert_buf_put_u64(struct sshcert_buf *b, uint64_t v)
{
    uint8_t x[8];
    int i;

    for (i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (56 - 8 * i));
    return sshcert_buf_put(b, x, sizeof(x));
}

int
sshcert_buf_put_string(struct sshcert_buf *b, const void *p, size_t len)
{
    uint8_t *w;
    int r;

    if (len > UINT32_MAX || len > SIZE_MAX - 4)
        return SSHCERT_ERR_TOO_LARGE;
    if ((r = sshcert_buf_reserve(b, 4 + len, &w)) != 0)
        return r;
    w[0] = (uint8_t)(len >> 24);
    w[1] = (uint8_t)(len >> 16);
    w[2] = (uint8_t)(len >> 8);
    w[3] = (uint8_t)len;
    if (len > 0)
        memcpy(w + 4, p, len);
    return 0;
}

int
sshcert_buf_put_cstring(struct sshcert_buf *b, const char *s)
{
    if (s == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    return sshcert_buf_put_string(b, s, strlen(s));
}

int
sshcert_buf_put_stringb(struct sshcert_buf *b, const struct sshcert_buf *src)
{
    if (src == NULL || b == src)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    return sshcert_buf_put_string(b, sshcert_buf_ptr(src), sshcert_buf_len(src));
}

int
sshcert_buf_skip(struct sshcert_buf *b, size_t len)
{
    if (b == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (len > b->size - b->off)
        return SSHCERT_ERR_TRUNCATED;
    b->off += len;
    return 0;
}

int
sshcert_buf_get_bytes(struct sshcert_buf *b, void *out, size_t len)
{
    if (b == NULL || (out == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (len > b->size - b->off) {
        if (out != NULL)
            memset(out, 0, len);
        return SSHCERT_ERR_TRUNCATED;
    }
    if (len != 0)
        memcpy(out, b->d + b->off, len);
    b->off += len;
    return 0;
}

int
sshcert_buf_get_u8(struct sshcert_buf *b, uint8_t *v)
{
    return sshcert_buf_get_bytes(b, v, 1);
}

int
sshcert_buf_get_u32(struct sshcert_buf *b, uint32_t *v)
{
    uint8_t x[4];
    int r;

    if (v != NULL)
        *v = 0;
    if (v == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = sshcert_buf_get_bytes(b, x, sizeof(x))) != 0)
        return r;
    *v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3];
    return 0;
}

int
sshcert_buf_get_u64(struct sshcert_buf *b, uint64_t *v)
{
    uint8_t x[8];
    uint64_t acc = 0;
    int i, r;

    if (v == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *v = 0;
    if ((r = sshcert_buf_get_bytes(b, x, sizeof(x))) != 0)
        return r;
    for (i = 0; i < 8; i++)
        acc = acc << 8 | x[i];
    *v = acc;
    return 0;
}

int
sshcert_buf_get_string_direct(struct sshcert_buf *b, const uint8_t **p, size_t *len)
{
    const uint8_t *d;
    uint32_t n;
    size_t avail;

    if (p != NULL)
        *p = NULL;
    if (len != NULL)
        *len = 0;
    if (b == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    avail = b->size - b->off;
    if (avail < 4)
        return SSHCERT_ERR_TRUNCATED;
    d = b->d + b->off;
    n = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    if (n > avail - 4)
        return SSHCERT_ERR_TRUNCATED;
    b->off += 4 + (size_t)n;
    if (p != NULL)
        *p = d + 4;
    if (len != NULL)
        *len = n;
    return 0;
}

int
sshcert_buf_get_string_fixed(struct sshcert_buf *b, void *out, size_t len)
{
    const uint8_t *p;
    size_t n;
    size_t save;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    memset(out, 0, len);
    if (b == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    save = b->off;
    if ((r = sshcert_buf_get_string_direct(b, &p, &n)) != 0)
        return r;
    if (n != len) {
        b->off = save;
        return SSHCERT_ERR_INVALID_FORMAT;
    }
    memcpy(out, p, len);
    return 0;
}

int
sshcert_buf_get_cstring(struct sshcert_buf *b, char **s, size_t max)
{
    const uint8_t *p;
    size_t n, save;
    char *out;
    int r;

    if (s == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *s = NULL;
    if (b == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (max == 0)
        max = SSHCERT_BUF_MAX_CSTRING;
    save = b->off;
    if ((r = sshcert_buf_get_string_direct(b, &p, &n)) != 0)
        return r;
    if (n > max) {
        b->off = save;
        return SSHCERT_ERR_TOO_LARGE;
    }
    if (n > 0 && memchr(p, '\0', n) != NULL) {
        b->off = save;
        return SSHCERT_ERR_INVALID_FORMAT;
    }
    if ((out = malloc(n + 1)) == NULL) {
        b->off = save;
        return SSHCERT_ERR_ALLOC;
    }
    if (n > 0)
        memcpy(out, p, n);
    out[n] = '\0';
    *s = out;
    return 0;
}

int
sshcert_buf_get_expect_cstring(struct sshcert_buf *b, const char *expect)
{
    const uint8_t *p;
    size_t n, save;
    int r;

    if (b == NULL || expect == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    save = b->off;
    if ((r = sshcert_buf_get_string_direct(b, &p, &n)) != 0)
        return r;
    if (n != strlen(expect) || (n > 0 && memcmp(p, expect, n) != 0)) {
        b->off = save;
        return SSHCERT_ERR_INVALID_FORMAT;
    }
    return 0;
}

int
sshcert_buf_get_stringb(struct sshcert_buf *b, struct sshcert_buf **sub)
{
    const uint8_t *p;
    size_t n, save;
    int r;

    if (sub == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *sub = NULL;
    if (b == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    save = b->off;
    if ((r = sshcert_buf_get_string_direct(b, &p, &n)) != 0)
        return r;
    if ((*sub = sshcert_buf_from(p, n)) == NULL) {
        b->off = save;
        return SSHCERT_ERR_ALLOC;
    }
    return 0;
}

int
sshcert_buf_to_base64(const void *p, size_t len, char **out)
{
    size_t olen;
    char *s;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (len > SSHCERT_BUF_MAX_DEFAULT)
        return SSHCERT_ERR_TOO_LARGE;
    olen = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    if ((s = malloc(olen)) == NULL)
        return SSHCERT_ERR_ALLOC;
    sodium_bin2base64(s, olen, p, len, sodium_base64_VARIANT_ORIGINAL);
    *out = s;
    return 0;
}

int
sshcert_buf_put_base64(struct sshcert_buf *b, const char *text, size_t len, const char *ignore)
{
    uint8_t *bin;
    size_t maxbin = len / 4 * 3 + 3, bin_len = 0;
    int r;

    if (b == NULL || (text == NULL && len != 0))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (b->readonly)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    /* Decode aside: maxbin over-estimates (padding, ignored characters), and reserving it in b
     * would refuse input whose real decoded size still fits under b's cap. */
    if ((bin = malloc(maxbin)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if (sodium_base642bin(bin, maxbin, text, len, ignore, &bin_len, NULL,
            sodium_base64_VARIANT_ORIGINAL) != 0)
        r = SSHCERT_ERR_INVALID_FORMAT;
    else
        r = sshcert_buf_put(b, bin, bin_len);
    sodium_memzero(bin, maxbin);
    free(bin);
    return r;
}
