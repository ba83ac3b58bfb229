/* The terminal prompt: a secret line read with echo off, and the terminal put back on every
 * path, a signal's that interrupts the read included. */
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "line.h"
#include "secmem.h"

/* What ends or stops a process waiting at a prompt. Each would leave the terminal's echo off if
 * it acted at once, so it is caught, the terminal put back, and it is raised again. */
static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

/* A signal handler can reach nothing but file-scope state: the signal that interrupted. */
static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
    caught = sig;
}

/* No SA_RESTART: the signal interrupts read(), so the prompt puts the terminal back first. */
static void
catch_signals(struct sigaction old[NSIGS])
{
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    caught = 0;
    for (i = 0; i < NSIGS; i++)
        sigaction(sigs[i], &sa, &old[i]);
}

static void
release_signals(const struct sigaction old[NSIGS])
{
    size_t i;

    for (i = 0; i < NSIGS; i++)
        sigaction(sigs[i], &old[i], NULL);
}

/* 0 with echo off and the settings before in *saved, or -1 with the terminal as it was. */
static int
echo_off(int tty, struct termios *saved)
{
    struct termios quiet;

    if (tcgetattr(tty, saved) != 0)
        return -1;
    quiet = *saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    return tcsetattr(tty, TCSAFLUSH, &quiet) == 0 ? 0 : -1;
}

static void
say(int fd, const char *s)
{
    ssize_t w = write(fd, s, strlen(s));

    (void)w; /* a prompt that cannot be shown does not stop the answer */
}

int
sshcert_line_prompt_tty(int tty, int prompt_fd, const char *prompt, int echo, size_t max,
    char **out)
{
    struct sigaction old[NSIGS];
    struct termios saved;
    int r = SSHCERT_ERR_INTERNAL, quiet = 0;

    *out = NULL;
    catch_signals(old);
    if (!echo) {
        if (echo_off(tty, &saved) != 0) {
            r = SSHCERT_ERR_UNSUPPORTED; /* a secret typed now would show: not read */
            goto out;
        }
        quiet = 1;
    }
    say(prompt_fd, prompt);
    r = caught != 0 ? SSHCERT_ERR_SYSTEM : sshcert_line_read(tty, max, out);
out:
    if (quiet) {
        (void)tcsetattr(tty, TCSAFLUSH, &saved);
        say(prompt_fd, "\n"); /* the newline typed was not echoed */
    }
    release_signals(old);
    if (caught != 0) {
        sshcert_secmem_free(*out);
        *out = NULL;
        raise(caught);
        return SSHCERT_ERR_SYSTEM;
    }
    return r;
}
