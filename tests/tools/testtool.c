#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "file.h"
#include "secmem.h"
#include "testtool.h"

char *
tt_read_file(const char *path, size_t *len)
{
    char *d = NULL;
    int r;

    if ((r = sshcert_file_read(path, 64u * 1024u * 1024u, &d, len)) != 0) {
        fprintf(stderr, "testtool: %s: %s\n", path, sshcert_err_str(r));
        exit(2);
    }
    return d;
}

int
tt_fail(const char *what, int err)
{
    fprintf(stderr, "testtool: %s: %s (%d)\n", what, sshcert_err_str(err), err);
    return 1;
}

int
main(int argc, char **argv)
{
    if (sshcert_secmem_init() != 0)
        return 2;
    if (argc < 2) {
        fprintf(stderr, "usage: sshcert-testtool key|cert|krl|agent ...\n");
        return 2;
    }
    if (strcmp(argv[1], "key") == 0)
        return tt_key_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "cert") == 0)
        return tt_cert_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "krl") == 0)
        return tt_krl_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "agent") == 0)
        return tt_agent_main(argc - 1, argv + 1);
    fprintf(stderr, "sshcert-testtool: unknown group %s\n", argv[1]);
    return 2;
}
