#!/bin/bash
# sshcert-admin's password input, which reads through lib/line.c's sshcert_line_read (never
# stdio): on a terminal (a pty) it asks twice on stderr with echo off, through the client's
# prompt (lib/line_tty.c), and restores echo on every path, a signal's included; where echo
# cannot be turned off it reads nothing; from a pipe it takes the first line. Exact exit codes
# and messages at each outcome.
. "$SSHCERT_SRC_DIR/tests/lib.sh"

cd "$T_DIR" || exit 1
echo '{"data_dir": "data", "auth": {"password_hash": "min"}}' >cfg.json
"$ADMIN" -c cfg.json init >/dev/null 2>&1 || { t_bad "init failed"; t_done; }
echo first-password | "$ADMIN" -c cfg.json user add alice --principals alice >/dev/null 2>&1 \
  || { t_bad "user add failed"; t_done; }

# tty_admin ANSWER...: runs `user passwd alice` on a pty and types each ANSWER (EOF: Ctrl-D)
# after a prompt, once the terminal's echo is off; an ANSWER SIGINT, SIGTERM... sends that
# signal to the admin instead, while it waits at the prompt. Prints "rc N" (or "signal SIGINT"
# when a signal ended it), "prompts P1|P2", "echo_off_while_reading 1", "echo_restored 1",
# "echoed 0" (no answer in the transcript), then the last line the admin wrote.
tty_admin() {
  python3 - "$ADMIN" "$@" <<'PY'
import os, pty, select, signal, subprocess, sys, termios, time

admin, answers = sys.argv[1], sys.argv[2:]
m, s = pty.openpty()
p = subprocess.Popen([admin, "-c", "cfg.json", "user", "passwd", "alice"], stdin=s, stdout=s,
                     stderr=s, start_new_session=True)
out, prompts, echo_off = b"", [], 1

def echo_on():
    return bool(termios.tcgetattr(s)[3] & termios.ECHO)

def read_until(pred, secs=20):
    global out
    end = time.time() + secs
    while not pred() and time.time() < end:
        if select.select([m], [], [], 0.05)[0]:
            try:
                out += os.read(m, 4096)
            except OSError:
                return

pos = 0
for a in answers:
    read_until(lambda: out.find(b": ", pos) >= 0)
    i = out.find(b": ", pos)
    if i < 0:
        break
    prompts.append(out[out.rfind(b"\n", 0, i) + 1:i + 2].decode().strip())
    pos = i + 2
    # TCSAFLUSH drops what is typed before echo goes off: wait for it, which is the check too.
    end = time.time() + 20
    while echo_on() and time.time() < end:
        time.sleep(0.02)
    echo_off &= int(not echo_on())
    if a.startswith("SIG"):
        time.sleep(0.2)  # waiting in read(), not on its way to it
        os.kill(p.pid, getattr(signal, a))
        break
    os.write(m, b"\x04" if a == "EOF" else a.encode() + b"\n")
rc = None
end = time.time() + 60
while rc is None and time.time() < end:
    read_until(lambda: False, 0.1)
    rc = p.poll()
read_until(lambda: False, 0.2)
text = out.decode(errors="replace").replace("\r", "")
print("rc", rc) if rc is None or rc >= 0 else print("signal", signal.Signals(-rc).name)
print("prompts", "|".join(prompts))
print("echo_off_while_reading", echo_off)
print("echo_restored", int(echo_on()))
print("echoed", int(any(a != "EOF" and not a.startswith("SIG") and a in text for a in answers)))
print([l for l in text.split("\n") if l.strip()][-1])
PY
}
# want DESC EXPECTED_LINES: compares tty_admin's output in $R.
want() { t_eq "$1" "$2" "$R"; }

P1024=$(printf 'q%.0s' $(seq 1024))
R=$(tty_admin second-password second-password)
want "on a terminal: asked twice, echo off, restored; 0" "rc 0
prompts Password:|Password again:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: password of alice changed"
R=$(tty_admin "$P1024" "$P1024")
want "on a terminal: a password of SSHCERT_MAX_PASSWORD (1024) characters" "rc 0
prompts Password:|Password again:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: password of alice changed"
R=$(tty_admin "${P1024}q")
want "on a terminal: 1025 characters refused after the first prompt, echo restored" "rc 1
prompts Password:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: password longer than 1024 characters"
R=$(tty_admin third-password other-password)
want "on a terminal: two different passwords" "rc 1
prompts Password:|Password again:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: passwords do not match"
R=$(tty_admin short)
want "on a terminal: a password of 5 characters" "rc 1
prompts Password:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: password must have at least 8 characters"
R=$(tty_admin EOF)
want "on a terminal: Ctrl-D at the prompt" "rc 1
prompts Password:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: no password given"
R=$(tty_admin fourth-password EOF)
want "on a terminal: Ctrl-D at the second prompt" "rc 1
prompts Password:|Password again:
echo_off_while_reading 1
echo_restored 1
echoed 0
sshcert-admin: passwords do not match"

# A signal at a prompt: the admin puts the terminal back (echo on), then dies of that signal,
# as the shell would report it (130 for SIGINT, 143 for SIGTERM), before anything is written.
hash_of_alice() {
  python3 -c 'import sqlite3
print(sqlite3.connect("data/sshcert.db").execute(
    "select password_hash from users where username = ?", ("alice",)).fetchone()[0])'
}
H0=$(hash_of_alice)
# killed_at_prompt DESC SIGNAL PROMPTS ANSWER...: after the ANSWERs, SIGNAL at the last of
# PROMPTS ends the admin, with echo back on and alice's password as it was.
killed_at_prompt() {
  local desc=$1 sig=$2 prompts=$3
  shift 3
  R=$(tty_admin "$@" "$sig")
  want "$desc" "signal $sig
prompts $prompts
echo_off_while_reading 1
echo_restored 1
echoed 0
${prompts##*|} "
  t_eq "...the password unchanged" "$H0" "$(hash_of_alice)"
}
killed_at_prompt "on a terminal: SIGINT at the prompt ends the admin, echo restored" SIGINT \
  "Password:"
killed_at_prompt "on a terminal: SIGTERM at the second prompt ends the admin, echo restored" \
  SIGTERM "Password:|Password again:" seventh-password
killed_at_prompt "on a terminal: SIGHUP at the prompt ends the admin, echo restored" SIGHUP \
  "Password:"

# Echo that cannot be turned off: a process of an orphaned background process group reads its
# controlling terminal's settings, but tcsetattr fails there (EIO). The admin refuses before
# the prompt: nothing read, nothing changed, the terminal as it was.
# bg_admin: runs `user passwd alice` so, on a pty; prints "echo_on 1", "rc N" and all the admin
# wrote.
bg_admin() {
  python3 - "$ADMIN" <<'PY'
import ctypes, fcntl, os, pty, select, sys, termios, time

admin = sys.argv[1]
# The admin's parent leaves, orphaning its group; the admin is then this script's child.
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
m, s = pty.openpty()
go_r, go_w = os.pipe()
leader = os.fork()
if leader == 0:
    # The session leader: the pty becomes its controlling terminal, its group the foreground.
    os.close(go_w)
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    group = os.fork()
    if group == 0:
        os.setpgid(0, 0)  # a group of its own, in the terminal's background
        me = os.getpid()
        if os.fork() == 0:
            while os.getppid() == me:  # until the group is orphaned
                time.sleep(0.01)
            for fd in (0, 1, 2):
                os.dup2(s, fd)
            os.execv(admin, [admin, "-c", "cfg.json", "user", "passwd", "alice"])
        os._exit(0)
    os.waitpid(group, 0)
    os.read(go_r, 1)  # stays until the admin is done: its leaving would hang up the pty
    os._exit(0)
os.close(go_r)
out, st = b"", None
end = time.time() + 60
while st is None and time.time() < end:
    if select.select([m], [], [], 0.05)[0]:
        out += os.read(m, 4096)
    pid, status = os.waitpid(-1, os.WNOHANG)
    if pid not in (0, leader):
        st = status
while select.select([m], [], [], 0.1)[0]:
    out += os.read(m, 4096)
print("echo_on", int(bool(termios.tcgetattr(s)[3] & termios.ECHO)))
os.write(go_w, b"x")
os.waitpid(leader, 0)
print("rc", None if st is None else os.waitstatus_to_exitcode(st))
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
PY
}
R=$(bg_admin)
want "echo cannot be turned off: refused before the prompt, echo still on" "echo_on 1
rc 1
sshcert-admin: cannot turn off echo on the terminal: password not read"
t_eq "...the password unchanged" "$H0" "$(hash_of_alice)"

# From a pipe: the first line only, no prompt; the boundary cases are in admin_sign.sh.
t_rc "from a pipe: empty stdin" 1 sh -c '"$1" -c cfg.json user passwd alice </dev/null' - "$ADMIN"
t_eq "...saying so" "sshcert-admin: no password given" "$T_ERR"
t_rc "from a pipe: an empty line" 1 sh -c 'echo | "$1" -c cfg.json user passwd alice' - "$ADMIN"
t_eq "...saying so" "sshcert-admin: password must have at least 8 characters" "$T_ERR"
t_rc "from a pipe: the first of two lines" 0 sh -c 'printf "fifth-password\r\nignored\n" | "$1" -c cfg.json user passwd alice' - "$ADMIN"
t_eq "...no prompt on a pipe" "sshcert-admin: password of alice changed" "$T_ERR"
t_eq "the stored hash is of the first line, without the CR" 1 "$(python3 -c '
import sqlite3
from ctypes import CDLL, c_char_p, c_ulonglong
s = CDLL("libsodium.so.23"); s.sodium_init()
h = sqlite3.connect("data/sshcert.db").execute("select password_hash from users where username = ?", ("alice",)).fetchone()[0]
pw = b"fifth-password"
print(1 if s.crypto_pwhash_str_verify(c_char_p(h.encode()), c_char_p(pw), c_ulonglong(len(pw))) == 0 else 0)
')"
# Read a byte at a time, not through stdio: what follows the password line stays in the pipe
# for the next reader (stdio's fgets took the whole pipe buffer, password and all, into memory
# it never wiped).
t_rc "from a pipe: the line after the password stays unread" 0 sh -c 'printf "sixth-password\nnext line\n" | { "$1" -c cfg.json user passwd alice 2>/dev/null; cat; }' - "$ADMIN"
t_eq "...for the next reader" "next line" "$T_OUT"
t_done
