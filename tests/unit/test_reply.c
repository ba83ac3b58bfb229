/* The issuance reply: written directly when its strings need no escaping, through jansson
 * otherwise, and in both cases byte for byte what jansson writes for the same values. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "policy.h"
#include "server.h"
#include "store.h"

/* What jansson writes for these values, with the flags every reply uses. */
static char *
jansson_body(const struct sshcert_cert_record *rec, const struct sshcert_principals *pr)
{
    json_t *j, *arr = json_array();
    size_t i;
    char *s;

    assert_non_null(arr);
    for (i = 0; i < pr->n; i++)
        assert_int_equal(json_array_append_new(arr, json_string(pr->v[i])), 0);
    j = json_pack("{s:s, s:I, s:s, s:o, s:I, s:I}", "certificate", rec->certificate, "serial",
        (json_int_t)rec->serial, "key_id", rec->key_id, "principals", arr, "valid_after",
        (json_int_t)rec->valid_after, "valid_before", (json_int_t)rec->valid_before);
    assert_non_null(j);
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(s);
    json_decref(j);
    return s;
}

/* reply_issued's body equals jansson's for these values; direct: whether it must have been
 * written without jansson. */
static void
same_as_jansson(int direct, const char *cert, const char *key_id, char **principals, size_t n,
    uint64_t serial, uint64_t va, uint64_t vb)
{
    struct sshcert_cert_record rec = {0};
    struct sshcert_principals pr = {0};
    struct reply rep = {0};
    char *want, *d;
    size_t i, dlen;

    rec.certificate = (char *)(uintptr_t)cert;
    rec.key_id = (char *)(uintptr_t)key_id;
    rec.serial = serial;
    rec.valid_after = va;
    rec.valid_before = vb;
    for (i = 0; i < n; i++)
        pr.v[i] = principals[i];
    pr.n = n;
    want = jansson_body(&rec, &pr);
    d = reply_issued_direct(&rec, &pr, &dlen);
    if (direct) {
        assert_non_null(d);
        assert_int_equal(dlen, strlen(want));
        assert_memory_equal(d, want, dlen);
    } else {
        assert_null(d);
    }
    free(d);
    reply_issued(&rep, &rec, &pr);
    assert_int_equal(rep.status, 201);
    assert_string_equal(rep.content_type, "application/json");
    assert_non_null(rep.body);
    assert_int_equal(rep.len, strlen(want));
    assert_memory_equal(rep.body, want, rep.len);
    reply_drop(&rep);
    free(want);
}

static const char cert_line[] =
    "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIB+/=="
    " alice#42";

/* What the server issues: base64, names, a key id; 1, 3 and no principals; edge integers. */
static void
test_plain(void **state)
{
    char *one[] = {"alice"}, *three[] = {"alice", "ops", "db-admin.1"};

    (void)state;
    same_as_jansson(1, cert_line, "alice#42", one, 1, 42, 1700000000, 1700003600);
    same_as_jansson(1, cert_line, "a key id with spaces ~!@#$%^&*()_+{}|:<>?/", three, 3, 1, 0, 1);
    same_as_jansson(1, cert_line, "", NULL, 0, 0, 0, 0);
    same_as_jansson(1, cert_line, "x", one, 1, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX - 1,
        (uint64_t)INT64_MAX);
    /* above INT64_MAX: negative, as jansson writes them, the longest integers there are */
    same_as_jansson(1, cert_line, "x", three, 3, (uint64_t)INT64_MAX + 1, UINT64_MAX,
        UINT64_MAX - 1);
    same_as_jansson(1, "", "", one, 1, 9, 9, 9);
    same_as_jansson(1, "/slash/", "/", one, 1, 9, 9, 9); /* jansson leaves '/' as it is */
}

/* Every principal the server allows at once. */
static void
test_max_principals(void **state)
{
    static char names[SSHCERT_MAX_PRINCIPALS][40];
    char *v[SSHCERT_MAX_PRINCIPALS];
    size_t i;

    (void)state;
    for (i = 0; i < SSHCERT_MAX_PRINCIPALS; i++) {
        snprintf(names[i], sizeof(names[i]), "principal-%zu-abcdefghijklmnopqrstuvw", i);
        v[i] = names[i];
    }
    same_as_jansson(1, cert_line, "many", v, SSHCERT_MAX_PRINCIPALS, (uint64_t)INT64_MAX + 1,
        (uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX + 1);
}

/* A string that needs escaping anywhere (a quote, a backslash, a control character, DEL,
 * UTF-8) takes jansson's path, with the same result. */
static void
test_escaped(void **state)
{
    static const char *const odd[] = {"say \"hi\"", "back\\slash", "tab\there", "nl\n",
        "\x01", "del\x7f", "caf\xc3\xa9", "\xe2\x82\xac"};
    char *p[2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        p[0] = "alice";
        p[1] = (char *)(uintptr_t)odd[i];
        same_as_jansson(0, cert_line, odd[i], p, 1, 5, 6, 7);
        same_as_jansson(0, odd[i], "id", p, 1, 5, 6, 7);
        same_as_jansson(0, cert_line, "id", p, 2, 5, 6, 7);
    }
}

/* The escaped body as a client reads it, and bytes that are not UTF-8: 500 naming the serial
 * (recorded, but not delivered). */
static void
test_escaped_literal(void **state)
{
    static const char want[] =
        "{\"certificate\":\"c\",\"serial\":3,\"key_id\":\"say \\\"hi\\\"\\\\\\n\","
        "\"principals\":[\"caf\xc3\xa9\"],\"valid_after\":1,\"valid_before\":2}";
    struct sshcert_cert_record rec = {0};
    struct sshcert_principals pr = {0};
    struct reply rep = {0};

    (void)state;
    rec.certificate = "c";
    rec.key_id = "say \"hi\"\\\n";
    rec.serial = 3;
    rec.valid_after = 1;
    rec.valid_before = 2;
    pr.v[0] = "caf\xc3\xa9";
    pr.n = 1;
    reply_issued(&rep, &rec, &pr);
    assert_int_equal(rep.status, 201);
    assert_int_equal(rep.len, sizeof(want) - 1);
    assert_memory_equal(rep.body, want, rep.len);
    reply_drop(&rep);

    /* not UTF-8: a principal (the array fails), the key id or the certificate (the object
     * fails with the array built: jansson takes the array along, nothing leaks) */
    pr.v[0] = "\xff";
    reply_issued(&rep, &rec, &pr);
    assert_int_equal(rep.status, 500);
    reply_drop(&rep);
    pr.v[0] = "ok";
    rec.key_id = "\xc3";
    reply_issued(&rep, &rec, &pr);
    assert_int_equal(rep.status, 500);
    reply_drop(&rep);
    rec.key_id = "id";
    rec.certificate = "\x80";
    reply_issued(&rep, &rec, &pr);
    assert_int_equal(rep.status, 500);
    assert_string_equal(rep.body, "{\"error\":\"internal\",\"message\":\"certificate serial 3 "
                                  "was issued, but its reply could not be written\"}");
    reply_drop(&rep);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_max_principals),
        cmocka_unit_test(test_escaped),
        cmocka_unit_test(test_escaped_literal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
