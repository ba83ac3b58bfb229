/* One log line per request and per decision, to stderr or syslog. Never a secret. */
#ifndef SSHCERT_LOG_H
#define SSHCERT_LOG_H

#include <syslog.h>

void sshcert_log_init(int use_syslog);
void sshcert_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
