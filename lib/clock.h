/* The monotonic clock in the two forms deadlines take here: milliseconds (compared as
 * numbers) and a timespec some milliseconds ahead (for pthread's timed waits). One copy, so
 * that no caller carries its own conversion or carry of nanoseconds. */
#ifndef SSHCERT_CLOCK_H
#define SSHCERT_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in milliseconds. */
static inline int64_t
sshcert_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds from now until t (CLOCK_MONOTONIC), rounded up; 0 once t has passed. */
static inline int64_t
sshcert_mono_ms_until(const struct timespec *t)
{
    struct timespec now;
    int64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = ((int64_t)t->tv_sec - now.tv_sec) * 1000000000 + ((int64_t)t->tv_nsec - now.tv_nsec);
    return ns > 0 ? (ns + 999999) / 1000000 : 0;
}

/* *t: ms milliseconds from now on CLOCK_MONOTONIC. */
static inline void
sshcert_mono_after(struct timespec *t, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += (time_t)(ms / 1000);
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

#endif
