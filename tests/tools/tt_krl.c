/*
 * krl commands:
 *   make [-z VERSION] [-d DATE] CA_PUB OUT SERIAL|LO-HI...   writes our KRL for CA_PUB
 *   check KRL CERTFILE...      "REVOKED" or "ok" per cert; exit 1 if any is revoked
 *   check-key KRL PUBFILE...   the same for plain keys
 *   count KRL CA_PUB|any       serials revoked for that CA (any: the wildcard section)
 *   parse KRL                  "ok", or the error text and code (exit 1)
 *   reencode IN OUT            parses IN and writes our canonical encoding of it
 *   info KRL                   "version N" and "date N"
 * Exit 2 on usage errors and on files that cannot be read or parsed (like ssh-keygen -Q's 255).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "file.h"
#include "key.h"
#include "krl.h"
#include "testtool.h"

static int
usage(void)
{
    fprintf(stderr, "usage: krl make [-z V] [-d DATE] CA.pub OUT SPEC... | check KRL CERT... |\n"
                    "       check-key KRL KEY... | count KRL CA.pub|any | parse KRL |\n"
                    "       reencode IN OUT | info KRL\n");
    return 2;
}

/* Parses an unsigned decimal/hex number that must use the whole string. */
static int
parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (*s == '\0' || *s == '-')
        return -1;
    *v = strtoull(s, &end, 0);
    return *end == '\0' ? 0 : -1;
}

static int
load_pub(const char *path, struct sshcert_pubkey *pk)
{
    char *text;
    size_t len;
    int r;

    text = tt_read_file(path, &len);
    r = sshcert_pubkey_parse_line(text, len, pk, NULL);
    free(text);
    return r;
}

static int
load_krl(const char *path, struct sshcert_krl **k)
{
    char *data;
    size_t len;
    int r;

    data = tt_read_file(path, &len);
    r = sshcert_krl_from_blob((const uint8_t *)data, len, k);
    free(data);
    if (r != 0)
        fprintf(stderr, "testtool: %s: %s (%d)\n", path, sshcert_err_str(r), r);
    return r;
}

static int
write_krl(struct sshcert_krl *k, const char *path)
{
    struct sshcert_buf *b;
    int r;

    if ((b = sshcert_buf_new(0)) == NULL)
        return tt_fail("alloc", SSHCERT_ERR_ALLOC);
    if ((r = sshcert_krl_to_blob(k, b)) == 0)
        r = sshcert_file_write_atomic(path, sshcert_buf_ptr(b), sshcert_buf_len(b), 0644);
    sshcert_buf_free(b);
    return r == 0 ? 0 : tt_fail("write", r);
}

static int
do_make(int argc, char **argv)
{
    struct sshcert_pubkey ca;
    struct sshcert_krl *k = NULL;
    uint64_t version = 0, date = 0, lo, hi;
    const char *out;
    char *dash;
    int i = 2, r;

    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-z") == 0 && parse_u64(argv[i + 1], &version) == 0)
            continue;
        if (strcmp(argv[i], "-d") == 0 && parse_u64(argv[i + 1], &date) == 0)
            continue;
        return usage();
    }
    if (argc - i < 2)
        return usage();
    if ((r = load_pub(argv[i], &ca)) != 0)
        return tt_fail("CA key", r);
    out = argv[i + 1];
    if ((r = sshcert_krl_new(&ca, &k)) != 0)
        return tt_fail("new", r);
    sshcert_krl_set_version(k, version);
    sshcert_krl_set_date(k, date);
    for (r = 0, i += 2; i < argc && r == 0; i++) {
        if ((dash = strchr(argv[i], '-')) != NULL) {
            *dash = '\0';
            if (parse_u64(argv[i], &lo) != 0 || parse_u64(dash + 1, &hi) != 0)
                break;
        } else if (parse_u64(argv[i], &lo) == 0) {
            hi = lo;
        } else {
            break;
        }
        r = sshcert_krl_revoke_range(k, lo, hi);
    }
    if (r == 0 && i < argc) {
        sshcert_krl_free(k);
        return usage();
    }
    if (r != 0) {
        sshcert_krl_free(k);
        return tt_fail("revoke", r);
    }
    r = write_krl(k, out);
    sshcert_krl_free(k);
    return r;
}

static int
check_one(const struct sshcert_krl *k, const char *path, int is_cert)
{
    struct sshcert_pubkey pk;
    struct sshcert_cert *c = NULL;
    char *text;
    size_t len;
    int r;

    text = tt_read_file(path, &len);
    if (is_cert) {
        if ((r = sshcert_cert_parse_line(text, len, &c, NULL)) == 0)
            r = sshcert_krl_check_cert(k, c);
    } else if ((r = sshcert_pubkey_parse_line(text, len, &pk, NULL)) == 0) {
        r = sshcert_krl_check_key(k, &pk);
    }
    free(text);
    sshcert_cert_free(c);
    if (r == SSHCERT_ERR_REVOKED) {
        printf("REVOKED\n");
        return 1;
    }
    if (r != 0) {
        fprintf(stderr, "testtool: %s: %s (%d)\n", path, sshcert_err_str(r), r);
        return 2;
    }
    printf("ok\n");
    return 0;
}

static int
do_check(int argc, char **argv, int is_cert)
{
    struct sshcert_krl *k = NULL;
    int i, rc = 0, one;

    if (load_krl(argv[2], &k) != 0)
        return 2;
    for (i = 3; i < argc; i++) {
        one = check_one(k, argv[i], is_cert);
        rc = one > rc ? one : rc;
    }
    sshcert_krl_free(k);
    return rc;
}

static int
do_count(const char *krl, const char *ca_path)
{
    struct sshcert_pubkey ca;
    struct sshcert_krl *k = NULL;
    int r, any = strcmp(ca_path, "any") == 0;

    if (!any && (r = load_pub(ca_path, &ca)) != 0)
        return tt_fail("CA key", r);
    if (load_krl(krl, &k) != 0)
        return 2;
    printf("%" PRIu64 "\n", sshcert_krl_serial_count(k, any ? NULL : &ca));
    sshcert_krl_free(k);
    return 0;
}

static int
do_parse(const char *path)
{
    struct sshcert_krl *k = NULL;
    char *data;
    size_t len;
    int r;

    data = tt_read_file(path, &len);
    r = sshcert_krl_from_blob((const uint8_t *)data, len, &k);
    free(data);
    sshcert_krl_free(k);
    if (r != 0) {
        printf("%s (%d)\n", sshcert_err_str(r), r);
        return 1;
    }
    printf("ok\n");
    return 0;
}

int
tt_krl_main(int argc, char **argv)
{
    struct sshcert_krl *k = NULL;
    int r;

    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "make") == 0)
        return do_make(argc, argv);
    if (argc >= 4 && strcmp(argv[1], "check") == 0)
        return do_check(argc, argv, 1);
    if (argc >= 4 && strcmp(argv[1], "check-key") == 0)
        return do_check(argc, argv, 0);
    if (argc == 4 && strcmp(argv[1], "count") == 0)
        return do_count(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "parse") == 0)
        return do_parse(argv[2]);
    if (argc == 4 && strcmp(argv[1], "reencode") == 0) {
        if (load_krl(argv[2], &k) != 0)
            return 2;
        r = write_krl(k, argv[3]);
        sshcert_krl_free(k);
        return r;
    }
    if (argc == 3 && strcmp(argv[1], "info") == 0) {
        if (load_krl(argv[2], &k) != 0)
            return 2;
        printf("version %" PRIu64 "\ndate %" PRIu64 "\n", sshcert_krl_version(k),
            sshcert_krl_date(k));
        sshcert_krl_free(k);
        return 0;
    }
    return usage();
}
