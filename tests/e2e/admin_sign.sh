#!/bin/bash
# Issue 2 end to end: a throwaway sshd trusting a CA made by `sshcert-admin init` accepts a
# certificate from `sshcert-admin sign` for its principal, refuses it for another user,
# honours force-command and source-address, and refuses a certificate revoked in our KRL.
. "$SSHCERT_SRC_DIR/tests/lib.sh"

cd "$T_DIR" || exit 1
cat >cfg.json <<JSON
{"data_dir": "data", "cert": {"max_ttl": "8h", "backdate": "1m"}}
JSON
t_rc "init creates the CA" 0 "$ADMIN" -c cfg.json init
t_eq "init prints the CA key line" "$(cat data/ca_key.pub)" "$T_OUT"
t_eq "data_dir is 0700" "700" "$(stat -c %a data)"
t_eq "ca_key is 0600" "600" "$(stat -c %a data/ca_key)"
before=$(sha256sum data/ca_key data/ca_key.pub data/secret.key)
t_rc "a second init exits 0" 0 "$ADMIN" -c cfg.json init
t_eq "a second init changes nothing" "$before" "$(sha256sum data/ca_key data/ca_key.pub data/secret.key)"
t_eq "our CA key is what ssh-keygen -y derives" "$(cut -d' ' -f1,2 data/ca_key.pub)" \
  "$(ssh-keygen -y -f data/ca_key | cut -d' ' -f1,2)"

U1=sshcerta$$
U2=sshcertb$$
t_user "$U1" || { t_bad "cannot create $U1"; t_done; }
t_user "$U2" || { t_bad "cannot create $U2"; t_done; }
ssh-keygen -q -t ed25519 -N '' -C "$U1@test" -f user
t_rc "sign for $U1" 0 "$ADMIN" -c cfg.json sign user.pub --principals "$U1" --ttl 10m
t_match "sign names the file and serial" "signed user-cert.pub: serial 1" "$T_ERR"
L=$(ssh-keygen -L -f user-cert.pub)
t_match "ssh-keygen -L: user certificate" "Type: ssh-ed25519-cert-v01@openssh.com user certificate" "$L"
t_match "ssh-keygen -L: serial 1" "Serial: 1$" "$L"
t_match "ssh-keygen -L: key id" "Key ID: \"$U1#1\"" "$L"

krl="$T_DIR/revoked.krl"
"$ADMIN" -c cfg.json krl -o "$krl"
t_eq "an empty KRL is a valid KRL" "0" "$(ssh-keygen -Q -f "$krl" user-cert.pub >/dev/null 2>&1; echo $?)"
t_sshd A "$T_DIR/data/ca_key.pub" "$krl" || { t_bad "sshd did not start"; t_done; }

t_eq "sshd accepts the certificate for its principal" "hello" \
  "$(t_ssh "$SSHD_PORT_A" "$U1" user user-cert.pub 'echo hello' 2>&1)"
cafp=$(ssh-keygen -lf data/ca_key.pub | cut -d' ' -f2 | sed 's/[+.]/\\&/g')
t_wait_file_match "$SSHD_LOG_A" "Accepted publickey for $U1 from 127.0.0.1 port [0-9]+ ssh2: ED25519-CERT SHA256:[^ ]+ ID $U1#1 \(serial 1\) CA ED25519 $cafp" 5
t_eq "sshd logged the accepted certificate with key id and serial" 0 $?

t_ssh "$SSHD_PORT_A" "$U2" user user-cert.pub true >/dev/null 2>&1
t_eq "sshd refuses it for another user" 255 $?
t_wait_file_match "$SSHD_LOG_A" "Certificate invalid: name is not a listed principal" 5
t_eq "sshd says the name is not a listed principal" 0 $?

ssh-keygen -q -t ed25519 -N '' -f fc
"$ADMIN" -c cfg.json sign fc.pub --principals "$U1" --force-command "echo forced-$U1" >/dev/null 2>&1
t_eq "force-command replaces the requested command" "forced-$U1" \
  "$(t_ssh "$SSHD_PORT_A" "$U1" fc fc-cert.pub 'echo not-forced' 2>/dev/null)"

ssh-keygen -q -t ed25519 -N '' -f sa
"$ADMIN" -c cfg.json sign sa.pub --principals "$U1" --source-address 192.0.2.0/24 >/dev/null 2>&1
t_ssh "$SSHD_PORT_A" "$U1" sa sa-cert.pub true >/dev/null 2>&1
t_eq "source-address outside 127.0.0.1 is refused" 255 $?
t_wait_file_match "$SSHD_LOG_A" "not from a permitted source address \(127.0.0.1\)" 5
t_eq "sshd names the source-address refusal" 0 $?
ssh-keygen -q -t ed25519 -N '' -f sa2
"$ADMIN" -c cfg.json sign sa2.pub --principals "$U1" --source-address 127.0.0.0/8,::1 >/dev/null 2>&1
t_eq "source-address including 127.0.0.1 is accepted" "ok" \
  "$(t_ssh "$SSHD_PORT_A" "$U1" sa2 sa2-cert.pub 'echo ok' 2>/dev/null)"

# Revoke serial 1 in the store, write the KRL, and sshd (re-reading RevokedKeys) refuses it.
t_rc "cert revoke 1" 0 "$ADMIN" -c cfg.json cert revoke 1 --reason "laptop stolen"
t_rc "krl -o writes the KRL" 0 "$ADMIN" -c cfg.json krl -o "$krl"
t_match "ssh-keygen -Q says REVOKED" "REVOKED" "$(ssh-keygen -Q -f "$krl" user-cert.pub 2>&1)"
t_ssh "$SSHD_PORT_A" "$U1" user user-cert.pub true >/dev/null 2>&1
t_eq "sshd refuses the revoked certificate" 255 $?
t_wait_file_match "$SSHD_LOG_A" "Authentication key ED25519-CERT SHA256:[^ ]+ revoked by file $krl" 5
t_eq "sshd logs the revocation" 0 $?
t_eq "another certificate of the same CA still works" "ok" \
  "$(t_ssh "$SSHD_PORT_A" "$U1" sa2 sa2-cert.pub 'echo ok' 2>/dev/null)"

# Refusals: clear message, non-zero exit, nothing written, nothing recorded.
count() { sqlite3 data/sshcert.db "select count(*) from certificates"; }
n0=$(count)
ssh-keygen -q -t rsa -b 2048 -N '' -f rsa
t_rc "an RSA key is refused" 1 "$ADMIN" -c cfg.json sign rsa.pub --principals "$U1"
t_match "...with a clear message" "only ssh-ed25519 keys are supported" "$T_ERR"
t_eq "...and no certificate file" "no" "$([ -e rsa-cert.pub ] && echo yes || echo no)"
echo "ssh-ed25519 AAAAnotbase64!! x" >bad.pub
t_rc "a malformed key line is refused" 1 "$ADMIN" -c cfg.json sign bad.pub --principals "$U1"
t_match "...with a clear message" "not a valid OpenSSH public key line" "$T_ERR"
ssh-keygen -q -t ed25519 -N '' -f k2
t_rc "empty principals are refused" 1 "$ADMIN" -c cfg.json sign k2.pub --principals ""
t_rc "a zero ttl is refused" 1 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" --ttl 0
t_rc "a negative ttl is refused" 1 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" --ttl -5m
t_rc "a ttl one second over cert.max_ttl is refused" 1 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" --ttl 28801
t_match "...naming the ceiling" "exceeds cert.max_ttl \(28800s\)" "$T_ERR"
t_rc "-o into a folder that does not exist is refused before signing" 1 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" -o nowhere/k2-cert.pub
t_eq "...saying so" "sshcert-admin: refusing to sign: cannot write nowhere/k2-cert.pub: No such file or directory; nothing issued" "$T_ERR"
t_rc "-o naming a folder is refused before signing" 1 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" -o data
t_eq "...saying so" "sshcert-admin: refusing to sign: cannot write data: Is a directory; nothing issued" "$T_ERR"
# What the operator types is recorded in the audit log and the JSON reports, which can carry
# only UTF-8: a Latin-1 byte or a control character is refused before anything is written
# (until issue 8's nineteenth session such a key id was signed, and audit export then failed
# at its row for good).
for opt in "--key-id bad$(printf '\377')id" "--key-id tab$(printf '\t')id" \
  "--principals $U1,m$(printf '\374')ller" "--force-command echo$(printf '\033')[31m"; do
  case $opt in --principals*) p=() ;; *) p=(--principals "$U1") ;; esac
  t_rc "sign ${opt%% *} with a byte that is not UTF-8 text is refused" 1 \
    "$ADMIN" -c cfg.json sign k2.pub "${p[@]}" "${opt%% *}" "${opt#* }"
  t_eq "...saying why" "sshcert-admin: refusing to sign: --principals, --key-id, --force-command and --source-address must be UTF-8 text without control characters" "$T_ERR"
done
t_rc "a UTF-8 key id is signed" 0 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" \
  --key-id "j$(printf '\303\274')rgen-laptop" -o k2u-cert.pub
t_eq "...with that key id" "Key ID: \"j$(printf '\303\274')rgen-laptop\"" \
  "$(ssh-keygen -L -f k2u-cert.pub | awk '$1 == "Key" && $2 == "ID:"' | sed 's/^ *//')"
su=$(sqlite3 data/sshcert.db "select max(serial) from certificates")
t_rc "an option given twice is refused (2)" 2 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" \
  --principals root -o k2t-cert.pub
t_match "...saying which" "^sshcert-admin: --principals is given twice" "$T_ERR"
t_rc "...as is a flag given twice (2)" 2 "$ADMIN" -c cfg.json cert list --json --json
t_rc "...but an option's value that looks like the option is not one (0)" 0 "$ADMIN" -c cfg.json \
  sign k2.pub --principals "$U1" --key-id --key-id -o k2t-cert.pub
rm -f k2t-cert.pub
n0=$(count)
t_rc "a revoke reason that is not UTF-8 is refused (2)" 2 "$ADMIN" -c cfg.json cert revoke "$su" \
  --reason "stolen $(printf '\351')t$(printf '\351')"
t_rc "...and the certificate is still active" 0 "$ADMIN" -c cfg.json cert show "$su"
t_match "...(cert show: active)" "active" "$T_OUT"
t_rc "user add with principals that are not UTF-8 is refused" 1 "$ADMIN" -c cfg.json user add eve \
  --principals "eve,m$(printf '\374')ller" </dev/null
t_eq "...and eve does not exist" 0 "$(sqlite3 data/sshcert.db "select count(*) from users where username = 'eve'")"
# A row that JSON cannot carry, written by an older version: the JSON list fails, naming it,
# rather than leave it out with exit 0.
sqlite3 data/sshcert.db "UPDATE certificates SET key_id = CAST(X'626164ff6964' AS TEXT) WHERE serial = $su"
t_rc "cert list --json with a row that is not UTF-8 fails (1)" 1 "$ADMIN" -c cfg.json cert list --json
t_eq "...naming the serial" "sshcert-admin: cannot list certificates as JSON: serial $su holds text that is not UTF-8" "$T_ERR"
t_eq "...and prints no partial list" "" "$T_OUT"
sqlite3 data/sshcert.db "UPDATE certificates SET key_id = 'j' || char(252) || 'rgen-laptop' WHERE serial = $su"
t_eq "no certificate file after refusals" "no" "$([ -e k2-cert.pub ] && echo yes || echo no)"
t_eq "no certificate recorded by refusals" "$n0" "$(count)"
t_rc "a ttl exactly at cert.max_ttl is accepted" 0 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" --ttl 28800
chmod 0640 data/ca_key
t_rc "a CA key readable by group is refused" 1 "$ADMIN" -c cfg.json sign k2.pub --principals "$U1" -o k2b-cert.pub
t_match "...naming the file" "data/ca_key: it is readable by group or others" "$T_ERR"
chmod 0600 data/ca_key
t_eq "serials increase and every certificate is recorded" "$(($n0 + 1))" "$(count)"
t_eq "the operator signings are in the audit log" "$(count)" \
  "$(sqlite3 data/sshcert.db "select count(*) from audit where event='cert_signed_offline'")"
# The audit event carries the whole grant: 60 principals (659 characters) and a 300-character
# key id, where it kept only the first 120 and 64 characters before the sixth session of
# issue 8.
ssh-keygen -q -t ed25519 -N '' -f many
MANY=$(seq -f 'host-%05g' 1 60 | paste -sd, -)
LONGID=$(printf 'k%.0s' $(seq 300))
t_rc "sign with 60 principals and a long key id" 0 "$ADMIN" -c cfg.json sign many.pub --principals "$MANY" --key-id "$LONGID" --ttl 10m
# Since schema 4 it also names the key, the start of validity and the certificate line
# (its BLAKE2b-256, as b2sum prints it), each checked here against the certificate file.
MANY_FP=$(ssh-keygen -lf many.pub | cut -d' ' -f2)
MANY_FROM=$(date -d "$(ssh-keygen -Lf many-cert.pub | sed -n 's/^ *Valid: from \([^ ]*\) to .*/\1/p')" +%s)
MANY_B2=$(tr -d '\n' <many-cert.pub | b2sum -l 256 | cut -d' ' -f1)
t_eq "the audit event names every principal, the whole key id, the key, valid_after and the certificate" \
  "key_id=$LONGID principals=$MANY ttl=600 key=$MANY_FP valid_after=$MANY_FROM cert=BLAKE2b-256:$MANY_B2" \
  "$(sqlite3 data/sshcert.db "select detail from audit where event = 'cert_signed_offline' order by id desc limit 1")"
t_rc "the audit chain verifies" 0 "$ADMIN" -c cfg.json audit verify

# Every limit of sign and user add at its boundary: N is accepted, N + 1 refused with its exact
# message, exit 1, nothing written and nothing recorded.
ssh-keygen -q -t ed25519 -N '' -f lim
n0=$(count)
P256=$(seq -f 'p%g' 1 256 | paste -sd, -)
t_rc "sign with SSHCERT_MAX_PRINCIPALS (256) principals" 0 "$ADMIN" -c cfg.json sign lim.pub --principals "$P256" -o lim1-cert.pub
t_eq "...the certificate holds all 256" 256 \
  "$(ssh-keygen -L -f lim1-cert.pub | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | wc -l)"
t_rc "sign with 257 principals is refused" 1 "$ADMIN" -c cfg.json sign lim.pub --principals "$P256,p257" -o lim2-cert.pub
t_eq "...saying so" "sshcert-admin: refusing to sign: bad --principals \"$P256,p257\": more than 256 principals" "$T_ERR"
L256=$(printf 'q%.0s' $(seq 256))
t_rc "sign with a principal of SSHCERT_MAX_PRINCIPAL_LEN (256) bytes" 0 "$ADMIN" -c cfg.json sign lim.pub --principals "$L256" -o lim3-cert.pub
t_match "...the certificate holds it" "^ +$L256\$" "$(ssh-keygen -L -f lim3-cert.pub)"
t_rc "sign with a principal of 257 bytes is refused" 1 "$ADMIN" -c cfg.json sign lim.pub --principals "${L256}q" -o lim4-cert.pub
t_eq "...saying so" "sshcert-admin: refusing to sign: bad --principals \"${L256}q\": empty or non-printable principal" "$T_ERR"
K1024=$(printf 'k%.0s' $(seq 1024))
t_rc "sign with a key id of SSHCERT_MAX_KEY_ID (1024) bytes" 0 "$ADMIN" -c cfg.json sign lim.pub --principals "$U1" --key-id "$K1024" -o lim5-cert.pub
t_has "...the certificate carries it" "Key ID: \"$K1024\"" "$(ssh-keygen -L -f lim5-cert.pub)"
t_rc "sign with a key id of 1025 bytes is refused" 1 "$ADMIN" -c cfg.json sign lim.pub --principals "$U1" --key-id "${K1024}k" -o lim6-cert.pub
t_eq "...saying so" "sshcert-admin: refusing to sign: --key-id must be 1..1024 characters" "$T_ERR"
F4096=$(printf 'f%.0s' $(seq 4096))
t_rc "sign with a force-command of SSHCERT_MAX_FORCE_COMMAND (4096) bytes" 0 "$ADMIN" -c cfg.json sign lim.pub --principals "$U1" --force-command "$F4096" -o lim7-cert.pub
t_has "...the certificate carries it" "force-command $F4096" "$(ssh-keygen -L -f lim7-cert.pub)"
t_rc "sign with a force-command of 4097 bytes is refused" 1 "$ADMIN" -c cfg.json sign lim.pub --principals "$U1" --force-command "${F4096}f" -o lim8-cert.pub
t_eq "...saying so" "sshcert-admin: refusing to sign: --force-command must be 1..4096 characters" "$T_ERR"
# 512 addresses, one or two of them a byte longer: 4096 and 4097 bytes.
SA4096=$(python3 -c 'l = ["1.1.1.1"] * 512; l[0] = "1.1.1.10"; print(",".join(l))')
SA4097=$(python3 -c 'l = ["1.1.1.1"] * 512; l[0] = l[1] = "1.1.1.10"; print(",".join(l))')
t_eq "source-address lists of 4096 and 4097 bytes" "4096 4097" "${#SA4096} ${#SA4097}"
t_rc "sign with a source-address of SSHCERT_MAX_SOURCE_ADDRESS (4096) bytes" 0 "$ADMIN" -c cfg.json sign lim.pub --principals "$U1" --source-address "$SA4096" -o lim9-cert.pub
t_has "...the certificate carries it" "source-address $SA4096" "$(ssh-keygen -L -f lim9-cert.pub)"
t_rc "sign with a source-address of 4097 bytes is refused" 1 "$ADMIN" -c cfg.json sign lim.pub --principals "$U1" --source-address "$SA4097" -o lim10-cert.pub
t_eq "...saying so" "sshcert-admin: refusing to sign: --source-address \"$SA4097\" is not a list of addresses or CIDR blocks like 192.0.2.0/24,2001:db8::/32" "$T_ERR"
t_eq "the refused ones wrote no file" "lim1-cert.pub lim3-cert.pub lim5-cert.pub lim7-cert.pub lim9-cert.pub" \
  "$(ls lim*-cert.pub | sort -V | xargs)"
t_eq "only the accepted ones are recorded" "$((n0 + 5))" "$(count)"

N64=$(printf 'n%.0s' $(seq 64))
P1024=$(printf 'p%.0s' $(seq 1024))
t_rc "user add with a name of SSHCERT_MAX_USERNAME (64) bytes" 0 sh -c 'echo password | "$1" -c cfg.json user add "$2" --principals x' - "$ADMIN" "$N64"
t_rc "user add with a name of 65 bytes is refused" 1 sh -c 'echo password | "$1" -c cfg.json user add "$2" --principals x' - "$ADMIN" "${N64}n"
t_eq "...saying so" "sshcert-admin: bad user name \"${N64}n\": use 1..64 of a-z 0-9 _ . - starting with a letter or _" "$T_ERR"
t_rc "user add with a password of SSHCERT_MIN_PASSWORD (8) characters" 0 sh -c 'echo passwor8 | "$1" -c cfg.json user add min8 --principals x' - "$ADMIN"
t_rc "user add with a password of 7 characters is refused" 1 sh -c 'echo passwo7 | "$1" -c cfg.json user add min7 --principals x' - "$ADMIN"
t_eq "...saying so" "sshcert-admin: password must have at least 8 characters" "$T_ERR"
t_rc "user add with a password of SSHCERT_MAX_PASSWORD (1024) characters" 0 sh -c 'echo "$2" | "$1" -c cfg.json user add max1024 --principals x' - "$ADMIN" "$P1024"
t_rc "user add with a password of 1025 characters is refused" 1 sh -c 'echo "$2" | "$1" -c cfg.json user add max1025 --principals x' - "$ADMIN" "${P1024}p"
t_eq "...saying so" "sshcert-admin: password longer than 1024 characters" "$T_ERR"
t_rc "user passwd to 1024 characters" 0 sh -c 'echo "$2" | "$1" -c cfg.json user passwd min8' - "$ADMIN" "$P1024"
t_rc "user passwd to 1025 characters is refused" 1 sh -c 'echo "$2" | "$1" -c cfg.json user passwd min8' - "$ADMIN" "${P1024}p"
t_eq "...saying so" "sshcert-admin: password longer than 1024 characters" "$T_ERR"
# CRLF input: the "\r" before the newline is not part of the password, so it does not count.
t_rc "user add with a password of 1024 characters and CRLF" 0 sh -c 'printf "%s\r\n" "$2" | "$1" -c cfg.json user add crlf1024 --principals x' - "$ADMIN" "$P1024"
t_rc "user add with a password of 1025 characters and CRLF is refused" 1 sh -c 'printf "%s\r\n" "$2" | "$1" -c cfg.json user add crlf1025 --principals x' - "$ADMIN" "${P1024}p"
t_eq "...saying so" "sshcert-admin: password longer than 1024 characters" "$T_ERR"
t_rc "user passwd to 1024 characters and CRLF" 0 sh -c 'printf "%s\r\n" "$2" | "$1" -c cfg.json user passwd crlf1024' - "$ADMIN" "$P1024"
t_eq "...the stored hash is of the 1024 characters, without the CR" 1 "$(python3 -c '
import sqlite3, sys
from ctypes import CDLL, c_char_p, c_ulonglong
s = CDLL("libsodium.so.23"); s.sodium_init()
h = sqlite3.connect("data/sshcert.db").execute("select password_hash from users where username = ?", ("crlf1024",)).fetchone()[0]
pw = sys.argv[1].encode()
print(1 if s.crypto_pwhash_str_verify(c_char_p(h.encode()), c_char_p(pw), c_ulonglong(len(pw))) == 0 else 0)
' "$P1024")"
# A NUL byte would cut the password where its C string ends: "passwordX\0tail" would be stored
# as the hash of "passwordX". Refused, and nothing changes.
HASH_MIN8=$(sqlite3 data/sshcert.db "select password_hash from users where username = 'min8'")
t_rc "user add with a NUL byte in the password is refused" 1 sh -c 'printf "passwordX\000tail\n" | "$1" -c cfg.json user add nul --principals x' - "$ADMIN"
t_eq "...saying so" "sshcert-admin: the password contains a NUL byte" "$T_ERR"
t_rc "user passwd with a NUL byte in the password is refused" 1 sh -c 'printf "passwordX\000tail\n" | "$1" -c cfg.json user passwd min8' - "$ADMIN"
t_eq "...saying so" "sshcert-admin: the password contains a NUL byte" "$T_ERR"
t_eq "...and min8's password hash is unchanged" "$HASH_MIN8" \
  "$(sqlite3 data/sshcert.db "select password_hash from users where username = 'min8'")"
t_eq "the users added: the four at their limits" "crlf1024 max1024 min8 $N64" \
  "$(sqlite3 data/sshcert.db "select username from users order by username" | xargs)"

# A key missing next to an existing database is lost, not new: init refuses to make one and
# changes nothing (a new secret.key would make every stored TOTP secret unreadable, a new CA
# key would not match the certificates on record).
mkdir -p rest/data && chmod 700 rest/data
cp data/sshcert.db data/ca_key data/ca_key.pub rest/data/
echo '{"data_dir": "data"}' >rest/cfg.json
SUM_REST=$(cd rest/data && ls -A && sha256sum ca_key ca_key.pub sshcert.db)
t_rc "init with the database but no secret.key: refused" 1 "$ADMIN" -c rest/cfg.json init
t_eq "...saying what to do" "sshcert-admin: rest/data/secret.key is missing but the database rest/data/sshcert.db exists: restore it from your backup (it seals the users' TOTP secrets, and with a new one no login could pass); to start a new CA instead, move rest/data/sshcert.db away first" "$T_ERR"
t_eq "...and nothing changed" "$SUM_REST" "$(cd rest/data && ls -A && sha256sum ca_key ca_key.pub sshcert.db)"
cp data/secret.key rest/data/ && rm rest/data/ca_key
SUM_REST=$(cd rest/data && ls -A && sha256sum ca_key.pub secret.key sshcert.db)
t_rc "init with the database but no CA key: refused" 1 "$ADMIN" -c rest/cfg.json init
t_eq "...saying what to do" "sshcert-admin: rest/data/ca_key is missing but the database rest/data/sshcert.db exists: restore it from your backup (devices trust that key, and a new one would not match the certificates on record); to start a new CA instead, move rest/data/sshcert.db away first" "$T_ERR"
t_eq "...and nothing changed" "$SUM_REST" "$(cd rest/data && ls -A && sha256sum ca_key.pub secret.key sshcert.db)"
cp data/ca_key rest/data/
t_rc "all restored: init exits 0" 0 "$ADMIN" -c rest/cfg.json init
t_eq "...with the CA key it had" "$(cat data/ca_key.pub)" "$T_OUT"

# Another process holds the database's write lock (the server's batch, another admin) for
# longer than sshcert-admin waits for it (5 s). Reports only read, and a read never waits in
# WAL mode: they answer at once. A write waits 5 s and fails, saying why, and records nothing.
# (Until issue 8's fourteenth session every command began with a write transaction, so the
# reports failed too, after 5 s, with "SQLite could not open or set it up (disk full, locked
# or damaged?)".)
SUM_LOCKED=$(sqlite3 data/sshcert.db "select count(*) from certificates; select count(*) from audit")
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")' data/sshcert.db 60 >lock.out &
LOCK_PID=$!
T_PIDS+=("$LOCK_PID")
for i in $(seq 100); do grep -q held lock.out && break; sleep 0.05; done
t_eq "locked: another process holds the write lock" held "$(cat lock.out)"
t0=$(date +%s%N)
t_rc "locked: cert list answers" 0 "$ADMIN" -c cfg.json cert list --user "$U1"
t_match "...with the user's certificates" "^1 +$U1 +revoked" "$(printf '%s' "$T_OUT" | sed -n 2p)"
t_rc "locked: cert show answers" 0 "$ADMIN" -c cfg.json cert show 1
t_rc "locked: user list answers" 0 "$ADMIN" -c cfg.json user list
t_rc "locked: audit verify answers" 0 "$ADMIN" -c cfg.json audit verify
t_match "...intact" "^audit log intact: [0-9]+ entries" "$T_OUT$T_ERR"
t_rc "locked: audit export answers" 0 "$ADMIN" -c cfg.json audit export
t_rc "locked: krl -o writes the KRL" 0 "$ADMIN" -c cfg.json krl -o locked.krl
t_match "...which revokes serial 1" "REVOKED" "$(ssh-keygen -Q -f locked.krl user-cert.pub 2>&1)"
t_eq "...all of them without waiting for the lock (under 4 s in all)" yes \
  "$([ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 4000 ] && echo yes || echo "no: $(( ($(date +%s%N) - t0) / 1000000 )) ms")"
ssh-keygen -q -t ed25519 -N '' -f lk
t_rc "locked: sign waits, then fails" 1 "$ADMIN" -c cfg.json sign lk.pub --principals "$U1"
t_eq "...saying why" "sshcert-admin: signing failed, nothing issued: the database is locked by another process; retry later" "$T_ERR"
t_eq "...and wrote no certificate file" no "$([ -e lk-cert.pub ] && echo yes || echo no)"
t_rc "locked: user lock waits, then fails" 1 "$ADMIN" -c cfg.json user lock min8
t_match "...saying why" "the database is locked by another process; retry later" "$T_ERR"
kill "$LOCK_PID" 2>/dev/null
wait "$LOCK_PID" 2>/dev/null
t_eq "...and nothing was recorded" "$SUM_LOCKED" \
  "$(sqlite3 data/sshcert.db "select count(*) from certificates; select count(*) from audit")"
t_rc "unlocked: sign works again" 0 "$ADMIN" -c cfg.json sign lk.pub --principals "$U1"

# An existing ssh-keygen CA key is adopted by init.
mkdir -p ext/data && chmod 700 ext/data
ssh-keygen -q -t ed25519 -N '' -C ext -f ext/data/ca_key
echo '{"data_dir": "data"}' >ext/cfg.json
t_rc "init accepts an ssh-keygen CA key" 0 "$ADMIN" -c ext/cfg.json init
t_eq "...and keeps it" "$(ssh-keygen -y -f ext/data/ca_key | cut -d' ' -f2)" "$(cut -d' ' -f2 ext/data/ca_key.pub)"
ssh-keygen -q -t ed25519 -N 'secret' -f enc
mkdir -p enc_ca/data && chmod 700 enc_ca/data && cp enc enc_ca/data/ca_key
echo '{"data_dir": "data"}' >enc_ca/cfg.json
t_rc "an encrypted CA key is refused clearly" 1 "$ADMIN" -c enc_ca/cfg.json init
t_match "...encrypted keys are not supported yet" "encrypted keys are not supported yet" "$T_ERR"
echo '{"data_dir": "data", "bogus": 1}' >bad.json
t_rc "an unknown config key is an error" 1 "$ADMIN" -c bad.json init
t_match "...naming the key" 'unknown key "bogus"' "$T_ERR"
t_done
