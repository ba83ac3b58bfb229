#!/bin/bash
# sshcert-admin's password input, which reads through lib/line.c's sshcert_line_read (never
# stdio): on a terminal (a pty) it asks twice on stderr with echo off and restores echo on every
# path; from a pipe it takes the first line. Exact exit codes and messages at each outcome.
. "$SSHCERT_SRC_DIR/tests/lib.sh"

cd "$T_DIR" || exit 1
echo '{"data_dir": "data", "auth": {"password_hash": "min"}}' >cfg.json
"$ADMIN" -c cfg.json init >/dev/null 2>&1 || { t_bad "init failed"; t_done; }
echo first-password | "$ADMIN" -c cfg.json user add alice --principals alice >/dev/null 2>&1 \
  || { t_bad "user add failed"; t_done; }

# tty_admin ANSWER...: runs `user passwd alice` on a pty and types each ANSWER (EOF: Ctrl-D)
# after a prompt, once the terminal's echo is off. Prints "rc N", "prompts P1|P2",
# "echo_off_while_reading 1", "echo_restored 1", "echoed 0" (no answer in the transcript),
# then the last line the admin wrote.
tty_admin() {
  python3 - "$ADMIN" "$@" <<'PY'
import os, pty, select, subprocess, sys, termios, time

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
    os.write(m, b"\x04" if a == "EOF" else a.encode() + b"\n")
rc = None
end = time.time() + 60
while rc is None and time.time() < end:
    read_until(lambda: False, 0.1)
    rc = p.poll()
read_until(lambda: False, 0.2)
text = out.decode(errors="replace").replace("\r", "")
print("rc", rc)
print("prompts", "|".join(prompts))
print("echo_off_while_reading", echo_off)
print("echo_restored", int(echo_on()))
print("echoed", int(any(a != "EOF" and a in text for a in answers)))
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
