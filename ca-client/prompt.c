/* Password and code input. */
#include <fcntl.h>
#include <unistd.h>

#include "err.h"
#include "line.h"
#include "prompt.h"

int
prompt_tty(const char *prompt, int echo, size_t max, char **out)
{
    int fd, r;

    *out = NULL;
    if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return SSHCERT_ERR_NOT_FOUND;
    r = sshcert_line_prompt_tty(fd, fd, prompt, echo, max, out);
    close(fd);
    if (r == SSHCERT_ERR_NOT_FOUND)
        r = SSHCERT_ERR_TRUNCATED; /* end of input on the terminal: nothing typed */
    return r;
}

void
prompt_squeeze_code(char *code)
{
    char *w = code;

    for (; *code != '\0'; code++)
        if (*code != ' ' && *code != '\t')
            *w++ = *code;
    *w = '\0';
}
