/*
 * sshcert-bench-krl: times building and encoding a KRL that revokes 1,000,000 serials through
 * lib/krl (sshcert_krl_new, sshcert_krl_revoke_serial for each, sshcert_krl_to_blob), the work
 * the server does for GET /v1/krl after a revocation.
 *
 *   sshcert-bench-krl [-n SERIALS] [-r RUNS]
 *
 * The serials come in ascending order, as the store returns them, with gaps of 1 to 4 from a
 * fixed pseudo-random sequence: runs, short gaps and scattered serials together, so the
 * encoder has to choose between lists, ranges and bitmaps along the way. Prints the median
 * of RUNS runs as krl_1m_serials_ms, and the KRL's size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "key.h"
#include "krl.h"
#include "secmem.h"
#include "timing.h"


/* One build + encode; *ms its duration, *bytes the KRL's size. */
static int
one_run(const struct sshcert_pubkey *ca, const uint64_t *serials, size_t n, double *ms,
    size_t *bytes)
{
    struct sshcert_buf *b = NULL;
    double t0 = bench_now_ms();
    int r;

    /* The same function the CA builds its KRL with. */
    if ((r = sshcert_krl_build(ca, 1, (uint64_t)time(NULL), serials, n, NULL, 0, &b)) == 0) {
        *ms = bench_now_ms() - t0;
        *bytes = sshcert_buf_len(b);
    }
    sshcert_buf_free(b);
    return r;
}

int
main(int argc, char **argv)
{
    struct sshcert_privkey *key = NULL;
    struct sshcert_pubkey ca;
    uint64_t *serials = NULL, s = 0, x = 0x9e3779b97f4a7c15u;
    unsigned long n = 1000000, runs = 3, i;
    double ms[BENCH_MAX_RUNS];
    size_t bytes = 0;
    int c, r = 0, rc = 1;

    while ((c = getopt(argc, argv, "n:r:")) != -1) {
        switch (c) {
        case 'n':
            n = strtoul(optarg, NULL, 10);
            break;
        case 'r':
            runs = strtoul(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: sshcert-bench-krl [-n SERIALS] [-r RUNS]\n");
            return 2;
        }
    }
    if (n == 0 || n > 4000000 || runs == 0 || runs > BENCH_MAX_RUNS)
        return 2;
    if (sshcert_secmem_init() != 0 || (r = sshcert_privkey_generate(&key)) != 0) {
        fprintf(stderr, "krl: cannot make a CA key\n");
        return 1;
    }
    sshcert_privkey_public(key, &ca);
    if ((serials = malloc(n * sizeof(*serials))) == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        /* xorshift64: the same serials every run and on every machine */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s += 1 + (x >> 62);
        serials[i] = s;
    }
    for (i = 0; i < runs; i++) {
        if ((r = one_run(&ca, serials, n, &ms[i], &bytes)) != 0) {
            fprintf(stderr, "krl: %s\n", sshcert_err_str(r));
            goto out;
        }
    }
    printf("krl_serials: %lu\nkrl_bytes: %zu\nkrl_1m_serials_ms: %.1f\n", n, bytes,
        bench_median(ms, runs));
    rc = 0;
out:
    free(serials);
    sshcert_privkey_free(key);
    return rc;
}
