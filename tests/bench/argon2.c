/*
 * sshcert-bench-argon2: times one argon2id password verify at a given cost through the same
 * code the server runs (sshcert_password_verify), so a login's time can be read against the
 * hash it cannot avoid.
 *
 *   sshcert-bench-argon2 [-C min|interactive|moderate] [-r RUNS]
 *
 * Prints the median of RUNS verifies as argon2_COST_ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "secmem.h"
#include "totp.h"

#define MAX_RUNS 15

static double
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    enum sshcert_hash_cost cost = SSHCERT_HASH_INTERACTIVE;
    const char *name = "interactive";
    char hash[SSHCERT_PASSWORD_HASH_LEN];
    unsigned long runs = 5, i;
    double ms[MAX_RUNS], t0;
    int c;

    while ((c = getopt(argc, argv, "C:r:")) != -1) {
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
        default:
            fprintf(stderr, "usage: sshcert-bench-argon2 [-C min|interactive|moderate] [-r N]\n");
            return 2;
        }
    }
    if (runs == 0 || runs > MAX_RUNS || sshcert_secmem_init() != 0)
        return 2;
    if (sshcert_password_hash("bench-password", cost, hash) != 0) {
        fprintf(stderr, "argon2: cannot hash\n");
        return 1;
    }
    for (i = 0; i < runs; i++) {
        t0 = now_ms();
        if (sshcert_password_verify(hash, "bench-password") != 0) {
            fprintf(stderr, "argon2: the verify failed\n");
            return 1;
        }
        ms[i] = now_ms() - t0;
    }
    qsort(ms, runs, sizeof(ms[0]), cmp_double);
    printf("argon2_%s_ms: %.1f\n", name, ms[runs / 2]);
    return 0;
}
