/*
 * sshcert-bench-mkusers: enrols many benchmark users through the CA host's own code (the
 * store's sshcert_store_user_add, TOTP secrets sealed under secret.key as `sshcert-admin user
 * add` does) and writes one "USERNAME BASE32_SECRET" line per user for the load generator.
 *
 *   sshcert-bench-mkusers -c CONFIG -n COUNT -o FILE [-p PREFIX] [-t THREADS] [-w PASSWORD]
 *
 * The password is hashed once at the config's auth.password_hash cost and that one hash is
 * stored for every user: a verify costs the same whatever the salt, and hashing 30,000 times
 * would only slow the benchmark's set-up. Several threads add users at once, as concurrent
 * requests would; the store serialises them itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "config.h"
#include "err.h"
#include "secmem.h"
#include "store.h"
#include "totp.h"

/* Most users one run creates, and longest prefix: bound the memory this tool holds. */
#define MAX_USERS 1000000u
#define MAX_PREFIX 32u
#define MAX_THREADS 64u

struct job {
    struct sshcert_ca *ca;
    const char *prefix;
    const char *hash;
    unsigned n, first, step;
    char **b32; /* per user, the TOTP secret in base32 */
    int r;
};

static void *
add_users(void *arg)
{
    struct job *j = arg;
    uint8_t secret[SSHCERT_TOTP_SECRET_LEN], *sealed = NULL;
    char name[MAX_PREFIX + 16];
    struct sshcert_user u;
    uint64_t now = (uint64_t)time(NULL);
    size_t sealed_len = 0;
    unsigned i;
    int r = 0;

    for (i = j->first; i < j->n && r == 0; i += j->step) {
        snprintf(name, sizeof(name), "%s%u", j->prefix, i);
        sshcert_totp_new_secret(secret);
        if ((r = sshcert_ca_seal(j->ca, secret, sizeof(secret), &sealed, &sealed_len)) != 0 ||
            (r = sshcert_totp_base32(secret, sizeof(secret), &j->b32[i])) != 0)
            break;
        memset(&u, 0, sizeof(u));
        u.username = name;
        u.password_hash = (char *)(uintptr_t)j->hash;
        u.totp_secret = sealed;
        u.totp_secret_len = sealed_len;
        u.principals = (char *)(uintptr_t)"bench";
        r = sshcert_store_user_add(j->ca->store, &u, now);
        free(sealed);
        sealed = NULL;
    }
    sshcert_secmem_wipe(secret, sizeof(secret));
    j->r = r;
    return NULL;
}

static int
usage(void)
{
    fprintf(stderr, "usage: sshcert-bench-mkusers -c CONFIG -n COUNT -o FILE [-p PREFIX] "
                    "[-t THREADS] [-w PASSWORD]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *config = NULL, *outpath = NULL, *prefix = "u", *password = "bench-password";
    struct sshcert_config *cfg = NULL;
    struct sshcert_ca *ca = NULL;
    struct job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    char hash[SSHCERT_PASSWORD_HASH_LEN], **b32 = NULL, *err = NULL;
    unsigned long n = 0, threads = 8, started, i;
    struct timespec t0, t1;
    FILE *out = NULL;
    int c, r, rc = 1;

    while ((c = getopt(argc, argv, "c:n:o:p:t:w:")) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            n = strtoul(optarg, NULL, 10);
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'p':
            prefix = optarg;
            break;
        case 't':
            threads = strtoul(optarg, NULL, 10);
            break;
        case 'w':
            password = optarg;
            break;
        default: return usage();
        }
    }
    if (config == NULL || outpath == NULL || n == 0 || n > MAX_USERS || threads == 0 ||
        threads > MAX_THREADS || strlen(prefix) > MAX_PREFIX)
        return usage();
    if (threads > n)
        threads = n;
    if (sshcert_secmem_init() != 0 || sshcert_totp_global_init() != 0) {
        fprintf(stderr, "mkusers: cannot initialise crypto\n");
        return 1;
    }
    if ((r = sshcert_config_load(config, &cfg, &err)) != 0 ||
        (r = sshcert_ca_open(cfg, &ca, &err)) != 0) {
        fprintf(stderr, "mkusers: %s\n", err != NULL ? err : sshcert_err_str(r));
        goto out;
    }
    if ((r = sshcert_password_hash(password, cfg->hash_cost, hash)) != 0) {
        fprintf(stderr, "mkusers: cannot hash the password: %s\n", sshcert_err_str(r));
        goto out;
    }
    if ((b32 = calloc(n, sizeof(*b32))) == NULL)
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (started = 0; started < threads; started++) {
        jobs[started] = (struct job){ca, prefix, hash, (unsigned)n, (unsigned)started,
            (unsigned)threads, b32, 0};
        if (pthread_create(&tid[started], NULL, add_users, &jobs[started]) != 0)
            break;
    }
    /* A thread that could not start leaves its users out: that is a failure. */
    r = started < threads ? SSHCERT_ERR_SYSTEM : 0;
    for (i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        if (jobs[i].r != 0 && r == 0)
            r = jobs[i].r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r != 0) {
        fprintf(stderr, "mkusers: cannot add a user: %s\n", sshcert_err_str(r));
        goto out;
    }
    if ((out = fopen(outpath, "w")) == NULL) {
        fprintf(stderr, "mkusers: %s: %s\n", outpath, strerror(errno));
        goto out;
    }
    for (i = 0; i < n; i++)
        fprintf(out, "%s%lu %s\n", prefix, i, b32[i]);
    if (fclose(out) != 0) {
        out = NULL;
        fprintf(stderr, "mkusers: %s: write failed\n", outpath);
        goto out;
    }
    out = NULL;
    fprintf(stderr, "mkusers: %lu users in %.2f s\n", n,
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    rc = 0;
out:
    if (out != NULL)
        fclose(out);
    if (b32 != NULL)
        for (i = 0; i < n; i++)
            sshcert_secmem_free_str(b32[i]);
    free(b32);
    sshcert_secmem_wipe(hash, sizeof(hash));
    sshcert_ca_close(ca);
    sshcert_config_free(cfg);
    free(err);
    sshcert_totp_global_done();
    return rc;
}
