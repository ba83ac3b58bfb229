/* lib/line: the one reader of secret lines (passwords, TOTP codes) from a file descriptor,
 * tested through pipes at its length cap, one byte under and one over, with CRLF input; and
 * the terminal prompt on top of it, on a pseudo-terminal: echo off while reading and back on
 * after, also when a signal interrupts, even one that comes just before the prompt waits for a
 * key or that the caller blocks; no read where echo cannot be turned off; a stop in the
 * background; echo back on when putting it back is interrupted, or when another process group
 * took the terminal's foreground while the prompt waited. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "line.h"
#include "line_int.h"
#include "secmem.h"

/* The password cap of the client and sshcert-admin (SSHCERT_MAX_PASSWORD). */
#define MAX 1024u
/* Never a pointer the reader returns: shows that *out was cleared. */
static char sentinel;

/* The one moment no timing can hit: after the prompt's last look at the signals it caught and
 * before the call that blocks until a key comes (read() before that window was closed, ppoll()
 * since). This program's own read() and ppoll() come before the C library's for every caller
 * in it, the library under test included; they pass each call on to the kernel, and send
 * hook_sig to the process at the hook_call'th call of read() on hook_fd, or of ppoll() (only
 * the prompt calls it here). */
static int hook_fd = -1, hook_call, hook_sig, reads, polls;
/* Where ppoll() writes a byte as it is called, when not -1: the prompt is past its look at
 * whether it is in the background, and waits for a key. */
static int poll_note = -1;

static void
hook(int fd, int *calls)
{
    if (fd == hook_fd && ++*calls == hook_call)
        (void)kill(getpid(), hook_sig);
}

ssize_t
read(int fd, void *buf, size_t len)
{
    hook(fd, &reads);
    return syscall(SYS_read, fd, buf, len);
}

int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    struct timespec t; /* the kernel's ppoll writes the time left here */

    hook(hook_fd, &polls);
    if (poll_note >= 0 && write(poll_note, "p", 1) != 1)
        _exit(5);
    if (timeout != NULL)
        t = *timeout;
    return (int)syscall(SYS_ppoll, fds, n, timeout != NULL ? &t : NULL, mask, (_NSIG - 1) / 8);
}

/* A terminal that holds up putting it back, as TCSAFLUSH waiting for output held by XOFF: this
 * program's tcsetattr() fails the fail_sets calls from the fail_from'th on with EINTR, sending
 * fail_sig to the process (when not 0) at the first, and passes every other call on to the C
 * library's. */
static int sets, fail_from, fail_sets, fail_sig;

int
tcsetattr(int fd, int when, const struct termios *t)
{
    int (*real)(int, int, const struct termios *);

    if (++sets >= fail_from && sets < fail_from + fail_sets) {
        if (fail_sig != 0)
            (void)kill(getpid(), fail_sig);
        fail_sig = 0;
        errno = EINTR;
        return -1;
    }
    real = (int (*)(int, int, const struct termios *))dlsym(RTLD_NEXT, "tcsetattr");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return real(fd, when, t);
}

/* A check in a child process (in_child): says which failed, and fails the child. */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                                \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* A pipe holding len bytes of data and then end of input; returns its read end. */
static int
feed(const char *data, size_t len)
{
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], data, len), (ssize_t)len);
    assert_int_equal(close(p[1]), 0);
    return p[0];
}

/* n copies of c followed by tail, in a malloc'd buffer of *len bytes (no NUL counted). */
static char *
line_of(char c, size_t n, const char *tail, size_t *len)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);

    assert_non_null(s);
    memset(s, c, n);
    memcpy(s + n, tail, t + 1);
    *len = n + t;
    return s;
}

/* Reads one line of at most max from data; checks the code, the line (when want is not NULL)
 * and what is left unread in the pipe. */
static void
expect(const char *data, size_t len, size_t max, int code, const char *want, const char *left)
{
    char *out = &sentinel, rest[64];
    int fd = feed(data, len);
    ssize_t n;

    assert_int_equal(sshcert_line_read(fd, max, &out), code);
    if (code == 0) {
        assert_non_null(out);
        assert_string_equal(out, want);
    } else {
        assert_null(out);
    }
    sshcert_secmem_free(out);
    n = read(fd, rest, sizeof(rest) - 1);
    assert_true(n >= 0);
    rest[n] = '\0';
    assert_string_equal(rest, left);
    close(fd);
}

static void
test_at_the_cap(void **state)
{
    size_t len;
    char *want = line_of('p', MAX, "", &len), *s;

    (void)state;
    s = line_of('p', MAX, "\n", &len);
    expect(s, len, MAX, 0, want, "");
    free(s);
    s = line_of('p', MAX - 1, "\n", &len);
    expect(s, len, MAX, 0, want + 1, "");
    free(s);
    s = line_of('p', MAX, "", &len); /* end of input, no newline */
    expect(s, len, MAX, 0, want, "");
    free(s);
    s = line_of('p', MAX, "\r\n", &len); /* CRLF: the '\r' does not count */
    expect(s, len, MAX, 0, want, "");
    free(s);
    s = line_of('p', MAX, "\r", &len); /* a '\r' and then end of input */
    expect(s, len, MAX, 0, want, "");
    free(s);
    free(want);
}

static void
test_over_the_cap(void **state)
{
    size_t len;
    char *s;

    (void)state;
    s = line_of('p', MAX + 1, "\n", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    free(s);
    s = line_of('p', MAX + 1, "", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "");
    free(s);
    s = line_of('p', MAX + 1, "\r\n", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\r\n");
    free(s);
    s = line_of('p', MAX, "\r\r\n", &len); /* only one '\r' is CRLF's */
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    free(s);
    s = line_of('p', MAX, "\rx\n", &len);
    expect(s, len, MAX, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    free(s);
    /* At most max + 1 bytes of a long line are taken; the rest stays for whoever reads next. */
    expect("abcdef\n", 7, 3, SSHCERT_ERR_TOO_LARGE, NULL, "ef\n");
    expect("a\n", 2, 0, SSHCERT_ERR_TOO_LARGE, NULL, "\n");
    expect("\n", 1, 0, 0, "", "");
}

static void
test_empty_and_short(void **state)
{
    (void)state;
    expect("", 0, MAX, SSHCERT_ERR_NOT_FOUND, NULL, "");
    expect("\n", 1, MAX, 0, "", "");
    expect("\r\n", 2, MAX, 0, "", "");
    expect("\r", 1, MAX, 0, "", "");
    expect("pass\rword\n", 10, MAX, 0, "pass\rword", ""); /* a '\r' inside stays */
    expect("pass word \n", 11, MAX, 0, "pass word ", "");
}

/* A NUL byte would cut the secret where its C string ends: the line is refused, read whole
 * (up to max) so that the next line stays next. */
static void
test_nul_refused(void **state)
{
    char *s;
    size_t len;

    (void)state;
    expect("ab\0cd\n", 6, MAX, SSHCERT_ERR_INVALID_FORMAT, NULL, "");
    expect("ab\0cd\n123456\n", 13, MAX, SSHCERT_ERR_INVALID_FORMAT, NULL, "123456\n");
    expect("\0\n", 2, MAX, SSHCERT_ERR_INVALID_FORMAT, NULL, "");
    expect("\0", 1, MAX, SSHCERT_ERR_INVALID_FORMAT, NULL, "");    /* at end of input */
    expect("abc\0\r\n", 6, MAX, SSHCERT_ERR_INVALID_FORMAT, NULL, ""); /* before a CRLF */
    expect("abc\0", 4, 4, SSHCERT_ERR_INVALID_FORMAT, NULL, "");  /* the max-th byte */
    /* Past max the cap is what is said; the rest stays, as for any line too long. */
    expect("abc\0def\n", 8, 4, SSHCERT_ERR_TOO_LARGE, NULL, "ef\n");
    s = line_of('p', MAX + 1, "", &len); /* MAX - 1 bytes, a NUL as the MAX-th, a newline */
    s[MAX - 1] = '\0';
    s[MAX] = '\n';
    expect(s, len, MAX, SSHCERT_ERR_INVALID_FORMAT, NULL, "");
    free(s);
}

/* The TOTP code on the line after the password is still in the pipe after the password was
 * read, and then read by the next call. */
static void
test_leaves_the_next_line(void **state)
{
    static const char data[] = "first\r\n123456\nthird";
    char *out = &sentinel;
    int fd = feed(data, sizeof(data) - 1);

    (void)state;
    expect(data, sizeof(data) - 1, MAX, 0, "first", "123456\nthird");
    assert_int_equal(sshcert_line_read(fd, MAX, &out), 0);
    assert_string_equal(out, "first");
    sshcert_secmem_free(out);
    assert_int_equal(sshcert_line_read(fd, 6, &out), 0);
    assert_string_equal(out, "123456");
    sshcert_secmem_free(out);
    assert_int_equal(sshcert_line_read(fd, MAX, &out), 0);
    assert_string_equal(out, "third");
    sshcert_secmem_free(out);
    out = &sentinel;
    assert_int_equal(sshcert_line_read(fd, MAX, &out), SSHCERT_ERR_NOT_FOUND);
    assert_null(out);
    close(fd);
}

static void
test_read_error(void **state)
{
    char *out = &sentinel;
    int fd;

    (void)state;
    /* read() of a folder fails with EISDIR. */
    assert_true((fd = open(".", O_RDONLY | O_DIRECTORY)) >= 0);
    errno = 0;
    assert_int_equal(sshcert_line_read(fd, MAX, &out), SSHCERT_ERR_SYSTEM);
    assert_int_equal(errno, EISDIR);
    assert_null(out);
    close(fd);
    out = &sentinel;
    assert_int_equal(sshcert_line_read(-1, MAX, &out), SSHCERT_ERR_SYSTEM);
    assert_int_equal(errno, EBADF);
    assert_null(out);
}

static void
test_cap_of_the_cap(void **state)
{
    char *out = &sentinel;

    (void)state;
    expect("x\n", 2, SSHCERT_LINE_MAX, 0, "x", "");
    assert_int_equal(sshcert_line_read(0, SSHCERT_LINE_MAX + 1, &out),
        SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(out);
    out = &sentinel;
    assert_int_equal(sshcert_line_read(0, SIZE_MAX, &out), SSHCERT_ERR_INVALID_ARGUMENT);
    assert_null(out);
}

static int stop_at, waits;

static int
count_waits(int fd)
{
    (void)fd;
    if (++waits == stop_at) {
        errno = EINTR;
        return -1;
    }
    return 0;
}

/* The step the terminal prompt waits in comes before every byte read, and when it fails the
 * line ends there: SSHCERT_ERR_SYSTEM with its errno, nothing returned, nothing more read. */
static void
test_read_waiting(void **state)
{
    char *out = &sentinel, rest[16];
    int fd = feed("abcdef\n", 7);
    ssize_t n;

    (void)state;
    waits = 0;
    stop_at = 3;
    errno = 0;
    assert_int_equal(sshcert_line_read_waiting(fd, MAX, &out, count_waits), SSHCERT_ERR_SYSTEM);
    assert_int_equal(errno, EINTR);
    assert_null(out);
    assert_int_equal(waits, 3);
    n = read(fd, rest, sizeof(rest) - 1);
    assert_true(n >= 0);
    rest[n] = '\0';
    assert_string_equal(rest, "cdef\n");
    close(fd);
    fd = feed("ab\nc", 4);
    waits = 0;
    stop_at = 0;
    assert_int_equal(sshcert_line_read_waiting(fd, MAX, &out, count_waits), 0);
    assert_string_equal(out, "ab");
    assert_int_equal(waits, 3); /* 'a', 'b', '\n' */
    sshcert_secmem_free(out);
    close(fd);
}

/* A new pseudo-terminal: returns its terminal end, the one a prompt reads; *master is the end
 * that types and shows. */
static int
open_pty(int *master)
{
    int m, t;

    assert_true((m = posix_openpt(O_RDWR | O_NOCTTY)) >= 0);
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    assert_true((t = open(ptsname(m), O_RDWR | O_NOCTTY)) >= 0);
    *master = m;
    return t;
}

static int
echo_is_on(int tty)
{
    struct termios t;

    return tcgetattr(tty, &t) == 0 && (t.c_lflag & ECHO) != 0;
}

/* In a child process: waits until tty's echo is off and the prompt waits for a key, then types
 * line into master, or sends sig to pid when line is NULL. The child's pid, for wait_ok. */
static pid_t
when_echo_off(int tty, int master, const char *line, pid_t pid, int sig)
{
    pid_t child = fork();
    ssize_t w;
    int i;

    assert_true(child >= 0);
    if (child == 0) {
        for (i = 0; i < 4000 && echo_is_on(tty); i++)
            usleep(5000);
        usleep(100000);
        if (line != NULL) {
            w = write(master, line, strlen(line));
            _exit(w == (ssize_t)strlen(line) ? 0 : 1);
        }
        _exit(kill(pid, sig) == 0 ? 0 : 1);
    }
    return child;
}

static void
wait_ok(pid_t child)
{
    int st;

    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* What the terminal showed so far, as a string. */
static void
shown(int master, char *buf, size_t len)
{
    struct pollfd p = {.fd = master, .events = POLLIN};
    size_t n = 0;
    ssize_t got;

    while (n < len - 1 && poll(&p, 1, 100) == 1 && (got = read(master, buf + n, len - 1 - n)) > 0)
        n += (size_t)got;
    buf[n] = '\0';
}

static void
test_prompt_echo_off(void **state)
{
    char *out = &sentinel, screen[256];
    int m, t = open_pty(&m);
    pid_t typist = when_echo_off(t, m, "pass word\n", 0, 0);

    (void)state;
    assert_int_equal(sshcert_line_prompt_tty(t, t, "Password: ", 0, MAX, &out), 0);
    wait_ok(typist);
    assert_string_equal(out, "pass word");
    sshcert_secmem_free(out);
    assert_true(echo_is_on(t));
    /* The prompt, then the newline the typing did not show; never the password. */
    shown(m, screen, sizeof(screen));
    assert_string_equal(screen, "Password: \r\n");
    close(t);
    close(m);
}

static void
test_prompt_echo_on(void **state)
{
    char *out = &sentinel, screen[256];
    int m, t = open_pty(&m);

    (void)state;
    /* With echo on nothing is flushed: what was typed before the prompt is the answer. */
    assert_int_equal(write(m, "123 456\n", 8), 8);
    assert_int_equal(sshcert_line_prompt_tty(t, t, "TOTP code: ", 1, 32, &out), 0);
    assert_string_equal(out, "123 456");
    sshcert_secmem_free(out);
    assert_true(echo_is_on(t));
    /* The prompt and the echo of what was typed, in an order the pty's own work decides; no
     * newline of the prompt's. */
    shown(m, screen, sizeof(screen));
    assert_non_null(strstr(screen, "TOTP code: "));
    assert_non_null(strstr(screen, "123 456\r\n"));
    assert_int_equal(strlen(screen), strlen("TOTP code: 123 456\r\n"));
    /* Ctrl-D on an empty line: end of input, as sshcert_line_read says it. */
    out = &sentinel;
    assert_int_equal(write(m, "\004", 1), 1);
    assert_int_equal(sshcert_line_prompt_tty(t, t, "TOTP code: ", 1, 32, &out),
        SSHCERT_ERR_NOT_FOUND);
    assert_null(out);
    close(t);
    close(m);
}

/* Where echo cannot be turned off (here not a terminal at all), no secret is asked for or read:
 * the prompt is not written and the line stays where it was. */
static void
test_prompt_no_terminal(void **state)
{
    char *out = &sentinel, rest[64];
    int in = feed("secret\n", 7), shown_fd[2];
    ssize_t n;

    (void)state;
    assert_int_equal(pipe(shown_fd), 0);
    assert_int_equal(sshcert_line_prompt_tty(in, shown_fd[1], "Password: ", 0, MAX, &out),
        SSHCERT_ERR_UNSUPPORTED);
    assert_null(out);
    close(shown_fd[1]);
    assert_int_equal(read(shown_fd[0], rest, sizeof(rest)), 0);
    n = read(in, rest, sizeof(rest) - 1);
    assert_int_equal(n, 7);
    rest[n] = '\0';
    assert_string_equal(rest, "secret\n");
    close(shown_fd[0]);
    close(in);
}

static volatile sig_atomic_t terms;

static void
count_term(int sig)
{
    (void)sig;
    terms++;
}

/* SIGTERM to count_term, with the count at 0: 0, or -1 if sigaction failed. */
static int
catch_term(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = count_term;
    sigemptyset(&sa.sa_mask);
    terms = 0;
    return sigaction(SIGTERM, &sa, NULL);
}

/* A signal the caller handles: the read ends, the terminal is back, the caller's handler runs
 * once (raised again after the terminal was put back) and is in place again afterwards. */
static void
test_prompt_signal_handled(void **state)
{
    struct sigaction now;
    char *out = &sentinel;
    int m, t = open_pty(&m);
    pid_t sender;

    (void)state;
    assert_int_equal(catch_term(), 0);
    sender = when_echo_off(t, m, NULL, getpid(), SIGTERM);
    assert_int_equal(sshcert_line_prompt_tty(t, t, "Password: ", 0, MAX, &out),
        SSHCERT_ERR_SYSTEM);
    wait_ok(sender);
    assert_null(out);
    assert_int_equal(terms, 1);
    assert_true(echo_is_on(t));
    assert_int_equal(sigaction(SIGTERM, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, count_term);
    now.sa_handler = SIG_DFL;
    assert_int_equal(sigaction(SIGTERM, &now, NULL), 0);
    close(t);
    close(m);
}

/* Runs body(tty) in a child process and checks that it returned 0. A prompt that waits for a
 * key where it should not would leave the child hanging: SIGALRM, left at its default, ends it
 * after 5 s instead, and the test fails. */
static void
in_child(int (*body)(int tty), int tty)
{
    pid_t child = fork();
    int st;

    assert_true(child >= 0);
    if (child == 0) {
        alarm(5);
        _exit(body(tty));
    }
    assert_int_equal(waitpid(child, &st, 0), child);
    if (WIFSIGNALED(st))
        fail_msg("the child died of signal %d (%d, SIGALRM: the prompt waited for a key)",
            WTERMSIG(st), SIGALRM);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* in_child on a new pseudo-terminal. */
static void
in_child_on_new_pty(int (*body)(int tty))
{
    int m, t = open_pty(&m);

    in_child(body, t);
    close(t);
    close(m);
}

/* SIGTERM, handled by the caller, sent just as the prompt is about to wait for its call'th byte
 * (hook): the prompt ends at once, without waiting for that key; the caller's handler runs once
 * and is in place again, the terminal's echo is back, and the bytes before were read. */
static int
signal_before_wait(int tty, int call, int echo)
{
    struct sigaction now;
    char *out = &sentinel;
    int r;

    CHECK(catch_term() == 0);
    reads = polls = 0;
    hook_fd = tty;
    hook_call = call;
    hook_sig = SIGTERM;
    errno = 0;
    r = sshcert_line_prompt_tty(tty, tty, "Password: ", echo, MAX, &out);
    CHECK(r == SSHCERT_ERR_SYSTEM);
    CHECK(errno == EINTR);
    CHECK(out == NULL);
    CHECK(terms == 1);
    CHECK(reads == call - 1);
    CHECK(echo_is_on(tty));
    CHECK(sigaction(SIGTERM, NULL, &now) == 0);
    CHECK(now.sa_handler == count_term);
    return 0;
}

/* Before the first byte, with echo off and nothing typed. */
static int
signal_before_first(int tty)
{
    return signal_before_wait(tty, 1, 0);
}

/* Between two bytes: a terminal left in non-canonical mode hands over each byte as typed, and
 * "ab" was typed; the signal comes before the wait for the third. */
static int
signal_between_bytes(int tty)
{
    return signal_before_wait(tty, 3, 1);
}

static void
test_prompt_signal_before_wait(void **state)
{
    struct termios raw;
    int m, t = open_pty(&m);

    (void)state;
    in_child(signal_before_first, t);
    assert_int_equal(tcgetattr(t, &raw), 0);
    raw.c_lflag &= ~(tcflag_t)ICANON;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    assert_int_equal(tcsetattr(t, TCSANOW, &raw), 0);
    assert_int_equal(write(m, "ab", 2), 2);
    in_child(signal_between_bytes, t);
    close(t);
    close(m);
}

/* SIGTERM blocked by the caller and pending before the prompt starts: the prompt takes it while
 * it waits for a key, so it does not wait; its raise leaves SIGTERM pending for the caller,
 * whose mask is back, and the caller's handler runs once, when the caller unblocks it. */
static int
pending_when_asked(int tty)
{
    sigset_t term, set;
    char *out = &sentinel;
    int r;

    CHECK(catch_term() == 0);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    CHECK(sigprocmask(SIG_BLOCK, &term, NULL) == 0);
    CHECK(raise(SIGTERM) == 0);
    errno = 0;
    r = sshcert_line_prompt_tty(tty, tty, "Password: ", 0, MAX, &out);
    CHECK(r == SSHCERT_ERR_SYSTEM);
    CHECK(errno == EINTR);
    CHECK(out == NULL);
    CHECK(echo_is_on(tty));
    CHECK(terms == 0);
    CHECK(sigprocmask(SIG_SETMASK, NULL, &set) == 0);
    CHECK(sigismember(&set, SIGTERM) == 1);
    CHECK(sigpending(&set) == 0);
    CHECK(sigismember(&set, SIGTERM) == 1);
    CHECK(sigprocmask(SIG_UNBLOCK, &term, NULL) == 0);
    CHECK(terms == 1);
    CHECK(sigpending(&set) == 0);
    CHECK(sigismember(&set, SIGTERM) == 0);
    return 0;
}

static void
test_prompt_signal_blocked(void **state)
{
    (void)state;
    in_child_on_new_pty(pending_when_asked);
}

/* The child leads a session whose controlling terminal is tty, and asks from a background
 * process group of it: no wait for a key there, the read stops the asker with SIGTTIN as a
 * read() would, and once continued it returns SSHCERT_ERR_SYSTEM. */
static int
stopped_in_background(int tty)
{
    char *out = &sentinel;
    pid_t asker;
    int st, r;

    CHECK(setsid() > 0);
    CHECK(ioctl(tty, TIOCSCTTY, 0) == 0);
    CHECK((asker = fork()) >= 0);
    if (asker == 0) {
        alarm(4); /* the guard, as in_child's: an alarm does not pass to a child */
        if (setpgid(0, 0) != 0)
            _exit(2);
        errno = 0;
        r = sshcert_line_prompt_tty(tty, tty, "TOTP code: ", 1, 32, &out);
        _exit(r == SSHCERT_ERR_SYSTEM && errno == EINTR && out == NULL ? 0 : 1);
    }
    CHECK(waitpid(asker, &st, WUNTRACED) == asker);
    CHECK(WIFSTOPPED(st));
    CHECK(WSTOPSIG(st) == SIGTTIN);
    CHECK(kill(asker, SIGCONT) == 0);
    CHECK(waitpid(asker, &st, 0) == asker);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    return 0;
}

static void
test_prompt_background(void **state)
{
    (void)state;
    in_child_on_new_pty(stopped_in_background);
}

/* A signal left at its default: the process dies of it, with the terminal's echo back on. */
static void
test_prompt_signal_ends(void **state)
{
    char *out = NULL;
    int m, t = open_pty(&m), st, i;
    pid_t asker;

    (void)state;
    assert_true((asker = fork()) >= 0);
    if (asker == 0) {
        (void)sshcert_line_prompt_tty(t, t, "Password: ", 0, MAX, &out);
        _exit(3); /* not reached: SIGINT ends it */
    }
    for (i = 0; i < 4000 && echo_is_on(t); i++)
        usleep(5000);
    assert_false(echo_is_on(t));
    usleep(100000);
    assert_int_equal(kill(asker, SIGINT), 0);
    assert_int_equal(waitpid(asker, &st, 0), asker);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGINT);
    assert_true(echo_is_on(t));
    close(t);
    close(m);
}

/* The line's end drawn by SIGTERM (handled by the caller) at the first wait for a key; then
 * putting the terminal back (tcsetattr's second call here, after echo_off's) is interrupted
 * fails times, the first time by SIGTERM again. The prompt tries again without waiting for the
 * output (once) and then under the caller's dispositions (three times at most): tries calls of
 * tcsetattr in all, echo back on as echo says, and the caller's handler runs once. */
static int
put_back_interrupted(int tty, int fails, int tries, int echo)
{
    char *out = &sentinel;
    int r;

    CHECK(catch_term() == 0);
    reads = polls = 0;
    hook_fd = tty;
    hook_call = 1;
    hook_sig = SIGTERM;
    sets = 0;
    fail_from = 2;
    fail_sets = fails;
    fail_sig = SIGTERM;
    errno = 0;
    r = sshcert_line_prompt_tty(tty, tty, "Password: ", 0, MAX, &out);
    CHECK(r == SSHCERT_ERR_SYSTEM);
    CHECK(errno == EINTR);
    CHECK(out == NULL);
    CHECK(terms == 1);
    CHECK(sets == tries);
    CHECK(echo_is_on(tty) == echo);
    return 0;
}

/* Interrupted once: tried again at once, TCSANOW. */
static int
put_back_interrupted_once(int tty)
{
    return put_back_interrupted(tty, 1, 3, 1);
}

/* Interrupted twice: the third try, under the caller's dispositions, puts it back. */
static int
put_back_interrupted_twice(int tty)
{
    return put_back_interrupted(tty, 2, 4, 1);
}

/* Interrupted every time: the prompt still returns, after 1 + 1 + 3 tries, echo off. */
static int
put_back_interrupted_always(int tty)
{
    return put_back_interrupted(tty, 1000, 6, 0);
}

static void
test_prompt_put_back_interrupted(void **state)
{
    (void)state;
    in_child_on_new_pty(put_back_interrupted_once);
    in_child_on_new_pty(put_back_interrupted_twice);
    in_child_on_new_pty(put_back_interrupted_always);
}

/* The asker of foreground_taken: its own process group, the terminal's foreground (SIGTTOU
 * blocked for tcsetpgrp, as a shell's child does), then the prompt, with SIGTERM handled by
 * count_term or left at its default; ppoll() tells note when it waits. */
static int
ask_in_foreground(int tty, int note, int handle_term)
{
    sigset_t ttou;
    char *out = &sentinel;
    int r;

    hook_fd = -1;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    CHECK(setpgid(0, 0) == 0);
    CHECK(sigprocmask(SIG_BLOCK, &ttou, NULL) == 0);
    CHECK(tcsetpgrp(tty, getpid()) == 0);
    CHECK(sigprocmask(SIG_UNBLOCK, &ttou, NULL) == 0);
    if (handle_term)
        CHECK(catch_term() == 0);
    poll_note = note;
    errno = 0;
    r = sshcert_line_prompt_tty(tty, tty, "Password: ", 0, MAX, &out);
    poll_note = -1;
    CHECK(r == SSHCERT_ERR_SYSTEM);
    CHECK(errno == EINTR);
    CHECK(out == NULL);
    CHECK(terms == 1);
    CHECK(echo_is_on(tty));
    return 0;
}

/*
 * The child leads a session whose controlling terminal is tty; the asker waits at the prompt in
 * the foreground, with echo off. The child takes the foreground back (job control) and sends the
 * asker SIGTERM: putting the terminal back from the background draws SIGTTOU, and the asker
 * stops then, with echo still off, rather than end with it off or return with it off. Given
 * the foreground and continued, it puts echo back on, and then SIGTERM acts: count_term runs
 * once and the prompt returns, or, left at its default, it ends the asker.
 */
static int
foreground_taken(int tty, int handle_term)
{
    sigset_t ttou;
    int note[2], st;
    pid_t asker;
    char c;

    CHECK(setsid() > 0);
    CHECK(ioctl(tty, TIOCSCTTY, 0) == 0);
    CHECK(pipe(note) == 0);
    CHECK((asker = fork()) >= 0);
    if (asker == 0) {
        alarm(4); /* the guard, as in_child's: an alarm does not pass to a child */
        (void)close(note[0]);
        _exit(ask_in_foreground(tty, note[1], handle_term));
    }
    CHECK(close(note[1]) == 0);
    CHECK(read(note[0], &c, 1) == 1); /* the asker waits for a key */
    CHECK(!echo_is_on(tty));
    /* From the background, tcsetpgrp would stop this process with SIGTTOU. */
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    CHECK(sigprocmask(SIG_BLOCK, &ttou, NULL) == 0);
    CHECK(tcsetpgrp(tty, getpgrp()) == 0);
    CHECK(kill(asker, SIGTERM) == 0);
    CHECK(waitpid(asker, &st, WUNTRACED) == asker);
    CHECK(WIFSTOPPED(st));
    CHECK(WSTOPSIG(st) == SIGTTOU);
    CHECK(!echo_is_on(tty));
    CHECK(tcsetpgrp(tty, asker) == 0);
    CHECK(kill(asker, SIGCONT) == 0);
    CHECK(waitpid(asker, &st, 0) == asker);
    if (handle_term) {
        CHECK(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 0);
    } else {
        CHECK(WIFSIGNALED(st));
        CHECK(WTERMSIG(st) == SIGTERM);
    }
    CHECK(echo_is_on(tty));
    return 0;
}

static int
foreground_taken_term_handled(int tty)
{
    return foreground_taken(tty, 1);
}

static int
foreground_taken_term_default(int tty)
{
    return foreground_taken(tty, 0);
}

static void
test_prompt_foreground_taken(void **state)
{
    (void)state;
    in_child_on_new_pty(foreground_taken_term_handled);
    in_child_on_new_pty(foreground_taken_term_default);
}

static int
setup(void **state)
{
    (void)state;
    return sshcert_secmem_init();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_the_cap),
        cmocka_unit_test(test_over_the_cap),
        cmocka_unit_test(test_empty_and_short),
        cmocka_unit_test(test_nul_refused),
        cmocka_unit_test(test_leaves_the_next_line),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_cap_of_the_cap),
        cmocka_unit_test(test_read_waiting),
        cmocka_unit_test(test_prompt_echo_off),
        cmocka_unit_test(test_prompt_echo_on),
        cmocka_unit_test(test_prompt_no_terminal),
        cmocka_unit_test(test_prompt_signal_handled),
        cmocka_unit_test(test_prompt_signal_ends),
        cmocka_unit_test(test_prompt_signal_before_wait),
        cmocka_unit_test(test_prompt_signal_blocked),
        cmocka_unit_test(test_prompt_background),
        cmocka_unit_test(test_prompt_put_back_interrupted),
        cmocka_unit_test(test_prompt_foreground_taken),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
