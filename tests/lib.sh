# Shared helpers for sshcert's script tests. Source it: . "$SSHCERT_SRC_DIR/tests/lib.sh"
# Every test runs in its own temp dir, stops only the processes it started (by PID), and
# asserts exact outcomes. A failed assertion prints what was expected and exits 1.
set -u

: "${SSHCERT_BUILD_DIR:?set SSHCERT_BUILD_DIR}"
: "${SSHCERT_SRC_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TT="$SSHCERT_BUILD_DIR/tests/sshcert-testtool"
ADMIN="$SSHCERT_BUILD_DIR/ca-server/sshcert-admin"
SERVER="$SSHCERT_BUILD_DIR/ca-server/sshcert-server"
CLIENT="$SSHCERT_BUILD_DIR/ca-client/sshcert"
T_PASS=0
T_FAIL=0
T_PIDS=()
T_USERS=()
T_CLEANUPS=()

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sshcert-test.XXXXXX")
chmod 0755 "$T_DIR"

t_cleanup() {
  local p u c
  for c in "${T_CLEANUPS[@]+"${T_CLEANUPS[@]}"}"; do eval "$c" || true; done
  for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  for u in "${T_USERS[@]+"${T_USERS[@]}"}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      userdel -r "$u" >/dev/null 2>&1 && break
      id "$u" >/dev/null 2>&1 || break
      sleep 0.3
    done
  done
  if [ "${T_KEEP:-0}" = 1 ]; then echo "kept $T_DIR"; else rm -rf "$T_DIR"; fi
}
trap t_cleanup EXIT

t_log() { printf '# %s\n' "$*"; }
t_ok() { T_PASS=$((T_PASS + 1)); printf 'ok - %s\n' "$1"; }
t_bad() { T_FAIL=$((T_FAIL + 1)); printf 'FAIL - %s\n' "$1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; }

# A command the test calls but nobody defined (a helper of another file, a typo) would make
# its assertion vanish with a line on stderr; it is counted as a failure instead. Bash runs this
# handler in a subshell, so it leaves a mark in a file that t_done reads.
command_not_found_handle() {
  printf 'FAIL - command not found: %s\n' "$1"
  printf '%s\n' "$1" >>"$T_DIR/.not-found"
  return 127
}
# t_has DESC STRING TEXT: TEXT contains STRING (fixed, not a regex).
t_has() {
  case "$3" in
  *"$2"*) t_ok "$1" ;;
  *) t_bad "$1" "expected \"$2\" in:" "$3" ;;
  esac
}
# t_plain_only TOOL BINARY WHY: for a test CI runs in the plain build. Fails when TOOL is not
# installed; passes at once, saying so, when BINARY is built with AddressSanitizer (WHY: why the
# test cannot run there).
t_plain_only() {
  if ! command -v "$1" >/dev/null; then
    echo "FAIL - $1 is not installed (tests/deps.sh installs it)"
    exit 1
  fi
  if grep -q __asan_init "$2" 2>/dev/null; then
    echo "ok - # SKIP $2 is built with AddressSanitizer, $3"
    exit 0
  fi
}
# t_eq DESC EXPECTED ACTUAL
t_eq() {
  if [ "$2" = "$3" ]; then t_ok "$1"; else t_bad "$1" "expected: $2" "actual:   $3"; fi
}
# t_match DESC REGEX TEXT  (grep -E)
t_match() {
  if printf '%s\n' "$3" | grep -Eq -- "$2"; then t_ok "$1"; else t_bad "$1" "expected /$2/ in:" "$3"; fi
}
t_nomatch() {
  if printf '%s\n' "$3" | grep -Eq -- "$2"; then t_bad "$1" "unexpected /$2/ in:" "$3"; else t_ok "$1"; fi
}
# t_rc DESC EXPECTED_RC CMD...   runs CMD, stores stdout in T_OUT and stderr in T_ERR
t_rc() {
  local desc=$1 want=$2 rc
  shift 2
  "$@" >"$T_DIR/.out" 2>"$T_DIR/.err" </dev/null
  rc=$?
  T_OUT=$(cat "$T_DIR/.out")
  T_ERR=$(cat "$T_DIR/.err")
  if [ "$rc" = "$want" ]; then t_ok "$desc"; else t_bad "$desc" "exit $rc, expected $want" "stdout: $T_OUT" "stderr: $T_ERR"; fi
}
# Ends the test: prints the summary line ctest and the CI read, exits non-zero on failure.
t_done() {
  [ -e "$T_DIR/.not-found" ] && T_FAIL=$((T_FAIL + $(wc -l <"$T_DIR/.not-found")))
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" = 0 ]
  exit $?
}

# A free TCP port on 127.0.0.1 (bind races are retried by the callers that start servers).
t_free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# t_wait_file_match FILE REGEX [SECONDS]: polls until FILE has a line matching REGEX.
t_wait_file_match() {
  local f=$1 re=$2 secs=${3:-10} i=0
  while [ $i -lt $((secs * 20)) ]; do
    grep -Eq -- "$re" "$f" 2>/dev/null && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# t_user NAME: creates a login user for sshd (password '*', not locked) unless it exists;
# removed at exit only if we created it.
t_user() {
  local try
  id "$1" >/dev/null 2>&1 && return 0
  # Tests run in parallel: another useradd/userdel may hold /etc/passwd's lock for a moment.
  for try in 1 2 3 4 5 6 7 8 9 10; do
    if useradd --create-home --shell /bin/sh --password '*' "$1" 2>"$T_DIR/.useradd"; then
      T_USERS+=("$1")
      return 0
    fi
    sleep 0.3
  done
  cat "$T_DIR/.useradd"
  return 1
}

# t_sshd NAME CA_PUB [KRL] [EXTRA_CONFIG_LINES]: starts a throwaway sshd on loopback.
# Sets SSHD_PORT_<NAME>, SSHD_LOG_<NAME>, SSHD_PID_<NAME>.
t_sshd() {
  local name=$1 ca=$2 krl=${3:-} extra=${4:-} d port log try
  d="$T_DIR/sshd-$name"
  mkdir -p "$d"
  install -d -m 0755 /run/sshd
  [ -f "$d/host" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/host"
  for try in 1 2 3 4 5; do
    port=$(t_free_port)
    log="$d/log"
    : >"$log"
    {
      echo "Port $port"
      echo "ListenAddress 127.0.0.1"
      echo "HostKey $d/host"
      echo "PidFile $d/pid"
      echo "TrustedUserCAKeys $ca"
      [ -n "$krl" ] && echo "RevokedKeys $krl"
      echo "AuthorizedKeysFile none"
      echo "PasswordAuthentication no"
      echo "KbdInteractiveAuthentication no"
      echo "PermitRootLogin no"
      echo "UsePAM no"
      echo "LogLevel VERBOSE"
      [ -n "$extra" ] && printf '%s\n' "$extra"
    } >"$d/config"
    /usr/sbin/sshd -D -f "$d/config" -E "$log" 2>"$d/stderr" &
    local pid=$!
    T_PIDS+=("$pid")
    if t_wait_file_match "$log" "Server listening on 127.0.0.1 port $port" 10; then
      eval "SSHD_PORT_$name=$port SSHD_LOG_$name=$log SSHD_PID_$name=$pid"
      return 0
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  echo "sshd $name did not start:"; cat "$d/stderr" "$log"
  return 1
}

# t_ssh PORT USER KEY CERT [COMMAND]: one non-interactive login; returns ssh's exit code.
t_ssh() {
  local port=$1 user=$2 key=$3 cert=$4 cmd=${5:-true}
  ssh -n -F /dev/null -p "$port" -i "$key" -o CertificateFile="$cert" -o IdentitiesOnly=yes \
    -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
    "$user@127.0.0.1" "$cmd"
}
