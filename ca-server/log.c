#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

static int log_syslog;

void
sshcert_log_init(int use_syslog)
{
    log_syslog = use_syslog;
    if (use_syslog)
        openlog("sshcert-server", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
sshcert_log(int priority, const char *fmt, ...)
{
    char raw[1024], msg[sizeof(raw)], ts[32], line[sizeof(msg) + 64];
    struct timespec now;
    struct tm tm;
    va_list ap;
    size_t len, off = 0;
    int n;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* Anything that reaches a log from a request is made printable: no forged log lines. Bytes
     * from 0x80 up stay, so UTF-8 user names read as they are. */
    sshcert_text_sanitize(msg, sizeof(msg), raw, SSHCERT_TEXT_KEEP_HIGH);
    if (log_syslog) {
        syslog(priority, "%s", msg);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s\n", ts, now.tv_nsec / 1000000L,
        priority <= LOG_ERR ? "error" : priority == LOG_WARNING ? "warn" : "info", msg);
    if (n < 0)
        return;
    len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (len > 0 && line[len - 1] != '\n')
        line[len - 1] = '\n';
    /* One write per line keeps lines whole across threads (stderr is unbuffered: fprintf
     * wrote a line in two system calls). A log that cannot be written is not retried. */
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, line + off, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
        len -= (size_t)w;
    }
}
