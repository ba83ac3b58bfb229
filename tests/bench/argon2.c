/*
 * sshcert-bench-argon2: times one argon2id password verify at a given cost through the same
 * code the server runs (sshcert_password_verify), so a login's time can be read against the
 * hash it cannot avoid.
 *
 *   sshcert-bench-argon2 [-C min|interactive|moderate] [-r RUNS] [-b BATCH] [-u]
 *
 * Prints the median of RUNS timings as argon2_COST_ms, each the mean of BATCH verifies (default
 * 1; the min cost takes tens of microseconds). -u times the hash an unknown name costs instead
 * (sshcert_password_dummy_verify), as argon2_dummy_COST_ms: it must cost what a verify costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "secmem.h"
#include "timing.h"
#include "totp.h"


int
main(int argc, char **argv)
{
    enum sshcert_hash_cost cost = SSHCERT_HASH_INTERACTIVE;
    const char *name = "interactive";
    char hash[SSHCERT_PASSWORD_HASH_LEN];
    unsigned long runs = 5, batch = 1, i, j;
    double ms[BENCH_MAX_RUNS], t0;
    int c, dummy = 0;

    while ((c = getopt(argc, argv, "C:r:b:u")) != -1) {
        switch (c) {
        case 'C':
            name = optarg;
            if (strcmp(optarg, "min") == 0)
                cost = SSHCERT_HASH_MIN;
            else if (strcmp(optarg, "interactive") == 0)
                cost = SSHCERT_HASH_INTERACTIVE;
            else if (strcmp(optarg, "moderate") == 0)
                cost = SSHCERT_HASH_MODERATE;
            else
                return 2;
            break;
        case 'r':
            runs = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            batch = strtoul(optarg, NULL, 10);
            break;
        case 'u':
            dummy = 1;
            break;
        default:
            fprintf(stderr, "usage: sshcert-bench-argon2 [-C min|interactive|moderate] [-r N] "
                            "[-b N] [-u]\n");
            return 2;
        }
    }
    if (runs == 0 || runs > BENCH_MAX_RUNS || batch == 0 || batch > 100000 ||
        sshcert_secmem_init() != 0)
        return 2;
    if (sshcert_password_hash("bench-password", cost, hash) != 0) {
        fprintf(stderr, "argon2: cannot hash\n");
        return 1;
    }
    for (i = 0; i < runs; i++) {
        t0 = bench_now_ms();
        for (j = 0; j < batch; j++) {
            if (dummy) {
                sshcert_password_dummy_verify(cost, "bench-password");
            } else if (sshcert_password_verify(hash, "bench-password") != 0) {
                fprintf(stderr, "argon2: the verify failed\n");
                return 1;
            }
        }
        ms[i] = (bench_now_ms() - t0) / (double)batch;
    }
    printf("argon2_%s%s_ms: %.*f\n", dummy ? "dummy_" : "", name, batch > 1 ? 4 : 1,
        bench_median(ms, runs));
    return 0;
}
