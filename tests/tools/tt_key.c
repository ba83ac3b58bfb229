/* key commands: fp PUBFILE | pub PRIVFILE | gen OUTFILE | roundtrip PRIVFILE OUTFILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "key.h"
#include "testtool.h"

int
tt_key_main(int argc, char **argv)
{
    struct sshcert_pubkey pk;
    struct sshcert_privkey *k = NULL;
    char fp[SSHCERT_FP_LEN], *line = NULL, *text, *comment = NULL;
    size_t len;
    int r;

    if (argc == 3 && strcmp(argv[1], "fp") == 0) {
        text = tt_read_file(argv[2], &len);
        r = sshcert_pubkey_parse_line(text, len, &pk, &comment);
        free(text);
        if (r != 0)
            return tt_fail("parse", r);
        if ((r = sshcert_pubkey_fingerprint(&pk, fp)) != 0)
            return tt_fail("fingerprint", r);
        printf("%s %s\n", fp, comment);
        free(comment);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "pub") == 0) {
        if ((r = sshcert_privkey_load(argv[2], &k)) != 0)
            return tt_fail("load", r);
        sshcert_privkey_public(k, &pk);
        if ((r = sshcert_pubkey_to_line(&pk, sshcert_privkey_comment(k), &line)) != 0)
            return tt_fail("format", r);
        printf("%s\n", line);
        free(line);
        sshcert_privkey_free(k);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        if ((r = sshcert_privkey_generate(&k)) != 0 ||
            (r = sshcert_privkey_set_comment(k, argv[3])) != 0 ||
            (r = sshcert_privkey_save(k, argv[2])) != 0)
            return tt_fail("gen", r);
        sshcert_privkey_free(k);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "roundtrip") == 0) {
        if ((r = sshcert_privkey_load(argv[2], &k)) != 0)
            return tt_fail("load", r);
        if ((r = sshcert_privkey_save(k, argv[3])) != 0)
            return tt_fail("save", r);
        sshcert_privkey_free(k);
        return 0;
    }
    fprintf(stderr, "usage: key fp PUB | pub PRIV | gen OUT COMMENT | roundtrip PRIV OUT\n");
    return 2;
}
