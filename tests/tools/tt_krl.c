#include <stdio.h>

#include "testtool.h"

int
tt_krl_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "testtool: krl commands not written yet\n");
    return 2;
}
