#!/bin/bash
# sshcert-server end to end, issuances that share a transaction (store_cert.c: signed outside
# the store's lock with a serial kept in memory, then written and flushed in batches, each with
# its TOTP step claim): concurrent issuances get distinct serials with one row and one audit
# event each and an intact audit chain; sshcert-admin sign in another process takes serials
# from the same sequence; one code sent 8 times at once gives one certificate; an issuance that
# fails in a batch fails alone, records nothing and leaves its code unused.
. "$SSHCERT_SRC_DIR/tests/e2e/server_common.sh"

srv_start batch '"auth":{"password_hash":"min","max_failures":100,"client_max_failures":10000}' ||
  { t_bad "server did not start"; t_done; }
LU="batch$$"
DB=$SRV_DATA/sshcert.db
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/k"
PUB=$(cat "$T_DIR/k.pub")
USERS=(u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12)
for u in "${USERS[@]}" xia yan zed; do srv_user "$u" "$LU" || exit 1; done

# issue_all OUTPREFIX STEP NAME...: one POST per name, all at once; OUTPREFIX.NAME.{code,json}
issue_all() {
  local out=$1 step=$2 n pids=()
  shift 2
  for n in "$@"; do
    curl "${SRV_CURL[@]}" -o "$out.$n.json" -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "$(json username="$n" password="$PASSWORD" totp="$(totp "$n" "$step")" public_key="$PUB")" \
      "$SRV_URL/v1/certificates" >"$out.$n.code" &
    pids+=($!)
  done
  wait "${pids[@]}"
}
codes() { # codes OUTPREFIX NAME...: "201x3 401x1"
  local n
  for n in "${@:2}"; do cat "$1.$n.code"; echo; done | sort | uniq -c |
    awk '{ printf "%sx%s ", $2, $1 }' | sed 's/ $//'
}

# ---- 12 issuances at once ----
issue_all "$T_DIR/a" 0 "${USERS[@]}"
t_eq "12 at once: 12 x 201" "201x12" "$(codes "$T_DIR/a" "${USERS[@]}")"
t_eq "12 at once: serials 1 to 12, each once" "$(seq 1 12 | paste -sd' ')" \
  "$(for u in "${USERS[@]}"; do jget serial "$T_DIR/a.$u.json"; done | sort -n | paste -sd' ')"
bad=""
for u in "${USERS[@]}"; do
  jget certificate "$T_DIR/a.$u.json" >"$T_DIR/a.$u-cert.pub"
  s=$(jget serial "$T_DIR/a.$u.json")
  ssh-keygen -L -f "$T_DIR/a.$u-cert.pub" 2>/dev/null | grep -q "Serial: $s$" || bad="$bad $u"
  [ "$(sqlite3 "$DB" "select username from certificates where serial = $s")" = "$u" ] || bad="$bad $u(row)"
done
t_eq "12 at once: each certificate carries its serial, and its row names its user" "" "$bad"
t_eq "12 at once: 12 rows, 12 cert_issued events, next_serial 13" "12|12|13" \
  "$(sqlite3 "$DB" "select (select count(*) from certificates), (select count(*) from audit where event = 'cert_issued'), (select value from meta where key = 'next_serial')")"
t_eq "12 at once: every event names its certificate's serial and user" 12 \
  "$(sqlite3 "$DB" "select count(*) from audit a join certificates c on c.serial = a.serial and c.username = a.username where a.event = 'cert_issued'")"
t_rc "12 at once: the audit chain is intact" 0 "$ADMIN" -c "$SRV_CFG" audit verify

# ---- sshcert-admin sign while the server runs: one sequence of serials, none reused ----
# The server keeps its next serial in memory (13). The operator's signing, another process,
# takes 13 from the database; the server's next issuance finds 13 taken when it inserts,
# catches up with the database and signs again with 14.
t_rc "admin sign while the server runs" 0 "$ADMIN" -c "$SRV_CFG" sign "$T_DIR/k.pub" \
  --principals "$LU" --ttl 5m
t_eq "admin sign took serial 13" "13|operator" \
  "$(sqlite3 "$DB" "select serial, issued_by from certificates order by serial desc limit 1")"
post "$(json username=xia password="$PASSWORD" totp="$(totp xia)" public_key="$PUB")"
t_eq "the server's next issuance: 201" 201 "$HTTP_CODE"
t_eq "the server's next issuance: serial 14, not 13 again" 14 "$(jget serial)"
jget certificate >"$T_DIR/xia-cert.pub"
t_has "serial 14 is the serial signed into the certificate" "Serial: 14" \
  "$(ssh-keygen -L -f "$T_DIR/xia-cert.pub")"
t_eq "serial 14's row, and next_serial 15" "xia|server|15" \
  "$(sqlite3 "$DB" "select username, issued_by, (select value from meta where key = 'next_serial') from certificates where serial = 14")"

# ---- sshcert-admin sign while issuances run: it reads and signs its serial inside its own
# write transaction, so a busy server cannot take it first ----
issue_all "$T_DIR/l" 1 u5 u6 u7 u8 u9 u10 u11 u12 &
lpid=$!
arc=""
for i in 1 2 3; do
  "$ADMIN" -c "$SRV_CFG" sign "$T_DIR/k.pub" --principals "$LU" --ttl 5m -o "$T_DIR/op$i-cert.pub" \
    >/dev/null 2>"$T_DIR/op$i.err"
  arc="$arc$?"
done
wait "$lpid"
t_eq "3 admin signs during 8 issuances: all succeed" "000" "$arc"
t_eq "... and the 8 issuances: 8 x 201" "201x8" "$(codes "$T_DIR/l" u5 u6 u7 u8 u9 u10 u11 u12)"
t_eq "... 11 more rows, 11 distinct serials, next_serial above the last" "25|25|$(( $(sqlite3 "$DB" "select max(serial) from certificates") + 1 ))" \
  "$(sqlite3 "$DB" "select count(*), count(distinct serial), (select value from meta where key = 'next_serial') from certificates")"
t_rc "... the audit chain is intact" 0 "$ADMIN" -c "$SRV_CFG" audit verify

# ---- one code sent 8 times at once: exactly one certificate ----
code=$(totp yan)
body=$(json username=yan password="$PASSWORD" totp="$code" public_key="$PUB")
pids=()
for i in 1 2 3 4 5 6 7 8; do
  curl "${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$body" "$SRV_URL/v1/certificates" >"$T_DIR/same.$i.code" &
  pids+=($!)
done
wait "${pids[@]}"
t_eq "8 uses of one code at once: one 201, seven 401" "201x1 401x7" \
  "$(codes "$T_DIR/same" 1 2 3 4 5 6 7 8)"
t_eq "one certificate row for yan" 1 "$(sqlite3 "$DB" "select count(*) from certificates where username = 'yan'")"
t_eq "seven replays audited" 7 \
  "$(sqlite3 "$DB" "select count(*) from audit where event = 'login_failed' and username = 'yan' and detail = 'replayed_totp'")"
t_eq "metrics: seven failed logins (the replays)" 7 \
  "$(metric 'sshcert_auth_failures_total{reason="invalid_credentials"}')"

# ---- an issuance that fails inside a batch fails alone ----
# A trigger refuses zed's row only; zed and four others are sent at once (the next step's
# codes: this step's are used).
sqlite3 "$DB" "CREATE TRIGGER test_refuse_zed BEFORE INSERT ON certificates WHEN NEW.username = 'zed' BEGIN SELECT RAISE(ABORT, 'test'); END;"
zcode=$(totp zed 1)
curl "${SRV_CURL[@]}" -o "$T_DIR/z.zed.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary "$(json username=zed password="$PASSWORD" totp="$zcode" public_key="$PUB")" \
  "$SRV_URL/v1/certificates" >"$T_DIR/z.zed.code" &
zpid=$!
issue_all "$T_DIR/z" 1 u1 u2 u3 u4
wait "$zpid"
t_eq "the others: 4 x 201" "201x4" "$(codes "$T_DIR/z" u1 u2 u3 u4)"
t_eq "zed: 500 internal" "500|internal" "$(cat "$T_DIR/z.zed.code")|$(jget error "$T_DIR/z.zed.json")"
t_eq "zed: no certificate in the answer" null "$(jget certificate "$T_DIR/z.zed.json")"
t_eq "zed: no row and no cert_issued event" "0|0" \
  "$(sqlite3 "$DB" "select (select count(*) from certificates where username = 'zed'), (select count(*) from audit where event = 'cert_issued' and username = 'zed')")"
t_has "zed: logged" "issuing for zed from 127.0.0.1 failed, nothing issued" "$(cat "$SRV_LOG")"
sqlite3 "$DB" "DROP TRIGGER test_refuse_zed;"
post "$(json username=zed password="$PASSWORD" totp="$zcode" public_key="$PUB")"
t_eq "zed: the same code again once the store recovers: 201 (the failed issuance did not use it up)" \
  201 "$HTTP_CODE"
post "$(json username=zed password="$PASSWORD" totp="$zcode" public_key="$PUB")"
t_error "zed: and now it is used" 401 invalid_credentials
t_eq "31 certificates in all (12 + 1 + xia + 8 + 3 operator + yan + 4 + zed), next_serial above the last" \
  "31|$(( $(sqlite3 "$DB" "select max(serial) from certificates") + 1 ))" \
  "$(sqlite3 "$DB" "select count(*), (select value from meta where key = 'next_serial') from certificates")"
t_rc "the audit chain is intact" 0 "$ADMIN" -c "$SRV_CFG" audit verify
# Every login issuance went through a batch (the 3 operator certificates did not): the
# batches recorded exactly the server's issuances, in at most as many transactions.
LOGINS=$(sqlite3 "$DB" "select count(*) from certificates where issued_by = 'server'")
t_eq "metrics: the batches recorded the $LOGINS login issuances, as issued_total counts them" \
  "$LOGINS|$LOGINS" "$(metric sshcert_issue_batched_total)|$(metric sshcert_certificates_issued_total)"
BATCHES=$(metric sshcert_issue_batches_total)
t_eq "metrics: 1 to $LOGINS batches ($BATCHES)" 1 \
  "$([ "${BATCHES:-0}" -ge 1 ] && [ "${BATCHES:-0}" -le "$LOGINS" ] && echo 1)"
# ---- the store's writer thread: every batch is written and flushed by one thread, which blocks
# every signal (SIGTERM is main's to handle) ----
# NAME xCOUNT for each kind of thread, sorted by name
THREADS=$(cat /proc/"$SRV_PID"/task/*/comm | sort | uniq -c | awk '{ printf "%sx%s ", $2, $1 }')
HTTP_THREADS=$(grep -o ', [0-9]* threads,' "$SRV_LOG" | tr -dc 0-9)
t_eq "threads: $HTTP_THREADS HTTP threads (as logged), main, the listener, one sshcert-writer" \
  "MHD-workerx${HTTP_THREADS:-none} sshcert-serverx2 sshcert-writerx1 " "$THREADS"
WRITER_BLK=$(for t in /proc/"$SRV_PID"/task/*; do
  [ "$(cat "$t/comm")" = sshcert-writer ] && awk '$1 == "SigBlk:" { print $2 }' "$t/status"; done)
BLK=$((0x${WRITER_BLK:-0}))
t_eq "the writer blocks SIGHUP, SIGINT and SIGTERM" "1 1 1" \
  "$(((BLK >> 0) & 1)) $(((BLK >> 1) & 1)) $(((BLK >> 14) & 1))"
srv_stop
t_eq "SIGTERM: exit 0" 0 "$SRV_RC"
t_done
