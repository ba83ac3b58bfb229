/* Prometheus counters for the server: lock-free increments, rendered on GET /metrics. */
#ifndef SSHCERT_METRICS_H
#define SSHCERT_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define METRICS_LATENCY_BUCKETS 12

enum metrics_auth_reason {
    AUTH_FAIL_UNKNOWN_USER,
    AUTH_FAIL_BAD_PASSWORD,
    AUTH_FAIL_BAD_TOTP,
    AUTH_FAIL_REPLAYED_TOTP,
    AUTH_FAIL_LOCKED_OUT,
    AUTH_FAIL_DISABLED,
    AUTH_FAIL_CREDENTIALS_CHANGED, /* replaced by an operator while the login was checked */
    AUTH_FAIL_REASONS
};

struct metrics {
    atomic_uint_fast64_t issued;
    atomic_uint_fast64_t auth_failures[AUTH_FAIL_REASONS];
    atomic_uint_fast64_t http_by_code[600];
    atomic_uint_fast64_t latency_bucket[METRICS_LATENCY_BUCKETS]; /* cumulative on render */
    atomic_uint_fast64_t latency_count;
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t hash_count;  /* argon2id runs of logins (unknown names' too) */
    atomic_uint_fast64_t hash_sum_us; /* and the time they took */
};

const char *metrics_reason_name(enum metrics_auth_reason r);
void metrics_http(struct metrics *m, unsigned code);
void metrics_issue_latency(struct metrics *m, uint64_t us);
/* One login's argon2id run took us microseconds. */
void metrics_password_hash(struct metrics *m, uint64_t us);
/* Logins waiting for a password-hash worker now, and ever (hashq.h). */
struct metrics_hashq {
    uint64_t waiting, queued;
};

/* Renders the text format with the store's counts c; *out malloc'd. */
int metrics_render(struct metrics *m, const struct sshcert_store_counts *c,
    const struct metrics_hashq *hq, char **out, size_t *len);

#endif
