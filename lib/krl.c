/*
 * OpenSSH KRLs (PROTOCOL.krl). Revocations are held per CA as arrays: serials as inclusive
 * ranges, sorted and merged before anything reads them, key ids as sorted strings; explicit
 * keys and fingerprints as sorted blob lists. Sorted arrays keep lookups a binary search and
 * make the encoding a pure function of the revoked set, so encoding is canonical.
 */
#include <stdlib.h>
#include <string.h>

#include <nettle/sha1.h>
#include <sodium.h>

#include "array.h"
#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "krl.h"

#define KRL_MAGIC "SSHKRL\n" /* and its NUL: 8 bytes on the wire */
#define KRL_MAGIC_LEN 8
#define KRL_FORMAT_VERSION 1u

#define SECTION_CERTIFICATES 1
#define SECTION_EXPLICIT_KEY 2
#define SECTION_FINGERPRINT_SHA1 3
#define SECTION_SIGNATURE 4
#define SECTION_FINGERPRINT_SHA256 5
#define SECTION_EXTENSION 255

#define SUB_SERIAL_LIST 0x20
#define SUB_SERIAL_RANGE 0x21
#define SUB_SERIAL_BITMAP 0x22
#define SUB_KEY_ID 0x23
#define SUB_EXTENSION 0x39

/* Serials one SERIAL_BITMAP may span: the largest mpint a parser takes, less its sign byte. */
#define BITMAP_MAX_BITS ((SSHCERT_KRL_MAX_BITMAP_BYTES - 1u) * 8u)
#define SHA1_LEN 20
#define SHA256_LEN crypto_hash_sha256_BYTES
/* string "ssh-ed25519" || string pk */
#define ED25519_BLOB_LEN (4 + sizeof(SSHCERT_KEY_TYPE_ED25519) - 1 + 4 + SSHCERT_ED25519_PK_LEN)

struct range {
    uint64_t lo, hi; /* inclusive, 1 <= lo <= hi */
};

struct blob {
    uint8_t *p;
    size_t len;
};

struct blob_list {
    struct blob *v;
    size_t n, alloc;
};

/* Revocations for one CA; an empty CA blob is the wildcard "any CA". */
struct ca_revs {
    struct blob ca;
    struct range *r;
    size_t nr, ar;
    int unsorted; /* r may be out of order or overlap */
    char **ids;
    size_t nids, aids;
};

struct sshcert_krl {
    uint64_t version, date;
    int has_own; /* made by sshcert_krl_new with a CA: cas[0] is that CA */
    struct ca_revs *cas;
    size_t ncas, acas;
    struct blob_list keys, sha1s, sha256s;
    size_t entries; /* items stored so far, against SSHCERT_MAX_KRL_ENTRIES */
};

/* ---- small helpers ---- */

static int
count_entry(struct sshcert_krl *k)
{
    if (k->entries >= SSHCERT_MAX_KRL_ENTRIES)
        return SSHCERT_ERR_TOO_LARGE;
    k->entries++;
    return 0;
}

/* OpenSSH's blob order: bytes first, then the shorter blob first. */
static int
blob_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = 0;

    if (alen > 0 && blen > 0)
        c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static int
qsort_blob(const void *a, const void *b)
{
    const struct blob *x = a, *y = b;

    return blob_cmp(x->p, x->len, y->p, y->len);
}

static int
qsort_ca(const void *a, const void *b)
{
    const struct ca_revs *x = a, *y = b;

    return blob_cmp(x->ca.p, x->ca.len, y->ca.p, y->ca.len);
}

static int
qsort_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;

    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return 0;
}

static int
qsort_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
store_u64(uint8_t *w, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        w[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* The plain key blob, composed here so that checks need no allocation. */
static void
ed25519_blob(const struct sshcert_pubkey *k, uint8_t out[ED25519_BLOB_LEN])
{
    const size_t tlen = sizeof(SSHCERT_KEY_TYPE_ED25519) - 1;

    out[0] = out[1] = out[2] = 0;
    out[3] = (uint8_t)tlen;
    memcpy(out + 4, SSHCERT_KEY_TYPE_ED25519, tlen);
    out[4 + tlen] = out[5 + tlen] = out[6 + tlen] = 0;
    out[7 + tlen] = SSHCERT_ED25519_PK_LEN;
    memcpy(out + 8 + tlen, k->pk, SSHCERT_ED25519_PK_LEN);
}

/* SHA-1 through nettle (libsodium has none): ssh-keygen's "sha1:" lines put SHA-1
 * fingerprints in KRLs; it is used only to look keys up, never to protect anything. */
static void
sha1(const uint8_t *p, size_t len, uint8_t out[SHA1_LEN])
{
    struct sha1_ctx ctx;

    sha1_init(&ctx);
    sha1_update(&ctx, len, p);
    sha1_digest(&ctx, SHA1_LEN, out);
}

/* ---- storage ---- */

static void
blob_list_clear(struct blob_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].p);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int
blob_list_add(struct sshcert_krl *k, struct blob_list *l, const uint8_t *p, size_t len)
{
    struct blob *nv;
    uint8_t *copy;
    int r;

    if ((nv = sshcert_array_grow(l->v, &l->alloc, l->n, sizeof(*l->v))) == NULL)
        return SSHCERT_ERR_ALLOC;
    l->v = nv;
    if ((r = count_entry(k)) != 0)
        return r;
    if ((copy = malloc(len)) == NULL)
        return SSHCERT_ERR_ALLOC;
    memcpy(copy, p, len);
    l->v[l->n].p = copy;
    l->v[l->n].len = len;
    l->n++;
    return 0;
}

static void
blob_list_normalize(struct blob_list *l)
{
    size_t i, j;

    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof(*l->v), qsort_blob);
    for (i = 1, j = 0; i < l->n; i++) {
        if (qsort_blob(&l->v[i], &l->v[j]) == 0)
            free(l->v[i].p);
        else
            l->v[++j] = l->v[i];
    }
    l->n = j + 1;
}

static int
blob_list_has(const struct blob_list *l, const uint8_t *p, size_t len)
{
    size_t lo = 0, hi = l->n, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = blob_cmp(l->v[mid].p, l->v[mid].len, p, len);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void
ca_revs_clear(struct ca_revs *c)
{
    size_t i;

    free(c->ca.p);
    free(c->r);
    for (i = 0; i < c->nids; i++)
        free(c->ids[i]);
    free(c->ids);
    memset(c, 0, sizeof(*c));
}

/* Appends a CA entry (ca may be empty: the wildcard) and returns its index. */
static int
ca_add(struct sshcert_krl *k, const uint8_t *ca, size_t len, size_t *idx)
{
    struct ca_revs *nc;
    uint8_t *copy = NULL;
    int r;

    if ((nc = sshcert_array_grow(k->cas, &k->acas, k->ncas, sizeof(*k->cas))) == NULL)
        return SSHCERT_ERR_ALLOC;
    k->cas = nc;
    if ((r = count_entry(k)) != 0)
        return r;
    if (len > 0) {
        if ((copy = malloc(len)) == NULL)
            return SSHCERT_ERR_ALLOC;
        memcpy(copy, ca, len);
    }
    memset(&k->cas[k->ncas], 0, sizeof(*k->cas));
    k->cas[k->ncas].ca.p = copy;
    k->cas[k->ncas].ca.len = len;
    *idx = k->ncas++;
    return 0;
}

/* Adds lo..hi. A range that touches the last one extends it, so in-order input (what
 * ssh-keygen and a CA's database produce) stays sorted and costs no entries. */
static int
range_add(struct sshcert_krl *k, struct ca_revs *c, uint64_t lo, uint64_t hi)
{
    struct range *last, *nr;
    int r;

    if (c->nr > 0) {
        last = &c->r[c->nr - 1];
        if (lo >= last->lo && lo - 1 <= last->hi) {
            if (hi > last->hi)
                last->hi = hi;
            return 0;
        }
    }
    if ((nr = sshcert_array_grow(c->r, &c->ar, c->nr, sizeof(*c->r))) == NULL)
        return SSHCERT_ERR_ALLOC;
    c->r = nr;
    if ((r = count_entry(k)) != 0)
        return r;
    if (c->nr > 0 && lo <= c->r[c->nr - 1].hi)
        c->unsorted = 1;
    c->r[c->nr].lo = lo;
    c->r[c->nr].hi = hi;
    c->nr++;
    return 0;
}

/*
 * Sorts ranges by lo (all the merge needs). A builder may be fed a million serials in no
 * particular order and qsort alone takes most of a 500 ms budget there, so this is an LSD
 * radix sort, a byte per pass, skipping bytes in which all keys agree (serials seldom use
 * the high ones). Small arrays, or no memory for the scratch copy, use qsort.
 */
static void
ranges_sort(struct range *r, size_t n)
{
    struct range *tmp, *src, *dst, *t;
    size_t count[256], i, pos, c;
    uint64_t all_or = 0, all_and = UINT64_MAX;
    unsigned shift;

    if (n < 256 || n > SIZE_MAX / sizeof(*r) || (tmp = malloc(n * sizeof(*r))) == NULL) {
        qsort(r, n, sizeof(*r), qsort_range);
        return;
    }
    for (i = 0; i < n; i++) {
        all_or |= r[i].lo;
        all_and &= r[i].lo;
    }
    src = r;
    dst = tmp;
    for (shift = 0; shift < 64; shift += 8) {
        if (((all_or ^ all_and) >> shift & 0xff) == 0)
            continue; /* every key has the same byte here */
        memset(count, 0, sizeof(count));
        for (i = 0; i < n; i++)
            count[src[i].lo >> shift & 0xff]++;
        for (i = 0, pos = 0; i < 256; i++) {
            c = count[i];
            count[i] = pos;
            pos += c;
        }
        for (i = 0; i < n; i++)
            dst[count[src[i].lo >> shift & 0xff]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != r)
        memcpy(r, src, n * sizeof(*r));
    free(tmp);
}

/* Sorts and merges a range array in place; returns the new count. */
static size_t
ranges_merge(struct range *r, size_t n)
{
    size_t i, j;

    if (n < 2)
        return n;
    ranges_sort(r, n);
    for (i = 1, j = 0; i < n; i++) {
        if (r[i].lo - 1 <= r[j].hi) { /* overlaps or abuts; lo >= 1 always */
            if (r[i].hi > r[j].hi)
                r[j].hi = r[i].hi;
        } else {
            r[++j] = r[i];
        }
    }
    return j + 1;
}

static int
ranges_have(const struct ca_revs *c, uint64_t serial)
{
    size_t lo = 0, hi = c->nr, mid, i;

    if (c->unsorted) { /* a builder fed out of order and not yet encoded */
        for (i = 0; i < c->nr; i++)
            if (c->r[i].lo <= serial && serial <= c->r[i].hi)
                return 1;
        return 0;
    }
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (c->r[mid].hi < serial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nr && c->r[lo].lo <= serial;
}

/* In sorted, merged ranges: widens the first range lo..hi touches to cover it, absorbing
 * the ranges it now reaches. Returns 0 when lo..hi touches none (and changes nothing). */
static int
range_merge_into(struct ca_revs *c, uint64_t lo, uint64_t hi)
{
    size_t a = 0, b = c->nr, mid, j;

    while (a < b) { /* first range with hi >= lo - 1 */
        mid = a + (b - a) / 2;
        if (c->r[mid].hi < lo - 1)
            a = mid + 1;
        else
            b = mid;
    }
    if (a == c->nr || c->r[a].lo - 1 > hi)
        return 0;
    if (lo < c->r[a].lo)
        c->r[a].lo = lo;
    for (j = a + 1; j < c->nr && c->r[j].lo - 1 <= hi; j++)
        ;
    if (c->r[j - 1].hi > hi)
        hi = c->r[j - 1].hi;
    if (hi > c->r[a].hi)
        c->r[a].hi = hi;
    memmove(&c->r[a + 1], &c->r[j], (c->nr - j) * sizeof(*c->r));
    c->nr -= j - a - 1;
    return 1;
}

static int
id_add(struct sshcert_krl *k, struct ca_revs *c, char *id)
{
    char **ni;
    int r;

    if ((ni = sshcert_array_grow(c->ids, &c->aids, c->nids, sizeof(*c->ids))) == NULL)
        return SSHCERT_ERR_ALLOC;
    c->ids = ni;
    if ((r = count_entry(k)) != 0)
        return r;
    c->ids[c->nids++] = id;
    return 0;
}

static int
ids_have(const struct ca_revs *c, const char *id)
{
    size_t lo = 0, hi = c->nids, mid;
    int cmp;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        cmp = strcmp(c->ids[mid], id);
        if (cmp == 0)
            return 1;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Moves src's serials and ids into dst (same CA met in two sections) and clears src. */
static int
ca_absorb(struct ca_revs *dst, struct ca_revs *src)
{
    struct range *nr;
    char **ni;

    /* Counts are bounded by SSHCERT_MAX_KRL_ENTRIES, so the sums cannot overflow. */
    if (src->nr > 0) {
        if ((nr = sshcert_array_reserve(dst->r, &dst->ar, dst->nr + src->nr, sizeof(*nr))) ==
            NULL)
            return SSHCERT_ERR_ALLOC;
        memcpy(nr + dst->nr, src->r, src->nr * sizeof(*nr));
        dst->r = nr;
        dst->nr += src->nr;
        dst->unsorted = 1;
    }
    if (src->nids > 0) {
        if ((ni = sshcert_array_reserve(dst->ids, &dst->aids, dst->nids + src->nids,
                 sizeof(*ni))) == NULL)
            return SSHCERT_ERR_ALLOC;
        memcpy(ni + dst->nids, src->ids, src->nids * sizeof(*ni));
        dst->ids = ni;
        dst->nids += src->nids;
        src->nids = 0; /* the strings now belong to dst */
    }
    ca_revs_clear(src);
    return 0;
}

static void
ca_normalize(struct ca_revs *c)
{
    size_t i, j;

    if (c->unsorted) {
        c->nr = ranges_merge(c->r, c->nr);
        c->unsorted = 0;
    }
    if (c->nids < 2)
        return;
    qsort(c->ids, c->nids, sizeof(*c->ids), qsort_str);
    for (i = 1, j = 0; i < c->nids; i++) {
        if (strcmp(c->ids[i], c->ids[j]) == 0)
            free(c->ids[i]);
        else
            c->ids[++j] = c->ids[i];
    }
    c->nids = j + 1;
}

/* Puts every list in the sorted, merged, duplicate-free form lookups and encoding need. */
static int
krl_normalize(struct sshcert_krl *k)
{
    size_t i, j;
    int r;

    if (k->ncas > 1 && !k->has_own) {
        qsort(k->cas, k->ncas, sizeof(*k->cas), qsort_ca);
        for (i = 1, j = 0; i < k->ncas; i++) {
            if (qsort_ca(&k->cas[i], &k->cas[j]) == 0) {
                if ((r = ca_absorb(&k->cas[j], &k->cas[i])) != 0) {
                    /* Keep the array dense so that free still sees every entry. */
                    memmove(&k->cas[j + 1], &k->cas[i], (k->ncas - i) * sizeof(*k->cas));
                    k->ncas -= i - j - 1;
                    return r;
                }
            } else {
                k->cas[++j] = k->cas[i];
            }
        }
        k->ncas = j + 1;
    }
    for (i = 0; i < k->ncas; i++)
        ca_normalize(&k->cas[i]);
    blob_list_normalize(&k->keys);
    blob_list_normalize(&k->sha1s);
    blob_list_normalize(&k->sha256s);
    return 0;
}

static const struct ca_revs *
ca_find(const struct sshcert_krl *k, const uint8_t *ca, size_t len)
{
    size_t lo = 0, hi = k->ncas, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = blob_cmp(k->cas[mid].ca.p, k->cas[mid].ca.len, ca, len);
        if (c == 0)
            return &k->cas[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- public: lifetime and builder ---- */

int
sshcert_krl_new(const struct sshcert_pubkey *ca, struct sshcert_krl **out)
{
    struct sshcert_krl *k;
    uint8_t blob[ED25519_BLOB_LEN];
    size_t idx;
    int r;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((k = calloc(1, sizeof(*k))) == NULL)
        return SSHCERT_ERR_ALLOC;
    if (ca != NULL) {
        ed25519_blob(ca, blob);
        if ((r = ca_add(k, blob, sizeof(blob), &idx)) != 0) {
            sshcert_krl_free(k);
            return r;
        }
        k->has_own = 1;
    }
    *out = k;
    return 0;
}

void
sshcert_krl_free(struct sshcert_krl *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->ncas; i++)
        ca_revs_clear(&k->cas[i]);
    free(k->cas);
    blob_list_clear(&k->keys);
    blob_list_clear(&k->sha1s);
    blob_list_clear(&k->sha256s);
    free(k);
}

void
sshcert_krl_set_version(struct sshcert_krl *k, uint64_t version)
{
    if (k != NULL)
        k->version = version;
}

void
sshcert_krl_set_date(struct sshcert_krl *k, uint64_t date)
{
    if (k != NULL)
        k->date = date;
}

uint64_t
sshcert_krl_version(const struct sshcert_krl *k)
{
    return k == NULL ? 0 : k->version;
}

uint64_t
sshcert_krl_date(const struct sshcert_krl *k)
{
    return k == NULL ? 0 : k->date;
}

int
sshcert_krl_revoke_range(struct sshcert_krl *k, uint64_t lo, uint64_t hi)
{
    struct ca_revs *c;
    size_t held;
    int r;

    if (k == NULL || !k->has_own || lo == 0 || lo > hi)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    c = &k->cas[0];
    if ((r = range_add(k, c, lo, hi)) != SSHCERT_ERR_TOO_LARGE)
        return r;
    /* At the cap. Out-of-order input may merge into far fewer ranges, and lo..hi may touch
     * one already held: the cap applies to what is held, which the encoding will hold. */
    if (c->unsorted) {
        ca_normalize(c);
        k->entries = 1 + c->nr;
        if ((r = range_add(k, c, lo, hi)) != SSHCERT_ERR_TOO_LARGE)
            return r;
    }
    held = c->nr;
    if (!range_merge_into(c, lo, hi))
        return SSHCERT_ERR_TOO_LARGE;
    k->entries -= held - c->nr;
    return 0;
}

int
sshcert_krl_revoke_serial(struct sshcert_krl *k, uint64_t serial)
{
    return sshcert_krl_revoke_range(k, serial, serial);
}

/* ---- encoding ---- */

/* One planned serial subsection: ranges first..last of a CA, written as `type`. */
struct sub_plan {
    uint8_t type;
    size_t first, last;
};

static uint64_t
min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/*
 * The bit-cost model of OpenSSH's choose_next_state, so that a set within the bitmap limit
 * encodes exactly as ssh-keygen encodes it: what the run costs in each encoding, plus a guess
 * at what continuing costs, rounded to bytes; ties go to bitmap, then range, then list. One
 * addition: a bitmap may not grow past BITMAP_MAX_BITS (ssh-keygen 9.2 writes such bitmaps
 * and then cannot read them back), so can_extend/can_start veto those choices.
 */
static uint8_t
choose_sub(uint8_t state, uint64_t contig, int final, uint64_t last_gap, uint64_t next_gap,
    int can_extend, int can_start, int *restart)
{
    const uint64_t more = final ? 0 : 8 + 64; /* type byte and one u64 for what follows */
    const uint64_t inf = UINT64_MAX;
    uint64_t list, range, bitmap, fresh, best;
    uint8_t pick;

    contig = min64(contig, UINT64_C(1) << 31); /* keeps the sums below from overflowing */
    last_gap = min64(last_gap, UINT64_C(1) << 31);
    next_gap = min64(next_gap, UINT64_C(1) << 31);
    list = (state == SUB_SERIAL_LIST ? 0 : 8) + 64 * contig + more;
    range = 8 + 2 * 64 + more;
    bitmap = (state == SUB_SERIAL_BITMAP ? 0 : 8 + 64) + last_gap + contig +
        (final ? 0 : min64(next_gap, 8 + 64));
    fresh = 8 + 64 + contig + (final ? 0 : min64(next_gap, 8 + 64));
    list = (list + 7) / 8;
    range = (range + 7) / 8;
    bitmap = (bitmap + 7) / 8;
    fresh = (fresh + 7) / 8;
    /* Continuing is possible only inside a bitmap that has room; starting one needs room. */
    if (state == SUB_SERIAL_BITMAP ? !can_extend : !can_start)
        bitmap = inf;
    if (!can_start)
        fresh = inf;
    *restart = 0;
    pick = SUB_SERIAL_BITMAP;
    best = bitmap;
    if (range < best) {
        pick = SUB_SERIAL_RANGE;
        best = range;
    }
    if (list < best) {
        pick = SUB_SERIAL_LIST;
        best = list;
    }
    if (fresh < best) {
        pick = SUB_SERIAL_BITMAP;
        *restart = 1;
    }
    return pick;
}

/* Splits a CA's merged ranges into subsections. *plan is malloc'd. */
static int
plan_serials(const struct ca_revs *c, struct sub_plan **plan, size_t *nplan)
{
    struct sub_plan *p = NULL, *np;
    size_t n = 0, alloc = 0, i;
    uint64_t contig, last_gap, next_gap, start = 0;
    uint8_t state = 0, next;
    int restart, final, can_extend, can_start;

    *plan = NULL;
    *nplan = 0;
    for (i = 0; i < c->nr; i++) {
        contig = c->r[i].hi - c->r[i].lo;
        contig += contig < UINT64_MAX ? 1 : 0;
        final = i + 1 == c->nr;
        next_gap = final ? 0 : c->r[i + 1].lo - c->r[i].hi;
        last_gap = state == 0 ? 0 : c->r[i].lo - c->r[i - 1].hi;
        can_extend = state == SUB_SERIAL_BITMAP && c->r[i].hi - start < BITMAP_MAX_BITS;
        can_start = c->r[i].hi - c->r[i].lo < BITMAP_MAX_BITS;
        next = choose_sub(state, contig, final, last_gap, next_gap, can_extend, can_start,
            &restart);
        /* A range subsection holds exactly one range. */
        if (state == 0 || next != state || restart || state == SUB_SERIAL_RANGE) {
            if ((np = sshcert_array_grow(p, &alloc, n, sizeof(*p))) == NULL) {
                free(p);
                return SSHCERT_ERR_ALLOC;
            }
            p = np;
            p[n].type = next;
            p[n].first = p[n].last = i;
            n++;
            state = next;
            start = c->r[i].lo;
        } else {
            p[n - 1].last = i;
        }
    }
    *plan = p;
    *nplan = n;
    return 0;
}

/* Bytes of a bitmap's mpint: whole bytes for the bits, plus a zero byte when the top bit
 * (always set: it is the last serial) lands on a byte's most significant bit. */
static size_t
bitmap_mpint_len(uint64_t nbits)
{
    return (size_t)((nbits + 7) / 8 + (nbits % 8 == 0 ? 1 : 0));
}

/* Data length of one planned subsection; more than SSHCERT_MAX_KRL_SIZE means too big. */
static size_t
sub_len(const struct ca_revs *c, const struct sub_plan *p)
{
    uint64_t total = 0, n;
    size_t i;

    switch (p->type) {
    case SUB_SERIAL_RANGE:
        return 16;
    case SUB_SERIAL_BITMAP:
        return 8 + 4 + bitmap_mpint_len(c->r[p->last].hi - c->r[p->first].lo + 1);
    default:
        for (i = p->first; i <= p->last; i++) {
            n = c->r[i].hi - c->r[i].lo;
            if (n >= SSHCERT_MAX_KRL_SIZE / 8 || total > SSHCERT_MAX_KRL_SIZE)
                return (size_t)SSHCERT_MAX_KRL_SIZE + 1;
            total += 8 * (n + 1);
        }
        return total > SSHCERT_MAX_KRL_SIZE ? (size_t)SSHCERT_MAX_KRL_SIZE + 1 : (size_t)total;
    }
}

static int
put_list(struct sshcert_buf *b, const struct range *r, size_t first, size_t last, size_t len)
{
    uint8_t *w;
    uint64_t s;
    size_t i;
    int rc;

    if ((rc = sshcert_buf_reserve(b, len, &w)) != 0)
        return rc;
    for (i = first; i <= last; i++) {
        for (s = r[i].lo;; s++) {
            store_u64(w, s);
            w += 8;
            if (s == r[i].hi)
                break;
        }
    }
    return 0;
}

static int
put_bitmap(struct sshcert_buf *b, const struct range *r, size_t first, size_t last)
{
    uint8_t bits[SSHCERT_KRL_MAX_BITMAP_BYTES];
    uint64_t start = r[first].lo, s, bit;
    size_t len = bitmap_mpint_len(r[last].hi - start + 1), i;
    int rc;

    if (len > sizeof(bits))
        return SSHCERT_ERR_INTERNAL; /* the plan never makes one */
    memset(bits, 0, len);
    for (i = first; i <= last; i++) {
        for (s = r[i].lo;; s++) {
            bit = s - start;
            bits[len - 1 - bit / 8] |= (uint8_t)(1u << (bit % 8));
            if (s == r[i].hi)
                break;
        }
    }
    if ((rc = sshcert_buf_put_u64(b, start)) != 0)
        return rc;
    return sshcert_buf_put_string(b, bits, len);
}

static int
put_sub(struct sshcert_buf *b, const struct ca_revs *c, const struct sub_plan *p, size_t len)
{
    size_t before = sshcert_buf_len(b);
    int r;

    if ((r = sshcert_buf_put_u8(b, p->type)) != 0 ||
        (r = sshcert_buf_put_u32(b, (uint32_t)len)) != 0)
        return r;
    switch (p->type) {
    case SUB_SERIAL_RANGE:
        if ((r = sshcert_buf_put_u64(b, c->r[p->first].lo)) != 0 ||
            (r = sshcert_buf_put_u64(b, c->r[p->first].hi)) != 0)
            return r;
        break;
    case SUB_SERIAL_BITMAP:
        if ((r = put_bitmap(b, c->r, p->first, p->last)) != 0)
            return r;
        break;
    default:
        if ((r = put_list(b, c->r, p->first, p->last, len)) != 0)
            return r;
        break;
    }
    /* The length went out first; what followed must match it. */
    return sshcert_buf_len(b) - before == 5 + len ? 0 : SSHCERT_ERR_INTERNAL;
}

/* Adds n to *total unless that passes the KRL size cap. */
static int
add_len(size_t *total, size_t n)
{
    if (n > SSHCERT_MAX_KRL_SIZE || *total > SSHCERT_MAX_KRL_SIZE - n)
        return SSHCERT_ERR_TOO_LARGE;
    *total += n;
    return 0;
}

/* One CERTIFICATES section: lengths are computed from the plan first, so every part is
 * written once, straight into b. */
static int
put_ca_section(struct sshcert_buf *b, const struct ca_revs *c)
{
    struct sub_plan *plan = NULL;
    size_t nplan = 0, i, total = 0, idlen = 0, *lens = NULL;
    int r = SSHCERT_ERR_INTERNAL;

    if (c->nr == 0 && c->nids == 0)
        return 0;
    if ((r = plan_serials(c, &plan, &nplan)) != 0)
        goto out;
    if (nplan > 0 && (lens = calloc(nplan, sizeof(*lens))) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = add_len(&total, 4 + c->ca.len)) != 0 || (r = add_len(&total, 4)) != 0)
        goto out;
    for (i = 0; i < nplan; i++) {
        lens[i] = sub_len(c, &plan[i]);
        if ((r = add_len(&total, 5)) != 0 || (r = add_len(&total, lens[i])) != 0)
            goto out;
    }
    for (i = 0; i < c->nids; i++)
        if ((r = add_len(&idlen, 4)) != 0 || (r = add_len(&idlen, strlen(c->ids[i]))) != 0)
            goto out;
    if (c->nids > 0 && ((r = add_len(&total, 5)) != 0 || (r = add_len(&total, idlen)) != 0))
        goto out;
    if ((r = sshcert_buf_put_u8(b, SECTION_CERTIFICATES)) != 0 ||
        (r = sshcert_buf_put_u32(b, (uint32_t)total)) != 0 ||
        (r = sshcert_buf_put_string(b, c->ca.p, c->ca.len)) != 0 ||
        (r = sshcert_buf_put_string(b, NULL, 0)) != 0)
        goto out;
    for (i = 0; i < nplan; i++)
        if ((r = put_sub(b, c, &plan[i], lens[i])) != 0)
            goto out;
    if (c->nids > 0) {
        if ((r = sshcert_buf_put_u8(b, SUB_KEY_ID)) != 0 ||
            (r = sshcert_buf_put_u32(b, (uint32_t)idlen)) != 0)
            goto out;
        for (i = 0; i < c->nids; i++)
            if ((r = sshcert_buf_put_cstring(b, c->ids[i])) != 0)
                goto out;
    }
    r = 0;
out:
    free(plan);
    free(lens);
    return r;
}

static int
put_blob_section(struct sshcert_buf *b, uint8_t type, const struct blob_list *l)
{
    size_t total = 0, i;
    int r;

    if (l->n == 0)
        return 0;
    for (i = 0; i < l->n; i++)
        if ((r = add_len(&total, 4)) != 0 || (r = add_len(&total, l->v[i].len)) != 0)
            return r;
    if ((r = sshcert_buf_put_u8(b, type)) != 0 ||
        (r = sshcert_buf_put_u32(b, (uint32_t)total)) != 0)
        return r;
    for (i = 0; i < l->n; i++)
        if ((r = sshcert_buf_put_string(b, l->v[i].p, l->v[i].len)) != 0)
            return r;
    return 0;
}

int
sshcert_krl_to_blob(struct sshcert_krl *k, struct sshcert_buf *b)
{
    struct sshcert_buf *out = NULL;
    size_t i;
    int r = SSHCERT_ERR_INTERNAL;

    if (k == NULL || b == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = krl_normalize(k)) != 0)
        return r;
    /* Never larger than the parser accepts; built aside so a failure leaves b unchanged. */
    if ((out = sshcert_buf_new(SSHCERT_MAX_KRL_SIZE)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_put(out, KRL_MAGIC, KRL_MAGIC_LEN)) != 0 ||
        (r = sshcert_buf_put_u32(out, KRL_FORMAT_VERSION)) != 0 ||
        (r = sshcert_buf_put_u64(out, k->version)) != 0 ||
        (r = sshcert_buf_put_u64(out, k->date)) != 0 ||
        (r = sshcert_buf_put_u64(out, 0)) != 0 ||         /* flags */
        (r = sshcert_buf_put_string(out, NULL, 0)) != 0 || /* reserved */
        (r = sshcert_buf_put_string(out, NULL, 0)) != 0)   /* comment */
        goto out;
    for (i = 0; i < k->ncas; i++)
        if ((r = put_ca_section(out, &k->cas[i])) != 0)
            goto out;
    if ((r = put_blob_section(out, SECTION_EXPLICIT_KEY, &k->keys)) != 0 ||
        (r = put_blob_section(out, SECTION_FINGERPRINT_SHA1, &k->sha1s)) != 0 ||
        (r = put_blob_section(out, SECTION_FINGERPRINT_SHA256, &k->sha256s)) != 0)
        goto out;
    r = sshcert_buf_put(b, sshcert_buf_ptr(out), sshcert_buf_len(out));
out:
    sshcert_buf_free(out);
    return r;
}

/* ---- parsing ---- */

static int
parse_header(struct sshcert_buf *b, struct sshcert_krl *k)
{
    const uint8_t *p;
    size_t avail = sshcert_buf_len(b), len;
    uint32_t format;
    uint64_t flags;
    int r;

    /* A short prefix of the magic is a truncated KRL; anything else is not a KRL. */
    if (memcmp(sshcert_buf_ptr(b), KRL_MAGIC, avail < KRL_MAGIC_LEN ? avail : KRL_MAGIC_LEN) != 0)
        return SSHCERT_ERR_INVALID_FORMAT;
    if ((r = sshcert_buf_skip(b, KRL_MAGIC_LEN)) != 0 ||
        (r = sshcert_buf_get_u32(b, &format)) != 0)
        return r;
    if (format != KRL_FORMAT_VERSION)
        return SSHCERT_ERR_UNSUPPORTED;
    /* No flags are defined; like sshd, ignore them. */
    if ((r = sshcert_buf_get_u64(b, &k->version)) != 0 ||
        (r = sshcert_buf_get_u64(b, &k->date)) != 0 ||
        (r = sshcert_buf_get_u64(b, &flags)) != 0 ||
        (r = sshcert_buf_get_string_direct(b, &p, &len)) != 0 || /* reserved */
        (r = sshcert_buf_get_string_direct(b, &p, &len)) != 0)    /* comment */
        return r;
    if (len > 0 && memchr(p, '\0', len) != NULL)
        return SSHCERT_ERR_INVALID_FORMAT;
    return 0;
}

/* Section 255 and subsection 0x39: string name, bool critical, string data. */
static int
parse_extension(struct sshcert_buf *b)
{
    const uint8_t *p;
    size_t len;
    uint8_t critical;
    int r;

    if ((r = sshcert_buf_get_string_direct(b, &p, &len)) != 0 ||
        (r = sshcert_buf_get_u8(b, &critical)) != 0 ||
        (r = sshcert_buf_get_string_direct(b, &p, &len)) != 0)
        return r;
    if (critical > 1)
        return SSHCERT_ERR_INVALID_FORMAT;
    /* An extension we do not know and may not ignore: fail closed. */
    if (critical)
        return SSHCERT_ERR_UNSUPPORTED;
    return sshcert_buf_expect_end(b);
}

/* An ed25519 CA must be a well-formed key; other key types are kept as opaque blobs (they
 * cannot sign certificates sshcert accepts, but the KRL may list them for other users). */
static int
check_ca_blob(const uint8_t *p, size_t len)
{
    struct sshcert_buf *b;
    struct sshcert_pubkey pk;
    const uint8_t *type;
    size_t tlen;
    int r;

    if (len == 0)
        return 0;
    if ((b = sshcert_buf_from(p, len)) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_buf_get_string_direct(b, &type, &tlen)) == 0) {
        if (tlen == 0 || memchr(type, '\0', tlen) != NULL)
            r = SSHCERT_ERR_INVALID_FORMAT;
        else if (tlen == sizeof(SSHCERT_KEY_TYPE_ED25519) - 1 &&
                 memcmp(type, SSHCERT_KEY_TYPE_ED25519, tlen) == 0) {
            sshcert_buf_free(b);
            if ((b = sshcert_buf_from(p, len)) == NULL)
                return SSHCERT_ERR_ALLOC;
            r = sshcert_pubkey_from_blob(b, &pk);
        }
    }
    sshcert_buf_free(b);
    return r;
}

static int
parse_serial_list(struct sshcert_krl *k, struct ca_revs *c, struct sshcert_buf *b)
{
    uint64_t s;
    int r;

    while (sshcert_buf_len(b) > 0) {
        if ((r = sshcert_buf_get_u64(b, &s)) != 0)
            return r;
        if (s == 0) /* sshd rejects the whole KRL: so do we */
            return SSHCERT_ERR_INVALID_FORMAT;
        if ((r = range_add(k, c, s, s)) != 0)
            return r;
    }
    return 0;
}

static int
parse_serial_range(struct sshcert_krl *k, struct ca_revs *c, struct sshcert_buf *b)
{
    uint64_t lo, hi;
    int r;

    if ((r = sshcert_buf_get_u64(b, &lo)) != 0 || (r = sshcert_buf_get_u64(b, &hi)) != 0)
        return r;
    if (lo == 0 || lo > hi)
        return SSHCERT_ERR_INVALID_FORMAT;
    return range_add(k, c, lo, hi);
}

/* The bitmap's mpint must be canonical: not negative, no needless zero byte, no bigger than
 * OpenSSH reads (16384 bits after an optional sign byte). */
static int
check_bitmap_mpint(const uint8_t *d, size_t len)
{
    if (len > SSHCERT_KRL_MAX_BITMAP_BYTES ||
        (len == SSHCERT_KRL_MAX_BITMAP_BYTES && d[0] != 0))
        return SSHCERT_ERR_TOO_LARGE;
    if (len > 0 && (d[0] & 0x80) != 0)
        return SSHCERT_ERR_INVALID_FORMAT;
    if (len > 0 && d[0] == 0 && (len == 1 || (d[1] & 0x80) == 0))
        return SSHCERT_ERR_INVALID_FORMAT;
    return 0;
}

static int
parse_serial_bitmap(struct sshcert_krl *k, struct ca_revs *c, struct sshcert_buf *b)
{
    const uint8_t *d;
    size_t len, i;
    uint64_t offset, bit, nbits, run = 0;
    int r, in_run = 0, set;

    if ((r = sshcert_buf_get_u64(b, &offset)) != 0 ||
        (r = sshcert_buf_get_string_direct(b, &d, &len)) != 0)
        return r;
    if ((r = check_bitmap_mpint(d, len)) != 0)
        return r;
    /* Walk from the least significant bit, turning runs of set bits into ranges. Bit N is
     * serial offset+N, which must be neither 0 nor past 2^64-1. */
    nbits = (uint64_t)len * 8;
    for (bit = 0; bit <= nbits; bit++) {
        set = 0;
        if (bit < nbits) {
            i = len - 1 - (size_t)(bit / 8);
            if (!in_run && d[i] == 0 && bit % 8 == 0) {
                bit += 7; /* a whole zero byte */
                continue;
            }
            set = (d[i] >> (bit % 8)) & 1;
        }
        if (set && !in_run) {
            if (bit > UINT64_MAX - offset || offset + bit == 0)
                return SSHCERT_ERR_INVALID_FORMAT; /* wraps, or serial 0 */
            run = bit;
            in_run = 1;
        } else if (!set && in_run) {
            if (bit - 1 > UINT64_MAX - offset)
                return SSHCERT_ERR_INVALID_FORMAT;
            if ((r = range_add(k, c, offset + run, offset + bit - 1)) != 0)
                return r;
            in_run = 0;
        }
    }
    return sshcert_buf_expect_end(b);
}

static int
parse_key_ids(struct sshcert_krl *k, struct ca_revs *c, struct sshcert_buf *b)
{
    char *id = NULL;
    int r;

    while (sshcert_buf_len(b) > 0) {
        if ((r = sshcert_buf_get_cstring(b, &id, 0)) != 0)
            return r;
        if ((r = id_add(k, c, id)) != 0) {
            free(id);
            return r;
        }
    }
    return 0;
}

static int
parse_certs(struct sshcert_krl *k, struct sshcert_buf *b)
{
    struct sshcert_buf *sub = NULL;
    const uint8_t *ca, *reserved;
    size_t calen, rlen, idx;
    uint8_t type;
    int r = SSHCERT_ERR_INTERNAL;

    if ((r = sshcert_buf_get_string_direct(b, &ca, &calen)) != 0 ||
        (r = sshcert_buf_get_string_direct(b, &reserved, &rlen)) != 0 ||
        (r = check_ca_blob(ca, calen)) != 0)
        return r;
    /* A CA met again in a later section shares the last entry when adjacent and is merged
     * by krl_normalize otherwise. */
    if (k->ncas > 0 &&
        blob_cmp(k->cas[k->ncas - 1].ca.p, k->cas[k->ncas - 1].ca.len, ca, calen) == 0)
        idx = k->ncas - 1;
    else if ((r = ca_add(k, ca, calen, &idx)) != 0)
        return r;
    while (sshcert_buf_len(b) > 0) {
        if ((r = sshcert_buf_get_u8(b, &type)) != 0 ||
            (r = sshcert_buf_get_stringb(b, &sub)) != 0)
            goto out;
        switch (type) {
        case SUB_SERIAL_LIST:
            r = parse_serial_list(k, &k->cas[idx], sub);
            break;
        case SUB_SERIAL_RANGE:
            r = parse_serial_range(k, &k->cas[idx], sub);
            break;
        case SUB_SERIAL_BITMAP:
            r = parse_serial_bitmap(k, &k->cas[idx], sub);
            break;
        case SUB_KEY_ID:
            r = parse_key_ids(k, &k->cas[idx], sub);
            break;
        case SUB_EXTENSION:
            r = parse_extension(sub);
            break;
        default:
            r = SSHCERT_ERR_INVALID_FORMAT;
            break;
        }
        if (r != 0 || (r = sshcert_buf_expect_end(sub)) != 0)
            goto out;
        sshcert_buf_free(sub);
        sub = NULL;
    }
    r = 0;
out:
    sshcert_buf_free(sub);
    return r;
}

/* Explicit keys (want 0: any non-empty blob) or fingerprints of exactly `want` bytes. */
static int
parse_blobs(struct sshcert_krl *k, struct blob_list *l, struct sshcert_buf *b, size_t want)
{
    const uint8_t *p;
    size_t len;
    int r;

    while (sshcert_buf_len(b) > 0) {
        if ((r = sshcert_buf_get_string_direct(b, &p, &len)) != 0)
            return r;
        if (len == 0 || (want != 0 && len != want))
            return SSHCERT_ERR_INVALID_FORMAT;
        if ((r = blob_list_add(k, l, p, len)) != 0)
            return r;
    }
    return 0;
}

static int
parse_section(struct sshcert_krl *k, uint8_t type, struct sshcert_buf *sect)
{
    switch (type) {
    case SECTION_CERTIFICATES:
        return parse_certs(k, sect);
    case SECTION_EXPLICIT_KEY:
        return parse_blobs(k, &k->keys, sect, 0);
    case SECTION_FINGERPRINT_SHA1:
        return parse_blobs(k, &k->sha1s, sect, SHA1_LEN);
    case SECTION_FINGERPRINT_SHA256:
        return parse_blobs(k, &k->sha256s, sect, SHA256_LEN);
    case SECTION_SIGNATURE:
        /* OpenSSH >= 9.4 refuses signed KRLs too; sign them detached instead. */
        return SSHCERT_ERR_UNSUPPORTED;
    case SECTION_EXTENSION:
        return parse_extension(sect);
    default:
        return SSHCERT_ERR_INVALID_FORMAT;
    }
}

int
sshcert_krl_build(const struct sshcert_pubkey *ca, uint64_t version, uint64_t date,
    const uint64_t *serials, size_t n, const struct sshcert_serial_range *ranges,
    size_t nranges, struct sshcert_buf **out)
{
    struct sshcert_krl *k = NULL;
    struct sshcert_buf *b = NULL;
    size_t i;
    int r;

    *out = NULL;
    if ((r = sshcert_krl_new(ca, &k)) != 0)
        return r;
    sshcert_krl_set_version(k, version);
    sshcert_krl_set_date(k, date);
    for (i = 0; i < n; i++)
        if ((r = sshcert_krl_revoke_serial(k, serials[i])) != 0)
            goto out;
    for (i = 0; i < nranges; i++)
        if ((r = sshcert_krl_revoke_range(k, ranges[i].first, ranges[i].last)) != 0)
            goto out;
    if ((b = sshcert_buf_new(0)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = sshcert_krl_to_blob(k, b)) != 0)
        goto out;
    *out = b;
    b = NULL;
out:
    sshcert_buf_free(b);
    sshcert_krl_free(k);
    return r;
}

int
sshcert_krl_from_blob(const uint8_t *blob, size_t len, struct sshcert_krl **out)
{
    struct sshcert_buf *b = NULL, *sect = NULL;
    struct sshcert_krl *k = NULL;
    uint8_t type;
    int r = SSHCERT_ERR_INTERNAL;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (blob == NULL && len != 0)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (len > SSHCERT_MAX_KRL_SIZE)
        return SSHCERT_ERR_TOO_LARGE;
    if ((k = calloc(1, sizeof(*k))) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((b = sshcert_buf_from(blob, len)) == NULL) {
        r = SSHCERT_ERR_ALLOC;
        goto out;
    }
    if ((r = parse_header(b, k)) != 0)
        goto out;
    while (sshcert_buf_len(b) > 0) {
        if ((r = sshcert_buf_get_u8(b, &type)) != 0 ||
            (r = sshcert_buf_get_stringb(b, &sect)) != 0 ||
            (r = parse_section(k, type, sect)) != 0 ||
            (r = sshcert_buf_expect_end(sect)) != 0)
            goto out;
        sshcert_buf_free(sect);
        sect = NULL;
    }
    if ((r = krl_normalize(k)) != 0)
        goto out;
    *out = k;
    k = NULL;
    r = 0;
out:
    sshcert_buf_free(sect);
    sshcert_buf_free(b);
    sshcert_krl_free(k);
    return r;
}

/* ---- checking ---- */

int
sshcert_krl_check_key(const struct sshcert_krl *k, const struct sshcert_pubkey *key)
{
    uint8_t blob[ED25519_BLOB_LEN], h1[SHA1_LEN], h256[SHA256_LEN];

    if (k == NULL || key == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    ed25519_blob(key, blob);
    if (blob_list_has(&k->keys, blob, sizeof(blob)))
        return SSHCERT_ERR_REVOKED;
    if (k->sha256s.n > 0) {
        crypto_hash_sha256(h256, blob, sizeof(blob));
        if (blob_list_has(&k->sha256s, h256, sizeof(h256)))
            return SSHCERT_ERR_REVOKED;
    }
    if (k->sha1s.n > 0) {
        sha1(blob, sizeof(blob), h1);
        if (blob_list_has(&k->sha1s, h1, sizeof(h1)))
            return SSHCERT_ERR_REVOKED;
    }
    return 0;
}

static int
cert_listed(const struct ca_revs *c, const struct sshcert_cert *cert)
{
    uint64_t serial = sshcert_cert_serial(cert);

    if (c == NULL)
        return 0;
    /* Serial 0 means "no serial" and cannot be listed; such certs go by key id. */
    if (serial != 0 && ranges_have(c, serial))
        return 1;
    return ids_have(c, sshcert_cert_key_id(cert));
}

int
sshcert_krl_check_cert(const struct sshcert_krl *k, const struct sshcert_cert *c)
{
    const struct sshcert_pubkey *key, *ca;
    uint8_t cablob[ED25519_BLOB_LEN];
    int r;

    if (k == NULL || c == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((key = sshcert_cert_key(c)) == NULL || (ca = sshcert_cert_ca_key(c)) == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if ((r = sshcert_krl_check_key(k, key)) != 0 || (r = sshcert_krl_check_key(k, ca)) != 0)
        return r;
    ed25519_blob(ca, cablob);
    if (cert_listed(ca_find(k, cablob, sizeof(cablob)), c) ||
        cert_listed(ca_find(k, NULL, 0), c))
        return SSHCERT_ERR_REVOKED;
    return 0;
}

uint64_t
sshcert_krl_serial_count(const struct sshcert_krl *k, const struct sshcert_pubkey *ca)
{
    const struct ca_revs *c;
    uint8_t blob[ED25519_BLOB_LEN];
    struct range *copy = NULL;
    const struct range *r;
    uint64_t total = 0, n;
    size_t i, nr;

    if (k == NULL)
        return 0;
    if (ca != NULL)
        ed25519_blob(ca, blob);
    if ((c = ca == NULL ? ca_find(k, NULL, 0) : ca_find(k, blob, sizeof(blob))) == NULL)
        return 0;
    r = c->r;
    nr = c->nr;
    if (c->unsorted) { /* count a merged copy: overlapping ranges must not count twice */
        if ((copy = malloc(nr * sizeof(*copy))) == NULL)
            return 0;
        memcpy(copy, c->r, nr * sizeof(*copy));
        nr = ranges_merge(copy, nr);
        r = copy;
    }
    for (i = 0; i < nr; i++) {
        n = r[i].hi - r[i].lo;
        n += n < UINT64_MAX ? 1 : 0;
        total = n > UINT64_MAX - total ? UINT64_MAX : total + n;
    }
    free(copy);
    return total;
}
