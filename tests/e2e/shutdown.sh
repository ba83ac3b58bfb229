#!/bin/bash
# sshcert-server end to end: SIGTERM while a login is still running on a hash thread and cannot
# finish, because the disk does not answer its durable write. strace holds the server's
# fdatasync (fault injection, delay_enter) much longer than the server's shutdown waits
# (SHUTDOWN_GRACE_S 10 s for in-flight requests, then SHUTDOWN_HASHQ_MS 10 s for logins on
# hash threads). The server must then leave at once, exit 1, without answering that login.
# Until the twelfth session of issue 8 it logged "stopping anyway" and stopped libmicrohttpd,
# which aborts the process ("MHD_stop_daemon() called while we have suspended connections",
# exit 134); had it not, the thread would have come back from the write
# into a freed connection and a freed CA and store.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/server_common.sh"

if ! command -v strace >/dev/null; then
  t_bad "strace is installed (tests/deps.sh installs it)"
  t_done
fi
# The server makes itself non-dumpable, so only root (CAP_SYS_PTRACE) may attach to it.
if [ "$(id -u)" != 0 ]; then
  echo "skipped: attaching strace to the server needs root"
  t_done
fi
# Longer than both shutdown waits together (20 s), so that the held flush is still held when
# the server decides. A process cannot end while one of its threads is held in a system call
# (as it cannot while one waits in the kernel on a disk that hangs), so the server's exit is
# only reaped when the hold ends; what tells is whether the held call ever returned.
HOLD_S=30

srv_start hold '"auth":{"password_hash":"interactive","hash_workers":1},"threads":1' || exit 1
srv_user hal hal || exit 1
DB="$SRV_DATA/sshcert.db"
K="$T_DIR/key"
ssh-keygen -q -t ed25519 -N '' -f "$K"
PUB=$(cat "$K.pub")

strace -f -qq -o "$T_DIR/strace.out" -e trace=fdatasync \
  -e inject=fdatasync:delay_enter=${HOLD_S}s -p "$SRV_PID" 2>"$T_DIR/strace.err" &
STRACE_PID=$!
T_PIDS+=("$STRACE_PID")
traced=0
for i in $(seq 200); do
  traced=1
  for s in /proc/"$SRV_PID"/task/*/status; do
    grep -q "^TracerPid:[[:space:]]*$STRACE_PID\$" "$s" 2>/dev/null || traced=0
  done
  [ "$traced" = 1 ] && break
  sleep 0.05
done
if [ "$traced" != 1 ]; then
  t_bad "strace holds every thread of the server" "$(cat "$T_DIR/strace.err")"
  t_done
fi
t_ok "strace holds every thread of the server"

curl -s -o "$T_DIR/login.out" -w '%{http_code}' --max-time 90 -H 'Content-Type: application/json' \
  --data-binary "$(json username=hal password="$PASSWORD" totp="$(totp hal)" public_key="$PUB")" \
  "$SRV_URL/v1/certificates" >"$T_DIR/login.code" 2>/dev/null &
LOGIN_PID=$!
# The login's hash done, its write reaches the flush that strace holds.
for i in $(seq 400); do
  grep -q fdatasync "$T_DIR/strace.out" 2>/dev/null && break
  sleep 0.05
done
t_has "the login's durable write is held at its flush" "fdatasync(" "$(cat "$T_DIR/strace.out")"
t_eq "... its hash counted (so it runs on a hash thread)" 1 \
  "$(metric sshcert_password_hash_seconds_count)"

kill -TERM "$SRV_PID"
wait "$SRV_PID"
SRV_RC=$?
t_eq "SIGTERM: the server exits 1, not 0: a login was left unanswered" 1 "$SRV_RC"
t_has "... and says so" \
  "a login still unfinished after 10000 ms (a hash thread or an HTTP thread held up); exiting without answering it" \
  "$(cat "$SRV_LOG")"
# Both waits ran in full first: the grace for requests in flight (the login's connection is
# open throughout) and the wait for hash threads, 20 s from the signal's line to the exit's.
t_eq "... after both shutdown waits (10 s + 10 s)" 1 "$("$PY" -c '
import sys, datetime
t = {}
for line in open(sys.argv[1]):
    for key in ("signal 15: finishing in-flight requests", "a login still unfinished after"):
        if key in line:
            t[key] = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
d = (t["a login still unfinished after"] - t["signal 15: finishing in-flight requests"]).total_seconds()
print(1 if d >= 19.9 else "%.3f s" % d)' "$SRV_LOG" 2>&1)"
t_nomatch "... no sanitizer report" 'AddressSanitizer|runtime error|LeakSanitizer' \
  "$(cat "$SRV_LOG")"
wait "$STRACE_PID"
# "= ?": the call never returned, its thread ended with the process (a process that lived on
# past the hold would show "= 0").
t_match "the held flush never returned into the login" 'fdatasync(\([0-9]+| resumed>)\) += \?$' \
  "$(grep fdatasync "$T_DIR/strace.out")"
wait "$LOGIN_PID"
t_eq "the login got no answer, so no certificate" "000" "$(cat "$T_DIR/login.code")"
t_eq "... nothing in its body" 0 "$(cat "$T_DIR/login.out" 2>/dev/null | wc -c)"
# The write was made before its flush; only the flush was held. It stands, whole: recorded,
# never answered. The audit may show a certificate no client got, never one it lacks.
t_eq "the database is whole after the server left mid-write" ok \
  "$(sqlite3 "$DB" 'pragma integrity_check')"
t_eq "... the login's certificate and its audit line recorded together" "1 1" \
  "$(sqlite3 -separator ' ' "$DB" "select (select count(*) from certificates where username = 'hal'), (select count(*) from audit where username = 'hal' and event = 'cert_issued')")"
t_done
