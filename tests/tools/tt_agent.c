#include <stdio.h>

#include "testtool.h"

int
tt_agent_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "testtool: agent commands not written yet\n");
    return 2;
}
