#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "metrics.h"

static const double bucket_le[METRICS_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

static const char *const reason_names[AUTH_FAIL_REASONS] = {
    "unknown_user", "bad_password", "bad_totp", "replayed_totp", "locked_out", "disabled",
    "credentials_changed"};

const char *
metrics_reason_name(enum metrics_auth_reason r)
{
    return r < AUTH_FAIL_REASONS ? reason_names[r] : "other";
}

void
metrics_http(struct metrics *m, unsigned code)
{
    if (code < 600)
        atomic_fetch_add(&m->http_by_code[code], 1);
}

void
metrics_issue_latency(struct metrics *m, uint64_t us)
{
    size_t i;

    for (i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        if ((double)us / 1e6 <= bucket_le[i]) {
            atomic_fetch_add(&m->latency_bucket[i], 1);
            break;
        }
    }
    atomic_fetch_add(&m->latency_count, 1);
    atomic_fetch_add(&m->latency_sum_us, us);
}

void
metrics_password_hash(struct metrics *m, uint64_t us)
{
    atomic_fetch_add(&m->hash_count, 1);
    atomic_fetch_add(&m->hash_sum_us, us);
}

int
metrics_render(struct metrics *m, const struct sshcert_store_counts *c,
    const struct metrics_hashq *hq, char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f;
    uint64_t cum = 0, invalid = 0;
    unsigned i;

    *out = NULL;
    if ((f = open_memstream(&buf, &n)) == NULL)
        return SSHCERT_ERR_ALLOC;
    fprintf(f, "# HELP sshcert_certificates_issued_total Certificates issued by this server.\n"
               "# TYPE sshcert_certificates_issued_total counter\n"
               "sshcert_certificates_issued_total %llu\n",
        (unsigned long long)atomic_load(&m->issued));
    fprintf(f, "# HELP sshcert_certificates_revoked_total Certificates revoked (all time).\n"
               "# TYPE sshcert_certificates_revoked_total counter\n"
               "sshcert_certificates_revoked_total %llu\n",
        (unsigned long long)c->revoked);
    /* Only the reasons a client tells apart by the answer itself. /metrics needs no login, so
     * a count per hidden reason would tell an attacker, by the count that moved, what the one
     * 401 hides: whether a name exists, whether a guessed password was right (bad_totp), or
     * whether a captured code was valid (replayed_totp). Each failure's reason is in the
     * server log and the audit log, on the CA host. */
    for (i = 0; i < AUTH_FAIL_REASONS; i++)
        if (i != AUTH_FAIL_LOCKED_OUT && i != AUTH_FAIL_DISABLED)
            invalid += atomic_load(&m->auth_failures[i]);
    fprintf(f, "# HELP sshcert_auth_failures_total Failed logins by the answer they got: "
               "invalid_credentials (401), locked_out (429), disabled (403).\n"
               "# TYPE sshcert_auth_failures_total counter\n"
               "sshcert_auth_failures_total{reason=\"invalid_credentials\"} %llu\n"
               "sshcert_auth_failures_total{reason=\"locked_out\"} %llu\n"
               "sshcert_auth_failures_total{reason=\"disabled\"} %llu\n",
        (unsigned long long)invalid,
        (unsigned long long)atomic_load(&m->auth_failures[AUTH_FAIL_LOCKED_OUT]),
        (unsigned long long)atomic_load(&m->auth_failures[AUTH_FAIL_DISABLED]));
    fprintf(f, "# HELP sshcert_http_requests_total HTTP responses by status code.\n"
               "# TYPE sshcert_http_requests_total counter\n");
    for (i = 100; i < 600; i++) {
        uint64_t v = atomic_load(&m->http_by_code[i]);
        if (v > 0)
            fprintf(f, "sshcert_http_requests_total{code=\"%u\"} %llu\n", i,
                (unsigned long long)v);
    }
    fprintf(f, "# HELP sshcert_issue_duration_seconds From the request to its certificate: "
               "any wait for a hash worker, the login, the signature, the durable record.\n"
               "# TYPE sshcert_issue_duration_seconds histogram\n");
    for (i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        cum += atomic_load(&m->latency_bucket[i]);
        fprintf(f, "sshcert_issue_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i],
            (unsigned long long)cum);
    }
    fprintf(f, "sshcert_issue_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "sshcert_issue_duration_seconds_sum %.6f\n"
               "sshcert_issue_duration_seconds_count %llu\n",
        (unsigned long long)atomic_load(&m->latency_count),
        (double)atomic_load(&m->latency_sum_us) / 1e6,
        (unsigned long long)atomic_load(&m->latency_count));
    fprintf(f, "# HELP sshcert_certificates_active Certificates valid now and not revoked.\n"
               "# TYPE sshcert_certificates_active gauge\n"
               "sshcert_certificates_active %llu\n"
               "# HELP sshcert_users_locked Users locked by an operator or a failure lockout.\n"
               "# TYPE sshcert_users_locked gauge\n"
               "sshcert_users_locked %llu\n",
        (unsigned long long)c->active, (unsigned long long)c->locked);
    fprintf(f, "# HELP sshcert_issue_batches_total Transactions that recorded issuances from "
               "logins; under load several share one (and one flush).\n"
               "# TYPE sshcert_issue_batches_total counter\n"
               "sshcert_issue_batches_total %llu\n"
               "# HELP sshcert_issue_batched_total Issuances from logins those transactions "
               "recorded.\n"
               "# TYPE sshcert_issue_batched_total counter\n"
               "sshcert_issue_batched_total %llu\n",
        (unsigned long long)c->issue_batches, (unsigned long long)c->issue_batched);
    fprintf(f, "# HELP sshcert_logins_waiting Logins waiting for a password-hash worker now "
               "(their connections hold no HTTP thread meanwhile).\n"
               "# TYPE sshcert_logins_waiting gauge\n"
               "sshcert_logins_waiting %llu\n"
               "# HELP sshcert_logins_queued_total Logins that found every password-hash worker "
               "busy and waited for one.\n"
               "# TYPE sshcert_logins_queued_total counter\n"
               "sshcert_logins_queued_total %llu\n",
        (unsigned long long)hq->waiting, (unsigned long long)hq->queued);
    fprintf(f, "# HELP sshcert_password_hash_seconds Time logins spent in argon2id, the "
               "password check (a login for an unknown name runs one too).\n"
               "# TYPE sshcert_password_hash_seconds summary\n"
               "sshcert_password_hash_seconds_sum %.6f\n"
               "sshcert_password_hash_seconds_count %llu\n",
        (double)atomic_load(&m->hash_sum_us) / 1e6,
        (unsigned long long)atomic_load(&m->hash_count));
    if (fclose(f) != 0) {
        free(buf);
        return SSHCERT_ERR_ALLOC;
    }
    *out = buf;
    *len = n;
    return 0;
}
