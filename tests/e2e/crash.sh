#!/bin/bash
# Crash safety of sshcert-server (DESIGN: "A certificate that was not recorded is never
# returned"):
#  1. kill -9 while many issuances are in flight, twice; after a restart every certificate a
#     client received (by serial) is in the database with the same text, PRAGMA
#     integrity_check is ok, `audit verify` passes and serials carry on.
#  2. the database locked by another process: a 5xx JSON error within the server's busy
#     timeout (SSHCERT_SERVER_BUSY_MS, 1 s; a login makes at most two waiting writes),
#     /v1/health 503, nothing issued; served again once the lock goes.
#  3. disk full (a small tmpfs this test mounts, or, where mounting is not permitted, a file
#     size limit on the server process): 5xx JSON errors, a log line that says what failed,
#     every 201 recorded; served again once space is freed.
#  4. data_dir not writable (a read-only bind mount; or the server run as an unprivileged
#     user with chmod, where mounting is not permitted): the server refuses to start with a
#     clear error, or answers 5xx and issues nothing.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh"

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
PASSWORD=password123

# srv_setup DIR [EXTRA_JSON]: writes DIR/cfg.json for a free port (PORT, CFG, DATA, DB set).
srv_setup() {
  DIR=$1
  mkdir -p "$DIR"
  PORT=$(t_free_port)
  CFG="$DIR/cfg.json"
  DATA=${DATA_DIR_OVERRIDE:-$DIR/data}
  DB="$DATA/sshcert.db"
  printf '{"listen":"127.0.0.1:%s","data_dir":"%s","auth":{"password_hash":"min","max_failures":1000,"client_max_failures":1000000},"connection_timeout":3%s}\n' \
    "$PORT" "$DATA" "${2:+,$2}" >"$CFG"
}

# srv_run [WRAPPER...]: starts the server in the background (SRV_PID, LOG) and waits until it
# listens; returns 1 if it exited instead (its log says why).
srv_run() {
  local i
  LOG="$DIR/server.$(date +%s%N).log"
  : >"$LOG"
  "$@" "$SERVER" -c "$CFG" 2>"$LOG" &
  SRV_PID=$!
  T_PIDS+=("$SRV_PID")
  for i in $(seq 300); do
    grep -q "sshcert-server listening on" "$LOG" && return 0
    kill -0 "$SRV_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

srv_stop() {
  kill "$SRV_PID" 2>/dev/null
  wait "$SRV_PID" 2>/dev/null
}

# add_users PREFIX N: users PREFIX1..PREFIXN, their TOTP secrets in $DIR/secrets/NAME.
add_users() {
  local i
  mkdir -p "$DIR/secrets"
  for i in $(seq "$2"); do
    echo "$PASSWORD" | "$ADMIN" -c "$CFG" user add "$1$i" --principals "$1$i" --json >"$DIR/u.json" ||
      return 1
    $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$DIR/u.json" \
      >"$DIR/secrets/$1$i"
  done
}

KEY="$T_DIR/key"
ssh-keygen -q -t ed25519 -N '' -C crash -f "$KEY"
PUB=$(cat "$KEY.pub")

# issue NAME OFFSET_STEPS OUT: one POST with the code of time step now+OFFSET; writes the body
# to OUT and prints the status (000 when the connection failed).
issue() {
  local code
  code=$(oathtool --totp -b "$(cat "$DIR/secrets/$1")" --now "@$(($(date +%s) + $2 * 30))")
  : >"$3" # curl writes nothing when the connection fails
  curl -s -o "$3" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    --data-binary "{\"username\":\"$1\",\"password\":\"$PASSWORD\",\"totp\":\"$code\",\"public_key\":\"$PUB\",\"ttl\":600}" \
    "http://127.0.0.1:$PORT/v1/certificates"
}

# check_received DIR_OF_BODIES: every 201 body that parses is in the database, same text.
# Prints "received missing mismatched".
check_received() {
  $PY - "$1" "$DB" <<'PY'
import json, os, sqlite3, sys
d, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
received = missing = mismatched = 0
for name in sorted(os.listdir(d)):
    if not name.endswith(".201"):
        continue
    try:
        body = json.load(open(os.path.join(d, name)))
        serial, cert = body["serial"], body["certificate"]
    except Exception:
        continue  # cut off by the kill: the client did not receive a certificate
    received += 1
    row = con.execute("SELECT certificate FROM certificates WHERE serial = ?", (serial,)).fetchone()
    if row is None:
        missing += 1
        print(f"missing serial {serial} ({name})", file=sys.stderr)
    elif row[0] != cert:
        mismatched += 1
        print(f"serial {serial}: database holds other text ({name})", file=sys.stderr)
print(received, missing, mismatched)
PY
}

# store_ok DESC: integrity_check, the audit chain, and every certificate row matched by its
# issuance event and every event by its row (nothing issued unrecorded, nothing half written).
store_ok() {
  t_eq "$1: PRAGMA integrity_check" ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')"
  t_rc "$1: sshcert-admin audit verify" 0 "$ADMIN" -c "$CFG" audit verify
  t_eq "$1: ...the certificates match the log" \
    "certificates match the audit log: $(sqlite3 "$DB" 'select count(*) from certificates') certificates, 0 revoked" \
    "$(printf '%s\n' "$T_OUT" | sed -n 2p)"
}

###########################################################################################
t_log "1. kill -9 with issuances in flight"
srv_setup "$T_DIR/kill"
"$ADMIN" -c "$CFG" init >/dev/null || exit 1
NUSERS=24
add_users a "$NUSERS" || exit 1
add_users b "$NUSERS" || exit 1
srv_run || { cat "$LOG"; exit 1; }

# round PREFIX MIN_201: every user of PREFIX sends its three codes (steps -1, 0, +1, in
# order) at once; once MIN_201 answers are in, the server gets SIGKILL. Bodies in $DIR/PREFIX/.
round() {
  local prefix=$1 min=$2 out="$DIR/$1" i n pids=()
  mkdir -p "$out"
  for i in $(seq "$NUSERS"); do
    (
      for s in -1 0 1; do
        st=$(issue "$prefix$i" "$s" "$out/$prefix$i.$s.tmp")
        mv "$out/$prefix$i.$s.tmp" "$out/$prefix$i.$s.$st"
      done
    ) &
    pids+=($!)
  done
  for i in $(seq 600); do
    n=$(find "$out" -name '*.201' | wc -l)
    [ "$n" -ge "$min" ] && break
    sleep 0.01
  done
  kill -9 "$SRV_PID"
  wait "$SRV_PID" 2>/dev/null
  for i in "${pids[@]}"; do wait "$i"; done
  KILLED_AT=$n
}

for r in "a 8" "b 30"; do
  set -- $r
  round "$1" "$2"
  total=$(find "$DIR/$1" -name '*.[0-9][0-9][0-9]' | wc -l)
  ok=$(find "$DIR/$1" -name '*.201' | wc -l)
  failed=$(find "$DIR/$1" -name '*.000' | wc -l)
  t_log "round $1: SIGKILL after $KILLED_AT certificates; clients got $ok x 201, $failed x no answer, of $total"
  t_match "round $1: some requests were cut off by the kill" '^[1-9]' "$failed"
  srv_run || { t_bad "round $1: restart after SIGKILL" "$(cat "$LOG")"; break; }
  read -r received missing mismatched < <(check_received "$DIR/$1")
  t_log "round $1: $received certificates received, $(sqlite3 "$DB" 'SELECT count(*) FROM certificates') in the database"
  t_match "round $1: clients received certificates" '^[1-9]' "$received"
  t_eq "round $1: every received certificate is recorded" 0 "$missing"
  t_eq "round $1: with the same text" 0 "$mismatched"
  store_ok "round $1"
  t_eq "round $1: next_serial follows the last recorded serial" \
    "$(sqlite3 "$DB" 'SELECT coalesce(max(serial), 0) + 1 FROM certificates')" \
    "$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'next_serial'")"
  t_eq "round $1: one cert_issued audit event per certificate" \
    "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE event = 'cert_issued'")"
done
# After the restarts, a new certificate takes the next serial.
echo "$PASSWORD" | "$ADMIN" -c "$CFG" user add after --principals after --json >"$DIR/u.json"
$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$DIR/u.json" >"$DIR/secrets/after"
want=$(sqlite3 "$DB" 'SELECT coalesce(max(serial), 0) + 1 FROM certificates')
t_eq "after the crashes: issuance works" 201 "$(issue after 0 "$DIR/after.json")"
t_eq "after the crashes: the next serial is $want" "$want" \
  "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$DIR/after.json" 2>/dev/null)"
srv_stop

###########################################################################################
t_log "2. database locked by another process"
srv_setup "$T_DIR/locked"
"$ADMIN" -c "$CFG" init >/dev/null || exit 1
add_users l 2 || exit 1
srv_run || { cat "$LOG"; exit 1; }
before=$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')
# Another process holds the write lock for 14 s.
{ echo 'BEGIN EXCLUSIVE;'; echo "UPDATE meta SET value = value WHERE key = 'krl_version';"; sleep 14; echo 'ROLLBACK;'; } |
  sqlite3 "$DB" &
LOCKER=$!
T_PIDS+=("$LOCKER")
sleep 0.5
t0=$(date +%s%N)
st=$(issue l1 0 "$DIR/locked.json")
ms=$((($(date +%s%N) - t0) / 1000000))
t_match "locked: issuance answers 500 or 503" '^50[03]$' "$st"
t_match "locked: with a JSON error" '"error":"(internal|unavailable)"' "$(cat "$DIR/locked.json")"
t_nomatch "locked: and no certificate" 'certificate"' "$(cat "$DIR/locked.json")"
t_log "locked: answered $st after $ms ms"
if [ "$ms" -le 3500 ]; then t_ok "locked: within two busy timeouts (2 x 1 s) plus 1.5 s"; else t_bad "locked: answer took $ms ms"; fi
# A wrong password while the failure cannot be counted: not a 401, or guesses would go
# uncounted for as long as the store cannot write.
: >"$DIR/locked-bad.json"
st=$(curl -s -o "$DIR/locked-bad.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
  --data-binary "{\"username\":\"l1\",\"password\":\"wrong-$PASSWORD\",\"totp\":\"000000\",\"public_key\":\"$PUB\"}" \
  "http://127.0.0.1:$PORT/v1/certificates")
t_eq "locked: a wrong password that cannot be counted is a 500, not a 401" 500 "$st"
t_match "locked: with the internal error" '"error":"internal"' "$(cat "$DIR/locked-bad.json")"
# Six wrong passwords at once: each failure waits for the database until its own deadline,
# not one whole wait after another's (before issue 8's eighteenth pass the sixth answered after
# six waits, ~6 s). A login reads on a reader connection (not held up) and then writes.
for i in 1 2 3 4 5 6; do
  curl -s -o "$DIR/locked-par$i.json" -w '%{http_code} %{time_total}\n' --max-time 30 \
    -H 'Content-Type: application/json' \
    --data-binary "{\"username\":\"l2\",\"password\":\"wrong-$i-$PASSWORD\",\"totp\":\"000000\",\"public_key\":\"$PUB\"}" \
    "http://127.0.0.1:$PORT/v1/certificates" >"$DIR/locked-par$i.st" &
  PAR[$i]=$!
done
for i in 1 2 3 4 5 6; do wait "${PAR[$i]}"; done
t_eq "locked: six wrong passwords at once: each a 500" "500 500 500 500 500 500" \
  "$(cat "$DIR"/locked-par[1-6].st | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')"
t_eq "locked: ... each with the internal error" 6 "$(grep -l '"error":"internal"' "$DIR"/locked-par[1-6].json | wc -l)"
ms=$(cat "$DIR"/locked-par[1-6].st | awk '{ t = $2 * 1000; if (t > m) m = t } END { printf "%d", m }')
t_log "locked: the slowest of the six answered after $ms ms"
if [ "$ms" -le 2500 ]; then t_ok "locked: each within one busy timeout (1 s) plus 1.5 s"; else t_bad "locked: the slowest of six took $ms ms"; fi
t_eq "locked: GET /v1/health is 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/v1/health")"
wait "$LOCKER"
sleep 1.1 # the health probe result is reused for a second
t_eq "lock gone: GET /v1/health is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/v1/health")"
t_eq "locked: nothing was issued" "$before" "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"
t_eq "lock gone: the same code now gets its certificate" 201 "$(issue l1 0 "$DIR/unlocked.json")"
mkdir -p "$DIR/bodies" && cp "$DIR/unlocked.json" "$DIR/bodies/x.201"
read -r received missing mismatched < <(check_received "$DIR/bodies")
t_eq "lock gone: it is recorded" "1 0 0" "$received $missing $mismatched"
store_ok "locked"
srv_stop

###########################################################################################
t_log "3. disk full"
MNT="$T_DIR/full"
mkdir -p "$MNT"
FULL_MODE=none
# CRASH_NO_MOUNT=1 exercises the fallbacks of parts 3 and 4 on a machine that could mount.
if [ "${CRASH_NO_MOUNT:-0}" != 1 ] && mount -t tmpfs -o size=3m,mode=0700 tmpfs "$MNT" 2>"$T_DIR/mount.err"; then
  FULL_MODE=tmpfs
  T_CLEANUPS+=("umount_full")
fi
umount_full() {
  [ -n "${SRV_PID:-}" ] && kill -0 "$SRV_PID" 2>/dev/null && srv_stop
  umount "$MNT"
}
DATA_DIR_OVERRIDE="$MNT/data" srv_setup "$T_DIR/fullcfg"
"$ADMIN" -c "$CFG" init >/dev/null || exit 1
add_users f 10 || exit 1
if [ "$FULL_MODE" = tmpfs ]; then
  t_log "disk full: data_dir on a 3 MiB tmpfs at $MNT"
  srv_run || { cat "$LOG"; exit 1; }
  # Fill every byte; after each refusal free 12 KiB (an issuance needs about 20-30 KiB of WAL,
  # and a login's TOTP step one 4 KiB frame), so refusals and issuances alternate.
  dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
  fill_size() { stat -c %s "$MNT/filler"; }
  free_some() { truncate -s "$(($(fill_size) - 12288))" "$MNT/filler"; }
else
  # No mount: the server runs with a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so a write
  # that would grow the database or its WAL past the limit fails with EFBIG.
  t_log "disk full: mount not permitted ($(cat "$T_DIR/mount.err")); RLIMIT_FSIZE instead"
  FULL_MODE=fsize
  limit_kb=$(($(du -k "$DB" | cut -f1) + 8))
  srv_run bash -c "trap '' XFSZ; ulimit -f $limit_kb; exec \"\$@\"" fsize || { cat "$LOG"; exit 1; }
  free_some() { :; }
fi
mkdir -p "$DIR/full"
n201=0 n5xx=0 bad=0
for u in $(seq 10); do
  for s in -1 0 1; do
    st=$(issue "f$u" "$s" "$DIR/full/f$u.$s.tmp")
    mv "$DIR/full/f$u.$s.tmp" "$DIR/full/f$u.$s.$st"
    case $st in
      201) n201=$((n201 + 1)) ;;
      500|503)
        n5xx=$((n5xx + 1))
        grep -Eq '"error":"(internal|unavailable)"' "$DIR/full/f$u.$s.$st" || bad=$((bad + 1))
        grep -q 'certificate"' "$DIR/full/f$u.$s.$st" && bad=$((bad + 1))
        free_some ;;
      401) ;; # a step outside the window (the clock moved on)
      *) bad=$((bad + 1)); t_log "disk full: unexpected status $st: $(cat "$DIR/full/f$u.$s.$st")" ;;
    esac
  done
done
t_log "disk full ($FULL_MODE): $n201 issued, $n5xx refused with 5xx"
t_match "disk full: some requests were refused with a 5xx" '^[1-9]' "$n5xx"
t_eq "disk full: every refusal is a JSON error without a certificate" 0 "$bad"
if [ "$FULL_MODE" = tmpfs ]; then
  t_match "disk full: the log says the disk is full" \
    'nothing issued: .*file system holding data_dir is full|sqlite: .*(database or disk is full|No space left)' "$(cat "$LOG")"
else
  t_log "disk full (fsize): a file size limit is not a full file system; the log can only say 'system error'"
fi
t_match "disk full: and that nothing was issued" 'failed, nothing issued|cannot record the TOTP step' "$(cat "$LOG")"
if kill -0 "$SRV_PID" 2>/dev/null; then t_ok "disk full: the server is still running"; else t_bad "disk full: the server died" "$(tail -20 "$LOG")"; fi
rm -f "$MNT/filler"
read -r received missing mismatched < <(check_received "$DIR/full")
t_eq "disk full: every received certificate is recorded" "0 0" "$missing $mismatched"
t_log "disk full: $received certificates received in all"
if [ "$FULL_MODE" = tmpfs ]; then
  sleep 1.1
  t_eq "space freed: GET /v1/health is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/v1/health")"
  echo "$PASSWORD" | "$ADMIN" -c "$CFG" user add fafter --principals fafter --json >"$DIR/u.json"
  $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$DIR/u.json" >"$DIR/secrets/fafter"
  t_eq "space freed: issuance works again" 201 "$(issue fafter 0 "$DIR/full/fafter.201")"
fi
srv_stop
store_ok "disk full"
[ "$FULL_MODE" = tmpfs ] && { umount "$MNT" && T_CLEANUPS=(); }

###########################################################################################
t_log "4. data_dir not writable"
srv_setup "$T_DIR/ro"
"$ADMIN" -c "$CFG" init >/dev/null || exit 1
add_users r 1 || exit 1
before=$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')
RO_MODE=none
if [ "${CRASH_NO_MOUNT:-0}" != 1 ] && mount --bind "$DATA" "$DATA" 2>/dev/null; then
  if mount -o remount,bind,ro "$DATA" 2>/dev/null; then
    RO_MODE="read-only bind mount"
    T_CLEANUPS+=("umount '$DATA'")
  else
    umount "$DATA"
  fi
fi
WRAP=()
if [ "$RO_MODE" = none ]; then
  # Root ignores file modes, so run the server as nobody over a data_dir it owns but may not
  # write to.
  RO_MODE="chmod, server as nobody"
  chown -R nobody "$DATA"
  chmod 0500 "$DATA"
  chmod 0400 "$DB"
  WRAP=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
t_log "data_dir not writable: $RO_MODE"
if srv_run "${WRAP[@]}"; then
  t_log "the server started on a read-only data_dir; it must refuse every write"
  t_eq "read-only: GET /v1/health is 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/v1/health")"
  st=$(issue r1 0 "$DIR/ro.json")
  t_match "read-only: issuance is a 5xx" '^50[03]$' "$st"
  t_match "read-only: with a JSON error" '"error":"(internal|unavailable)"' "$(cat "$DIR/ro.json")"
  srv_stop
else
  wait "$SRV_PID" 2>/dev/null
  t_ok "read-only: the server refuses to start"
  t_match "read-only: and says why, naming the database" "cannot open database $DB: not writable" "$(cat "$LOG")"
  t_log "its words: $(head -c 300 "$LOG")"
fi
if [ "$RO_MODE" = "read-only bind mount" ]; then
  umount "$DATA"
  T_CLEANUPS=()
else
  chmod 0700 "$DATA"
  chmod 0600 "$DB"
  chown -R root "$DATA"
fi
t_eq "read-only: nothing was issued" "$before" "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"
store_ok "read-only"
t_done
