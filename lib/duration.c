#include <string.h>

#include "duration.h"
#include "err.h"

int
sshcert_duration_parse(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0, mul = 1;
    size_t i, n;

    if (out == NULL)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    *out = 0;
    if (s == NULL || (n = strlen(s)) == 0 || n > 12)
        return SSHCERT_ERR_INVALID_FORMAT;
    switch (s[n - 1]) {
    case 's': mul = 1; n--; break;
    case 'm': mul = 60; n--; break;
    case 'h': mul = 3600; n--; break;
    case 'd': mul = 86400; n--; break;
    default:
        break;
    }
    if (n == 0)
        return SSHCERT_ERR_INVALID_FORMAT;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SSHCERT_ERR_INVALID_FORMAT;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* at most 12 digits: cannot overflow */
    }
    if (v > max / mul)
        return SSHCERT_ERR_INVALID_FORMAT;
    *out = v * mul;
    return 0;
}
