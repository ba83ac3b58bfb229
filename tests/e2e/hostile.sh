#!/bin/bash
# Hostile HTTP against the real sshcert-server: tests/hostile/hostile.c throws truncated and
# mutated JSON, wrong types, huge numbers, NULs and invalid UTF-8, SQL metacharacters, oversize
# and chunked bodies, header floods and 300 stalled uploads at it. Every answer must be a 4xx
# with a JSON error (or a close, for abuse libmicrohttpd handles itself); afterwards the same
# server process is up and healthy, the users table is intact, nothing was issued, the audit
# chain verifies, and a real login still gets its certificate.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh"

HOSTILE="$SSHCERT_BUILD_DIR/tests/hostile/sshcert-hostile"
[ -x "$HOSTILE" ] || { echo "missing $HOSTILE (build the tests)"; exit 1; }
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
D="$T_DIR/ca"
CFG="$D/cfg.json"
DB="$D/data/sshcert.db"
LOG="$D/server.log"
mkdir -p "$D"

# The server on a free port (retried if the bind races). Failure counters are raised so that
# hundreds of refused logins from 127.0.0.1 do not lock out the final real login.
start_server() {
  local try i
  for try in 1 2 3 4 5; do
    PORT=$(t_free_port)
    printf '{"listen":"127.0.0.1:%s","data_dir":"%s","auth":{"password_hash":"min","max_failures":1000,"client_max_failures":1000000},"connection_timeout":3}\n' \
      "$PORT" "$D/data" >"$CFG"
    [ -f "$D/data/ca_key" ] || "$ADMIN" -c "$CFG" init >"$D/init.out" 2>&1 || { cat "$D/init.out"; return 1; }
    : >"$LOG"
    "$SERVER" -c "$CFG" 2>>"$LOG" &
    SRV_PID=$!
    T_PIDS+=("$SRV_PID")
    for i in $(seq 200); do
      grep -q "sshcert-server listening on" "$LOG" && return 0
      kill -0 "$SRV_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null
    grep -q "cannot listen" "$LOG" || break
  done
  echo "server did not start:"; cat "$LOG"
  return 1
}

start_server || exit 1
URL="http://127.0.0.1:$PORT"
for u in alice mallory; do
  echo password123 | "$ADMIN" -c "$CFG" user add "$u" --principals "$u" --json >"$D/$u.json" \
    || { echo "user add $u failed"; exit 1; }
done
ALICE_TOTP=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$D/alice.json")
ssh-keygen -q -t ed25519 -N '' -C hostile -f "$D/key"
# The template every case starts from: well-formed, but a wrong password, so that no mutation
# of it can be a valid login.
$PY - "$D/key.pub" >"$D/template.json" <<'PY'
import json, sys
print(json.dumps({"username": "mallory", "password": "wrong-password", "totp": "123456",
                  "public_key": open(sys.argv[1]).read().strip(), "ttl": 600,
                  "principals": ["mallory"]}, separators=(",", ":")))
PY
users_before=$(sqlite3 "$DB" 'SELECT count(*) FROM users')
t_eq "two users enrolled" 2 "$users_before"

t_log "hostile.c against $URL (pid $SRV_PID)"
"$HOSTILE" "$PORT" "$D/template.json" >"$D/hostile.out" 2>&1
rc=$?
cat "$D/hostile.out" | grep -v '^ok - ' | head -60
grep '^ok - ' "$D/hostile.out"
t_eq "hostile.c: every case answered as expected" 0 "$rc"
cases=$(sed -n 's/^cases: \([0-9]*\), failed: .*/\1/p' "$D/hostile.out")
t_match "hostile.c ran its cases" '^[0-9]{4,}$' "${cases:-0}"

# The same process is still serving.
if kill -0 "$SRV_PID" 2>/dev/null; then t_ok "server still running (same pid $SRV_PID)"; else t_bad "server died" "$(tail -30 "$LOG")"; fi
t_eq "GET /v1/health after the campaign" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/v1/health")"
t_nomatch "no sanitizer report or crash in the server log" 'AddressSanitizer|runtime error|LeakSanitizer|SEGV' "$(cat "$LOG")"

# The store is intact: same users, no certificate issued, audit chain whole.
t_eq "users table intact" "$users_before" "$(sqlite3 "$DB" 'SELECT count(*) FROM users')"
t_eq "users are alice and mallory" "alice,mallory" "$(sqlite3 "$DB" "SELECT group_concat(username, ',') FROM (SELECT username FROM users ORDER BY username)")"
t_eq "every table still there" "audit,certificates,failures,meta,revoked_ranges,users" \
  "$(sqlite3 "$DB" "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type='table' ORDER BY name)")"
t_eq "no serial range revoked by the campaign" 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM revoked_ranges')"
t_eq "no certificate issued by the campaign" 0 "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"
t_eq "integrity_check" ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')"
t_rc "audit verify" 0 "$ADMIN" -c "$CFG" audit verify

# And a real client is served.
code=$(oathtool --totp -b "$ALICE_TOTP")
body=$($PY -c 'import json,sys; print(json.dumps({"username":"alice","password":"password123","totp":sys.argv[1],"public_key":open(sys.argv[2]).read().strip()}))' "$code" "$D/key.pub")
status=$(curl -s -o "$D/issued.json" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' --data-binary "$body" "$URL/v1/certificates")
t_eq "a real login after the campaign: 201" 201 "$status"
t_eq "its certificate is recorded" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM certificates WHERE username='alice'")"

kill "$SRV_PID"
wait "$SRV_PID"
t_eq "server stops cleanly on SIGTERM" 0 "$?"
t_done
