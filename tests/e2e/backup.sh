#!/bin/bash
# `sshcert-admin backup DIR` and `sshcert-admin restore DIR` end to end (stop the server,
# restore into an empty data_dir, start it):
# a backup taken while the server runs and issues certificates is a consistent snapshot (the
# exact report line, modes, byte-identical keys, nothing else in DIR, integrity_check); its
# refusals leave everything as it was; a server started on the restored files lets an enrolled
# user log in (secret.key and the sealed TOTP secrets came along), serves a KRL that still
# revokes what was revoked and every serial the CA may have issued after the backup, keeps an
# intact audit chain from the reported hash on, and issues serials past that range. A copy that
# does not verify is not kept, by backup or by restore.
# shellcheck source=tests/e2e/server_common.sh disable=SC1091 # followed with shellcheck -x
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/server_common.sh"

AUTH='"auth":{"password_hash":"min"}'
PR="bk$$" # the principal every certificate here is for (no sshd: any name will do)
NLOOP=40  # users of the background login loop, one login each (no TOTP replay)
FILES="ca_key ca_key.pub secret.key sshcert.db"
q() { sqlite3 "$1" "$2"; } # q DB SQL
modes() { # modes DIR: "DIR_MODE name:mode ..." for the four files
  local f out
  out=$(stat -c %a "$1")
  for f in $FILES; do out="$out $f:$(stat -c %a "$1/$f" 2>/dev/null)"; done
  echo "$out"
}
listing() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | xargs; } # ls -A, sorted

srv_start live "$AUTH" || { t_bad "server did not start"; t_done; }
LIVE_CFG=$SRV_CFG
LIVE_DATA=$SRV_DATA
LIVE_DB="$SRV_DATA/sshcert.db"
for u in ann bob cara; do srv_user "$u" "$PR" || exit 1; done
for i in $(seq "$NLOOP"); do srv_user "c$i" "$PR" || exit 1; done
for k in ka kb kc; do ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/$k"; done

# ---- certificates 1 (ann) and 2 (bob); 1 revoked ----
issue ann "$T_DIR/ka" 0
t_eq "ann's certificate: serial 1" 1 "$(jget serial)"
issue bob "$T_DIR/kb" 0
t_eq "bob's certificate: serial 2" 2 "$(jget serial)"
CERT_ANN="$T_DIR/ka-ann-cert.pub"
CERT_BOB="$T_DIR/kb-bob-cert.pub"
t_rc "cert revoke 1" 0 "$ADMIN" -c "$LIVE_CFG" cert revoke 1
t_eq "cert revoke 1: says so" "revoked serial 1" "$T_OUT"

# ---- a backup while the server runs and issues ----
# Two loops log in c1.. and c21.. one after the other until told to stop, one line per answer.
login_loop() { # login_loop FIRST LAST
  local i=$(($1 - 1)) u code
  while [ ! -e "$T_DIR/loop.stop" ] && [ "$i" -lt "$2" ]; do
    i=$((i + 1))
    u=c$i
    code=$(curl "${SRV_CURL[@]}" -o "$T_DIR/loop-$u.json" -w '%{http_code}' \
      -H 'Content-Type: application/json' \
      --data-binary "$(json username="$u" password="$PASSWORD" totp="$(totp "$u")" public_key="$(cat "$T_DIR/kc.pub")")" \
      "$SRV_URL/v1/certificates")
    echo "$u $code" >>"$T_DIR/loop.log"
  done
}
: >"$T_DIR/loop.log"
login_loop 1 $((NLOOP / 2)) &
LOOP1=$!
login_loop $((NLOOP / 2 + 1)) "$NLOOP" &
LOOP2=$!
T_PIDS+=("$LOOP1" "$LOOP2")
for _ in $(seq 200); do [ -s "$T_DIR/loop.log" ] && break; sleep 0.05; done
N_BEFORE=$(wc -l <"$T_DIR/loop.log")
t_eq "logins are being issued when the backup starts" 1 "$([ "$N_BEFORE" -ge 1 ] && echo 1 || echo 0)"
BK="$T_DIR/bk1"
t_rc "backup with the server running and issuing: exit 0" 0 "$ADMIN" -c "$LIVE_CFG" backup "$BK"
BK_OUT=$T_OUT
BK_ERR=$T_ERR
kill -0 "$LOOP1" 2>/dev/null && kill -0 "$LOOP2" 2>/dev/null
t_eq "...and logins were still being issued when it returned (neither loop had run out)" 0 "$?"
N_AFTER=$(wc -l <"$T_DIR/loop.log")
touch "$T_DIR/loop.stop"
wait "$LOOP1" "$LOOP2"
N_LOOP=$(wc -l <"$T_DIR/loop.log")
t_log "background logins: $N_BEFORE before the backup, $((N_AFTER - N_BEFORE)) during it, $N_LOOP in all"
t_eq "every background login got 201" "201x$N_LOOP" \
  "$(awk '{print $2}' "$T_DIR/loop.log" | sort | uniq -c | awk '{print $2 "x" $1}' | xargs)"

BDB="$BK/sshcert.db"
BN=$(q "$BDB" 'select count(*) from certificates')
BM=$(q "$BDB" 'select count(*) from audit')
BH=$(q "$BDB" 'select hash from audit order by id desc limit 1')
BMAX=$(q "$BDB" 'select max(serial) from certificates')
t_eq "backup: stdout is exactly the report line" \
  "backup written to $BK: $BN certificates, $BM audit entries, last $BH" "$BK_OUT"
t_eq "backup: nothing on stderr" "" "$BK_ERR"
t_match "backup: HASH is a hash" '^[0-9a-f]{64}$' "$BH"
t_eq "the copy holds ann's, bob's and the loop's certificates up to the snapshot" 1 \
  "$([ "$BN" -ge $((2 + N_BEFORE)) ] && [ "$BN" -le $((2 + N_LOOP)) ] && echo 1 || echo 0)"
t_eq "the snapshot is consistent: one cert_issued entry per row, serials 1..N" "$BN|$BN|$BN" \
  "$(q "$BDB" "select (select count(*) from audit where event = 'cert_issued'), max(serial), count(distinct serial) from certificates")"
t_eq "the live database went on: 2 + $N_LOOP certificates" $((2 + N_LOOP)) \
  "$(q "$LIVE_DB" 'select count(*) from certificates')"
t_eq "backup: modes of DIR and the four files" \
  "700 ca_key:600 ca_key.pub:644 secret.key:600 sshcert.db:600" "$(modes "$BK")"
t_eq "backup: DIR holds exactly the four files" "$FILES" "$(listing "$BK")"
for f in ca_key ca_key.pub secret.key; do
  t_rc "backup: $f is byte-identical to data_dir's" 0 cmp "$LIVE_DATA/$f" "$BK/$f"
done
t_eq "backup: pragma integrity_check" ok "$(q "$BDB" 'pragma integrity_check')"
t_eq "the copy keeps the revocation of serial 1 (and only it)" 1 \
  "$(q "$BDB" 'select group_concat(serial) from certificates where revoked_at is not null')"

# ---- refusals ----
ex="$T_DIR/exists"
mkdir -m 0750 "$ex"
before=$(stat -c '%a %Y' "$ex")
t_rc "backup into an existing empty folder: exit 1" 1 "$ADMIN" -c "$LIVE_CFG" backup "$ex"
t_eq "...the exact message" "sshcert-admin: $ex exists; a backup goes into a new folder of its own" "$T_ERR"
t_eq "...nothing on stdout" "" "$T_OUT"
t_eq "...the folder left as it was (mode, mtime, empty)" "$before|" "$(stat -c '%a %Y' "$ex")|$(listing "$ex")"
printf 'not a database\n' >"$ex/sshcert.db"
before=$(stat -c '%a %Y' "$ex")
t_rc "backup into an existing folder with a sshcert.db: exit 1" 1 "$ADMIN" -c "$LIVE_CFG" backup "$ex"
t_eq "...the exact message" "sshcert-admin: $ex exists; a backup goes into a new folder of its own" "$T_ERR"
t_eq "...the folder and its file left as they were" "$before|sshcert.db|not a database" \
  "$(stat -c '%a %Y' "$ex")|$(listing "$ex")|$(cat "$ex/sshcert.db")"
printf 'x\n' >"$T_DIR/afile"
t_rc "backup onto an existing file: exit 1" 1 "$ADMIN" -c "$LIVE_CFG" backup "$T_DIR/afile"
t_eq "...the exact message" "sshcert-admin: $T_DIR/afile exists; a backup goes into a new folder of its own" "$T_ERR"
t_eq "...the file left as it was" x "$(cat "$T_DIR/afile")"
t_rc "backup under a missing parent: exit 1" 1 "$ADMIN" -c "$LIVE_CFG" backup "$T_DIR/nope/bk"
t_eq "...the exact message" "sshcert-admin: cannot create $T_DIR/nope/bk: No such file or directory" "$T_ERR"
t_eq "...nothing on stdout" "" "$T_OUT"
t_eq "...nothing created" 0 "$([ -e "$T_DIR/nope" ] && echo 1 || echo 0)"
t_rc "backup with no argument: usage (exit 2)" 2 "$ADMIN" -c "$LIVE_CFG" backup
t_eq "...nothing on stdout" "" "$T_OUT"
t_rc "backup with two arguments: usage (exit 2)" 2 "$ADMIN" -c "$LIVE_CFG" backup "$T_DIR/u1" "$T_DIR/u2"
t_eq "...neither created" 0 "$( { [ -e "$T_DIR/u1" ] || [ -e "$T_DIR/u2" ]; } && echo 1 || echo 0)"
t_rc "backup with an unknown option: usage (exit 2)" 2 "$ADMIN" -c "$LIVE_CFG" backup --force "$T_DIR/u3"
t_eq "...not created" 0 "$([ -e "$T_DIR/u3" ] && echo 1 || echo 0)"
t_rc "backup with an unknown option after DIR: usage (exit 2)" 2 "$ADMIN" -c "$LIVE_CFG" backup "$T_DIR/u4" -x
t_eq "...not created" 0 "$([ -e "$T_DIR/u4" ] && echo 1 || echo 0)"
t_eq "the temp folder holds nothing the refusals made" "afile bk1 exists" \
  "$(find "$T_DIR" -mindepth 1 -maxdepth 1 \( -name 'bk*' -o -name exists -o -name afile -o -name 'u[0-9]' -o -name nope \) -printf '%f\n' | LC_ALL=C sort | xargs)"

# ---- restore: stop, sshcert-admin restore into an empty data_dir, start ----
# A certificate issued after the backup: the backup does not know it, so the restored CA must
# revoke it with every other serial it may have issued since, and never issue its serial again.
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/kd"
issue bob "$T_DIR/kd" 1
LATE=$(jget serial)
CERT_LATE="$T_DIR/kd-bob-cert.pub"
t_eq "a certificate issued after the backup: a serial above the backup's" 1 \
  "$([ "$LATE" -gt "$BMAX" ] 2>/dev/null && echo 1 || echo 0)"
srv_stop TERM
t_eq "the live server stops: exit 0" 0 "$SRV_RC"
RD="$T_DIR/restored/data" # srv_start restored uses $T_DIR/restored/data as data_dir
RCFG="$T_DIR/restore.json"
mkdir -p "$T_DIR/restored"
printf '{"data_dir":"%s",%s}\n' "$RD" "$AUTH" >"$RCFG"
LIVE_SUM=$(cd "$LIVE_DATA" && sha256sum $FILES)
t_rc "restore over a data_dir that holds a CA: exit 1" 1 "$ADMIN" -c "$LIVE_CFG" restore "$BK"
t_eq "...the exact message" "sshcert-admin: $LIVE_DB exists: restore goes into a data_dir that holds no CA (move the old files aside first); nothing changed" "$T_ERR"
t_eq "...nothing on stdout" "" "$T_OUT"
t_eq "...the live files unchanged" "$LIVE_SUM" "$(cd "$LIVE_DATA" && sha256sum $FILES)"
t_rc "restore from a folder that is not a backup: exit 1" 1 "$ADMIN" -c "$RCFG" restore "$T_DIR/nope"
t_eq "...the exact message" "sshcert-admin: $T_DIR/nope/sshcert.db: No such file or directory; nothing changed" "$T_ERR"
t_eq "...data_dir not created" 0 "$([ -e "$RD" ] && echo 1 || echo 0)"
t_rc "restore with no argument: usage (exit 2)" 2 "$ADMIN" -c "$RCFG" restore
t_rc "restore with an unknown option: usage (exit 2)" 2 "$ADMIN" -c "$RCFG" restore --force "$BK"
t_eq "...data_dir not created" 0 "$([ -e "$RD" ] && echo 1 || echo 0)"
# A backup edited after it was written does not verify: nothing of it is kept.
cp -a "$BK" "$T_DIR/bk-edited"
q "$T_DIR/bk-edited/sshcert.db" "update audit set detail = 'x' where id = 2"
t_rc "restore from an edited backup: exit 1" 1 "$ADMIN" -c "$RCFG" restore "$T_DIR/bk-edited"
t_match "...the message names the broken entry" \
  "^sshcert-admin: restore failed: the backup's audit log does not verify \(entry 2\): .*; nothing kept$" "$T_ERR"
t_eq "...data_dir removed again" 0 "$([ -e "$RD" ] && echo 1 || echo 0)"
cp -a "$BK" "$T_DIR/bk-wal"
printf 'x' >"$T_DIR/bk-wal/sshcert.db-wal"
t_rc "restore from a backup with a -wal file beside its database: exit 1" 1 "$ADMIN" -c "$RCFG" restore "$T_DIR/bk-wal"
t_eq "...the exact message" "sshcert-admin: $T_DIR/bk-wal/sshcert.db-wal exists: the backup is not the one database file sshcert-admin backup writes (what a -wal beside it holds, a copy would lack); nothing changed" "$T_ERR"
t_eq "...data_dir not created" 0 "$([ -e "$RD" ] && echo 1 || echo 0)"

# A key that is not private stops the restore after the database was sealed and named: all of
# it is taken back, and a data_dir that existed before stays, empty.
cp -a "$BK" "$T_DIR/bk-open"
chmod 644 "$T_DIR/bk-open/ca_key"
mkdir -m 700 "$RD"
t_rc "restore from a backup whose ca_key others can read: exit 1" 1 "$ADMIN" -c "$RCFG" restore "$T_DIR/bk-open"
t_match "...says why and that nothing was kept" "^sshcert-admin: restore failed: .*$T_DIR/bk-open/ca_key.*readable by group or others.*; nothing kept$" "$T_ERR"
t_eq "...the data_dir that was there stays, empty" "" "$(listing "$RD")"
: >"$RD/sshcert.db.restoring"
t_rc "restore where an earlier restore stopped half way: exit 1" 1 "$ADMIN" -c "$RCFG" restore "$BK"
t_eq "...the exact message" "sshcert-admin: $RD/sshcert.db.restoring exists: an earlier restore stopped half way: remove it first; nothing changed" "$T_ERR"
t_eq "...that file left alone" "sshcert.db.restoring" "$(listing "$RD")"
rm -f "$RD/sshcert.db.restoring"
rmdir "$RD"

t_rc "restore: exit 0" 0 "$ADMIN" -c "$RCFG" restore "$BK"
RESTORE_OUT=$T_OUT
RDB="$RD/sshcert.db"
FIRST=$(q "$RDB" 'select first_serial from revoked_ranges')
LAST=$(q "$RDB" 'select last_serial from revoked_ranges')
t_eq "restore: the range starts at the backup's next serial" "$((BMAX + 1))" "$FIRST"
t_eq "restore: the range covers a day and the time since the backup's last event, 65536 serials a second" \
  "1 0" "$(( LAST - FIRST + 1 >= 86400 * 65536 )) $(( (LAST - FIRST + 1) % 65536 ))"
t_eq "restore: the range stays in the KRL for 366 days and a day" 1 \
  "$(q "$RDB" "select valid_until - revoked_at = 366 * 86400 + 86400 and abs(revoked_at - strftime('%s', 'now')) < 60 from revoked_ranges")"
t_eq "restore: stdout, line 1" \
  "restored $BK into $RD: $BN certificates, $BM audit entries, the backup's last $BH" \
  "$(printf '%s\n' "$RESTORE_OUT" | sed -n 1p)"
t_match "restore: stdout, line 2" \
  "^serials $FIRST-$LAST \(any certificate issued after the backup\) are revoked in the KRL until [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC; new serials start at $((LAST + 1))\$" \
  "$(printf '%s\n' "$RESTORE_OUT" | sed -n 2p)"
t_eq "restore: stdout, line 3" \
  "redo what was done after the backup (your last audit export lists it): revocations, and users locked, deleted, or given a new password or TOTP secret; then start the server" \
  "$(printf '%s\n' "$RESTORE_OUT" | sed -n 3p)"
t_eq "restore: nothing on stderr" "" "$T_ERR"
t_eq "restore: modes of data_dir and the four files" \
  "700 ca_key:600 ca_key.pub:644 secret.key:600 sshcert.db:600" "$(modes "$RD")"
t_eq "restore: next serial past the range" "$((LAST + 1))" \
  "$(q "$RDB" "select value from meta where key = 'next_serial'")"
t_eq "restore: audited by the operator, chained to the backup's last entry" \
  "store_restored|operator|$BH|revoked serials $FIRST-$LAST until $(q "$RDB" 'select valid_until from revoked_ranges') (issued after the backup, unknown to it); next serial $((LAST + 1))" \
  "$(q "$RDB" 'select event, actor, prev_hash, detail from audit order by id desc limit 1')"
RH=$(q "$RDB" 'select hash from audit order by id desc limit 1')
t_rc "restore again into the restored data_dir: exit 1" 1 "$ADMIN" -c "$RCFG" restore "$BK"
t_eq "...nothing changed: still one range" 1 "$(q "$RDB" 'select count(*) from revoked_ranges')"
srv_start restored "$AUTH" || { t_bad "the restored server did not start"; t_done; }
t_eq "(srv_start put the restored server on the restored files)" "$RD" "$SRV_DATA"
t_eq "init on the restored files changes nothing" \
  "sshcert-admin: CA already initialised in $RD; nothing changed" "$(head -1 "$SRV_DIR/init.out")"
for f in ca_key ca_key.pub secret.key; do
  t_rc "restored $f still byte-identical to the backup's" 0 cmp "$BK/$f" "$RD/$f"
done
t_rc "restored: audit verify exits 0" 0 "$ADMIN" -c "$SRV_CFG" audit verify
t_eq "restored: audit verify's first line counts the backup's entries and the restore's" \
  "audit log intact: $((BM + 1)) entries, last $RH" "$(printf '%s\n' "$T_OUT" | head -1)"
t_eq "restored: the certificates match the audit log" \
  "certificates match the audit log: $BN certificates, 1 revoked" "$(printf '%s\n' "$T_OUT" | sed -n 2p)"
get /v1/ca
t_eq "restored: GET /v1/ca serves the backed-up CA key" "$(cut -d' ' -f1-2 "$BK/ca_key.pub")" \
  "$(jget public_key | cut -d' ' -f1-2)"
get /v1/krl
cp "$RESP" "$T_DIR/restored.krl"
t_eq "restored: GET /v1/krl 200" 200 "$HTTP_CODE"
t_rc "restored KRL: ann's certificate (serial 1) is revoked (exit 1)" 1 \
  ssh-keygen -Q -f "$T_DIR/restored.krl" "$CERT_ANN"
t_has "...REVOKED" "$CERT_ANN (ann#1): REVOKED" "$T_OUT"
t_rc "restored KRL: bob's certificate (serial 2) passes" 0 ssh-keygen -Q -f "$T_DIR/restored.krl" "$CERT_BOB"
t_has "...ok" "$CERT_BOB (bob#2): ok" "$T_OUT"
t_rc "restored KRL: bob's certificate issued after the backup (serial $LATE) is revoked (exit 1)" 1 \
  ssh-keygen -Q -f "$T_DIR/restored.krl" "$CERT_LATE"
t_has "...REVOKED" "$CERT_LATE (bob#$LATE): REVOKED" "$T_OUT"
t_eq "restored: the restored CA does not know that certificate" \
  "" "$(q "$RDB" "select serial from certificates where serial = $LATE")"
# cara was enrolled before the backup and never logged in: her sealed TOTP secret and
# password hash must open with the restored secret.key.
issue cara "$T_DIR/ka" 0
CS=$(jget serial)
t_eq "restored: cara's login is issued the first serial past the range" "$((LAST + 1))" "$CS"
t_rc "restored KRL: cara's certificate (serial $CS, past the range) passes" 0 \
  ssh-keygen -Q -f "$T_DIR/restored.krl" "$T_DIR/ka-cara-cert.pub"
t_eq "restored: cara's certificate is signed by the backed-up CA key" \
  "$(ssh-keygen -l -E sha256 -f "$BK/ca_key.pub" | awk '{print $2}')" \
  "$(ssh-keygen -L -f "$T_DIR/ka-cara-cert.pub" | awk '/Signing CA:/ {print $4}')"
t_rc "restored, after the login: audit verify exits 0" 0 "$ADMIN" -c "$SRV_CFG" audit verify
t_match "...the chain grew past the backup's $BM entries and the restore's" "^audit log intact: $((BM + 2)) entries, last [0-9a-f]{64}$" \
  "$(printf '%s\n' "$T_OUT" | head -1)"
srv_stop TERM
t_eq "the restored server stops: exit 0" 0 "$SRV_RC"
# The range is what keeps the certificates issued after the backup out: audit verify compares
# it with the restore's event, so an edited or deleted range is found although the chain holds.
RANGE_ROW=$(q "$RDB" "select quote(first_serial) || ',' || quote(last_serial) || ',' || quote(revoked_at) || ',' || quote(valid_until) || ',' || quote(reason) from revoked_ranges")
RANGE_LOST="sshcert-admin: certificates table does not match the audit log at serial $FIRST: a restore revoked a range starting there, but revoked_ranges no longer holds it as logged (the range edited or deleted; the KRL leaves its serials out)"
q "$RDB" "update revoked_ranges set valid_until = 0"
t_verify_fails "the restore's range edited (valid_until 0), named by its first serial (a row no event matches comes first)" "sshcert-admin: certificates table does not match the audit log at serial $FIRST: a revoked range starting there matches no store_restored event in the audit log (the range edited or added)"
q "$RDB" "delete from revoked_ranges"
t_verify_fails "the restore's range deleted, named by its first serial" "$RANGE_LOST"
q "$RDB" "insert into revoked_ranges(first_serial, last_serial, revoked_at, valid_until, reason) values ($RANGE_ROW), ($((LAST + 10)), $((LAST + 20)), 1, 4000000000, 'x')"
t_verify_fails "a range added without a restore, named by its first serial" "sshcert-admin: certificates table does not match the audit log at serial $((LAST + 10)): a revoked range starting there matches no store_restored event in the audit log (the range edited or added)"
q "$RDB" "delete from revoked_ranges where first_serial = $((LAST + 10))"
t_rc "the range as the restore wrote it: audit verify exits 0 again" 0 "$ADMIN" -c "$SRV_CFG" audit verify

# ---- a fresh CA: an empty backup; then copies that do not verify are not kept ----
FD="$T_DIR/fresh"
mkdir -p "$FD"
printf '{"data_dir":"%s"}\n' "$FD/data" >"$FD/cfg.json"
t_rc "fresh CA: init" 0 "$ADMIN" -c "$FD/cfg.json" init
t_rc "fresh CA: backup exit 0" 0 "$ADMIN" -c "$FD/cfg.json" backup "$T_DIR/bk0"
t_eq "fresh CA: 0 certificates, 0 audit entries" \
  "backup written to $T_DIR/bk0: 0 certificates, 0 audit entries" "$T_OUT"
t_eq "fresh CA: modes" "700 ca_key:600 ca_key.pub:644 secret.key:600 sshcert.db:600" "$(modes "$T_DIR/bk0")"
t_eq "fresh CA: DIR holds exactly the four files" "$FILES" "$(listing "$T_DIR/bk0")"
t_eq "fresh CA: pragma integrity_check" ok "$(q "$T_DIR/bk0/sshcert.db" 'pragma integrity_check')"

SRV_CFG="$FD/cfg.json" # for srv_user
FDB="$FD/data/sshcert.db"
srv_user dan "$PR" || exit 1
for i in 1 2; do
  t_rc "fresh CA: offline certificate $i" 0 "$ADMIN" -c "$FD/cfg.json" sign "$T_DIR/kb.pub" --principals "$PR" -o "$T_DIR/off$i-cert.pub"
done
t_eq "(three audit entries, two certificates)" "3|2" "$(q "$FDB" 'select (select count(*) from audit), (select count(*) from certificates)')"
ORIG=$(q "$FDB" 'select detail from audit where id = 1')
q "$FDB" "update audit set detail = 'x' where id = 1"
t_rc "an edited audit row: backup exit 1" 1 "$ADMIN" -c "$FD/cfg.json" backup "$T_DIR/bk-bad1"
t_match "...saying nothing was kept" '; nothing kept$' "$T_ERR"
t_eq "...nothing on stdout" "" "$T_OUT"
t_eq "...DIR removed" 0 "$([ -e "$T_DIR/bk-bad1" ] && echo 1 || echo 0)"
q "$FDB" "update audit set detail = '$(printf '%s' "$ORIG" | sed "s/'/''/g")' where id = 1"
q "$FDB" "update certificates set valid_before = valid_before - 60 where serial = 2"
t_rc "a certificate row edited (the chain intact): backup exit 1" 1 "$ADMIN" -c "$FD/cfg.json" backup "$T_DIR/bk-bad2"
t_match "...saying nothing was kept" '; nothing kept$' "$T_ERR"
t_eq "...DIR removed" 0 "$([ -e "$T_DIR/bk-bad2" ] && echo 1 || echo 0)"
q "$FDB" "update certificates set valid_before = valid_before + 60 where serial = 2"
t_rc "all restored: backup exit 0" 0 "$ADMIN" -c "$FD/cfg.json" backup "$T_DIR/bk2"
t_eq "...the report line" \
  "backup written to $T_DIR/bk2: 2 certificates, 3 audit entries, last $(q "$FDB" 'select hash from audit order by id desc limit 1')" \
  "$T_OUT"
t_no_codes "no TOTP code reached the live server's log" "$T_DIR/live/server.log"
t_no_codes "no TOTP code reached the restored server's log" "$T_DIR/restored/server.log"
t_done
