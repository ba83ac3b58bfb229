/*
 * agent commands (SOCK "-" means $SSH_AUTH_SOCK):
 *   add SOCK PRIVKEY CERTFILE LIFETIME [COMMENT]   COMMENT defaults to CERTFILE
 *   list SOCK        one line per identity: "TYPE COMMENT" plus " serial=N" for certificates
 *   sign SOCK FILE   FILE is a -cert.pub or .pub line; signs a random challenge through the
 *                    agent, verifies it with that key and prints "signature ok"
 *   remove SOCK FILE
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "buf.h"
#include "cert.h"
#include "err.h"
#include "key.h"
#include "testtool.h"

/* A public key or certificate file as the blob the agent knows it by, and its ed25519 key. */
struct tt_ident {
    struct sshcert_cert *cert;  /* set for a certificate */
    struct sshcert_buf *keyblob; /* set for a plain key */
    struct sshcert_pubkey pk;
    const uint8_t *blob;
    size_t blob_len;
};

static void
ident_free(struct tt_ident *id)
{
    sshcert_cert_free(id->cert);
    sshcert_buf_free(id->keyblob);
}

static int
ident_load(const char *path, struct tt_ident *id)
{
    char *text;
    size_t len;
    int r;

    memset(id, 0, sizeof(*id));
    text = tt_read_file(path, &len);
    if (strncmp(text, SSHCERT_CERT_TYPE_ED25519 " ", strlen(SSHCERT_CERT_TYPE_ED25519) + 1) == 0) {
        if ((r = sshcert_cert_parse_line(text, len, &id->cert, NULL)) == 0 &&
            (r = sshcert_cert_blob(id->cert, &id->blob, &id->blob_len)) == 0)
            id->pk = *sshcert_cert_key(id->cert);
    } else if ((r = sshcert_pubkey_parse_line(text, len, &id->pk, NULL)) == 0) {
        if ((id->keyblob = sshcert_buf_new(0)) == NULL)
            r = SSHCERT_ERR_ALLOC;
        else if ((r = sshcert_pubkey_put_blob(id->keyblob, &id->pk)) == 0) {
            id->blob = sshcert_buf_ptr(id->keyblob);
            id->blob_len = sshcert_buf_len(id->keyblob);
        }
    }
    free(text);
    return r;
}

static int
connect_sock(const char *sock, struct sshcert_agent **a)
{
    return sshcert_agent_connect(strcmp(sock, "-") == 0 ? NULL : sock, a);
}

static int
do_add(int argc, char **argv)
{
    struct sshcert_agent *a = NULL;
    struct sshcert_privkey *k = NULL;
    struct sshcert_cert *c = NULL;
    char *text;
    size_t len;
    int r;

    if ((r = sshcert_privkey_load(argv[3], &k)) != 0)
        return tt_fail("load key", r);
    text = tt_read_file(argv[4], &len);
    r = sshcert_cert_parse_line(text, len, &c, NULL);
    free(text);
    if (r != 0)
        return tt_fail("parse cert", r);
    if ((r = connect_sock(argv[2], &a)) != 0)
        return tt_fail("connect", r);
    r = sshcert_agent_add_cert(a, k, c, argc > 6 ? argv[6] : argv[4],
        (uint32_t)strtoul(argv[5], NULL, 0));
    sshcert_agent_close(a);
    sshcert_cert_free(c);
    sshcert_privkey_free(k);
    if (r != 0)
        return tt_fail("add", r);
    printf("added\n");
    return 0;
}

static void
print_identity(const struct sshcert_agent_identity *id)
{
    struct sshcert_buf *b;
    struct sshcert_cert *c = NULL;
    char *type = NULL;

    if ((b = sshcert_buf_from(id->blob, id->blob_len)) == NULL ||
        sshcert_buf_get_cstring(b, &type, 256) != 0) {
        printf("? %s\n", id->comment);
        sshcert_buf_free(b);
        return;
    }
    if (strcmp(type, SSHCERT_CERT_TYPE_ED25519) == 0 &&
        sshcert_cert_parse_blob(id->blob, id->blob_len, &c) == 0)
        printf("%s %s serial=%" PRIu64 "\n", type, id->comment, sshcert_cert_serial(c));
    else
        printf("%s %s\n", type, id->comment);
    sshcert_cert_free(c);
    free(type);
    sshcert_buf_free(b);
}

static int
do_list(const char *sock)
{
    struct sshcert_agent *a = NULL;
    struct sshcert_agent_identities *ids = NULL;
    size_t i;
    int r;

    if ((r = connect_sock(sock, &a)) != 0)
        return tt_fail("connect", r);
    r = sshcert_agent_list(a, &ids);
    sshcert_agent_close(a);
    if (r != 0)
        return tt_fail("list", r);
    for (i = 0; i < ids->count; i++)
        print_identity(&ids->ids[i]);
    sshcert_agent_identities_free(ids);
    return 0;
}

static int
do_sign(const char *sock, const char *path)
{
    struct sshcert_agent *a = NULL;
    struct tt_ident id;
    uint8_t challenge[32], sig[SSHCERT_ED25519_SIG_LEN];
    int r;

    if ((r = ident_load(path, &id)) != 0) {
        ident_free(&id);
        return tt_fail("load", r);
    }
    randombytes_buf(challenge, sizeof(challenge));
    if ((r = connect_sock(sock, &a)) == 0)
        r = sshcert_agent_sign(a, id.blob, id.blob_len, challenge, sizeof(challenge), sig);
    sshcert_agent_close(a);
    if (r == 0)
        r = sshcert_pubkey_verify(&id.pk, sig, challenge, sizeof(challenge));
    ident_free(&id);
    if (r != 0)
        return tt_fail("sign", r);
    printf("signature ok\n");
    return 0;
}

static int
do_remove(const char *sock, const char *path)
{
    struct sshcert_agent *a = NULL;
    struct tt_ident id;
    int r;

    if ((r = ident_load(path, &id)) != 0) {
        ident_free(&id);
        return tt_fail("load", r);
    }
    if ((r = connect_sock(sock, &a)) == 0)
        r = sshcert_agent_remove(a, id.blob, id.blob_len);
    sshcert_agent_close(a);
    ident_free(&id);
    if (r != 0)
        return tt_fail("remove", r);
    printf("removed\n");
    return 0;
}

int
tt_agent_main(int argc, char **argv)
{
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "add") == 0)
        return do_add(argc, argv);
    if (argc == 3 && strcmp(argv[1], "list") == 0)
        return do_list(argv[2]);
    if (argc == 4 && strcmp(argv[1], "sign") == 0)
        return do_sign(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "remove") == 0)
        return do_remove(argv[2], argv[3]);
    fprintf(stderr, "usage: agent add SOCK PRIVKEY CERTFILE LIFETIME [COMMENT] | list SOCK | "
                    "sign SOCK FILE | remove SOCK FILE\n");
    return 2;
}
