/* Failure lines and formatting shared by the commands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "out.h"

int
out_fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("sshcert: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

void
out_warn(const char *fmt, ...)
{
    va_list ap;

    fputs("sshcert: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
out_duration(uint64_t secs, char *buf, size_t n)
{
    unsigned long long s = secs;

    if (s < 60)
        snprintf(buf, n, "%llus", s);
    else if (s < 3600)
        snprintf(buf, n, "%llum", s / 60);
    else if (s < 86400 && s % 3600 >= 60)
        snprintf(buf, n, "%lluh%llum", s / 3600, (s % 3600) / 60);
    else if (s < 86400)
        snprintf(buf, n, "%lluh", s / 3600);
    else if (s % 86400 >= 3600)
        snprintf(buf, n, "%llud%lluh", s / 86400, (s % 86400) / 3600);
    else
        snprintf(buf, n, "%llud", s / 86400);
}

void
out_wait(uint64_t secs, char *buf, size_t n)
{
    unsigned long long s = secs;

    /* Round up: "retry in 14 min" must not send the person back a minute too early. */
    if (s < 60)
        snprintf(buf, n, "%llu s", s);
    else
        snprintf(buf, n, "%llu min", (s + 59) / 60);
}

void
out_local_time(uint64_t t, char *buf, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (n == 0)
        return;
    if (localtime_r(&tt, &tm) == NULL || strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm) == 0)
        snprintf(buf, n, "@%llu", (unsigned long long)t);
}
