#!/bin/bash
# sshcert-server end to end, revocation, audit and operations (the server side of issue 4):
# GET /v1/krl parsed by ssh-keygen, ETag/If-None-Match, `cert revoke` (serials and --user) and
# a real sshd with RevokedKeys refusing exactly the revoked certificate; `sshcert-admin krl`
# writing the same list; `audit verify` and a row edited with sqlite3; /metrics with exact
# values; a certificate that cannot be recorded is never returned (500); /v1/health 503 when
# the database cannot be written; SIGTERM finishing a request in flight and exiting 0.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/server_common.sh"

LU="scops$$" # the Unix login every certificate here is for; per run (see server_api.sh)
srv_start ops '"auth":{"password_hash":"min","max_failures":3,"lockout":"1m"}' || exit 1
t_schema "the test's config matches config.schema.json" config "$SRV_CFG"
DB="$SRV_DATA/sshcert.db"
t_user "$LU" || exit 1
for u in olga oscar pia vic wen; do srv_user "$u" "$LU" || exit 1; done
for k in a b c; do ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/k$k"; done
N304=0
krl_get() { # krl_get FILE [ETAG]: GET /v1/krl into FILE, with If-None-Match when ETAG given
  if [ -n "${2:-}" ]; then get /v1/krl -H "If-None-Match: $2"; else get /v1/krl; fi
  cp "$RESP" "$1"
  [ "$HTTP_CODE" = 304 ] && N304=$((N304 + 1))
  return 0
}
revoked() { # revoked CERT: ssh-keygen -Q against the current served KRL says REVOKED
  ssh-keygen -Q -f "$T_DIR/served.krl" "$1" 2>&1
}

# ---- the KRL before any revocation ----
krl_get "$T_DIR/krl0"
t_eq "GET /v1/krl: 200" 200 "$HTTP_CODE"
t_eq "GET /v1/krl: octet-stream" application/octet-stream "$(header Content-Type)"
E0=$(header ETag)
t_match "GET /v1/krl: a quoted ETag" '^"[0-9a-f]+"$' "$E0"
t_rc "empty KRL: ssh-keygen -Q -l parses it" 0 ssh-keygen -Q -l -f "$T_DIR/krl0"
t_eq "empty KRL: no serials" 0 "$(printf '%s\n' "$T_OUT" | grep -c '^serial')"
krl_get "$T_DIR/krl0b" "$E0"
t_eq "If-None-Match with the ETag: 304" 304 "$HTTP_CODE"
t_eq "304: no body" 0 "$(stat -c %s "$T_DIR/krl0b")"
t_eq "304: the same ETag" "$E0" "$(header ETag)"
krl_get "$T_DIR/krl0c" '"0000000000000000"'
t_eq "If-None-Match with another tag: 200" 200 "$HTTP_CODE"

# ---- certificates: 1 olga, 2 oscar, 3 and 4 pia ----
issue olga "$T_DIR/ka" 0
issue oscar "$T_DIR/kb" 0
issue pia "$T_DIR/kc" 0
issue pia "$T_DIR/kc" 1
cp "$T_DIR/kc-pia-cert.pub" "$T_DIR/kc-pia4-cert.pub"
t_eq "serials 1..4" "1 2 3 4" "$(sqlite3 "$DB" 'select serial from certificates order by serial' | xargs)"
# pia's first certificate went to kc-pia-cert.pub and was overwritten: fetch serial 3 back.
sqlite3 "$DB" 'select certificate from certificates where serial = 3' >"$T_DIR/kc-pia3-cert.pub"
krl_get "$T_DIR/krl0d" "$E0"
t_eq "issuing revokes nothing: still 304" 304 "$HTTP_CODE"

# A device: sshd with RevokedKeys on the KRL it fetched, refreshed by rename.
cp "$T_DIR/krl0" "$T_DIR/device.krl"
t_sshd ops "$SRV_DATA/ca_key.pub" "$T_DIR/device.krl" || exit 1
CERT1="$T_DIR/ka-olga-cert.pub"
CERT2="$T_DIR/kb-oscar-cert.pub"
t_rc "device, empty KRL: olga's certificate logs in" 0 t_ssh "$SSHD_PORT_ops" "$LU" "$T_DIR/ka" "$CERT1"
t_wait_file_match "$SSHD_LOG_ops" "Accepted publickey for $LU .* ID olga#1 \(serial 1\)" 10
t_eq "sshd log: accepted olga#1 (serial 1)" 0 "$?"

# ---- revoke serial 1 ----
t_rc "cert revoke 1" 0 "$ADMIN" -c "$SRV_CFG" cert revoke 1 --reason "laptop stolen"
t_eq "cert revoke 1: says so" "revoked serial 1" "$T_OUT"
krl_get "$T_DIR/served.krl" "$E0"
t_eq "after a revocation the old ETag gets 200" 200 "$HTTP_CODE"
E1=$(header ETag)
t_eq "after a revocation: a new ETag" 1 "$([ -n "$E1" ] && [ "$E1" != "$E0" ] && echo 1 || echo 0)"
t_rc "ssh-keygen -Q -l parses the KRL" 0 ssh-keygen -Q -l -f "$T_DIR/served.krl"
t_eq "the KRL lists serial 1, nothing else" "serial: 1" "$(printf '%s\n' "$T_OUT" | grep -E '^(serial|id|hash|key)')"
t_has "the KRL is for this CA" "$(ssh-keygen -l -E sha256 -f "$SRV_DATA/ca_key.pub" | awk '{print $2}')" "$T_OUT"
t_rc "ssh-keygen -Q: serial 1 revoked (exit 1)" 1 ssh-keygen -Q -f "$T_DIR/served.krl" "$CERT1"
t_has "ssh-keygen -Q: REVOKED" "$CERT1 (olga#1): REVOKED" "$T_OUT"
t_rc "ssh-keygen -Q: serial 2 ok" 0 ssh-keygen -Q -f "$T_DIR/served.krl" "$CERT2"
t_has "ssh-keygen -Q: ok" "(oscar#2): ok" "$T_OUT"
krl_get "$T_DIR/krl1b" "$E1"
t_eq "If-None-Match with the new ETag: 304" 304 "$HTTP_CODE"

# sshcert-admin krl writes the same list (only generated_date, header bytes 20..27, differs).
samekrl() { # samekrl A B: 0 when the KRLs are equal but for their generation date
  "$PY" -c 'import sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
sys.exit(0 if len(a) == len(b) and a[:20] + a[28:] == b[:20] + b[28:] else 1)' "$1" "$2"
}
t_rc "sshcert-admin krl -o FILE" 0 "$ADMIN" -c "$SRV_CFG" krl -o "$T_DIR/admin.krl"
t_rc "krl -o: the same KRL as served" 0 samekrl "$T_DIR/served.krl" "$T_DIR/admin.krl"
t_eq "krl -o: the same list for ssh-keygen" \
  "$(ssh-keygen -Q -l -f "$T_DIR/served.krl" | grep -v '^# Generated')" \
  "$(ssh-keygen -Q -l -f "$T_DIR/admin.krl" | grep -v '^# Generated')"
t_eq "krl -o: mode 0644" 644 "$(stat -c %a "$T_DIR/admin.krl")"
"$ADMIN" -c "$SRV_CFG" krl >"$T_DIR/stdout.krl"
t_rc "krl to stdout: the same KRL" 0 samekrl "$T_DIR/served.krl" "$T_DIR/stdout.krl"

# The device refreshes its KRL (rename into place): the revoked certificate is refused at once,
# the others still work.
cp "$T_DIR/served.krl" "$T_DIR/device.krl.new"
mv "$T_DIR/device.krl.new" "$T_DIR/device.krl"
t_rc "device: the revoked certificate is refused" 255 t_ssh "$SSHD_PORT_ops" "$LU" "$T_DIR/ka" "$CERT1"
t_wait_file_match "$SSHD_LOG_ops" "revoked by file $(re_escape "$T_DIR/device.krl")" 10
t_eq "sshd log: revoked by file" 0 "$?"
t_rc "device: oscar's certificate still logs in" 0 t_ssh "$SSHD_PORT_ops" "$LU" "$T_DIR/kb" "$CERT2"
t_wait_file_match "$SSHD_LOG_ops" "Accepted publickey for $LU .* ID oscar#2 \(serial 2\)" 10
t_eq "sshd log: accepted oscar#2 (serial 2)" 0 "$?"

# ---- revocation refusals, and --user ----
t_rc "revoke 1 again: exit 1" 1 "$ADMIN" -c "$SRV_CFG" cert revoke 1
t_has "revoke 1 again: already revoked" "serial 1: already revoked" "$T_ERR"
t_rc "revoke an unknown serial: exit 1" 1 "$ADMIN" -c "$SRV_CFG" cert revoke 99
t_has "revoke 99: no such certificate" "serial 99: no such certificate" "$T_ERR"
t_rc "revoke abc: usage (exit 2)" 2 "$ADMIN" -c "$SRV_CFG" cert revoke abc
# A list is revoked all or none: one bad serial in it revokes nothing.
KV=$(sqlite3 "$DB" "select value from meta where key = 'krl_version'")
t_rc "revoke 2 99 (99 unknown): exit 1" 1 "$ADMIN" -c "$SRV_CFG" cert revoke 2 99
t_eq "...naming the refused serial, and that nothing was revoked" \
  "sshcert-admin: serial 99: no such certificate|sshcert-admin: nothing revoked (1 serial refused)" \
  "$(printf '%s\n' "$T_ERR" | paste -sd'|')"
t_eq "...prints no revocation" "" "$T_OUT"
t_eq "...serial 2 stays unrevoked, the KRL version unchanged" "0|$KV" \
  "$(sqlite3 "$DB" "select (select count(*) from certificates where serial = 2 and revoked_at is not null), (select value from meta where key = 'krl_version')")"
t_rc "revoke 2 2: usage (exit 2)" 2 "$ADMIN" -c "$SRV_CFG" cert revoke 2 2
t_eq "...saying so" "sshcert-admin: serial 2 is listed twice" "$(printf '%s\n' "$T_ERR" | head -1)"
t_rc "cert revoke --user pia" 0 "$ADMIN" -c "$SRV_CFG" cert revoke --user pia --reason "left the company"
t_eq "revoke --user: how many" "revoked 2 certificate(s) of pia" "$T_OUT"
t_rc "revoke --user pia again: exit 1" 1 "$ADMIN" -c "$SRV_CFG" cert revoke --user pia
t_has "revoke --user again: nothing revoked" "nothing revoked" "$T_ERR"
# An expired certificate (offline-signed for 1 s) is not silently "revoked".
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/kx"
t_rc "offline sign for 1s" 0 "$ADMIN" -c "$SRV_CFG" sign "$T_DIR/kx.pub" --principals "$LU" --ttl 1s
XS=$(sqlite3 "$DB" "select max(serial) from certificates")
t_eq "offline-signed: serial 5, issued by the operator" "5|operator" \
  "$(sqlite3 "$DB" "select serial, issued_by from certificates where serial = $XS")"
sleep 2
t_rc "revoke an expired serial: exit 1" 1 "$ADMIN" -c "$SRV_CFG" cert revoke "$XS"
t_has "revoke an expired serial: says so" "serial $XS: already expired" "$T_ERR"

krl_get "$T_DIR/served.krl" "$E1"
t_eq "KRL after revoke --user: 200" 200 "$HTTP_CODE"
for c in "$CERT1" "$T_DIR/kc-pia3-cert.pub" "$T_DIR/kc-pia4-cert.pub"; do
  t_rc "revoked: $(basename "$c")" 1 ssh-keygen -Q -f "$T_DIR/served.krl" "$c"
done
t_rc "not revoked: oscar's" 0 ssh-keygen -Q -f "$T_DIR/served.krl" "$CERT2"
"$ADMIN" -c "$SRV_CFG" cert list --json >"$T_DIR/list.json"
t_eq "cert list --json: status, revocation time set, reason" \
  "1 revoked 1 laptop stolen;2 active 0 None;3 revoked 1 left the company;4 revoked 1 left the company;5 expired 0 None;" \
  "$("$PY" -c 'import json, sys
for c in json.load(open(sys.argv[1])):
    print(c["serial"], c["status"], int(c["revoked_at"] is not None), c["revoke_reason"], end=";")' "$T_DIR/list.json")"
"$ADMIN" -c "$SRV_CFG" cert show 1 --json >"$T_DIR/show1.json"
t_eq "cert show 1 --json: the reason" "laptop stolen" "$(jget revoke_reason "$T_DIR/show1.json")"
t_match "cert show 1: revoked, with the reason" 'revoked: .*\(laptop stolen\)' \
  "$("$ADMIN" -c "$SRV_CFG" cert show 1)"
t_eq "cert list --active: only oscar's" 2 \
  "$("$ADMIN" -c "$SRV_CFG" cert list --active --json | "$PY" -c 'import json,sys; print(" ".join(str(c["serial"]) for c in json.load(sys.stdin)))')"
t_eq "cert list --user pia" "3 4" \
  "$("$ADMIN" -c "$SRV_CFG" cert list --user pia --json | "$PY" -c 'import json,sys; print(" ".join(str(c["serial"]) for c in json.load(sys.stdin)))')"

# ---- a certificate that cannot be recorded is never returned ----
sqlite3 "$DB" "CREATE TRIGGER test_no_insert BEFORE INSERT ON certificates BEGIN SELECT RAISE(ABORT, 'test'); END;"
post "$(json username=vic password="$PASSWORD" totp="$(totp vic)" public_key="$(cat "$T_DIR/kb.pub")")"
t_error "the insert fails: 500" 500 internal
t_eq "500: no certificate in the answer" null "$(jget certificate)"
t_eq "500: no row, next_serial unchanged" "0|6" \
  "$(sqlite3 "$DB" "select (select count(*) from certificates where username = 'vic'), (select value from meta where key = 'next_serial')")"
t_has "500: logged" "issuing for vic from 127.0.0.1 failed, nothing issued" "$(cat "$SRV_LOG")"
sqlite3 "$DB" "DROP TRIGGER test_no_insert;"
post "$(json username=vic password="$PASSWORD" totp="$(totp vic 1)" public_key="$(cat "$T_DIR/kb.pub")")"
t_eq "after the store recovers: 201" 201 "$HTTP_CODE"
t_eq "after the store recovers: the serial was not used up" 6 "$(jget serial)"

# ---- /v1/health 503 when the database cannot be written ----
# As root, file modes do not stop writes. Two ways that do: the immutable attribute on the
# database and its WAL (ext4, xfs, btrfs; not every overlay or tmpfs supports it), and another
# process holding SQLite's write lock (always available; the probe gives up after the 5 s busy
# timeout). The health probe runs at most once a second, hence the sleeps.
sleep 1.1
get /v1/health # a probe that writes: the WAL file exists now
t_eq "before: /v1/health 200" 200 "$HTTP_CODE"
T_CLEANUPS+=("chattr -i '$DB' '$DB-wal' 2>/dev/null")
if [ -f "$DB-wal" ] && chattr +i "$DB" "$DB-wal" 2>"$T_DIR/chattr.err"; then
  sleep 1.1
  get /v1/health
  t_error "immutable database: /v1/health" 503 unavailable
  post "$(json username=wen password="$PASSWORD" totp="$(totp wen)" public_key="$(cat "$T_DIR/kb.pub")")"
  t_error "immutable database: issuing" 500 internal
  chattr -i "$DB" "$DB-wal"
  sleep 1.1
  get /v1/health
  t_eq "writable again: /v1/health 200" 200 "$HTTP_CODE"
  post "$(json username=wen password="$PASSWORD" totp="$(totp wen)" public_key="$(cat "$T_DIR/kb.pub")")"
  t_eq "writable again: the same code issues (it was not used up)" 201 "$HTTP_CODE"
else
  chattr -i "$DB" "$DB-wal" 2>/dev/null
  t_log "chattr +i is not supported here ($(cat "$T_DIR/chattr.err" 2>/dev/null || echo no WAL file)); the write-lock case below covers 503"
  post "$(json username=wen password="$PASSWORD" totp="$(totp wen)" public_key="$(cat "$T_DIR/kb.pub")")"
  t_eq "wen: 201" 201 "$HTTP_CODE"
fi
"$PY" -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(60)' "$DB" >"$T_DIR/locker.out" 2>&1 &
LOCKER=$!
T_PIDS+=("$LOCKER")
for i in $(seq 100); do grep -q locked "$T_DIR/locker.out" && break; sleep 0.05; done
t_eq "another process holds the write lock" locked "$(cat "$T_DIR/locker.out")"
sleep 1.1
get /v1/health
t_error "database locked by another writer: /v1/health" 503 unavailable
kill "$LOCKER"
wait "$LOCKER" 2>/dev/null
sleep 1.1
get /v1/health
t_eq "lock released: /v1/health 200" 200 "$HTTP_CODE"

# ---- /metrics: exact values ----
post "$(json username=oscar password=wrongpassword1 totp=123456 public_key="$(cat "$T_DIR/kb.pub")")"
t_error "one wrong password" 401 invalid_credentials
get /metrics
t_eq "GET /metrics: 200" 200 "$HTTP_CODE"
t_match "GET /metrics: Prometheus text" '^text/plain; version=0\.0\.4' "$(header Content-Type)"
cp "$RESP" "$T_DIR/metrics.txt"
m() { awk -v m="$1" '$1 == m { print $2 }' "$T_DIR/metrics.txt"; }
t_eq "metrics: certificates issued by the server (not the offline one)" 6 "$(m sshcert_certificates_issued_total)"
t_eq "metrics: certificates revoked" 3 "$(m sshcert_certificates_revoked_total)"
t_eq "metrics: active certificates (oscar, vic, wen)" 3 "$(m sshcert_certificates_active)"
t_eq "metrics: locked users" 0 "$(m sshcert_users_locked)"
t_eq "metrics: auth failures invalid_credentials (one bad password)" 1 \
  "$(m 'sshcert_auth_failures_total{reason="invalid_credentials"}')"
for r in locked_out disabled; do
  t_eq "metrics: auth failures $r" 0 "$(m "sshcert_auth_failures_total{reason=\"$r\"}")"
done
t_eq "metrics: 201 answers" 6 "$(m 'sshcert_http_requests_total{code="201"}')"
t_eq "metrics: 304 answers" "$N304" "$(m 'sshcert_http_requests_total{code="304"}')"
t_eq "metrics: 401 answers" 1 "$(m 'sshcert_http_requests_total{code="401"}')"
t_eq "metrics: issuance histogram count" 6 "$(m sshcert_issue_duration_seconds_count)"
t_eq "metrics: issuance histogram +Inf bucket" 6 "$(m 'sshcert_issue_duration_seconds_bucket{le="+Inf"}')"
t_match "metrics: types declared" '# TYPE sshcert_issue_duration_seconds histogram' "$(cat "$T_DIR/metrics.txt")"
# Each metric family once, each sample a name and a number.
t_eq "metrics: every sample line is NAME VALUE" 0 \
  "$(grep -v '^#' "$T_DIR/metrics.txt" | grep -cvE '^[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9.e+-]+$')"

# ---- the audit log ----
N=$(sqlite3 "$DB" 'select count(*) from audit')
t_rc "audit verify: intact" 0 "$ADMIN" -c "$SRV_CFG" audit verify
t_eq "audit verify: counts every entry and names the last one's hash (to record elsewhere), then the certificates and users that match it" \
  "audit log intact: $N entries, last $(sqlite3 "$DB" 'select hash from audit order by id desc limit 1')
certificates match the audit log: $(sqlite3 "$DB" 'select count(*) from certificates') certificates, $(sqlite3 "$DB" 'select count(*) from certificates where revoked_at is not null') revoked
users match the audit log: $(sqlite3 "$DB" 'select count(*) from users') users" \
  "$T_OUT"
"$ADMIN" -c "$SRV_CFG" audit export >"$T_DIR/audit.jsonl"
t_eq "audit export: one JSON line per entry" "$N" "$("$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["hash"]))' "$T_DIR/audit.jsonl")"
t_eq "audit export: the kinds of events" \
  "cert_issued cert_revoked cert_signed_offline login_failed user_added" \
  "$("$PY" -c 'import json, sys
print(" ".join(sorted({json.loads(l)["event"] for l in open(sys.argv[1])})))' "$T_DIR/audit.jsonl")"
t_eq "audit: the revocation with its reason" "cert_revoked|operator|olga|1|laptop stolen" \
  "$(sqlite3 "$DB" "select event, actor, username, serial, detail from audit where event = 'cert_revoked' and serial = 1")"
t_rc "audit export --since 2^63 - 1: accepted" 0 "$ADMIN" -c "$SRV_CFG" audit export --since 9223372036854775807
t_eq "...nothing that late" "" "$T_OUT"
t_rc "audit export --since 2^63: usage (exit 2), not everything" 2 "$ADMIN" -c "$SRV_CFG" audit export --since 9223372036854775808
t_eq "...saying so" "sshcert-admin: --since needs Unix seconds (0 to 9223372036854775807)" "$(printf '%s\n' "$T_ERR" | head -1)"
t_eq "...and prints nothing" "" "$T_OUT"
t_eq "audit export --since the future: nothing" "" \
  "$("$ADMIN" -c "$SRV_CFG" audit export --since "$(( $(date +%s) + 100 ))")"
# --after-id: the cursor for shipping the log (ids rise; times can step back, see README).
NIDS=$(sqlite3 "$DB" "select count(*) from audit")
t_eq "audit export --after-id 3: the entries after id 3, in order" \
  "$(seq 4 "$NIDS" | xargs)" \
  "$("$ADMIN" -c "$SRV_CFG" audit export --after-id 3 | "$PY" -c 'import json, sys
print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))')"
t_eq "audit export --after-id (the last id): nothing" "" \
  "$("$ADMIN" -c "$SRV_CFG" audit export --after-id "$NIDS")"
t_eq "...with --since as well, both apply" "" \
  "$("$ADMIN" -c "$SRV_CFG" audit export --after-id 3 --since "$(( $(date +%s) + 100 ))")"
t_rc "audit export --after-id x: usage (exit 2)" 2 "$ADMIN" -c "$SRV_CFG" audit export --after-id x
t_eq "...saying so" "sshcert-admin: --after-id needs an entry id (0 to 9223372036854775807)" "$(printf '%s\n' "$T_ERR" | head -1)"
ORIG=$(sqlite3 "$DB" "select detail from audit where id = 2")
sqlite3 "$DB" "update audit set detail = 'x' where id = 2"
t_verify_fails "an edited row" "audit log broken at entry 2" t_has
sqlite3 "$DB" "update audit set detail = '$ORIG' where id = 2"
t_rc "the row restored: intact again" 0 "$ADMIN" -c "$SRV_CFG" audit verify
# What the hash does not see still breaks the row: text after a NUL, a number stored as text.
sqlite3 "$DB" "update audit set detail = CAST(detail || X'00' || 'alice,root' AS TEXT) where id = 2"
t_verify_fails "a detail with a NUL and more after it" "audit log broken at entry 2" t_has
sqlite3 "$DB" "update audit set detail = '$ORIG' where id = 2"
TS2=$(sqlite3 "$DB" "select ts from audit where id = 2")
sqlite3 "$DB" "update audit set ts = ts || ' (edited)' where id = 2"
t_eq "(the time now text, which reads back as the same number)" "text|$TS2" \
  "$(sqlite3 "$DB" "select typeof(ts), CAST(ts AS INTEGER) from audit where id = 2")"
t_verify_fails "a time stored as text" "audit log broken at entry 2" t_has
sqlite3 "$DB" "update audit set ts = $TS2 where id = 2"
t_rc "both restored: intact again" 0 "$ADMIN" -c "$SRV_CFG" audit verify
# The chain does not cover the certificates table; audit verify compares the two. Each edit
# below leaves the chain intact (its line still printed) and is found at its serial.
XC="sshcert-admin: certificates table does not match the audit log at serial"
t_eq "(serials 1 and 3 are revoked, 2 is not)" "1|laptop stolen 2| 3|left the company" \
  "$(sqlite3 "$DB" "select serial, revoke_reason from certificates where serial <= 3" | xargs)"
# xc_edit DESC EDIT UNDO SERIAL WHY: after the SQL EDIT, audit verify exits 1 naming SERIAL and
# WHY, with the chain itself intact; UNDO puts the table back.
UNREV="the audit log has it revoked, but its row does not say so as logged (the row edited; the KRL may leave it out)"
UNLOGGED="its row matches no issuance event in the audit log (the row edited, or added without the log)"
# table_edit DESC EDIT UNDO WANT: the same with WANT the whole message.
table_edit() {
  sqlite3 "$DB" "$2"
  t_verify_fails "$1" "$4"
  t_eq "$1: ...the chain itself intact" "audit log intact: $N entries" "$(printf '%s' "$T_OUT" | cut -d, -f1)"
  sqlite3 "$DB" "$3"
  t_rc "$1: ...put back: audit verify exits 0" 0 "$ADMIN" -c "$SRV_CFG" audit verify
}
xc_edit() { table_edit "$1" "$2" "$3" "$XC $4: $5"; }
xc_edit "a revocation undone in the certificates table" \
  "update certificates set revoked_at = NULL, revoke_reason = NULL where serial = 1" \
  "update certificates set revoked_at = (select ts from audit where event = 'cert_revoked' and serial = 1), revoke_reason = 'laptop stolen' where serial = 1" \
  1 "$UNREV"
t_rc "restored: audit verify exits 0" 0 "$ADMIN" -c "$SRV_CFG" audit verify
xc_edit "a revocation's reason edited" \
  "update certificates set revoke_reason = 'expired anyway' where serial = 1" \
  "update certificates set revoke_reason = 'laptop stolen' where serial = 1" \
  1 "its row says revoked, but no cert_revoked event in the audit log matches (the row edited)"
xc_edit "a certificate's end of validity edited" \
  "update certificates set valid_before = valid_before - 60 where serial = 2" \
  "update certificates set valid_before = valid_before + 60 where serial = 2" 2 "$UNLOGGED"
xc_edit "a certificate's principals edited" \
  "update certificates set principals = principals || ',root' where serial = 2" \
  "update certificates set principals = substr(principals, 1, length(principals) - 5) where serial = 2" \
  2 "$UNLOGGED"
# Since schema 4 the issuance event also names the key, valid_after and the certificate line,
# so an edit of those is found too (before, each of these three passed verify).
xc_edit "a certificate's key fingerprint edited" \
  "update certificates set key_fingerprint = key_fingerprint || 'x' where serial = 2" \
  "update certificates set key_fingerprint = substr(key_fingerprint, 1, length(key_fingerprint) - 1) where serial = 2" \
  2 "$UNLOGGED"
xc_edit "a certificate's start of validity edited" \
  "update certificates set valid_after = valid_after - 86400 where serial = 2" \
  "update certificates set valid_after = valid_after + 86400 where serial = 2" 2 "$UNLOGGED"
xc_edit "a certificate line swapped for another's" \
  "create table saved2 as select certificate from certificates where serial = 2; update certificates set certificate = (select certificate from certificates where serial = 3) where serial = 2" \
  "update certificates set certificate = (select certificate from saved2) where serial = 2; drop table saved2" \
  2 "$UNLOGGED"
xc_edit "a certificate row deleted" \
  "create table saved as select * from certificates where serial = 3; delete from certificates where serial = 3" \
  "insert into certificates select * from saved; update saved set serial = 999999" \
  3 "its issuance event matches no row in the certificates table (the row edited or deleted)"
xc_edit "a certificate row added without the log" \
  "insert into certificates select * from saved; drop table saved" \
  "delete from certificates where serial = 999999" 999999 "$UNLOGGED"
t_rc "all restored: audit verify exits 0" 0 "$ADMIN" -c "$SRV_CFG" audit verify
t_eq "...and says the certificates match" "certificates match the audit log: 7 certificates, 3 revoked" \
  "$(printf '%s' "$T_OUT" | sed -n 2p)"
# Since schema 4 every user event records the row it leaves (principals, max ttl, locked, and
# hashes of the password hash and of the sealed TOTP secret); verify compares each users row
# with its name's latest event. Before, each edit below passed verify.
UC="sshcert-admin: users table does not match the audit log at user"
UROW="its row is not as the name's latest user event in the audit log records it (principals, max ttl, locked, password or TOTP secret edited; or the row added, or kept after user_deleted, without the log)"
t_rc "(pia's password changed through the admin)" 0 sh -c 'printf "%s\n" "$3" | "$1" -c "$2" user passwd pia' - "$ADMIN" "$SRV_CFG" "another-$PASSWORD"
t_rc "(oscar locked through the admin)" 0 "$ADMIN" -c "$SRV_CFG" user lock oscar
t_rc "...the users table matches the log" 0 "$ADMIN" -c "$SRV_CFG" audit verify
t_eq "...and says so" "users match the audit log: 5 users" "$(printf '%s' "$T_OUT" | sed -n 3p)"
N=$(sqlite3 "$DB" 'select count(*) from audit') # the two events above
# uc_edit DESC EDIT UNDO USER WHY: as xc_edit, for the users table.
uc_edit() { table_edit "$1" "$2" "$3" "$UC $4: $5"; }
uc_edit "root added to a user's principals" \
  "update users set principals = principals || ',root' where username = 'vic'" \
  "update users set principals = substr(principals, 1, length(principals) - 5) where username = 'vic'" \
  vic "$UROW"
uc_edit "a locked user unlocked in the table" \
  "update users set disabled = 0 where username = 'oscar'" \
  "update users set disabled = 1 where username = 'oscar'" oscar "$UROW"
uc_edit "another user's password hash and TOTP secret copied over wen's" \
  "create table saved as select password_hash, totp_secret from users where username = 'wen'; update users set password_hash = (select password_hash from users where username = 'vic'), totp_secret = (select totp_secret from users where username = 'vic') where username = 'wen'" \
  "update users set password_hash = (select password_hash from saved), totp_secret = (select totp_secret from saved) where username = 'wen'; drop table saved" \
  wen "$UROW"
uc_edit "a max ttl raised" \
  "update users set max_ttl = 31536000 where username = 'pia'" \
  "update users set max_ttl = NULL where username = 'pia'" pia "$UROW"
uc_edit "a user row added without the log" \
  "insert into users(username, password_hash, totp_secret, principals, created_at, updated_at) select 'mallory', password_hash, totp_secret, 'root', 0, 0 from users where username = 'vic'" \
  "delete from users where username = 'mallory'" mallory "$UROW"
uc_edit "a user row deleted without the log" \
  "create table saved as select * from users where username = 'olga'; delete from users where username = 'olga'" \
  "insert into users select * from saved; drop table saved" olga \
  "the audit log has the user, but the users table does not (the row deleted without the log)"
# Since schema 5 a login's issuance event names its TOTP step: a row's step set back (which
# would accept a used code again) is found. Before, it passed verify.
t_eq "vic's last issuance names the step the row holds" 1 \
  "$(sqlite3 "$DB" "select detail like 'step=' || (select totp_last_step from users where username = 'vic') || ' key_id=vic#%' from audit where username = 'vic' and event = 'cert_issued' order by id desc limit 1")"
uc_edit "a user's last TOTP step set back" \
  "update users set totp_last_step = totp_last_step - 1 where username = 'vic'" \
  "update users set totp_last_step = totp_last_step + 1 where username = 'vic'" vic \
  "its last TOTP step is older than the last one the audit log records for its logins (the row's step set back: a used code would be accepted again)"
# An edit that a later event would take into the log as the row's state: that event records
# the row it found, which is not what the event before left. The log is then at odds for good.
sqlite3 "$DB" "update users set principals = principals || ',root' where username = 'vic'"
t_rc "an edit, then the operator's user lock: the lock works" 0 "$ADMIN" -c "$SRV_CFG" user lock vic
t_eq "...its event recorded the row it found" 1 \
  "$(sqlite3 "$DB" "select detail like 'state=principals=$LU,root %' from audit where username = 'vic' order by id desc limit 1")"
t_verify_fails "...then vic's lock event" "$UC vic: a user event found the row other than the event before it left it (the row edited between them, without the log)"
t_rc "...and a backup refuses the copy" 1 "$ADMIN" -c "$SRV_CFG" backup "$T_DIR/bk-vic"
t_has "...saying why" "the copy's users table does not match the audit log at user vic" "$T_ERR"
sqlite3 "$DB" "update audit set ts = ts + 1 where id = 5"
t_verify_fails "an edited time" "audit log broken at entry 5" t_has
sqlite3 "$DB" "update audit set ts = ts - 1 where id = 5; delete from audit where id = 3"
t_verify_fails "a deleted row, the entry after the gap named" "audit log broken at entry 4" t_has
t_error_bodies

# ---- a KRL of 1,000,000 revoked serials, built by the server and by sshcert-admin ----
# Every other serial from 1002 to 2001000 (no single range to hide in), revoked and unexpired,
# written straight into the store; the version bump is what a revocation does.
sqlite3 "$DB" "INSERT INTO certificates(serial, key_id, username, principals, key_fingerprint,
  valid_after, valid_before, issued_at, issued_by, certificate, revoked_at)
  SELECT 1000 + 2 * value, 'bulk#' || value, 'bulk', 'bulk', 'SHA256:x', 0, 4000000000, 0,
  'server', 'x', 1 FROM generate_series(1, 1000000);
  UPDATE meta SET value = value + 1 WHERE key = 'krl_version';"
t_eq "1,000,000 revoked rows added" 1000000 "$(sqlite3 "$DB" "select count(*) from certificates where username = 'bulk'")"
krl_get "$T_DIR/big.krl" "$E1"
t_eq "1M KRL: 200" 200 "$HTTP_CODE"
t_rc "1M KRL: ssh-keygen -Q -l parses it" 0 ssh-keygen -Q -l -f "$T_DIR/big.krl"
printf '%s\n' "$T_OUT" | grep '^serial' >"$T_DIR/big.list"
t_eq "1M KRL: 1,000,003 serials (1, 3 and 4, and the bulk)" 1000003 "$("$PY" -c 'import sys
n = 0
for line in open(sys.argv[1]):
    lo, _, hi = line.split()[1].partition("-")
    n += int(hi or lo) - int(lo) + 1
print(n)' "$T_DIR/big.list")"
t_eq "1M KRL: first and last" "serial: 1|serial: 3-4|serial: 1002|serial: 2001000" \
  "$(head -3 "$T_DIR/big.list" | paste -sd'|')|$(tail -1 "$T_DIR/big.list")"
t_eq "1M KRL: the gaps stay gaps" 0 "$(grep -c -E '^serial: (1001|1003|2000999|2)$' "$T_DIR/big.list")"
t_rc "1M KRL: olga's certificate revoked" 1 ssh-keygen -Q -f "$T_DIR/big.krl" "$CERT1"
t_rc "1M KRL: oscar's still ok" 0 ssh-keygen -Q -f "$T_DIR/big.krl" "$CERT2"
t_rc "1M KRL: sshcert-admin krl -o" 0 "$ADMIN" -c "$SRV_CFG" krl -o "$T_DIR/big-admin.krl"
t_rc "1M KRL: the same KRL from both" 0 samekrl "$T_DIR/big.krl" "$T_DIR/big-admin.krl"
krl_get "$T_DIR/big2.krl" "$(header ETag)"
t_eq "1M KRL: unchanged, 304" 304 "$HTTP_CODE"
t_eq "1M KRL: metrics count the revocations" 1000003 "$(metric sshcert_certificates_revoked_total)"

# ---- /metrics reads the store through its indexes, and says so when it cannot ----
sqlite3 "$DB" "DROP INDEX certificates_unrevoked"
t_eq "/metrics without its index: 500, not a scan or zeros" 500 \
  "$(curl -s -o "$T_DIR/m500.json" -w '%{http_code}' "$SRV_URL/metrics")"
t_eq "... error internal" internal "$(jget error "$T_DIR/m500.json")"
t_has "... logged" "cannot read the store's counts for /metrics: " "$(cat "$SRV_LOG")"
sqlite3 "$DB" "CREATE INDEX certificates_unrevoked ON certificates(valid_before, valid_after,
  revoked_at) WHERE revoked_at IS NULL"
t_eq "the index back: /metrics 200 again" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$SRV_URL/metrics")"

# ---- user del: the user's access ends now, not when their certificates expire ----
srv_user zed "$LU" || exit 1
issue zed "$T_DIR/ka" 0
ZS=$(jget serial)
krl_get "$T_DIR/pre-del.krl"
E_PRE=$(header ETag)
t_rc "before user del: zed's certificate is not revoked" 0 ssh-keygen -Q -f "$T_DIR/pre-del.krl" "$T_DIR/ka-zed-cert.pub"
post "$(json username=zed password=not-the-password totp="$(totp zed 1)" public_key="$(cat "$T_DIR/ka.pub")")"
t_error "zed: a wrong password" 401 invalid_credentials
t_eq "zed: a failure counted" 1 "$(sqlite3 "$DB" "select count(*) from failures where key = 'user:zed'")"
t_rc "user del zed" 0 "$ADMIN" -c "$SRV_CFG" user del zed
t_eq "...says what ended" "sshcert-admin: zed deleted (audit history kept); 1 unexpired certificate revoked" "$T_ERR"
krl_get "$T_DIR/served.krl" "$E_PRE"
t_eq "user del: a new KRL, 200" 200 "$HTTP_CODE"
t_rc "user del: zed's certificate is revoked in it" 1 ssh-keygen -Q -f "$T_DIR/served.krl" "$T_DIR/ka-zed-cert.pub"
t_rc "...and oscar's is not" 0 ssh-keygen -Q -f "$T_DIR/served.krl" "$CERT2"
t_eq "user del: the row revoked, with its reason" "$ZS|user deleted" \
  "$(sqlite3 "$DB" "select serial, revoke_reason from certificates where username = 'zed' and revoked_at is not null")"
t_eq "user del: audited, the deletion then the revocation" "user_deleted|0 cert_revoked|$ZS" \
  "$(sqlite3 "$DB" "select event || '|' || coalesce(serial, 0) from audit where username = 'zed' order by id desc limit 2" | tac | xargs)"
t_eq "user del: the failure count went with the user" 0 "$(sqlite3 "$DB" "select count(*) from failures where key = 'user:zed'")"
srv_user zed "$LU" || exit 1
t_rc "user del of a user without certificates" 0 "$ADMIN" -c "$SRV_CFG" user del zed
t_eq "...says none was revoked" "sshcert-admin: zed deleted (audit history kept); 0 unexpired certificates revoked" "$T_ERR"
krl_get "$T_DIR/served2.krl" "$(header ETag)"
t_eq "...and the KRL is unchanged: 304" 304 "$HTTP_CODE"
t_rc "user del of a user that is gone: exit 1" 1 "$ADMIN" -c "$SRV_CFG" user del zed
t_eq "...saying so" "sshcert-admin: no user named zed" "$T_ERR"

# ---- cert revoke of several serials: one transaction, one KRL version ----
srv_user yan "$LU" || exit 1
issue yan "$T_DIR/ka" 0
YA=$(jget serial)
issue yan "$T_DIR/kb" 1
YB=$(jget serial)
KV=$(sqlite3 "$DB" "select value from meta where key = 'krl_version'")
t_rc "cert revoke $YA $YB" 0 "$ADMIN" -c "$SRV_CFG" cert revoke "$YA" "$YB" --reason "two at once"
t_eq "...says so for each" "revoked serial $YA|revoked serial $YB" "$(printf '%s\n' "$T_OUT" | paste -sd'|')"
t_eq "...both revoked, the KRL version up by one" "2|$((KV + 1))" \
  "$(sqlite3 "$DB" "select (select count(*) from certificates where username = 'yan' and revoke_reason = 'two at once'), (select value from meta where key = 'krl_version')")"

# ---- a revocation whose disk flush fails: with the server running (its WAL open), the admin
# commits, then flushes. A failed flush after the commit must not read "nothing revoked"
# (it did until issue 8's nineteenth session: the row was revoked all the same). ----
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/kf"
"$ADMIN" -c "$SRV_CFG" sign "$T_DIR/kf.pub" --principals "$LU" --ttl 10m -o "$T_DIR/kf-cert.pub" 2>/dev/null
FS=$(ssh-keygen -L -f "$T_DIR/kf-cert.pub" | awk '$1 == "Serial:" { print $2 }')
# (LeakSanitizer cannot run under a tracer: it traces the process itself at exit.)
t_rc "a revocation whose flush fails (EIO injected into fdatasync): exit 1" 1 \
  strace -f -o "$T_DIR/flush.strace" -e trace=fdatasync -e inject=fdatasync:error=EIO \
  env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$ADMIN" -c "$SRV_CFG" cert revoke "$FS"
t_eq "...saying it may hold, not that nothing was revoked" "sshcert-admin: the revocation may or may not hold: it was committed, but the disk failed to flush it; see cert show (or cert list) for what holds, and fix the disk: nothing written since is known to be on disk" "$T_ERR"
t_eq "...after its one flush failed" 1 "$(grep -c 'fdatasync(.*EIO.*(INJECTED)' "$T_DIR/flush.strace")"
t_eq "...and the row is revoked (the commit held)" 1 \
  "$(sqlite3 "$DB" "select count(*) from certificates where serial = $FS and revoked_at is not null")"

# ---- SIGTERM with a request in flight: it is answered, then the server exits 0 ----
"$PY" -c 'import sys; open(sys.argv[1], "w").write("{\"pad\":\"" + "x" * 5990 + "\"}")' "$T_DIR/slow.json"
curl -s -o "$T_DIR/slow.out" -w '%{http_code}' --limit-rate 2000 -H 'Content-Type: application/json' \
  --data-binary "@$T_DIR/slow.json" "$SRV_URL/v1/certificates" >"$T_DIR/slow.code" &
SLOW=$!
sleep 1
kill -TERM "$SRV_PID"
wait "$SLOW"
t_eq "the request in flight got its answer" 400 "$(cat "$T_DIR/slow.code")"
t_eq "... the server's own (unknown field)" 'unknown field "pad"' "$(jget message "$T_DIR/slow.out")"
wait "$SRV_PID"
t_eq "SIGTERM: exit 0" 0 "$?"
t_has "SIGTERM: logged" "signal 15: finishing in-flight requests" "$(cat "$SRV_LOG")"
t_rc "SIGTERM: nothing listens any more" 7 curl -s -o /dev/null "$SRV_URL/v1/health"
t_done
