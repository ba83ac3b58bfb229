/* Password and code input. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "prompt.h"
#include "secmem.h"

int
prompt_read_line(int fd, size_t max, char **out)
{
    char *buf, c;
    size_t n = 0;
    ssize_t got;
    int r = SSHCERT_ERR_INTERNAL;

    *out = NULL;
    /* max characters, a '\r' before the newline (CRLF input) and the NUL */
    if ((buf = sshcert_secmem_alloc(max + 2)) == NULL)
        return SSHCERT_ERR_ALLOC;
    for (;;) {
        got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR) {
            r = SSHCERT_ERR_SYSTEM;
            goto out; /* the tty caller restores the terminal and re-raises */
        }
        if (got < 0) {
            r = SSHCERT_ERR_SYSTEM;
            goto out;
        }
        if (got == 0) {
            if (n == 0) {
                r = SSHCERT_ERR_NOT_FOUND;
                goto out;
            }
            break;
        }
        if (c == '\n')
            break;
        if (n > max || (n == max && c != '\r')) {
            r = SSHCERT_ERR_TOO_LARGE;
            goto out;
        }
        buf[n++] = c;
    }
    c = 0;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
    r = 0;
out:
    sshcert_secmem_free(buf);
    return r;
}

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
        r = caught != 0 ? SSHCERT_ERR_SYSTEM : prompt_read_line(fd, max, out);
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
