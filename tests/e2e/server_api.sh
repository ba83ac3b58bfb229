#!/bin/bash
# sshcert-server end to end, the API (issue 3): user add -> POST /v1/certificates -> 201 that
# validates against schemas/, fields checked with ssh-keygen -L, the row in SQLite, a real sshd
# that accepts the certificate; every refusal a request itself can cause (400, 403, 404, 405,
# 413, 415) with its status and error code; secrets absent from the database and the log.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/server_common.sh"

LU="scapi$$" # the Unix login the certificate is for (also a principal); per run, so that
# two runs of this test at once (two build dirs) do not delete each other's user
srv_start api '"auth":{"password_hash":"min","max_failures":3,"lockout":"1m"},"cert":{"default_ttl":"5m","max_ttl":"2h","extensions":["permit-pty","permit-port-forwarding"]}' ||
  exit 1
t_schema "the test's config matches config.schema.json" config "$SRV_CFG"
DB="$SRV_DATA/sshcert.db"
t_user "$LU" || exit 1
srv_user "$LU" "$LU,ops" || exit 1
srv_user bob bob || exit 1
srv_user carol carol --max-ttl 10m || exit 1
srv_user dave dave,www || exit 1
srv_user erin erin,backup || exit 1
K="$T_DIR/key"
ssh-keygen -q -t ed25519 -N '' -C "$LU@laptop" -f "$K"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T_DIR/rsa"
ED_PUB=$(cat "$K.pub")

# ---- the small GET endpoints ----
get /v1/health
t_eq "GET /v1/health: 200" 200 "$HTTP_CODE"
t_schema "GET /v1/health matches health-response.schema.json" health-response "$RESP"
t_eq "GET /v1/health: JSON" "application/json" "$(header Content-Type)"
HTTP_CODE=$(curl "${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -I "$SRV_URL/v1/health")
t_eq "HEAD /v1/health: 200" 200 "$HTTP_CODE"
get /v1/ca
t_eq "GET /v1/ca: 200" 200 "$HTTP_CODE"
t_schema "GET /v1/ca matches ca-response.schema.json" ca-response "$RESP"
t_eq "GET /v1/ca: public_key is data/ca_key.pub" "$(cat "$SRV_DATA/ca_key.pub")" "$(jget public_key)"
CA_FP=$(ssh-keygen -l -E sha256 -f "$SRV_DATA/ca_key.pub" | awk '{print $2}')
t_eq "GET /v1/ca: fingerprint as ssh-keygen -l prints it" "$CA_FP" "$(jget fingerprint)"
get /v1/ca.pub
t_eq "GET /v1/ca.pub: 200" 200 "$HTTP_CODE"
t_eq "GET /v1/ca.pub: the key line" "$(cat "$SRV_DATA/ca_key.pub")" "$HTTP_BODY"
t_match "GET /v1/ca.pub: text/plain" '^text/plain' "$(header Content-Type)"

# ---- 400 bad_request and unsupported_key_type: refused while decoding, before any
# authentication, so none of these costs a TOTP code or counts as a failed login ----
CODE=000000
post '{"username":'
t_error "malformed JSON" 400 bad_request
t_match "malformed JSON: says so" 'malformed JSON' "$(jget message)"
post '["not","an","object"]'
t_error "a JSON array" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" public_key="$ED_PUB")"
t_error "missing totp" 400 bad_request
t_eq "missing totp: message names it" 'missing field "totp"' "$(jget message)"
post "$(json password="$PASSWORD" totp=$CODE public_key="$ED_PUB")"
t_error "missing username" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$ED_PUB" admin:=true)"
t_error "unknown field" 400 bad_request
t_eq "unknown field: message names it" 'unknown field "admin"' "$(jget message)"
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$ED_PUB" ttl=600)"
t_error "ttl as a string" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$ED_PUB" ttl:=60.5)"
t_error "ttl as a fraction" 400 bad_request
post "$(json username:=42 password="$PASSWORD" totp=$CODE public_key="$ED_PUB")"
t_error "username as a number" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp:=123456 public_key="$ED_PUB")"
t_error "totp as a number" 400 bad_request
post "$(json username="$LU" password="" totp=$CODE public_key="$ED_PUB")"
t_error "empty password" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$ED_PUB" principals="$LU")"
t_error "principals as a string" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$ED_PUB" 'principals:=[]')"
t_error "principals empty" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$ED_PUB" 'principals:=["ops","ops"]')"
t_error "a principal twice" 400 bad_request
post "{\"username\":\"$LU\",\"username\":\"bob\",\"password\":\"$PASSWORD\",\"totp\":\"$CODE\",\"public_key\":\"$ED_PUB\"}"
t_error "a field twice" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="ssh-ed25519 AAAA!!!notbase64")"
t_error "bad public key (base64)" 400 bad_request
t_match "bad public key: message says public_key" 'public_key' "$(jget message)"
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==")"
t_error "bad public key (short)" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="hello")"
t_error "bad public key (not a key line)" 400 bad_request
post "$(json username="$LU" password="$PASSWORD" totp=$CODE public_key="$(cat "$T_DIR/rsa.pub")")"
t_error "RSA key" 400 unsupported_key_type
post "$(json username="$(printf 'a%.0s' $(seq 257))" password="$PASSWORD" totp=$CODE public_key="$ED_PUB")"
t_error "a 257-byte username (SSHCERT_MAX_USERNAME_INPUT + 1)" 400 bad_request
t_eq "a 257-byte username: message" 'username or password too long' "$(jget message)"
post "$(json username="$LU" password="$(printf 'p%.0s' $(seq 1025))" totp=$CODE public_key="$ED_PUB")"
t_error "a 1025-byte password (SSHCERT_MAX_PASSWORD + 1)" 400 bad_request
t_eq "a 1025-byte password: message" 'username or password too long' "$(jget message)"
t_eq "nothing recorded by the refusals" 0 "$(sqlite3 "$DB" 'select count(*) from certificates')"
t_eq "no failed login counted for them" 0 "$(sqlite3 "$DB" "select count(*) from failures")"
# At the caps the body decodes: a 256-byte name is an unknown name (401, counted against
# the address only), a 1024-byte password a wrong one.
post "$(json username="$(printf 'a%.0s' $(seq 256))" password="$PASSWORD" totp=$CODE public_key="$ED_PUB")"
t_error "a 256-byte username (at SSHCERT_MAX_USERNAME_INPUT)" 401 invalid_credentials
post "$(json username="$LU" password="$(printf 'p%.0s' $(seq 1024))" totp=$CODE public_key="$ED_PUB")"
t_error "a 1024-byte password (at SSHCERT_MAX_PASSWORD)" 401 invalid_credentials

# ---- the happy path ----
post "$(login_body "$LU" "$K.pub" ttl:=600)"
NOW=$(date +%s)
t_eq "issue: 201" 201 "$HTTP_CODE"
t_eq "issue: JSON" "application/json" "$(header Content-Type)"
t_schema "issue: matches certificate-response.schema.json" certificate-response "$RESP"
cp "$RESP" "$T_DIR/issued1.json"
t_eq "issue: serial 1" 1 "$(jget serial)"
t_eq "issue: key id USER#SERIAL" "$LU#1" "$(jget key_id)"
t_eq "issue: all the user's principals" "[\"$LU\", \"ops\"]" "$(jget principals)"
VA=$(jget valid_after)
VB=$(jget valid_before)
t_eq "issue: validity = ttl 600 + backdate 60" 660 "$((VB - VA))"
t_eq "issue: valid_before about now + ttl" 1 "$(( VB >= NOW + 600 - 10 && VB <= NOW + 600 ))"
jget certificate >"$K-cert.pub"
L=$(ssh-keygen -L -f "$K-cert.pub" 2>&1)
t_match "ssh-keygen -L: a user certificate" 'Type: ssh-ed25519-cert-v01@openssh.com user certificate' "$L"
t_has "ssh-keygen -L: key id" "Key ID: \"$LU#1\"" "$L"
t_match "ssh-keygen -L: serial" 'Serial: 1$' "$L"
t_has "ssh-keygen -L: signed by the CA" "Signing CA: ED25519 $CA_FP" "$L"
t_has "ssh-keygen -L: certifies our key" \
  "Public key: ED25519-CERT $(ssh-keygen -l -E sha256 -f "$K.pub" | awk '{print $2}')" "$L"
t_has "ssh-keygen -L: validity" \
  "Valid: from $(date -d "@$VA" +%Y-%m-%dT%H:%M:%S) to $(date -d "@$VB" +%Y-%m-%dT%H:%M:%S)" "$L"
t_eq "ssh-keygen -L: principals" "$LU ops" \
  "$(printf '%s\n' "$L" | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | xargs)"
t_match "ssh-keygen -L: no critical options" 'Critical Options: \(none\)' "$L"
t_eq "ssh-keygen -L: the configured extensions, no others" "permit-port-forwarding permit-pty" \
  "$(printf '%s\n' "$L" | sed -n '/Extensions:/,$p' | sed '1d' | xargs)"
t_eq "certificate comment is the key id" "$LU#1" "$(awk '{print $3}' "$K-cert.pub")"

ROW=$(sqlite3 "$DB" "select serial, key_id, username, principals, valid_after, valid_before, client_address, issued_by, revoked_at is null from certificates")
t_eq "sqlite3: the certificate row" "1|$LU#1|$LU|$LU,ops|$VA|$VB|127.0.0.1|server|1" "$ROW"
t_eq "sqlite3: the key fingerprint" "$(ssh-keygen -l -E sha256 -f "$K.pub" | awk '{print $2}')" \
  "$(sqlite3 "$DB" 'select key_fingerprint from certificates where serial = 1')"
t_eq "sqlite3: the certificate line as returned" "$(cat "$K-cert.pub")" \
  "$(sqlite3 "$DB" 'select certificate from certificates where serial = 1')"
t_eq "sqlite3: the issue is audited" "cert_issued|server|$LU|1|127.0.0.1" \
  "$(sqlite3 "$DB" "select event, actor, username, serial, client_address from audit where event = 'cert_issued'")"
t_has "server log: issued serial, key id, principals, address" \
  "info issued serial 1 key id $LU#1 to $LU for $LU,ops from 127.0.0.1, 600s" "$(cat "$SRV_LOG")"

# A real sshd that trusts only the CA key accepts the certificate.
t_sshd api "$SRV_DATA/ca_key.pub" || exit 1
OUT=$(t_ssh "$SSHD_PORT_api" "$LU" "$K" "$K-cert.pub" 'id -un' 2>&1)
t_eq "sshd: login with the certificate" "$LU" "$OUT"
t_wait_file_match "$SSHD_LOG_api" "Accepted publickey for $LU from 127.0.0.1 port [0-9]+ ssh2: ED25519-CERT SHA256:[^ ]+ ID $LU#1 \(serial 1\) CA ED25519 $(re_escape "$CA_FP")" 10
t_eq "sshd log: Accepted publickey ... ID $LU#1 (serial 1)" 0 "$?"

# A subset of the principals (the next TOTP step: the current one is spent).
post "$(json username="$LU" password="$PASSWORD" totp="$(totp "$LU" 1)" public_key="$ED_PUB" 'principals:=["ops"]')"
t_eq "subset of principals: 201" 201 "$HTTP_CODE"
t_schema "subset: matches certificate-response.schema.json" certificate-response "$RESP"
t_eq "subset: serial 2" 2 "$(jget serial)"
t_eq "subset: only ops" '["ops"]' "$(jget principals)"
t_eq "subset: default ttl 5m + backdate" 360 "$(( $(jget valid_before) - $(jget valid_after) ))"
jget certificate >"$T_DIR/ops-cert.pub"
t_rc "sshd: refuses a certificate without the login's principal" 255 \
  t_ssh "$SSHD_PORT_api" "$LU" "$K" "$T_DIR/ops-cert.pub"
t_wait_file_match "$SSHD_LOG_api" 'Certificate invalid: name is not a listed principal' 10
t_eq "sshd log: name is not a listed principal" 0 "$?"

# ---- refusals by policy, after authentication ----
post "$(login_body bob "$K.pub" ttl:=0)"
t_error "ttl 0" 400 bad_request
t_eq "ttl 0: message names the ceiling (cert.max_ttl 2h)" "ttl must be between 1 and 7200 seconds" "$(jget message)"
post "$(json username=bob password="$PASSWORD" totp="$(totp bob 1)" public_key="$ED_PUB" ttl:=7201)"
t_error "ttl over cert.max_ttl" 400 bad_request
t_match "ttl over cert.max_ttl: names 7200" '\b7200\b' "$(jget message)"
post "$(login_body carol "$K.pub" ttl:=601)"
t_error "ttl over the user's --max-ttl 10m" 400 bad_request
t_eq "ttl over the user's max: message names 600" "ttl must be between 1 and 600 seconds" "$(jget message)"
post "$(json username=carol password="$PASSWORD" totp="$(totp carol 1)" public_key="$ED_PUB" ttl:=600)"
t_eq "ttl exactly the user's max: 201" 201 "$HTTP_CODE"
t_eq "ttl exactly the user's max: 600 + backdate" 660 "$(( $(jget valid_before) - $(jget valid_after) ))"
post "$(login_body dave "$K.pub" 'principals:=["dave","root"]')"
t_error "principal escalation" 403 principal_not_allowed
post "$(json username=dave password="$PASSWORD" totp="$(totp dave 1)" public_key="$ED_PUB" 'principals:=["erin"]')"
t_error "another user's principal" 403 principal_not_allowed
t_eq "nothing recorded for dave" 0 "$(sqlite3 "$DB" "select count(*) from certificates where username = 'dave'")"
t_eq "audit: the refusals after login, each with the step it used up" "principal_not_allowed|2 ttl_not_allowed|3" \
  "$(sqlite3 "$DB" "select substr(detail, instr(detail, ' ') + 1) as reason, count(*) from audit where event = 'issue_refused' and detail glob 'step=[1-9]* *' group by reason order by reason" | xargs)"
t_has "server log: the principal refusal" "refused dave from 127.0.0.1: principal_not_allowed" "$(cat "$SRV_LOG")"
post "$(login_body erin "$K.pub")"
t_eq "no ttl: 201" 201 "$HTTP_CODE"
t_eq "no ttl: cert.default_ttl 5m + backdate" 360 "$(( $(jget valid_before) - $(jget valid_after) ))"
t_eq "serials increase: 4" 4 "$(jget serial)"
t_eq "no ttl: every principal" '["erin", "backup"]' "$(jget principals)"

# ---- 404, 405 ----
get /nope
t_error "GET /nope" 404 not_found
get /v1/certificates/1
t_error "GET /v1/certificates/1" 404 not_found
get /v1/certificates
t_error "GET /v1/certificates" 405 method_not_allowed
t_eq "405 for GET: Allow: POST" POST "$(header Allow)"
get /v1/health -X POST -H 'Content-Type: application/json' --data-binary '{}'
t_error "POST /v1/health" 405 method_not_allowed
t_eq "405 for POST: Allow: GET, HEAD" "GET, HEAD" "$(header Allow)"
get /v1/krl -X DELETE
t_error "DELETE /v1/krl" 405 method_not_allowed
get /v1/certificates -X PUT -H 'Content-Type: application/json' --data-binary '{}'
t_error "PUT /v1/certificates" 405 method_not_allowed

# ---- 415 ----
post_as text/plain "$(login_body bob "$K.pub")"
t_error "Content-Type text/plain" 415 unsupported_media_type
post_as "" "$(login_body bob "$K.pub")"
t_error "no Content-Type" 415 unsupported_media_type
post_as application/x-www-form-urlencoded "username=bob&password=$PASSWORD"
t_error "a form" 415 unsupported_media_type
post_as "application/json; charset=utf-8" "$(json username=bob)"
t_error "application/json; charset=utf-8 is JSON (then missing fields)" 400 bad_request
post_as application/jsonx "$(json username=bob)"
t_error "application/jsonx" 415 unsupported_media_type

# ---- 413: 16 KiB, by Content-Length and chunked ----
pad() { # pad FILE SIZE: a JSON object {"pad":"xxx..."} of exactly SIZE bytes
  "$PY" -c 'import sys; n = int(sys.argv[2]); open(sys.argv[1], "w").write("{\"pad\":\"" + "x" * (n - 10) + "\"}")' "$1" "$2"
}
pad "$T_DIR/16384" 16384
pad "$T_DIR/16385" 16385
head -c 1048576 /dev/zero | tr '\0' ' ' >"$T_DIR/1m"
t_eq "pad files have the sizes" "16384 16385" "$(stat -c %s "$T_DIR/16384" "$T_DIR/16385" | xargs)"
post "@$T_DIR/16384"
t_error "16384 bytes: read whole, then decoded" 400 bad_request
t_eq "16384 bytes: the unknown field found" 'unknown field "pad"' "$(jget message)"
post "@$T_DIR/16385"
t_error "16385 bytes with Content-Length" 413 payload_too_large
post "@$T_DIR/16384" -H 'Transfer-Encoding: chunked'
t_error "16384 bytes chunked: read whole" 400 bad_request
post "@$T_DIR/16385" -H 'Transfer-Encoding: chunked'
t_error "16385 bytes chunked" 413 payload_too_large
post "@$T_DIR/1m" -H 'Transfer-Encoding: chunked'
t_error "1 MiB chunked" 413 payload_too_large
post "@$T_DIR/1m"
t_error "1 MiB with Content-Length" 413 payload_too_large
get /v1/health
t_eq "the server is fine after the oversize uploads" 200 "$HTTP_CODE"

# ---- secrets: not in the database in clear, not in the log ----
for f in "$DB" "$DB-wal"; do
  [ -f "$f" ] || continue
  t_eq "$(basename "$f"): the password is not in it" 0 "$(grep -c -a -F "$PASSWORD" "$f")"
  for u in "$LU" bob carol; do
    t_eq "$(basename "$f"): $u's TOTP secret (base32) is not in it" 0 \
      "$(grep -c -a -F "${TOTP_SECRET[$u]}" "$f")"
    # The raw 20 bytes, and their hex form.
    found=$("$PY" -c 'import base64, sys
raw = base64.b32decode(sys.argv[2])
data = open(sys.argv[1], "rb").read()
print(int(raw in data or raw.hex().encode() in data or raw.hex().upper().encode() in data))' "$f" "${TOTP_SECRET[$u]}")
    t_eq "$(basename "$f"): $u's TOTP secret (raw bytes, hex) is not in it" 0 "$found"
  done
done
t_match "the password is stored as an argon2id hash" '^\$argon2id\$' \
  "$(sqlite3 "$DB" "select password_hash from users where username = 'bob'")"
t_eq "the TOTP secret is stored sealed (nonce 24 + MAC 16 + 20 bytes)" 60 \
  "$(sqlite3 "$DB" "select length(totp_secret) from users where username = 'bob'")"
t_eq "server log: no password" 0 "$(grep -c -F "$PASSWORD" "$SRV_LOG")"
t_no_codes "server log: none of the $(sort -u "$CODES" | wc -l) TOTP codes" "$SRV_LOG"

# ---- metrics agree with what happened ----
t_eq "metrics: 4 issued" 4 "$(metric sshcert_certificates_issued_total)"
t_eq "metrics: 4 answers 201" 4 "$(metric 'sshcert_http_requests_total{code="201"}')"

t_error_bodies

# ---- SIGTERM: a clean exit ----
srv_stop
t_eq "SIGTERM: exit 0" 0 "$SRV_RC"
t_match "SIGTERM: logged" 'info stopped' "$(cat "$SRV_LOG")"
t_done
