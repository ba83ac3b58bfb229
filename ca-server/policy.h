/* Issuance policy shared by the server and sshcert-admin: names, principals, ttl, options. */
#ifndef SSHCERT_POLICY_H
#define SSHCERT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "config.h"

/* Shortest password accepted by `user add` / `user passwd`. */
#define SSHCERT_MIN_PASSWORD 8u
/* Longest force-command and source-address values. */
#define SSHCERT_MAX_FORCE_COMMAND 4096u
#define SSHCERT_MAX_SOURCE_ADDRESS 4096u

struct sshcert_principals {
    char *v[SSHCERT_MAX_PRINCIPALS];
    size_t n;
};

/* 0 when name is [a-z_][a-z0-9_.-]* of at most SSHCERT_MAX_USERNAME bytes. */
int sshcert_policy_check_username(const char *name);
/* Splits "p1,p2" into unique, non-empty, printable principals (≤ 256). */
int sshcert_policy_parse_principals(const char *list, struct sshcert_principals *out);
void sshcert_policy_principals_free(struct sshcert_principals *p);
/* 0 when every principal of want is in have (a user's comma-separated list). */
int sshcert_policy_principals_subset(const struct sshcert_principals *want, const char *have);
/* The ceiling for a user: min(user_max_ttl or cfg max, cfg max). */
uint64_t sshcert_policy_ttl_ceiling(const struct sshcert_config *cfg, uint64_t user_max_ttl);
/* 0 when value is a comma-separated list of IPv4/IPv6 addresses or CIDR blocks. */
int sshcert_policy_check_cidr_list(const char *value);

#endif
