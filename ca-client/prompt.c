/* Password and code input. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "line.h"
#include "prompt.h"
#include "secmem.h"

static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
    caught = sig;
}

int
prompt_tty(const char *prompt, int echo, size_t max, char **out)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
    struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
    struct termios saved, quiet;
    int fd, r, restore = 0;
    size_t i;
    ssize_t w;

    *out = NULL;
    if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
        return SSHCERT_ERR_NOT_FOUND;
    /* No SA_RESTART: a signal interrupts read(), we put the terminal back, then let it act. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    caught = 0;
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, &old[i]);
    if (!echo && tcgetattr(fd, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    if (!echo && !restore) {
        r = SSHCERT_ERR_SYSTEM; /* echo could not be turned off: do not read a secret */
    } else {
        w = write(fd, prompt, strlen(prompt));
        (void)w;
        r = caught != 0 ? SSHCERT_ERR_SYSTEM : sshcert_line_read(fd, max, out);
    }
    if (restore) {
        (void)tcsetattr(fd, TCSAFLUSH, &saved);
        w = write(fd, "\n", 1); /* the newline the person typed was not echoed */
        (void)w;
    }
    close(fd);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &old[i], NULL);
    if (caught != 0) {
        sshcert_secmem_free(*out);
        *out = NULL;
        raise(caught);
        return SSHCERT_ERR_SYSTEM;
    }
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
