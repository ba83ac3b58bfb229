/* What the timing benchmarks (argon2.c, krl.c) share: a monotonic clock in milliseconds and
 * the median of a run's figures. */
#ifndef SSHCERT_BENCH_TIMING_H
#define SSHCERT_BENCH_TIMING_H

#include <stddef.h>
#include <stdlib.h>
#include <time.h>

/* Most runs one figure takes the median of. */
#define BENCH_MAX_RUNS 15

static inline double
bench_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Sorts v[0..n) (n > 0) and returns its median. */
static inline double
bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof(v[0]), bench_cmp_double);
    return v[n / 2];
}

#endif
