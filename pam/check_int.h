/* Internals shared by the pam/ check files; not part of check.h's contract. */
#ifndef SSHCERT_PAM_CHECK_INT_H
#define SSHCERT_PAM_CHECK_INT_H

#include <stddef.h>

#include "check.h"

struct sshcert_krl;

struct sshcert_pam_config {
    struct sshcert_pubkey *ca;
    size_t nca;
    struct sshcert_krl *krl; /* NULL: no revoked_keys configured */
    char **allowed;          /* expanded principal names */
    size_t nallowed;
    char *allowed_from; /* for reasons: the expanded list, or "file PATH" */
};

/* Sets res->stage and a sanitised res->reason. */
void sshcert_pam_refuse(struct sshcert_pam_result *res, enum sshcert_pam_stage stage,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
