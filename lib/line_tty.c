/* The terminal prompt: a secret line read with echo off, and the terminal put back on every
 * path, a signal's that interrupts the read included. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "line.h"
#include "line_int.h"
#include "secmem.h"

/* What ends or stops a process waiting at a prompt. Each would leave the terminal's echo off if
 * it acted at once, so it is caught, the terminal put back, and it is raised again. */
static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))
/* SIGTTOU's place in sigs, and its bit in caught. */
#define TTOU sig_at(SIGTTOU)
#define TTOU_BIT (1 << TTOU)

/* The tries at putting the terminal back under the caller's dispositions (put_back_as_caller):
 * only a handler of the caller's that interrupts one uses up a try. */
#define PUT_BACK_TRIES 3

/* A signal handler can reach nothing but file-scope state: the signals that came, one bit each
 * (bit i for sigs[i]), so two that come together are both raised again. Why line.h asks other
 * threads to block sigs: one taken on another thread sets its bit without interrupting this
 * thread's ppoll(), which then waits for the next key, and a SIGTTOU drawn by put_back could go
 * to another thread while this one's call is made again and again. */
static volatile sig_atomic_t caught;

/* The place of sig in sigs (NSIGS when it is not there). Async-signal-safe. */
static size_t
sig_at(int sig)
{
    size_t i;

    for (i = 0; i < NSIGS && sigs[i] != sig; i++)
        ;
    return i;
}

static void
on_signal(int sig)
{
    size_t i = sig_at(sig);

    /* No race on the |=: the handler blocks all of sigs while it runs (sa_mask), and the prompt
     * only reads caught. */
    if (i < NSIGS)
        caught |= 1 << i;
}

static void
fill_sigs(sigset_t *set)
{
    size_t i;

    sigemptyset(set);
    for (i = 0; i < NSIGS; i++)
        sigaddset(set, sigs[i]);
}

/* No SA_RESTART: a signal interrupts a write or tcsetattr held up by the terminal, and the
 * background read that SIGTTIN stops. */
static void
catch_signals(struct sigaction old[NSIGS])
{
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    fill_sigs(&sa.sa_mask);
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

/* Each signal that came, raised again under the caller's dispositions and signal mask (which
 * only wait_for_key changes, and puts back): one the caller blocks is pending for it again.
 * Each acts once, however often it came: every delivery to on_signal took it off the pending
 * set and set the same bit, and where it came again while the caller's mask blocked it (outside
 * ppoll()) and is still pending, raising it adds nothing, as standard signals do not queue. */
static void
raise_again(sig_atomic_t came)
{
    size_t i;

    for (i = 0; i < NSIGS; i++)
        if ((came & (1 << i)) != 0)
            raise(sigs[i]);
}

/* In the background (the terminal's foreground process group is another), a read() does not
 * wait: the kernel stops the process with SIGTTIN, or fails it. A tty that is not the
 * controlling terminal has no foreground group here (-1), and job control does not apply. */
static int
in_background(int tty)
{
    pid_t fg = tcgetpgrp(tty);

    return fg > 0 && fg != getpgrp();
}

/*
 * Before each byte of the line (sshcert_line_read_waiting): waits for a key with sigs blocked
 * except inside ppoll(), which unblocks them and waits in one step. One that comes after the
 * look at caught is therefore still pending when ppoll() starts and ends the wait at once;
 * with a plain blocking read() it would be handled just before the read and then wait for the
 * next key (OpenSSH's readpassphrase has that window). ppoll() unblocks sigs even where the
 * caller blocks them, so a prompt is never deaf to Ctrl-C, and raised again they are pending
 * for the caller as before.
 *
 * sigs are blocked only here, not for the whole prompt: a blocked SIGTTOU would let a
 * background process change the foreground's terminal (tcsetattr succeeds), a blocked SIGTTIN
 * turns a background read into EIO instead of a stop, and a blocked SIGINT could not interrupt
 * a write or tcsetattr held up by the terminal (flow control).
 *
 * 0 to read a byte: input is there (a read then does not block, in canonical mode, unless
 * another process takes it first), or the process is in the background and the read will stop
 * it. -1 with errno EINTR after a signal (ppoll() is not restarted after any handler, ours or
 * the caller's), or with ppoll()'s errno.
 */
static int
wait_for_key(int tty)
{
    struct pollfd p = {.fd = tty, .events = POLLIN};
    sigset_t listed, before, during;
    size_t i;
    int n = 0, e;

    fill_sigs(&listed);
    if ((e = pthread_sigmask(SIG_BLOCK, &listed, &before)) != 0) {
        errno = e;
        return -1;
    }
    during = before;
    for (i = 0; i < NSIGS; i++)
        sigdelset(&during, sigs[i]);
    if (caught == 0 && !in_background(tty))
        n = ppoll(&p, 1, NULL, &during);
    e = errno;
    /* A signal that came while ppoll() found input ready, after the look at caught, is taken
     * here, as the mask goes back; this look sees it. */
    (void)pthread_sigmask(SIG_SETMASK, &before, NULL);
    if (caught != 0) {
        errno = EINTR;
        return -1;
    }
    errno = e;
    return n < 0 ? -1 : 0;
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

/*
 * The terminal put back while on_signal catches sigs: 0, or the errno of the last try. A signal
 * can interrupt TCSAFLUSH's wait for the output to drain (output held by XOFF): then once more
 * with TCSANOW, which does not wait. Not after SIGTTOU: the kernel sends that to a process in
 * the background that changes its terminal, and on_signal took it instead of the stop that job
 * control expects, as it would again; put_back_as_caller tries then.
 */
static int
put_back(int tty, const struct termios *saved)
{
    if (tcsetattr(tty, TCSAFLUSH, saved) == 0)
        return 0;
    if (errno == EINTR && (caught & TTOU_BIT) == 0 &&
        tcsetattr(tty, TCSANOW, saved) == 0)
        return 0;
    return errno;
}

/* A handler of the caller's, rather than SIG_DFL or SIG_IGN. */
static int
handled(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) != 0 ||
           (sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN);
}

/*
 * The terminal put back under the caller's dispositions, after put_back was interrupted, and
 * before any signal is raised again: one the caller leaves at its default would end the process
 * with echo off. In the background, with SIGTTOU at its default, the kernel stops the process
 * and, once it is continued, makes the call again, until it succeeds in the foreground; with
 * SIGTTOU ignored it succeeds at once. A handler of the caller's that interrupts a try (one for
 * SIGCONT, say) costs one of PUT_BACK_TRIES. Not called where the caller handles SIGTTOU: its
 * handler would run at every try, and with SA_RESTART over and over in the kernel for as long as
 * the process is in the background.
 */
static void
put_back_as_caller(int tty, const struct termios *saved)
{
    int i;

    for (i = 0; i < PUT_BACK_TRIES; i++)
        if (tcsetattr(tty, TCSANOW, saved) == 0 || errno != EINTR)
            return;
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
    sig_atomic_t before = 0, came;
    int r = SSHCERT_ERR_INTERNAL, quiet = 0, unput = 0, saved_errno;

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
    /* wait_for_key looks at caught first: one that came since catch_signals ends it. */
    r = sshcert_line_read_waiting(tty, max, out, wait_for_key);
out:
    saved_errno = errno;
    if (quiet) {
        before = caught;
        unput = put_back(tty, &saved);
        say(prompt_fd, "\n"); /* the newline typed was not echoed */
    }
    /* The terminal first, as far as it can be with sigs caught, then the dispositions; after
     * those caught cannot change any more. */
    release_signals(old);
    came = caught;
    if (unput == EINTR && !handled(&old[TTOU])) {
        /* A SIGTTOU that put_back drew is not raised again: where it still applies (in the
         * background), put_back_as_caller draws it again, for the caller's disposition. */
        came &= ~(TTOU_BIT & ~before);
        put_back_as_caller(tty, &saved);
    }
    if (caught != 0) {
        sshcert_secmem_free(*out);
        *out = NULL;
        raise_again(came);
        r = SSHCERT_ERR_SYSTEM;
        saved_errno = EINTR;
    }
    errno = saved_errno;
    return r;
}
