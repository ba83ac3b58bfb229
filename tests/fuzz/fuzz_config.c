/*
 * libFuzzer target for the CA host's config file parser (sshcert_config_parse in
 * ca-server/config.c), with relative paths resolved against a fixed base. Any input either
 * fails with a negative error and a message, leaving no config, or gives a config that keeps
 * the file's invariants: 1 <= default_ttl <= max_ttl <= a year, lockout >= 1, a port, at most
 * SSHCERT_MAX_CONFIG_EXTENSIONS unique extensions, TLS files both or neither, and every path
 * absolute (the base is). Seeds: tests/fuzz/corpus/fuzz_config, made by
 * make-config-corpus.sh from the example configs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_path(const char *p)
{
    if (p == NULL || p[0] != '/')
        abort();
}

static void
check_config(const struct sshcert_config *c)
{
    size_t i, j;

    if (c->listen_host == NULL || c->listen_port == 0)
        abort();
    if (c->default_ttl < 1 || c->default_ttl > c->max_ttl || c->max_ttl > SSHCERT_MAX_DURATION ||
        c->backdate > SSHCERT_MAX_DURATION || c->lockout < 1 ||
        c->lockout > SSHCERT_MAX_DURATION)
        abort();
    if (c->nextensions > SSHCERT_MAX_CONFIG_EXTENSIONS)
        abort();
    for (i = 0; i < c->nextensions; i++) {
        if (c->extensions[i] == NULL || c->extensions[i][0] == '\0' ||
            strchr(c->extensions[i], ',') != NULL)
            abort();
        for (j = 0; j < i; j++)
            if (strcmp(c->extensions[i], c->extensions[j]) == 0)
                abort();
    }
    if ((c->tls_cert_file == NULL) != (c->tls_key_file == NULL))
        abort();
    if (c->tls_cert_file != NULL) {
        check_path(c->tls_cert_file);
        check_path(c->tls_key_file);
    }
    check_path(c->data_dir);
    check_path(c->ca_key_path);
    check_path(c->ca_pub_path);
    check_path(c->db_path);
    check_path(c->secret_key_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sshcert_config *c = NULL;
    char *err = NULL;
    int r;

    r = sshcert_config_parse((const char *)data, size, "/etc/sshcert", &c, &err);
    if (r != 0) {
        if (r > 0 || c != NULL || err == NULL || err[0] == '\0')
            abort();
    } else {
        if (c == NULL || err != NULL)
            abort();
        check_config(c);
    }
    sshcert_config_free(c);
    free(err);
    return 0;
}
