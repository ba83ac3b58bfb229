#!/bin/bash
# sshcert, the user's client, end to end: a real sshcert-server on loopback (plain http and
# TLS), a real ssh-agent, a throwaway sshd trusting the CA, oathtool for the codes. Covers the
# files and their modes, ssh through the agent alone and through the files, one sshcert identity
# after repeated logins, the agent dropping an expired identity by itself, every exit code,
# `ca --fingerprint`, logout, --password-stdin, --json, the config file, a refusing agent, the
# response cap and the no-echo password prompt. Also what must fail closed: `status` on a broken
# key dir or certificate file (6, not "not logged in"), `ca` over plain http to a host that is
# not loopback without --fingerprint, and `login` into a key dir someone else could read or swap.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

cd "$T_DIR" || exit 1
for tool in oathtool openssl python3 setsid ssh-agent; do
  command -v "$tool" >/dev/null || { echo "client.sh needs $tool"; exit 1; }
done
unset SSHCERT_SERVER SSHCERT_USER XDG_CONFIG_HOME SSH_AUTH_SOCK
export HOME="$T_DIR/home"
mkdir -p "$HOME"
KD="$HOME/.ssh/sshcert"
LUSER=sshcertcli # the login user on the throwaway sshd, and everyone's principal
PW=password123
declare -A SECRET LAST

# --- a CA server ------------------------------------------------------------------------------
CFG="$T_DIR/ca/cfg.json"
mkdir -p "$T_DIR/ca"
# start_server CFG_FILE JSON_WITH_PORT_PLACEHOLDER SCHEME: sets PORT and SERVER_PID
start_server() {
  local cfg=$1 json=$2 scheme=$3 try pid i
  for try in 1 2 3 4 5; do
    PORT=$(t_free_port)
    printf '%s\n' "${json//@PORT@/$PORT}" >"$cfg"
    "$ADMIN" -c "$cfg" init >/dev/null 2>&1 || { echo "sshcert-admin init failed"; return 1; }
    "$SERVER" -c "$cfg" 2>"$cfg.log" &
    pid=$!
    T_PIDS+=("$pid")
    for i in $(seq 1 100); do
      curl -s --cacert "$T_DIR/tls.crt" "$scheme://127.0.0.1:$PORT/v1/health" 2>/dev/null |
        grep -q '"ok"' && { SERVER_PID=$pid; return 0; }
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  echo "sshcert-server did not start:"; cat "$cfg.log"
  return 1
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$T_DIR/tls.key" -out "$T_DIR/tls.crt" -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }

start_server "$CFG" '{"listen":"127.0.0.1:@PORT@","data_dir":"data",
  "auth":{"password_hash":"min","max_failures":3,"lockout":"10m"},
  "cert":{"default_ttl":"1h","max_ttl":"2h"}}' http || exit 1
URL="http://127.0.0.1:$PORT"
CA_PUB="$T_DIR/ca/data/ca_key.pub"
CA_FP=$(ssh-keygen -l -f "$CA_PUB" | awk '{print $2}')
CA_FP_RE=$(printf '%s' "$CA_FP" | sed 's/[+.]/\\&/g') # for regexes: base64 holds '+'

# add_user NAME PRINCIPALS [MAX_TTL]: a CA user with password $PW; keeps its TOTP secret.
add_user() {
  local out
  out=$(echo "$PW" | "$ADMIN" -c "$CFG" user add "$1" --principals "$2" ${3:+--max-ttl "$3"} \
    --json) || { echo "user add $1 failed"; exit 1; }
  SECRET[$1]=$(printf '%s\n' "$out" | sed -n 's/.*"totp_secret": *"\([A-Z2-7]*\)".*/\1/p')
}
# next_code USER: sets CODE to a code of a time step USER has not used yet. The server accepts
# the current step +-1 and each step once per user, so this waits when both are used up.
next_code() {
  local u=$1 s
  s=$(($(date +%s) / 30))
  if [ -n "${LAST[$u]:-}" ] && [ "$s" -le "${LAST[$u]}" ]; then s=$((LAST[$u] + 1)); fi
  while [ "$s" -gt $(($(date +%s) / 30 + 1)) ]; do sleep 1; done
  LAST[$u]=$s
  CODE=$(oathtool --totp -b "${SECRET[$u]}" --now "@$((s * 30))")
}
# login_as USER [ARGS..]: sshcert login with the password and a fresh code on stdin.
login_as() {
  local u=$1
  shift
  next_code "$u"
  printf '%s\n%s\n' "$PW" "$CODE" |
    "$CLIENT" login --server "$URL" --user "$u" --password-stdin "$@"
}
# with_stdin TEXT CMD..: runs CMD with TEXT on stdin (t_rc gives /dev/null).
with_stdin() {
  local text=$1
  shift
  printf '%s' "$text" | "$@"
}
# agent_lines: `ssh-add -l` output, or nothing when the agent is empty.
agent_lines() { ssh-add -l 2>/dev/null | grep -v '^The agent has no identities' || true; }
sshcert_ids() { agent_lines | grep -c 'sshcert:' || true; }

for u in alice bob carol dave erin frank grace heidi ivan judy; do add_user "$u" "$LUSER"; done
add_user olga "$LUSER,ops"

# --- help and usage ---------------------------------------------------------------------------
t_log "help and usage (exit 2)"
t_rc "sshcert --help" 0 "$CLIENT" --help
t_match "--help names the commands" '^  login    ' "$T_OUT"
t_match "--help lists the exit codes" '^exit codes: 0 ok, 1 not logged in' "$T_OUT"
t_rc "sshcert login --help" 0 "$CLIENT" login --help
t_match "login --help lists --password-stdin" '^  --password-stdin ' "$T_OUT"
for c in status ca logout; do
  t_rc "sshcert $c --help" 0 "$CLIENT" "$c" --help
  t_match "$c --help starts with its usage" "^usage: sshcert $c" "$T_OUT"
done
t_rc "sshcert status --help" 0 "$CLIENT" status --help
t_match "status --help: 1 for none, expired or not valid yet, 6 for a broken file" \
  'Exits 1 when there is none, it has expired or it is not$' "$T_OUT"
t_match "... not valid yet points at the clock" '^valid yet \(check the clock\), 6 when ' "$T_OUT"
t_rc "sshcert logout --help" 0 "$CLIENT" logout --help
t_match "logout --help: only the key dir's identities" \
  "^other key dirs' and CAs' stay\) and the key and certificate files from the key dir\.$" "$T_OUT"
t_rc "sshcert ca --help" 0 "$CLIENT" ca --help
t_match "ca --help: plain http to a host that is not loopback needs --fingerprint" \
  '^loopback nothing vouches for the key, so there --fingerprint is required \(else exit 2\)\.$' \
  "$T_OUT"
t_rc "sshcert help login" 0 "$CLIENT" help login
t_rc "no command" 2 "$CLIENT"
t_rc "unknown command" 2 "$CLIENT" frobnicate
t_eq "unknown command reason" 'sshcert: unknown command "frobnicate" (see sshcert --help)' "$T_ERR"
t_rc "bad flag" 2 "$CLIENT" login --bogus
t_eq "bad flag reason" "sshcert: login: unknown option --bogus (see sshcert login --help)" "$T_ERR"
t_rc "flag without its value" 2 "$CLIENT" login --server
t_eq "missing value reason" "sshcert: login: --server needs a value (see sshcert login --help)" \
  "$T_ERR"
t_rc "stray argument" 2 "$CLIENT" status extra
t_rc "bad --ttl" 2 "$CLIENT" login --server "$URL" --user alice --ttl 5x
t_match "bad --ttl reason" '^sshcert: login: --ttl: expected a duration' "$T_ERR"
t_rc "empty principal" 2 "$CLIENT" login --server "$URL" --user alice --principals 'a,,b'
t_rc "no server anywhere" 2 "$CLIENT" login --user alice
t_match "no server reason" '^sshcert: login: no server: use --server URL, SSHCERT_SERVER' "$T_ERR"
t_rc "plain http to a non-loopback host" 2 "$CLIENT" login --server http://192.0.2.1 --user alice
t_match "refuses to send credentials over http" \
  '^sshcert: refusing to send credentials over plain http:// to a host that is not loopback' "$T_ERR"
t_rc "a URL without scheme" 2 "$CLIENT" ca --server ca.example.com
t_rc "no terminal and no --password-stdin" 2 setsid -w "$CLIENT" login --server "$URL" --user alice
t_eq "no terminal reason" "sshcert: no terminal to ask for the password: use --password-stdin" \
  "$T_ERR"
t_rc "--password-stdin without the code line" 2 with_stdin "$PW"$'\n' \
  "$CLIENT" login --server "$URL" --user alice --password-stdin
t_match "missing code reason" 'expected the TOTP code on the line after the password' "$T_ERR"
t_rc "a code that is not digits" 2 with_stdin "$PW"$'\n' \
  "$CLIENT" login --server "$URL" --user alice --password-stdin --totp abcdef
t_rc "malformed --fingerprint" 2 "$CLIENT" ca --server "$URL" --fingerprint MD5:aa

# --- status before any login (exit 1) ---------------------------------------------------------
t_log "status without a certificate"
t_rc "status with no certificate" 1 "$CLIENT" status
t_eq "status reason" "sshcert: not logged in: no certificate in $KD (run sshcert login)" "$T_ERR"
t_rc "status --json with no certificate" 1 "$CLIENT" status --json
t_eq "status --json" '{"logged_in":false,"reason":"no_certificate"}' "$T_OUT"

# --- status when something is broken (exit 6, not 1) ------------------------------------------
t_log "status with a broken key dir or certificate file"
# "Not logged in" (1) and "something is broken" (6, a local error) must stay apart for scripts.
BROKEN="$T_DIR/broken"
mkdir -m 755 "$BROKEN"
printf 'not a folder\n' >"$BROKEN/file"
t_rc "status when the key dir is a file" 6 "$CLIENT" status --key-dir "$BROKEN/file"
t_eq "reason names the file and the error" \
  "sshcert: cannot read $BROKEN/file/id_ed25519-cert.pub: Not a directory" "$T_ERR"
t_eq "nothing on stdout" "" "$T_OUT"
t_rc "status --json when the key dir is a file" 6 "$CLIENT" status --json --key-dir "$BROKEN/file"
t_eq "no JSON that says logged out" "" "$T_OUT"
mkdir -m 700 "$BROKEN/garbage"
printf 'ssh-ed25519-cert-v01@openssh.com AAAAnot-base64 x\n' >"$BROKEN/garbage/id_ed25519-cert.pub"
t_rc "status with a certificate file that does not parse" 6 \
  "$CLIENT" status --key-dir "$BROKEN/garbage"
t_eq "parse failure reason" \
  "sshcert: $BROKEN/garbage/id_ed25519-cert.pub does not hold a valid certificate: invalid format" \
  "$T_ERR"
t_rc "status --json with a certificate file that does not parse" 6 \
  "$CLIENT" status --json --key-dir "$BROKEN/garbage"
t_eq "no JSON for a broken file" "" "$T_OUT"
# A certificate signed offline may carry any bytes in its key id and principals; JSON output
# shows each byte that is not UTF-8 as '?' and keeps the UTF-8 characters around it (until the
# sixth session of issue 8 `status --json` said "out of memory" and exited 6, and a principal
# that was not UTF-8 was left out of the list; until lib/text.h's sshcert_text_utf8_clean, the
# whole string was cut to printable ASCII, so the "é" became "??").
mkdir -m 700 "$BROKEN/bytes"
ssh-keygen -q -t ed25519 -N '' -f "$BROKEN/bytes/ca"
ssh-keygen -q -t ed25519 -N '' -f "$BROKEN/bytes/id_ed25519"
ssh-keygen -q -s "$BROKEN/bytes/ca" -I "$(printf 'k\303\251\377\376id')" \
  -n "$(printf 'ok,p\303\251\376')" -V +1h "$BROKEN/bytes/id_ed25519.pub"
t_rc "status --json of a certificate whose key id and a principal are not UTF-8" 0 \
  "$CLIENT" status --json --key-dir "$BROKEN/bytes"
t_eq "... shows the bad bytes as '?', the UTF-8 'é' kept, every principal kept" \
  "$(printf 'k\303\251??id ok,p\303\251?')" \
  "$(printf '%s' "$T_OUT" | PYTHONIOENCODING=utf-8 python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["key_id"], ",".join(j["principals"]))')"
# Permissions stop only a user other than root: a uid with no account, running a copy of the
# client that it can reach wherever the build dir is.
install -m 0755 "$CLIENT" "$T_DIR/sshcert-copy"
as_uid_54321() { setpriv --reuid=54321 --regid=54321 --clear-groups -- "$@"; }
mkdir -m 700 "$BROKEN/private"
t_rc "status in a key dir the user cannot read" 6 \
  as_uid_54321 "$T_DIR/sshcert-copy" status --key-dir "$BROKEN/private"
t_eq "unreadable key dir reason" \
  "sshcert: cannot read $BROKEN/private/id_ed25519-cert.pub: Permission denied" "$T_ERR"
mkdir -m 755 "$BROKEN/locked"
printf 'x\n' >"$BROKEN/locked/id_ed25519-cert.pub"
chmod 600 "$BROKEN/locked/id_ed25519-cert.pub"
t_rc "status with a certificate file the user cannot read" 6 \
  as_uid_54321 "$T_DIR/sshcert-copy" status --key-dir "$BROKEN/locked"
t_eq "unreadable certificate reason" \
  "sshcert: cannot read $BROKEN/locked/id_ed25519-cert.pub: Permission denied" "$T_ERR"
mkdir -m 755 "$BROKEN/empty"
t_rc "a readable key dir without a certificate is still 'not logged in'" 1 \
  as_uid_54321 "$T_DIR/sshcert-copy" status --key-dir "$BROKEN/empty"
t_eq "no certificate reason" \
  "sshcert: not logged in: no certificate in $BROKEN/empty (run sshcert login)" "$T_ERR"

# --- status of a certificate that is not valid yet (exit 1) -----------------------------------
t_log "status with a certificate that is not valid yet"
# A clock behind the CA's, or a certificate signed ahead of time, gives a certificate sshd
# refuses until valid_after: that is "not logged in", exit 1 like an expired one (before the
# fix of the security review's finding, status showed it as logged in and exited 0).
NYV="$T_DIR/notyet"
mkdir -m 700 "$NYV"
ssh-keygen -q -t ed25519 -N '' -f "$NYV/ca"
ssh-keygen -q -t ed25519 -N '' -f "$NYV/id_ed25519"
ssh-keygen -q -s "$NYV/ca" -I notyet -n "$LUSER" -z 42 -V +1h:+2h "$NYV/id_ed25519.pub"
t_rc "status --json of a certificate valid from an hour on" 1 \
  "$CLIENT" status --json --key-dir "$NYV"
NYV_VA=$(printf '%s' "$T_OUT" | sed -n 's/.*"valid_after":\([0-9]*\),.*/\1/p')
NYV_VB=$(printf '%s' "$T_OUT" | sed -n 's/.*"valid_before":\([0-9]*\),.*/\1/p')
t_eq "valid_after is the one ssh-keygen wrote" \
  "$(date -d "$(ssh-keygen -L -f "$NYV/id_ed25519-cert.pub" | sed -n 's/.*Valid: from \([^ ]*\) to .*/\1/p')" +%s)" \
  "${NYV_VA:-none}"
t_match "status --json: not logged in, reason not_yet_valid" \
  "^\{\"serial\":42,\"key_id\":\"notyet\",\"principals\":\[\"$LUSER\"\],\"valid_after\":$NYV_VA,\"valid_before\":$NYV_VB,\"expires_in\":(71[0-9]{2}|7200),\"logged_in\":false,\"reason\":\"not_yet_valid\"\}$" \
  "$T_OUT"
t_rc "status of that certificate" 1 "$CLIENT" status --key-dir "$NYV"
NYV_WHEN=$(date -d "@$NYV_VA" '+%Y-%m-%d %H:%M %Z' | sed 's/[+.]/\\&/g')
t_match "status says from when, how long that is, and to check the clock" \
  "^sshcert: not logged in: certificate serial 42 is not valid until $NYV_WHEN \(in (59m|1h); check the clock\)$" \
  "$T_ERR"
t_eq "status prints nothing on stdout for it" "" "$T_OUT"

# --- ca ---------------------------------------------------------------------------------------
t_log "sshcert ca"
t_rc "ca" 0 "$CLIENT" ca --server "$URL"
t_eq "ca prints the CA key line" "$(cat "$CA_PUB")" "$T_OUT"
t_rc "ca with the right fingerprint" 0 "$CLIENT" ca --server "$URL" --fingerprint "$CA_FP"
t_eq "ca --fingerprint prints the key" "$(cat "$CA_PUB")" "$T_OUT"
WRONG_FP=$(ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/other" && ssh-keygen -l -f "$T_DIR/other.pub" | awk '{print $2}')
t_rc "ca with a wrong fingerprint" 6 "$CLIENT" ca --server "$URL" --fingerprint "$WRONG_FP"
t_eq "mismatch reason" \
  "sshcert: CA key fingerprint mismatch: the server's key is $CA_FP, expected $WRONG_FP" "$T_ERR"
t_eq "nothing printed on a mismatch" "" "$T_OUT"
t_rc "ca --json" 0 "$CLIENT" ca --server "$URL" --json
t_eq "ca --json" "{\"public_key\":\"$(cat "$CA_PUB")\",\"fingerprint\":\"$CA_FP\"}" "$T_OUT"
t_rc "ca from SSHCERT_SERVER" 0 env SSHCERT_SERVER="$URL" "$CLIENT" ca

# --- network and server errors (exit 6) -------------------------------------------------------
t_log "unreachable server"
DEAD_PORT=$(t_free_port)
t_rc "ca, nothing listening" 6 "$CLIENT" ca --server "http://127.0.0.1:$DEAD_PORT"
t_match "connect failure reason" "^sshcert: http://127.0.0.1:$DEAD_PORT: cannot connect" "$T_ERR"
t_rc "login, nothing listening (before any prompt)" 6 \
  "$CLIENT" login --server "http://127.0.0.1:$DEAD_PORT" --user alice
t_rc "login to the wrong path" 6 with_stdin "$PW"$'\n'"123456"$'\n' \
  "$CLIENT" login --server "$URL/nope" --user alice --password-stdin
t_match "404 reason" '^sshcert: not found: is the server URL right\?' "$T_ERR"

# --- ca over plain http to a host that is not loopback (exit 2 without --fingerprint) ---------
t_log "sshcert ca over plain http to a host that is not loopback"
# [::ffff:127.0.0.1] reaches the loopback server, yet the client's loopback test (127.0.0.0/8,
# ::1, localhost) does not count it: a host that is not loopback which a test can reach.
MAPPED="http://[::ffff:127.0.0.1]:$PORT"
HTTP_REFUSED="sshcert: refusing to print a CA key fetched over plain http:// from a host that is not loopback; use https:// or --fingerprint"
t_rc "ca without --fingerprint is refused" 2 "$CLIENT" ca --server "$MAPPED"
t_eq "plain http refusal reason" "$HTTP_REFUSED" "$T_ERR"
t_eq "no key printed" "" "$T_OUT"
t_rc "ca --json without --fingerprint is refused" 2 "$CLIENT" ca --server "$MAPPED" --json
t_eq "no JSON printed" "" "$T_OUT"
t_rc "refused before connecting (nothing listens there)" 2 \
  "$CLIENT" ca --server "http://[::ffff:127.0.0.1]:$DEAD_PORT"
t_eq "the refusal, not a connect failure" "$HTTP_REFUSED" "$T_ERR"
t_rc "refused for the environment's server too" 2 env SSHCERT_SERVER="$MAPPED" "$CLIENT" ca
t_eq "same refusal" "$HTTP_REFUSED" "$T_ERR"
t_rc "with the right --fingerprint the key is printed" 0 \
  "$CLIENT" ca --server "$MAPPED" --fingerprint "$CA_FP"
t_eq "the CA key line over plain http, checked" "$(cat "$CA_PUB")" "$T_OUT"
t_rc "with a wrong --fingerprint it fails" 6 "$CLIENT" ca --server "$MAPPED" --fingerprint "$WRONG_FP"
t_eq "mismatch reason over plain http" \
  "sshcert: CA key fingerprint mismatch: the server's key is $CA_FP, expected $WRONG_FP" "$T_ERR"
t_eq "nothing printed on that mismatch" "" "$T_OUT"
t_rc "plain http to localhost needs no --fingerprint" 0 "$CLIENT" ca --server "http://localhost:$PORT"
t_eq "the CA key line from localhost" "$(cat "$CA_PUB")" "$T_OUT"

# --- login through the agent ------------------------------------------------------------------
t_log "login with an ssh-agent"
export SSH_AUTH_SOCK="$T_DIR/agent.sock"
ssh-agent -D -a "$SSH_AUTH_SOCK" >"$T_DIR/agent.log" 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 1 100); do [ -S "$SSH_AUTH_SOCK" ] && break; sleep 0.05; done
ssh-keygen -q -t ed25519 -N '' -C unrelated -f "$T_DIR/unrelated"
ssh-add -q "$T_DIR/unrelated" 2>/dev/null
t_eq "the agent holds an unrelated key" 1 "$(agent_lines | grep -c ' unrelated ')"

t_rc "login (alice)" 0 login_as alice
t_match "one human line: serial, principals, local expiry, time left" \
  "^logged in: serial [0-9]+, principals $LUSER, expires [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} [A-Z+0-9-]+ \(in (59m|1h)\)$" \
  "$T_OUT"
t_eq "login prints one line" 1 "$(printf '%s\n' "$T_OUT" | wc -l)"
t_eq "login is quiet on stderr" "" "$T_ERR"
SERIAL1=$(printf '%s\n' "$T_OUT" | sed -n 's/^logged in: serial \([0-9]*\),.*/\1/p')
t_eq "key dir is 0700" 700 "$(stat -c %a "$KD")"
t_eq "private key is 0600" 600 "$(stat -c %a "$KD/id_ed25519")"
t_eq "public key is 0644" 644 "$(stat -c %a "$KD/id_ed25519.pub")"
t_eq "certificate is 0644" 644 "$(stat -c %a "$KD/id_ed25519-cert.pub")"
t_eq "no temp files left" "id_ed25519 id_ed25519-cert.pub id_ed25519.pub" "$(ls "$KD" | tr '\n' ' ' | sed 's/ $//')"
t_rc "ssh-keygen -L accepts the certificate" 0 ssh-keygen -L -f "$KD/id_ed25519-cert.pub"
t_match "a user certificate" 'Type: ssh-ed25519-cert-v01@openssh.com user certificate' "$T_OUT"
t_match "signed by the CA" "Signing CA: ED25519 $CA_FP_RE " "$T_OUT"
t_match "key id names the user and serial" "Key ID: \"alice#$SERIAL1\"" "$T_OUT"
t_match "serial" "Serial: $SERIAL1\$" "$T_OUT"
t_rc "ssh-keygen reads the private key" 0 ssh-keygen -y -f "$KD/id_ed25519"
t_eq "private and public key files match" "$(cat "$KD/id_ed25519.pub")" "$T_OUT"
t_eq "the key comment marks it as sshcert's" "sshcert:alice" "$(awk '{print $3}' "$KD/id_ed25519.pub")"
t_eq "the certificate certifies that key" \
  "$(ssh-keygen -l -f "$KD/id_ed25519.pub" | awk '{print $2}')" \
  "$(ssh-keygen -L -f "$KD/id_ed25519-cert.pub" | sed -n 's/.*Public key: ED25519-CERT \(SHA256:[^ ]*\).*/\1/p')"
t_eq "one sshcert identity in the agent" 1 "$(sshcert_ids)"
t_match "agent identity: comment with the serial, a certificate" \
  "sshcert:alice serial $SERIAL1 \(ED25519-CERT\)$" "$(agent_lines)"
t_eq "unrelated key still there" 1 "$(agent_lines | grep -c ' unrelated ')"

t_rc "status" 0 "$CLIENT" status
t_match "status line" "^serial $SERIAL1, principals $LUSER, expires .* \(in (59m|1h)\), in ssh-agent$" "$T_OUT"
t_rc "status --json" 0 "$CLIENT" status --json
t_match "status --json" \
  "^\{\"serial\":$SERIAL1,\"key_id\":\"alice#$SERIAL1\",\"principals\":\[\"$LUSER\"\],\"valid_after\":[0-9]+,\"valid_before\":[0-9]+,\"expires_in\":(3[0-5][0-9]{2}|3600),\"logged_in\":true,\"certificate_file\":\"$KD/id_ed25519-cert.pub\",\"in_agent\":true\}$" \
  "$T_OUT"

# --- ssh to a device that trusts the CA -------------------------------------------------------
t_log "ssh to a throwaway sshd"
t_user "$LUSER" || { echo "useradd failed"; exit 1; }
t_sshd dev "$CA_PUB" || exit 1
SSHD_LOG="$SSHD_LOG_dev"
ssh_agent_only() {
  ssh -n -F /dev/null -p "$SSHD_PORT_dev" -o IdentityFile=none -o IdentityAgent="$SSH_AUTH_SOCK" \
    -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o ConnectTimeout=10 "$LUSER@127.0.0.1" "$@"
}
mv "$KD" "$KD.away"
t_rc "ssh through the agent alone (key dir moved away)" 0 ssh_agent_only 'echo hi from $(id -un)'
t_eq "ssh ran the command as the login user" "hi from $LUSER" "$T_OUT"
mv "$KD.away" "$KD"
t_wait_file_match "$SSHD_LOG" "Accepted publickey for $LUSER .* ED25519-CERT .* ID alice#$SERIAL1 \(serial $SERIAL1\) CA ED25519 $CA_FP_RE" 5
t_match "sshd accepted the agent's certificate" \
  "ID alice#$SERIAL1 \(serial $SERIAL1\) CA ED25519 $CA_FP_RE" "$(grep Accepted "$SSHD_LOG")"
t_rc "ssh through the key dir files alone (no agent)" 0 \
  t_ssh "$SSHD_PORT_dev" "$LUSER" "$KD/id_ed25519" "$KD/id_ed25519-cert.pub"
t_eq "both logins accepted" 2 "$(grep -c "ID alice#$SERIAL1 (serial $SERIAL1)" "$SSHD_LOG")"

# --- a second login replaces the identity -----------------------------------------------------
t_log "second login"
# handmade_add: what a user might do by hand: ssh-add a copy of the key-dir key under another
# comment. Login and logout must still recognise it as sshcert's (by its key).
handmade_add() {
  rm -rf "$T_DIR/copy" && mkdir -m 700 "$T_DIR/copy" && cp "$KD/id_ed25519" "$T_DIR/copy/"
  ssh-keygen -q -c -C handmade -f "$T_DIR/copy/id_ed25519" >/dev/null
  ssh-add -q "$T_DIR/copy/id_ed25519" 2>/dev/null
}
handmade_add
t_eq "a handmade identity of the key-dir key" 1 "$(agent_lines | grep -c ' handmade (ED25519)$')"
t_rc "second login (alice)" 0 login_as alice
SERIAL2=$(printf '%s\n' "$T_OUT" | sed -n 's/^logged in: serial \([0-9]*\),.*/\1/p')
t_eq "a new serial" 1 "$([ "${SERIAL2:-0}" -gt "$SERIAL1" ] && echo 1 || echo 0)"
t_eq "exactly one sshcert identity in the agent" 1 "$(sshcert_ids)"
t_match "and it is the new one" "sshcert:alice serial $SERIAL2 \(ED25519-CERT\)$" "$(agent_lines)"
t_eq "the handmade identity of the old key is gone" 0 \
  "$(agent_lines | grep -c handmade || true)"
t_eq "the agent holds the unrelated key and ours, nothing else" 2 "$(agent_lines | wc -l)"
t_rc "ssh with the new certificate through the agent" 0 ssh_agent_only true
t_wait_file_match "$SSHD_LOG" "ID alice#$SERIAL2 \(serial $SERIAL2\)" 5
t_eq "sshd saw the new serial" 1 "$(grep -c "ID alice#$SERIAL2 (serial $SERIAL2)" "$SSHD_LOG")"

# --- --json, --principals, --no-agent ---------------------------------------------------------
t_log "--json, --principals, --no-agent"
cp -a "$KD" "$T_DIR/kd-alice2" # the key dir as alice's second login left it
t_rc "login --json --principals ops --no-agent (olga)" 0 login_as olga --json --principals ops \
  --no-agent
t_match "login --json" \
  "^\{\"serial\":[0-9]+,\"key_id\":\"olga#[0-9]+\",\"principals\":\[\"ops\"\],\"valid_after\":[0-9]+,\"valid_before\":[0-9]+,\"expires_in\":(3[0-5][0-9]{2}|3600),\"key_file\":\"$KD/id_ed25519\",\"certificate_file\":\"$KD/id_ed25519-cert.pub\",\"agent\":\"skipped\"\}$" \
  "$T_OUT"
t_eq "certificate principals" "ops" \
  "$(ssh-keygen -L -f "$KD/id_ed25519-cert.pub" | sed -n '/Principals:/,/Critical/p' | sed '1d;$d' | tr -d ' \t')"
t_match "--no-agent left the agent alone" "sshcert:alice serial $SERIAL2 " "$(agent_lines)"
# The key dir no longer names alice's key, so login and logout of it leave her identity alone
# from now on (it goes when its certificate expires); the copy of the key dir as it was still
# names that key, and logging out of the copy takes the identity out.
t_rc "logout of the copy of alice's key dir" 0 "$CLIENT" logout --key-dir "$T_DIR/kd-alice2"
t_eq "it removes alice's identity, found by its key" \
  "logged out: removed 1 identity from ssh-agent and 3 files from $T_DIR/kd-alice2" "$T_OUT"
t_eq "the agent holds only the unrelated key" \
  "256 $(ssh-keygen -l -f "$T_DIR/unrelated.pub" | awk '{print $2}') unrelated (ED25519)" \
  "$(agent_lines)"
t_rc "status: the files now hold olga's certificate, not in the agent" 0 "$CLIENT" status
t_match "status says not in ssh-agent" ', not in ssh-agent$' "$T_OUT"

# --- exit codes 3, 4, 5 and a refused ttl ----------------------------------------------------
t_log "refusals"
t_rc "wrong password" 3 with_stdin $'not-the-password\n123456\n' \
  "$CLIENT" login --server "$URL" --user dave --password-stdin
t_eq "wrong password reason" "sshcert: invalid username, password or code" "$T_ERR"
t_rc "unknown user" 3 with_stdin $'x\n123456\n' \
  "$CLIENT" login --server "$URL" --user nobody --password-stdin
P1024=$(head -c 1024 /dev/zero | tr '\0' p)
t_rc "a 1024-byte password is sent (and refused by the server)" 3 with_stdin "$P1024"$'\n123456\n' \
  "$CLIENT" login --server "$URL" --user ghost --password-stdin
t_rc "a 1025-byte password is refused before sending" 2 with_stdin "${P1024}p"$'\n123456\n' \
  "$CLIENT" login --server "$URL" --user ghost --password-stdin
t_eq "password cap reason" "sshcert: password longer than 1024 bytes" "$T_ERR"
t_rc "a 1024-byte password with CRLF is sent (and refused by the server)" 3 \
  with_stdin "$P1024"$'\r\n123456\n' "$CLIENT" login --server "$URL" --user ghost --password-stdin
t_rc "a 1025-byte password with CRLF is refused before sending" 2 \
  with_stdin "${P1024}p"$'\r\n123456\n' "$CLIENT" login --server "$URL" --user ghost --password-stdin
t_eq "password cap reason (CRLF)" "sshcert: password longer than 1024 bytes" "$T_ERR"
t_rc "a 1024-byte password, a CR and one more byte is refused before sending" 2 \
  with_stdin "$P1024"$'\rp\n123456\n' "$CLIENT" login --server "$URL" --user ghost --password-stdin
# A NUL byte in a secret line would cut it where its C string ends: refused before sending.
posts() { grep -c 'http POST /v1/certificates ' "$CFG.log" || true; }
N_POSTS=$(posts)
t_match "the server's log counts the logins so far" '^[1-9][0-9]*$' "$N_POSTS"
t_rc "a password with a NUL byte is refused before sending" 2 sh -c \
  'printf "not\000the-password\n123456\n" | "$1" login --server "$2" --user dave --password-stdin' \
  - "$CLIENT" "$URL"
t_eq "...saying so" "sshcert: the password contains a NUL byte" "$T_ERR"
t_rc "a TOTP line with a NUL byte is refused before sending" 2 sh -c \
  'printf "not-the-password\n123456\000789\n" | "$1" login --server "$2" --user dave --password-stdin' \
  - "$CLIENT" "$URL"
t_eq "...saying so" "sshcert: the TOTP code must be 6 to 10 digits" "$T_ERR"
t_eq "...neither reached the server" "$N_POSTS" "$(posts)"
t_rc "a principal the user does not have" 4 login_as carol --principals root
t_eq "forbidden reason" "sshcert: forbidden: a requested principal is not allowed for this user" \
  "$T_ERR"
t_rc "a ttl over the user's maximum" 2 login_as heidi --ttl 3h
t_eq "ttl reason from the server" \
  "sshcert: the server refused the request: ttl must be between 1 and 7200 seconds" "$T_ERR"
for i in 1 2 3; do
  t_rc "wrong password for erin ($i)" 3 with_stdin $'wrong\n123456\n' \
    "$CLIENT" login --server "$URL" --user erin --password-stdin
done
t_rc "erin is locked out, even with the right password and code" 5 login_as erin
t_eq "lockout reason with the wait" "sshcert: too many attempts, retry in 10 min" "$T_ERR"
t_eq "no files were touched by refusals" "olga" \
  "$(ssh-keygen -L -f "$KD/id_ed25519-cert.pub" | sed -n 's/.*Key ID: "\(.*\)#.*/\1/p')"

# --- key dirs someone else could read or swap (exit 6) ---------------------------------------
t_log "key dirs that are not safe for a private key"
add_user kim "$LUSER"
add_user leo "$LUSER"
KDS="$T_DIR/keydirs"
mkdir -m 755 "$KDS"
# kd_refused DESC DIR REASON: login --key-dir DIR is refused with REASON before the password is
# read (stdin is empty: reading it would be exit 2) and before the server is asked; DIR stays
# empty.
kd_refused() {
  t_rc "$1" 6 "$CLIENT" login --server "$URL" --user kim --password-stdin --key-dir "$2"
  t_eq "$1: reason" "sshcert: key dir $2 $3: refusing to write a private key there" "$T_ERR"
  t_eq "$1: nothing written" "" "$(ls -A "$2")"
}
mkdir -m 700 "$KDS/theirs"
chown 54321:54321 "$KDS/theirs"
kd_refused "a key dir owned by another user" "$KDS/theirs" \
  "is owned by uid 54321, not by you (uid $(id -u))"
mkdir "$KDS/group" && chmod 770 "$KDS/group"
kd_refused "a key dir writable by its group" "$KDS/group" \
  "is writable by group or others (mode 0770)"
mkdir "$KDS/others" && chmod 757 "$KDS/others"
kd_refused "a key dir writable by others (not its group)" "$KDS/others" \
  "is writable by group or others (mode 0757)"
mkdir "$KDS/world" && chmod 1777 "$KDS/world"
kd_refused "a key dir writable by anyone (sticky, like /tmp)" "$KDS/world" \
  "is writable by group or others (mode 1777)"
mkdir -m 700 "$KDS/target"
ln -s target "$KDS/link"
t_rc "a key dir that is a symbolic link" 6 \
  "$CLIENT" login --server "$URL" --user kim --password-stdin --key-dir "$KDS/link"
t_eq "symbolic link reason" \
  "sshcert: key dir $KDS/link is a symbolic link: refusing to write a private key there (give the folder it points to with --key-dir)" \
  "$T_ERR"
t_eq "nothing written where the link points" "" "$(ls -A "$KDS/target")"
kd_state() { (cd "$KD" && stat -c '%a %n' . * && sha256sum -- *); }
KD_BEFORE=$(kd_state)
chmod 775 "$KD"
t_rc "the default key dir follows the same rules" 6 \
  "$CLIENT" login --server "$URL" --user kim --password-stdin
t_eq "default key dir reason" \
  "sshcert: key dir $KD is writable by group or others (mode 0775): refusing to write a private key there" \
  "$T_ERR"
chmod 700 "$KD"
t_eq "its files are unchanged" "$KD_BEFORE" "$(kd_state)"
# Readable by others is fine (the key file itself is 0600); yours and not writable is enough.
mkdir -m 755 "$KDS/mine"
t_rc "login into an existing 0755 key dir of one's own" 0 \
  login_as kim --no-agent --key-dir "$KDS/mine"
t_eq "the three files, no temp files" "id_ed25519 id_ed25519-cert.pub id_ed25519.pub" \
  "$(ls "$KDS/mine" | tr '\n' ' ' | sed 's/ $//')"
t_eq "modes: folder as it was, key 0600, public files 0644" "755 600 644 644" \
  "$(stat -c %a "$KDS/mine" "$KDS/mine/id_ed25519" "$KDS/mine/id_ed25519.pub" \
    "$KDS/mine/id_ed25519-cert.pub" | tr '\n' ' ' | sed 's/ $//')"
t_rc "ssh-keygen reads the key written there" 0 ssh-keygen -y -f "$KDS/mine/id_ed25519"
t_rc "status reads it back" 0 "$CLIENT" status --key-dir "$KDS/mine"
t_match "kim's certificate" "^serial [0-9]+, principals $LUSER, " "$T_OUT"
# The folder checked is the folder written: login waits for the password with the key dir
# open; meanwhile that folder is moved away and one anyone may write is put at its path.
mkdir -m 700 "$KDS/swap"
mkfifo "$T_DIR/pw.fifo"
next_code kim
"$CLIENT" login --server "$URL" --user kim --password-stdin --no-agent --key-dir "$KDS/swap" \
  <"$T_DIR/pw.fifo" >"$T_DIR/swap.out" 2>"$T_DIR/swap.err" &
SWAP_PID=$!
T_PIDS+=("$SWAP_PID")
exec 7>"$T_DIR/pw.fifo"
for _ in $(seq 1 200); do
  ls -l "/proc/$SWAP_PID/fd" 2>/dev/null | grep -q -- "-> $KDS/swap\$" && break
  sleep 0.05
done
mv "$KDS/swap" "$KDS/swap.checked"
mkdir -m 777 "$KDS/swap"
printf '%s\n%s\n' "$PW" "$CODE" >&7
exec 7>&-
wait "$SWAP_PID"
t_eq "login with the key dir swapped while it waited for the password" 0 "$?"
t_eq "the files went into the folder that was checked" \
  "id_ed25519 id_ed25519-cert.pub id_ed25519.pub" "$(ls "$KDS/swap.checked" | tr '\n' ' ' | sed 's/ $//')"
t_eq "nothing went into the folder swapped in" "" "$(ls -A "$KDS/swap")"
# with_umask MASK CMD..: CMD under another umask.
with_umask() {
  local m=$1
  shift
  (umask "$m" && "$@")
}
next_code leo
t_rc "login into a new key dir (and new parent) under umask 000" 0 with_umask 000 \
  with_stdin "$PW"$'\n'"$CODE"$'\n' "$CLIENT" login --server "$URL" --user leo --password-stdin \
  --no-agent --key-dir "$KDS/new/sshcert"
t_eq "made 0700 (parent and key dir), key 0600, public files 0644" "700 700 600 644 644" \
  "$(stat -c %a "$KDS/new" "$KDS/new/sshcert" "$KDS/new/sshcert/id_ed25519" \
    "$KDS/new/sshcert/id_ed25519.pub" "$KDS/new/sshcert/id_ed25519-cert.pub" | tr '\n' ' ' |
    sed 's/ $//')"
next_code leo
t_rc "login again under umask 077" 0 with_umask 077 \
  with_stdin "$PW"$'\n'"$CODE"$'\n' "$CLIENT" login --server "$URL" --user leo --password-stdin \
  --no-agent --key-dir "$KDS/new/sshcert"
t_eq "the files keep their modes whatever the umask" "600 644 644" \
  "$(stat -c %a "$KDS/new/sshcert/id_ed25519" "$KDS/new/sshcert/id_ed25519.pub" \
    "$KDS/new/sshcert/id_ed25519-cert.pub" | tr '\n' ' ' | sed 's/ $//')"

# --- the config file and the environment ------------------------------------------------------
t_log "defaults from the config file and the environment"
mkdir -p "$HOME/.config/sshcert"
printf '# sshcert defaults\nserver = http://127.0.0.1:%s\nuser = "ivan"\nttl = 15m\n' \
  "$DEAD_PORT" >"$HOME/.config/sshcert/config"
next_code ivan
t_rc "login with the environment's server over the file's" 0 with_stdin "$PW"$'\n'"$CODE"$'\n' \
  env SSHCERT_SERVER="$URL" "$CLIENT" login --password-stdin --json --no-agent
t_match "user and ttl from the config file" '"key_id":"ivan#[0-9]+".*"expires_in":(8[0-9]{2}|900),' "$T_OUT"
t_rc "the file's server when nothing overrides it" 6 "$CLIENT" ca
t_match "that is the file's (dead) server" "^sshcert: http://127.0.0.1:$DEAD_PORT: cannot connect" "$T_ERR"
printf 'server = %s\nsever = typo\n' "$URL" >"$HOME/.config/sshcert/config"
t_rc "an unknown config key" 2 "$CLIENT" ca
t_eq "config error names file and line" \
  "sshcert: $HOME/.config/sshcert/config:2: unknown key \"sever\" (known: server, user, ca_cert, ttl)" \
  "$T_ERR"
rm -f "$HOME/.config/sshcert/config"

# --- TLS --------------------------------------------------------------------------------------
t_log "https with certificate verification"
TCFG="$T_DIR/ca/tls.json"
cp "$T_DIR/tls.crt" "$T_DIR/tls.key" "$T_DIR/ca/"
start_server "$TCFG" '{"listen":"127.0.0.1:@PORT@","data_dir":"data",
  "tls":{"cert_file":"tls.crt","key_file":"tls.key"},"auth":{"password_hash":"min"}}' https ||
  exit 1
TURL="https://127.0.0.1:$PORT"
t_rc "https without trusting the server's certificate" 6 "$CLIENT" ca --server "$TURL"
t_match "TLS reason" "^sshcert: $TURL: TLS: the server's certificate is not trusted" "$T_ERR"
t_rc "https with --ca-cert" 0 "$CLIENT" ca --server "$TURL" --ca-cert "$T_DIR/tls.crt"
t_eq "same CA over https" "$(cat "$CA_PUB")" "$T_OUT"
t_rc "https to a name the certificate does not carry" 6 \
  "$CLIENT" ca --server "https://localhost:$PORT" --ca-cert "$T_DIR/tls.crt"
next_code grace
printf 'ca_cert = ../../../tls.crt\n' >"$HOME/.config/sshcert/config" # relative to the file
t_rc "login over https, CA file from the config" 0 with_stdin "$PW"$'\n'"$CODE"$'\n' \
  "$CLIENT" login --server "$TURL" --user grace --password-stdin --no-agent
t_match "logged in over https" '^logged in: serial [0-9]+, ' "$T_OUT"
rm -f "$HOME/.config/sshcert/config"
t_rc "missing --ca-cert file" 2 "$CLIENT" ca --server "$TURL" --ca-cert "$T_DIR/nope.pem"

# --- agents that cannot take the certificate --------------------------------------------------
t_log "no agent, a refusing agent"
login_nowhere() { SSH_AUTH_SOCK="$T_DIR/none.sock" login_as judy; }
t_rc "login with SSH_AUTH_SOCK pointing nowhere" 0 login_nowhere
t_match "warns and points at the files" \
  "^sshcert: warning: no ssh-agent answers at $T_DIR/none.sock; use the key files \(ssh -i $KD/id_ed25519\)$" \
  "$T_ERR"
t_match "files written anyway" "judy#" "$(ssh-keygen -L -f "$KD/id_ed25519-cert.pub")"

cat >"$T_DIR/refusing_agent.py" <<'PY'
# An agent that lists no identities and refuses everything else, as gpg-agent refuses certs.
import os, socket, struct, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(4)
while True:
    c, _ = s.accept()
    while True:
        h = c.recv(4, socket.MSG_WAITALL)
        if len(h) < 4: break
        n = struct.unpack(">I", h)[0]
        m = c.recv(n, socket.MSG_WAITALL)
        c.sendall(struct.pack(">IBI", 5, 12, 0) if m[:1] == b"\x0b" else struct.pack(">IB", 1, 5))
    c.close()
PY
python3 "$T_DIR/refusing_agent.py" "$T_DIR/refusing.sock" 2>"$T_DIR/refusing.log" &
T_PIDS+=("$!")
for _ in $(seq 1 100); do [ -S "$T_DIR/refusing.sock" ] && break; sleep 0.05; done
next_code frank
t_rc "login with an agent that refuses certificates" 0 with_stdin "$PW"$'\n'"$CODE"$'\n' \
  env SSH_AUTH_SOCK="$T_DIR/refusing.sock" \
  "$CLIENT" login --server "$URL" --user frank --password-stdin --json
t_eq "says so plainly" \
  "sshcert: warning: the ssh-agent at $T_DIR/refusing.sock refused the certificate (gpg-agent and gnome-keyring do); use the key files (ssh -i $KD/id_ed25519)" \
  "$T_ERR"
t_match "--json says refused" '"agent":"refused"\}$' "$T_OUT"
t_rc "the kept files work with ssh" 0 \
  t_ssh "$SSHD_PORT_dev" "$LUSER" "$KD/id_ed25519" "$KD/id_ed25519-cert.pub"

# --- an agent that is not ours ----------------------------------------------------------------
# The new private key goes to SSH_AUTH_SOCK only when the socket file and the process listening
# on it are the caller's own (what pam_sshcert checks too): anyone can set up a socket at a path
# such as a dead agent's /tmp/ssh-XXXX/agent.N.
t_log "an agent run by another user, a socket file of another user, a relative SSH_AUTH_SOCK"
add_user mona "$LUSER"
add_user nick "$LUSER"
FOREIGN="$T_DIR/foreign"
mkdir -m 755 "$FOREIGN"
chown nobody:nogroup "$FOREIGN"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
  ssh-agent -D -a "$FOREIGN/agent.sock" >"$T_DIR/foreign-agent.log" 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 1 100); do [ -S "$FOREIGN/agent.sock" ] && break; sleep 0.05; done
# foreign_ids: what the other user's agent holds (ssh-add checks no owner; root may connect)
foreign_ids() { SSH_AUTH_SOCK="$FOREIGN/agent.sock" ssh-add -l 2>&1 || true; }
NOT_OURS="or the process behind it belongs to another user; the key was not given to it; use the key files (ssh -i $T_DIR/kd-mona/id_ed25519)"
foreign_login() {
  SSH_AUTH_SOCK="$FOREIGN/agent.sock" login_as "$1" --key-dir "$T_DIR/kd-mona" --json
}
t_rc "login with an agent another user runs" 0 foreign_login mona
t_eq "warns, names the socket" \
  "sshcert: warning: the ssh-agent socket $FOREIGN/agent.sock $NOT_OURS" "$T_ERR"
t_match "--json says unavailable" '"agent":"unavailable"\}$' "$T_OUT"
t_eq "the other user's agent got nothing" "The agent has no identities." "$(foreign_ids)"
t_match "the files were written" "mona#" "$(ssh-keygen -L -f "$T_DIR/kd-mona/id_ed25519-cert.pub")"
# The socket file ours (root may chown it), the process behind it still the other user's.
chown "$(id -u)" "$FOREIGN/agent.sock"
t_rc "login with our socket file but another user's agent process" 0 foreign_login nick
t_eq "warns the same" \
  "sshcert: warning: the ssh-agent socket $FOREIGN/agent.sock $NOT_OURS" "$T_ERR"
t_eq "the other user's agent still got nothing" "The agent has no identities." "$(foreign_ids)"
t_match "the files were written" "nick#" "$(ssh-keygen -L -f "$T_DIR/kd-mona/id_ed25519-cert.pub")"
t_rc "logout with another user's agent" 0 env SSH_AUTH_SOCK="$FOREIGN/agent.sock" \
  "$CLIENT" logout --key-dir "$T_DIR/kd-mona"
t_eq "logout leaves that agent alone, says so" \
  "sshcert: warning: the ssh-agent socket $FOREIGN/agent.sock or the process behind it belongs to another user; left alone" \
  "$T_ERR"
t_eq "and removes the files" \
  "logged out: removed 0 identities from ssh-agent and 3 files from $T_DIR/kd-mona" "$T_OUT"
# A relative SSH_AUTH_SOCK names our own agent here, but would name whatever lies in the
# caller's folder elsewhere: refused.
ids_before=$(sshcert_ids)
relative_login() { (cd "$(dirname "$SSH_AUTH_SOCK")" &&
  SSH_AUTH_SOCK="$(basename "$SSH_AUTH_SOCK")" login_as mona --key-dir "$T_DIR/kd-mona"); }
t_rc "login with a relative SSH_AUTH_SOCK" 0 relative_login
t_eq "warns no agent answers there" \
  "sshcert: warning: no ssh-agent answers at $(basename "$SSH_AUTH_SOCK"); use the key files (ssh -i $T_DIR/kd-mona/id_ed25519)" \
  "$T_ERR"
t_eq "our agent got nothing either" "$ids_before" "$(sshcert_ids)"

# --- responses the client must not trust ------------------------------------------------------
t_log "oversized and hostile responses"
cat >"$T_DIR/fake_server.py" <<'PY'
# /big/...: a body one byte over the client's 64 KiB cap; /exact/...: one of exactly 64 KiB. /err/...: a 500 whose message holds escapes.
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/big/"):
            body, code = b"x" * (64 * 1024 + 1), 200
        elif self.path.startswith("/exact/"):
            body, code = b"x" * (64 * 1024), 200
        else:
            body, code = b'{"error":"internal","message":"boom\\u001b[31m red"}', 500
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
FPORT=$(t_free_port)
python3 "$T_DIR/fake_server.py" "$FPORT" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$FPORT/err/" && break; sleep 0.05; done
t_rc "a response over the cap" 6 "$CLIENT" ca --server "http://127.0.0.1:$FPORT/big"
t_eq "cap reason" "sshcert: http://127.0.0.1:$FPORT/big: response larger than 65536 bytes" "$T_ERR"
t_rc "a response of exactly the cap is read (and is not JSON)" 6 \
  "$CLIENT" ca --server "http://127.0.0.1:$FPORT/exact"
t_eq "read, then refused as content" \
  "sshcert: http://127.0.0.1:$FPORT/exact/v1/ca: not an sshcert CA answer" "$T_ERR"
t_rc "a server error" 6 "$CLIENT" ca --server "http://127.0.0.1:$FPORT/err"
t_eq "server message shown without its escape byte" "sshcert: server error: HTTP 500: boom?[31m red" \
  "$T_ERR"

# --- the client's own limits at their boundary: N is used, N + 1 refused before sending ------
t_log "client limits"
# HTTP_MAX_URL: a server URL of 2048 bytes is fetched (the fake server's 500), 2049 is not.
U2048="http://127.0.0.1:$FPORT/err/"
U2048="$U2048$(head -c $((2048 - ${#U2048})) /dev/zero | tr '\0' u)"
t_eq "a URL of 2048 bytes" 2048 "${#U2048}"
t_rc "a server URL of HTTP_MAX_URL (2048) bytes is used" 6 "$CLIENT" ca --server "$U2048"
t_eq "...and reaches the server" "sshcert: server error: HTTP 500: boom?[31m red" "$T_ERR"
t_rc "a server URL of 2049 bytes is refused" 2 "$CLIENT" ca --server "${U2048}u"
t_eq "...before any request" "sshcert: server URL longer than 2048 bytes" "$T_ERR"
# PROMPT_MAX_TOTP: a code line of 32 bytes (blanks are squeezed out) is sent, 33 are not.
C32="123 456$(printf ' %.0s' $(seq 25))"
t_eq "a code line of 32 bytes" 32 "${#C32}"
t_rc "a TOTP line of PROMPT_MAX_TOTP (32) bytes is sent (and refused by the server)" 3 \
  with_stdin "$PW"$'\n'"$C32"$'\n' "$CLIENT" login --server "$URL" --user ghost2 --password-stdin
t_eq "...as invalid credentials" "sshcert: invalid username, password or code" "$T_ERR"
t_rc "a TOTP line of 33 bytes is refused before sending" 2 \
  with_stdin "$PW"$'\n'"$C32 "$'\n' "$CLIENT" login --server "$URL" --user ghost2 --password-stdin
t_eq "...saying so" "sshcert: the TOTP code must be 6 to 10 digits" "$T_ERR"
# CFG_MAX_TTL: --ttl 366d is sent (and the server's ceiling refuses it), a second more is not.
t_rc "--ttl 31622400 (CFG_MAX_TTL) is sent" 2 login_as grace --ttl 31622400
t_eq "...and refused by the server" \
  "sshcert: the server refused the request: ttl must be between 1 and 7200 seconds" "$T_ERR"
t_rc "--ttl 31622401 is refused before sending" 2 "$CLIENT" login --server "$URL" --user grace --ttl 31622401
t_match "...saying so" '^sshcert: login: --ttl: expected a duration like 90s, 15m, 1h or whole seconds' "$T_ERR"
# CFG_MAX_LINE and CFG_MAX_FILE: the config file is read up to 4096 bytes a line and 65536 in
# all, then refused with the line or the file named.
CF="$HOME/.config/sshcert/config"
mkdir -p "$HOME/.config/sshcert"
L4096="#$(head -c 4095 /dev/zero | tr '\0' c)"
printf 'server = %s\n%s\n' "$URL" "$L4096" >"$CF"
t_rc "a config line of CFG_MAX_LINE (4096) bytes is read" 0 "$CLIENT" ca
t_eq "...and the server from the file used" "$(cat "$CA_PUB")" "$T_OUT"
printf 'server = %s\n%sc\n' "$URL" "$L4096" >"$CF"
t_rc "a config line of 4097 bytes is refused" 2 "$CLIENT" ca
t_eq "...naming the line" "sshcert: $CF:2: line longer than 4096 bytes" "$T_ERR"
python3 -c 'import sys
head = "server = %s\n" % sys.argv[1]
line = "#" + "c" * 4094 + "\n"
body = head + line * ((65536 - len(head)) // len(line))
pad = 65536 - len(body)
sys.stdout.write(body + "#" + "c" * (pad - 2) + "\n")' "$URL" >"$CF"
t_eq "a config file of 65536 bytes" 65536 "$(stat -c %s "$CF")"
t_rc "a config file of CFG_MAX_FILE (65536) bytes is read" 0 "$CLIENT" ca
t_eq "...and the server from the file used" "$(cat "$CA_PUB")" "$T_OUT"
printf '#' >>"$CF"
t_rc "a config file of 65537 bytes is refused" 2 "$CLIENT" ca
t_eq "...naming the file" "sshcert: $CF: larger than 65536 bytes" "$T_ERR"
rm -f "$CF"

# --- the password prompt on a terminal --------------------------------------------------------
t_log "prompts on a terminal"
cat >"$T_DIR/pty_login.py" <<'PY'
# Runs argv[3:] on a new pseudo-terminal, answers the password and code prompts, prints all the
# terminal showed, and exits with the child's status.
import os, pty, select, sys, time
pw, code, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
seen, answered, deadline = b"", 0, time.time() + 20
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if answered == 0 and seen.endswith(b"Password for frank: "):
        os.write(fd, pw.encode() + b"\n"); answered = 1
    elif answered == 1 and seen.endswith(b"TOTP code: "):
        os.write(fd, code.encode() + b"\n"); answered = 2
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status))
PY
next_code frank
t_rc "login answering the prompts on a terminal" 0 python3 "$T_DIR/pty_login.py" "$PW" "$CODE" \
  "$CLIENT" login --server "$URL" --user frank --no-agent
t_match "password prompt, then the code prompt with the code echoed" \
  "^Password for frank: $" "$T_OUT"
t_match "the code is echoed" "^TOTP code: $CODE$" "$T_OUT"
t_nomatch "the password is never echoed" "$PW" "$T_OUT"
t_match "logged in" '^logged in: serial [0-9]+, ' "$T_OUT"

# --- expiry: the agent drops the identity by itself -------------------------------------------
t_log "a 20 s certificate"
t_rc "login --ttl 20s (bob)" 0 login_as bob --ttl 20s --json
t_match "expires in at most 20 s" '"expires_in":(1[0-9]|20),"key_file"' "$T_OUT"
VB=$(printf '%s\n' "$T_OUT" | sed -n 's/.*"valid_before":\([0-9]*\),.*/\1/p')
t_match "in the agent" "sshcert:bob serial [0-9]+ \(ED25519-CERT\)$" "$(agent_lines)"
t_eq "still exactly one sshcert identity" 1 "$(sshcert_ids)"
t_rc "status while valid" 0 "$CLIENT" status
t_match "status shows seconds left" '\(in (1[0-9]|20|[0-9])s\), in ssh-agent$' "$T_OUT"
gone=no
for _ in $(seq 1 120); do
  if [ "$(sshcert_ids)" = 0 ]; then gone=yes; break; fi
  sleep 0.25
done
GONE_AT=$(date +%s)
t_eq "the agent dropped the identity within 30 s" yes "$gone"
# ssh-agent counts whole seconds on its own clock: it drops the identity within a second or
# two of valid_before, never long after it.
t_eq "dropped when the certificate expired (valid_before $VB, gone at $GONE_AT)" yes \
  "$([ "$GONE_AT" -ge $((VB - 2)) ] && [ "$GONE_AT" -le $((VB + 2)) ] && echo yes || echo no)"
t_eq "the unrelated key stays" 1 "$(agent_lines | grep -c ' unrelated ')"
while [ "$(date +%s)" -lt "$VB" ]; do sleep 0.2; done
t_rc "status after expiry" 1 "$CLIENT" status
t_match "status says expired" \
  '^sshcert: not logged in: certificate serial [0-9]+ expired .* ago; run sshcert login\)$' "$T_ERR"
t_rc "status --json after expiry" 1 "$CLIENT" status --json
t_match "status --json after expiry" '"expires_in":0,"logged_in":false,"reason":"expired"\}$' "$T_OUT"
t_rc "ssh with the expired files is refused" 255 \
  t_ssh "$SSHD_PORT_dev" "$LUSER" "$KD/id_ed25519" "$KD/id_ed25519-cert.pub"
t_wait_file_match "$SSHD_LOG" "Certificate invalid: expired" 5
t_match "sshd says expired" "Certificate invalid: expired" "$(cat "$SSHD_LOG")"

# --- logout -----------------------------------------------------------------------------------
t_log "logout"
t_rc "login again (alice)" 0 login_as alice
handmade_add
t_eq "before logout: ours, a handmade one and the unrelated key" 3 "$(agent_lines | wc -l)"
t_rc "logout" 0 "$CLIENT" logout
t_eq "logout line" "logged out: removed 2 identities from ssh-agent and 3 files from $KD" "$T_OUT"
t_eq "the agent holds only the unrelated key" 1 "$(agent_lines | wc -l)"
t_match "which is the unrelated key" ' unrelated \(ED25519\)$' "$(agent_lines)"
t_eq "the key dir is empty" "" "$(ls -A "$KD")"
t_rc "status after logout" 1 "$CLIENT" status
t_rc "logout again is fine" 0 "$CLIENT" logout
t_eq "nothing left to remove" "logged out: removed 0 identities from ssh-agent and 0 files from $KD" \
  "$T_OUT"
t_rc "ssh through the agent after logout fails" 255 ssh_agent_only true

# --- only the key dir's own identities --------------------------------------------------------
t_log "login and logout take out the key dir's identities, no one else's"
# Another key dir and another CA put identities with "sshcert:" comments into the same agent,
# even one whose comment is word for word one this key dir wrote. sshcert tells its own by
# their key (ca-client/ident.h); it once went by the comment prefix and took all of them out.
# ids: the agent's identities as "FINGERPRINT COMMENT (TYPE)", sorted.
ids() { agent_lines | cut -d' ' -f2- | LC_ALL=C sort; }
fp() { ssh-keygen -l -f "$1" | awk '{print $2}'; }
UNRELATED_ID="$(fp "$T_DIR/unrelated.pub") unrelated (ED25519)"
t_eq "to start with the agent holds only the unrelated key" "$UNRELATED_ID" "$(ids)"
OKD="$T_DIR/kd-carol"
t_rc "login (carol) into another key dir, with the agent" 0 login_as carol --key-dir "$OKD"
CAROL_SERIAL=$(printf '%s\n' "$T_OUT" | sed -n 's/^logged in: serial \([0-9]*\),.*/\1/p')
CAROL_ID="$(fp "$OKD/id_ed25519.pub") sshcert:carol serial $CAROL_SERIAL (ED25519-CERT)"
FOREIGN="$T_DIR/foreign"
mkdir -m 700 "$FOREIGN"
ssh-keygen -q -t ed25519 -N '' -C other-ca -f "$FOREIGN/ca"
ssh-keygen -q -t ed25519 -N '' -C "sshcert:alice serial $SERIAL1" -f "$FOREIGN/id_ed25519"
ssh-keygen -q -s "$FOREIGN/ca" -I "alice#$SERIAL1" -n "$LUSER" -V -1m:+1h "$FOREIGN/id_ed25519.pub"
ssh-add -q "$FOREIGN/id_ed25519" 2>/dev/null
FOREIGN_IDS="$(fp "$FOREIGN/id_ed25519.pub") sshcert:alice serial $SERIAL1 (ED25519)
$(fp "$FOREIGN/id_ed25519.pub") sshcert:alice serial $SERIAL1 (ED25519-CERT)"
sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }
t_eq "the agent holds carol's identity and another CA's key and certificate" \
  "$(sorted "$UNRELATED_ID" "$CAROL_ID" "$FOREIGN_IDS")" "$(ids)"
t_eq "all three with an sshcert: comment" 3 "$(ids | grep -c ' sshcert:')"

t_rc "login (alice) into the default key dir" 0 login_as alice
SERIAL4=$(printf '%s\n' "$T_OUT" | sed -n 's/^logged in: serial \([0-9]*\),.*/\1/p')
ALICE_ID="$(fp "$KD/id_ed25519.pub") sshcert:alice serial $SERIAL4 (ED25519-CERT)"
t_eq "login added alice's and left carol's and the other CA's" \
  "$(sorted "$UNRELATED_ID" "$CAROL_ID" "$FOREIGN_IDS" "$ALICE_ID")" "$(ids)"
# Another certificate of the key in the key dir (signed by the other CA, under a comment that is
# not sshcert's) stands for an older certificate of the same key: it is the key dir's, and goes.
RESIGNED="$T_DIR/resigned"
mkdir -m 700 "$RESIGNED"
cp "$KD/id_ed25519" "$RESIGNED/"
ssh-keygen -q -c -C resigned -f "$RESIGNED/id_ed25519" >/dev/null
ssh-keygen -y -f "$RESIGNED/id_ed25519" >"$RESIGNED/id_ed25519.pub"
ssh-keygen -q -s "$FOREIGN/ca" -I resigned -n "$LUSER" -V -1m:+1h "$RESIGNED/id_ed25519.pub"
ssh-add -q "$RESIGNED/id_ed25519" 2>/dev/null
RESIGNED_IDS="$(fp "$KD/id_ed25519.pub") resigned (ED25519)
$(fp "$KD/id_ed25519.pub") resigned (ED25519-CERT)"
t_eq "the key dir's key is in the agent three times" \
  "$(sorted "$UNRELATED_ID" "$CAROL_ID" "$FOREIGN_IDS" "$ALICE_ID" "$RESIGNED_IDS")" "$(ids)"
t_rc "login again (alice)" 0 login_as alice
SERIAL5=$(printf '%s\n' "$T_OUT" | sed -n 's/^logged in: serial \([0-9]*\),.*/\1/p')
ALICE_ID="$(fp "$KD/id_ed25519.pub") sshcert:alice serial $SERIAL5 (ED25519-CERT)"
t_eq "the old key's certificates and plain key went, carol's and the other CA's stayed" \
  "$(sorted "$UNRELATED_ID" "$CAROL_ID" "$FOREIGN_IDS" "$ALICE_ID")" "$(ids)"

t_rc "logout (alice)" 0 "$CLIENT" logout
t_eq "logout removes one identity, alice's" \
  "logged out: removed 1 identity from ssh-agent and 3 files from $KD" "$T_OUT"
t_eq "carol's and the other CA's stay" "$(sorted "$UNRELATED_ID" "$CAROL_ID" "$FOREIGN_IDS")" \
  "$(ids)"
t_rc "logout of carol's key dir" 0 "$CLIENT" logout --key-dir "$OKD"
t_eq "removes carol's identity" \
  "logged out: removed 1 identity from ssh-agent and 3 files from $OKD" "$T_OUT"
t_eq "the other CA's stay, whatever their comment says" \
  "$(sorted "$UNRELATED_ID" "$FOREIGN_IDS")" "$(ids)"
t_rc "a logout with nothing of its own in the agent" 0 "$CLIENT" logout
t_eq "removes nothing" "logged out: removed 0 identities from ssh-agent and 0 files from $KD" \
  "$T_OUT"
t_eq "and the other CA's identities are still there" "$(sorted "$UNRELATED_ID" "$FOREIGN_IDS")" \
  "$(ids)"

t_done
