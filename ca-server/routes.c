/* The small GET endpoints: health, CA key, KRL (cached, with ETag), metrics. */
#include <inttypes.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "server.h"

/* Rebuild the cached KRL at least this often, so expired serials drop out of it. */
#define KRL_MAX_AGE_S 60

void
handle_health(struct server *srv, struct reply *rep)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    int_fast64_t now = (int_fast64_t)time(NULL), last = atomic_load(&srv->health_at);
    char *s;

    /* The probe costs an fsync, and load balancers poll this: one probe per second, the
     * others reuse its result (a change shows within a second). */
    if (now != last && atomic_compare_exchange_strong(&srv->health_at, &last, now))
        atomic_store(&srv->health_r, sshcert_store_writable(srv->ca->store));
    if (atomic_load(&srv->health_r) != 0) {
        reply_error(rep, 503, "unavailable", "the database is not writable");
        return;
    }
    if ((s = strdup(ok)) == NULL) {
        reply_error(rep, 500, "internal", "out of memory");
        return;
    }
    reply_take(rep, 200, "application/json", s, strlen(s));
}

void
handle_ca(struct server *srv, int text, struct reply *rep)
{
    json_t *j;
    char *s = NULL;

    if (text) {
        if (asprintf(&s, "%s\n", srv->ca->pub_line) < 0)
            s = NULL;
        if (s != NULL)
            reply_take(rep, 200, "text/plain; charset=utf-8", s, strlen(s));
    } else {
        j = json_pack("{s:s, s:s}", "public_key", srv->ca->pub_line, "fingerprint",
            srv->ca->fingerprint);
        s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (s != NULL)
            reply_take(rep, 200, "application/json", s, strlen(s));
    }
    if (s == NULL)
        reply_error(rep, 500, "internal", "out of memory");
}

/* The cached KRL, shared by the responses that send it (a slow reader holds the one it
 * started with, not a copy: memory does not grow with the connections fetching it). */
struct krl_body {
    atomic_uint refs;
    struct sshcert_buf *blob;
};

void
krl_release(void *krl)
{
    struct krl_body *k = krl;

    if (k != NULL && atomic_fetch_sub(&k->refs, 1) == 1) {
        sshcert_buf_free(k->blob);
        free(k);
    }
}

/* A KRL header's generated_date: bytes KRL_DATE_AT .. KRL_DATE_END - 1 (magic 8, format
 * version 4, KRL version 8, then the date). The ETag and the rebuild's comparison leave it out. */
#define KRL_DATE_AT 20
#define KRL_DATE_END 28

/* 1 when two KRL blobs differ at most in their header's generated_date. */
static int
krl_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return 0;
    if (alen <= KRL_DATE_END)
        return memcmp(a, b, alen) == 0;
    return memcmp(a, b, KRL_DATE_AT) == 0 &&
           memcmp(a + KRL_DATE_END, b + KRL_DATE_END, alen - KRL_DATE_END) == 0;
}

/* Caller holds krl_mu. */
static int
krl_refresh(struct server *srv, uint64_t now)
{
    struct sshcert_buf *b = NULL;
    struct krl_body *nk;
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[2 * 8 + 1];
    uint64_t version;
    int r;

    if ((r = sshcert_store_krl_version(srv->ca->store, &version)) != 0)
        return r;
    if (srv->krl != NULL && version == srv->krl_version && now < srv->krl_built_at + KRL_MAX_AGE_S)
        return 0;
    if ((nk = malloc(sizeof(*nk))) == NULL)
        return SSHCERT_ERR_ALLOC;
    if ((r = sshcert_ca_build_krl(srv->ca, now, &b)) != 0) {
        free(nk);
        return r;
    }
    atomic_init(&nk->refs, 1);
    nk->blob = b;
    /* The ETag is the content minus the generated_date field, so an unchanged list keeps
     * its tag across rebuilds: hash everything but the header's date. */
    {
        crypto_hash_sha256_state st;
        const uint8_t *p = sshcert_buf_ptr(b);
        size_t n = sshcert_buf_len(b);
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, p, n < KRL_DATE_AT ? n : KRL_DATE_AT);
        if (n > KRL_DATE_END)
            crypto_hash_sha256_update(&st, p + KRL_DATE_END, n - KRL_DATE_END);
        crypto_hash_sha256_final(&st, h);
    }
    sodium_bin2hex(hex, sizeof(hex), h, 8);
    srv->krl_version = version;
    srv->krl_built_at = now;
    /* The same list as the one being served (a rebuild after KRL_MAX_AGE_S, nothing revoked or
     * expired meanwhile): keep serving that one, so that readers who came a minute apart
     * still share one copy. Compared whole, but for its generated_date. */
    if (srv->krl != NULL && krl_same(sshcert_buf_ptr(srv->krl->blob),
                                sshcert_buf_len(srv->krl->blob), sshcert_buf_ptr(b),
                                sshcert_buf_len(b))) {
        krl_release(nk);
        return 0;
    }
    krl_release(srv->krl);
    srv->krl = nk;
    snprintf(srv->krl_etag, sizeof(srv->krl_etag), "\"%s\"", hex);
    /* A rebuild is rare, and with many revocations it briefly holds megabytes (the serials,
     * the list's structure) that malloc would otherwise keep: give them back. */
    (void)malloc_trim(0);
    return 0;
}

void
handle_krl(struct server *srv, const char *if_none_match, struct reply *rep)
{
    uint64_t now = (uint64_t)time(NULL);
    struct krl_body *k = NULL;
    int r;

    pthread_mutex_lock(&srv->krl_mu);
    if ((r = krl_refresh(srv, now)) == 0) {
        snprintf(rep->etag, sizeof(rep->etag), "%s", srv->krl_etag);
        if (if_none_match != NULL && strcmp(if_none_match, srv->krl_etag) == 0) {
            pthread_mutex_unlock(&srv->krl_mu);
            reply_take(rep, 304, NULL, NULL, 0);
            return;
        }
        k = srv->krl;
        atomic_fetch_add(&k->refs, 1);
    }
    pthread_mutex_unlock(&srv->krl_mu);
    if (r != 0) {
        sshcert_log(LOG_ERR, "cannot build the KRL: %s", sshcert_err_str(r));
        reply_error(rep, 500, "internal", "the KRL could not be built");
        return;
    }
    reply_share(rep, 200, "application/octet-stream", sshcert_buf_ptr(k->blob),
        sshcert_buf_len(k->blob), krl_release, k);
}

void
handle_metrics(struct server *srv, struct reply *rep)
{
    struct sshcert_store_counts c;
    struct metrics_hashq hq;
    char *s = NULL;
    size_t n = 0;
    int r;

    /* On a reader connection: a scrape neither waits for nor holds up issuance. */
    if ((r = sshcert_store_counts(srv->ca->store, (uint64_t)time(NULL), &c)) != 0) {
        sshcert_log(LOG_ERR, "cannot read the store's counts for /metrics: %s",
            sshcert_err_str(r));
        reply_error(rep, 500, "internal", "the store could not be read");
        return;
    }
    hq.waiting = atomic_load(&srv->hashq.waiting);
    hq.queued = atomic_load(&srv->hashq.queued);
    if (metrics_render(&srv->metrics, &c, &hq, &s, &n) != 0) {
        reply_error(rep, 500, "internal", "out of memory");
        return;
    }
    reply_take(rep, 200, "text/plain; version=0.0.4", s, n);
}
