#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "err.h"
#include "policy.h"
#include "store.h"

int
sshcert_policy_check_username(const char *name)
{
    size_t n, i;

    if (name == NULL || (n = strlen(name)) == 0 || n > SSHCERT_MAX_USERNAME)
        return SSHCERT_ERR_INVALID_ARGUMENT;
    if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
        return SSHCERT_ERR_INVALID_ARGUMENT;
    for (i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                c == '-'))
            return SSHCERT_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

void
sshcert_policy_principals_free(struct sshcert_principals *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++)
        free(p->v[i]);
    p->n = 0;
}

int
sshcert_policy_parse_principals(const char *list, struct sshcert_principals *out)
{
    const char *p, *e;
    size_t len, i, j;
    char *s;

    memset(out, 0, sizeof(*out));
    if (list == NULL || *list == '\0')
        return SSHCERT_ERR_NO_PRINCIPALS;
    for (p = list;; p = e + 1) {
        e = strchr(p, ',');
        len = e == NULL ? strlen(p) : (size_t)(e - p);
        if (len == 0 || len > SSHCERT_MAX_PRINCIPAL_LEN)
            goto bad;
        for (i = 0; i < len; i++)
            if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] == 0x7f)
                goto bad;
        if (out->n >= SSHCERT_MAX_PRINCIPALS) {
            sshcert_policy_principals_free(out);
            return SSHCERT_ERR_TOO_LARGE;
        }
        if ((s = strndup(p, len)) == NULL) {
            sshcert_policy_principals_free(out);
            return SSHCERT_ERR_ALLOC;
        }
        for (j = 0; j < out->n; j++) {
            if (strcmp(out->v[j], s) == 0) {
                free(s);
                sshcert_policy_principals_free(out);
                return SSHCERT_ERR_DUPLICATE;
            }
        }
        out->v[out->n++] = s;
        if (e == NULL)
            break;
    }
    return 0;
bad:
    sshcert_policy_principals_free(out);
    return SSHCERT_ERR_INVALID_FORMAT;
}

int
sshcert_policy_principals_subset(const struct sshcert_principals *want, const char *have)
{
    size_t i, n;
    const char *p, *e;
    int found;

    for (i = 0; i < want->n; i++) {
        n = strlen(want->v[i]);
        found = 0;
        for (p = have; p != NULL && !found; p = e == NULL ? NULL : e + 1) {
            e = strchr(p, ',');
            if ((e == NULL ? strlen(p) : (size_t)(e - p)) == n && strncmp(p, want->v[i], n) == 0)
                found = 1;
        }
        if (!found)
            return SSHCERT_ERR_PRINCIPAL;
    }
    return 0;
}

uint64_t
sshcert_policy_ttl_ceiling(const struct sshcert_config *cfg, uint64_t user_max_ttl)
{
    if (user_max_ttl > 0 && user_max_ttl < cfg->max_ttl)
        return user_max_ttl;
    return cfg->max_ttl;
}

static int
check_cidr(const char *s, size_t len)
{
    char buf[64];
    const char *slash;
    unsigned char addr[16];
    long bits = -1, maxbits;
    char *end;
    int v6;

    if (len == 0 || len >= sizeof(buf))
        return SSHCERT_ERR_INVALID_FORMAT;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if ((slash = strchr(buf, '/')) != NULL) {
        if (slash[1] == '\0')
            return SSHCERT_ERR_INVALID_FORMAT;
        bits = strtol(slash + 1, &end, 10);
        if (*end != '\0' || bits < 0)
            return SSHCERT_ERR_INVALID_FORMAT;
        buf[slash - buf] = '\0';
    }
    v6 = strchr(buf, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
        return SSHCERT_ERR_INVALID_FORMAT;
    maxbits = v6 ? 128 : 32;
    if (bits > maxbits)
        return SSHCERT_ERR_INVALID_FORMAT;
    /* sshd refuses a block with host bits set (127.0.0.1/8), so refuse it here first. */
    if (bits >= 0) {
        long i;
        for (i = bits; i < maxbits; i++)
            if (addr[i / 8] & (0x80u >> (i % 8)))
                return SSHCERT_ERR_INVALID_FORMAT;
    }
    return 0;
}

int
sshcert_policy_check_cidr_list(const char *value)
{
    const char *p, *e;
    int r;

    if (value == NULL || *value == '\0' || strlen(value) > SSHCERT_MAX_SOURCE_ADDRESS)
        return SSHCERT_ERR_INVALID_FORMAT;
    for (p = value;; p = e + 1) {
        e = strchr(p, ',');
        if ((r = check_cidr(p, e == NULL ? strlen(p) : (size_t)(e - p))) != 0)
            return r;
        if (e == NULL)
            return 0;
    }
}
