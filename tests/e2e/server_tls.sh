#!/bin/bash
# sshcert-server end to end, transport and start-up (issue 3): HTTPS with a self-signed
# certificate (RSA and ed25519), TLS 1.2 and 1.3 accepted and TLS 1.1 refused (a client that
# can speak TLS 1.1, shown against openssl s_server, cannot get through); the CA key in locked
# memory without core dumps; refusal to start on a CA key or secret.key readable by group or
# others, on plain HTTP off loopback, and on broken config or TLS files, each naming the culprit;
# TLS certificate and key files of SSHCERT_MAX_PEM bytes served, one byte more refused.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/server_common.sh"

D="$T_DIR/tls"
mkdir -p "$D"
selfsigned() { # selfsigned ALG PREFIX
  openssl req -x509 -newkey "$1" -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$2.key" -out "$2.crt" 2>/dev/null
}
selfsigned rsa:2048 "$D/rsa"
selfsigned ed25519 "$D/ed"
t_eq "openssl made the test certificates" 4 "$(ls "$D"/*.crt "$D"/*.key | wc -l)"

# ---- HTTPS with an RSA certificate (relative paths: relative to the config's folder) ----
srv_start tls '"tls":{"cert_file":"rsa.crt","key_file":"rsa.key"},"auth":{"password_hash":"min","max_failures":3,"lockout":"1m"}' https ||
  exit 1
t_schema "the TLS config matches config.schema.json" config "$SRV_CFG"
SRV_CURL+=(--cacert "$D/rsa.crt")
t_has "log: https" "(https)" "$(cat "$SRV_LOG")"
get /v1/health
t_eq "https health: 200" 200 "$HTTP_CODE"
t_schema "https health matches health-response.schema.json" health-response "$RESP"
srv_user tina tina || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/key"
post "$(login_body tina "$T_DIR/key.pub" ttl:=300)"
t_eq "https issue: 201" 201 "$HTTP_CODE"
t_schema "https issue matches certificate-response.schema.json" certificate-response "$RESP"
jget certificate >"$T_DIR/key-cert.pub"
t_has "https issue: ssh-keygen reads the certificate" 'Key ID: "tina#1"' "$(ssh-keygen -L -f "$T_DIR/key-cert.pub")"
for v in 1.2 1.3; do
  t_rc "curl --tlsv$v --tls-max $v: accepted" 0 \
    curl -s -f -o /dev/null --cacert "$D/rsa.crt" --tlsv"$v" --tls-max "$v" "$SRV_URL/v1/health"
done
t_rc "curl without the CA certificate: refused (60)" 60 curl -s -o /dev/null "$SRV_URL/v1/health"
t_rc "plain HTTP to the TLS port: no HTTP answer" 1 \
  sh -c "curl -s -f -o /dev/null --max-time 5 'http://127.0.0.1:$SRV_PORT/v1/health'; [ \$? = 0 ] && exit 0 || exit 1"

# TLS 1.1: first show that this client can speak it (to openssl s_server, which allows it),
# then that sshcert-server refuses it.
LEGACY=(--tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0')
CTRL_PORT=$(t_free_port)
openssl s_server -accept "127.0.0.1:$CTRL_PORT" -cert "$D/rsa.crt" -key "$D/rsa.key" -www \
  -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -quiet </dev/null >"$T_DIR/s_server.log" 2>&1 &
CTRL_PID=$!
T_PIDS+=("$CTRL_PID")
for i in $(seq 50); do
  curl -s -o /dev/null -k "${LEGACY[@]}" "https://127.0.0.1:$CTRL_PORT/" && break
  sleep 0.1
done
t_rc "control: curl speaks TLS 1.1 to openssl s_server -tls1_1" 0 \
  curl -s -f -o /dev/null -k "${LEGACY[@]}" "https://127.0.0.1:$CTRL_PORT/"
kill "$CTRL_PID"
wait "$CTRL_PID" 2>/dev/null
t_rc "the same TLS 1.1 client: refused by sshcert-server (35)" 35 \
  curl -s -o /dev/null -k "${LEGACY[@]}" "$SRV_URL/v1/health"
t_rc "curl --tls-max 1.1 (defaults): refused" 35 \
  curl -s -o /dev/null --cacert "$D/rsa.crt" --tls-max 1.1 "$SRV_URL/v1/health"
echo | openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
  >"$T_DIR/s_client11.out" 2>&1
t_has "openssl s_client -tls1_1: no cipher agreed" 'Cipher is (NONE)' "$(cat "$T_DIR/s_client11.out")"
echo | openssl s_client -connect "127.0.0.1:$SRV_PORT" -tls1_2 -CAfile "$D/rsa.crt" \
  >"$T_DIR/s_client12.out" 2>&1
t_match "openssl s_client -tls1_2: a verified session" 'Verify return code: 0 \(ok\)' \
  "$(cat "$T_DIR/s_client12.out")"

# The CA key lives in locked memory, and the process makes no core dumps. (AddressSanitizer
# turns mlock into a no-op, so an ASan build has nothing locked to see.)
if ldd "$SERVER" 2>/dev/null | grep -q libasan; then
  t_log "ASan build: mlock is a no-op under AddressSanitizer; VmLck not checked"
else
  t_match "the server has locked memory (VmLck > 0)" 'VmLck:[[:space:]]+[1-9][0-9]* kB' \
    "$(cat "/proc/$SRV_PID/status")"
fi
t_match "the server's core size limit is 0" '^Max core file size +0 +0 ' \
  "$(cat "/proc/$SRV_PID/limits")"
get /v1/health
t_eq "still serving after the refused handshakes" 200 "$HTTP_CODE"
srv_stop
t_eq "SIGTERM: exit 0" 0 "$SRV_RC"
TLS_DATA=$SRV_DATA

# ---- HTTPS with an ed25519 certificate, and a CA key made by ssh-keygen ----
mkdir -m 0700 -p "$T_DIR/tls-ed/data"
ssh-keygen -q -t ed25519 -N '' -C 'made by ssh-keygen' -f "$T_DIR/tls-ed/data/ca_key"
KEYGEN_FP=$(ssh-keygen -l -E sha256 -f "$T_DIR/tls-ed/data/ca_key.pub" | awk '{print $2}')
KEYGEN_SUM=$(sha256sum <"$T_DIR/tls-ed/data/ca_key")
srv_start tls-ed "\"tls\":{\"cert_file\":\"$D/ed.crt\",\"key_file\":\"$D/ed.key\"}" https || exit 1
SRV_CURL=(-s --max-time 20 --cacert "$D/ed.crt")
get /v1/ca
t_eq "ed25519 TLS certificate: GET /v1/ca 200" 200 "$HTTP_CODE"
t_schema "ed25519 TLS: /v1/ca matches ca-response.schema.json" ca-response "$RESP"
t_eq "init kept the ssh-keygen CA key" "$KEYGEN_SUM" "$(sha256sum <"$SRV_DATA/ca_key")"
t_eq "the server signs with it" "$KEYGEN_FP" "$(jget fingerprint)"
t_rc "init again: exit 0" 0 "$ADMIN" -c "$SRV_CFG" init
t_eq "init again: prints the CA key line" "$(cut -d' ' -f1,2 "$SRV_DATA/ca_key.pub")" \
  "$(printf '%s\n' "$T_OUT" | cut -d' ' -f1,2)"
t_has "init again: changes nothing" "nothing changed" "$T_ERR"
t_eq "init again: the key is the same" "$KEYGEN_SUM" "$(sha256sum <"$SRV_DATA/ca_key")"
t_eq "data dir 0700, ca_key 0600, secret.key 0600 and 32 bytes" "700 600 600 32" \
  "$(stat -c %a "$SRV_DATA" "$SRV_DATA/ca_key" "$SRV_DATA/secret.key" | xargs) $(stat -c %s "$SRV_DATA/secret.key")"
t_eq "the database: schema version 5, WAL" "5 wal" \
  "$(sqlite3 "$SRV_DATA/sshcert.db" 'PRAGMA user_version; PRAGMA journal_mode;' | xargs)"
srv_stop
t_eq "SIGTERM: exit 0" 0 "$SRV_RC"

# ---- refusals to start: exit non-zero, a message naming the problem, nothing listening ----
refuse() { # refuse DESC CONFIG_JSON REGEX
  local cfg="$T_DIR/refuse.json" port
  port=$(t_free_port)
  printf '%s\n' "${2//@PORT@/$port}" >"$cfg"
  t_rc "$1: exits 1" 1 timeout 10 "$SERVER" -c "$cfg"
  t_match "$1: says why" "$3" "$T_ERR"
  t_rc "$1: nothing listens on the port" 7 curl -s -o /dev/null "http://127.0.0.1:$port/v1/health"
}
P='"auth":{"password_hash":"min"}'
chmod 640 "$TLS_DATA/ca_key"
refuse "CA key mode 640" "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  "$(re_escape "$TLS_DATA/ca_key"): it is readable by group or others"
chmod 604 "$TLS_DATA/ca_key"
refuse "CA key mode 604" "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  "$(re_escape "$TLS_DATA/ca_key").*readable by group or others"
chmod 600 "$TLS_DATA/ca_key"
chmod 640 "$TLS_DATA/secret.key"
refuse "secret.key mode 640" "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  "$(re_escape "$TLS_DATA/secret.key").*readable by group or others"
chmod 600 "$TLS_DATA/secret.key"
sqlite3 "$TLS_DATA/sshcert.db" 'PRAGMA user_version = 99'
refuse "a database from a newer sshcert (schema 99)" \
  "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  "cannot open database $(re_escape "$TLS_DATA/sshcert.db")"
sqlite3 "$TLS_DATA/sshcert.db" 'PRAGMA user_version = 5'
refuse "plain HTTP on 0.0.0.0" "{\"listen\":\"0.0.0.0:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  'refusing to serve plain HTTP on 0\.0\.0\.0'
refuse "plain HTTP on [::]" "{\"listen\":\"[::]:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  'refusing to serve plain HTTP on ::'
refuse "plain HTTP on 192.0.2.1" "{\"listen\":\"192.0.2.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",$P}" \
  'refusing to serve plain HTTP on 192\.0\.2\.1'
refuse "a missing TLS key file" \
  "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",\"tls\":{\"cert_file\":\"$D/rsa.crt\",\"key_file\":\"$D/nope.key\"},$P}" \
  "$(re_escape "$D/nope.key")"
printf 'not a certificate\n' >"$D/junk.crt"
refuse "a TLS certificate that is not PEM" \
  "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",\"tls\":{\"cert_file\":\"$D/junk.crt\",\"key_file\":\"$D/rsa.key\"},$P}" \
  'TLS key/certificate is invalid'
refuse "an unknown config key" "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",\"listn\":1}" \
  'unknown key "listn"'
refuse "a data dir never initialised" "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$T_DIR/empty\",$P}" \
  "$(re_escape "$T_DIR/empty/ca_key") not found: run 'sshcert-admin -c CONFIG init' first"
t_rc "no config file: exits 1" 1 "$SERVER" -c "$T_DIR/missing.json"
t_match "no config file: names it" "$(re_escape "$T_DIR/missing.json")" "$T_ERR"
t_rc "a stray argument: usage, exit 2" 2 "$SERVER" -c "$T_DIR/missing.json" --bogus

# ---- SSHCERT_MAX_PEM (ca-server/server.c): the TLS certificate and the TLS key are each read
# through sshcert_file_read_checked with a cap of 65536 bytes. A PEM file padded with newlines
# after its END line still holds one certificate or key (GnuTLS looks for the BEGIN/END lines
# and skips what lies outside them, as RFC 7468 allows), so files of exactly the cap are served
# and one byte more is refused at start by lib/file.c, with the file and the cap named. ----
MAX_PEM=65536
pem_pad() { # pem_pad SRC SIZE DEST: SRC followed by newlines up to SIZE bytes
  "$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d + b"\n" * (int(sys.argv[2]) - len(d)))' \
    "$1" "$2" >"$3"
}
pem_pad "$D/rsa.crt" "$MAX_PEM" "$D/max.crt"
pem_pad "$D/rsa.crt" $((MAX_PEM + 1)) "$D/over.crt"
pem_pad "$D/rsa.key" "$MAX_PEM" "$D/max.key"
pem_pad "$D/rsa.key" $((MAX_PEM + 1)) "$D/over.key"
chmod 600 "$D/max.key" "$D/over.key" # a TLS key must be 0600: the size is checked after the mode
t_eq "padded PEM files: 65536 and 65537 bytes, keys 0600" "65536 65537 65536:600 65537:600" \
  "$(stat -c %s "$D/max.crt" "$D/over.crt" | xargs) $(stat -c %s:%a "$D/max.key" "$D/over.key" | xargs)"
# Every start bounded: a server that wrongly took a file keeps serving, and timeout ends it
# (exit 124) instead of the test hanging. srv_start runs $SERVER, so it gets a wrapper that
# execs timeout (SIGTERM from srv_stop reaches the server through it, exit status kept).
printf '#!/bin/sh\nexec timeout 60 "%s" "$@"\n' "$SERVER" >"$T_DIR/server-bounded"
chmod 755 "$T_DIR/server-bounded"
SERVER_UNBOUNDED=$SERVER
SERVER="$T_DIR/server-bounded"
srv_start pem-max "\"tls\":{\"cert_file\":\"$D/max.crt\",\"key_file\":\"$D/max.key\"},$P" https
t_eq "TLS certificate and key files of 65536 bytes (SSHCERT_MAX_PEM): the server starts" 0 "$?"
SERVER=$SERVER_UNBOUNDED
if grep -q "sshcert-server listening on" "$SRV_LOG"; then
  t_has "65536-byte PEM files: log: https" "(https)" "$(cat "$SRV_LOG")"
  SRV_CURL=(-s --max-time 20 --cacert "$D/rsa.crt")
  get /v1/health
  t_eq "65536-byte PEM files: https health, verified against the certificate: 200" \
    '200 {"status":"ok"}' "$HTTP_CODE $HTTP_BODY"
  srv_stop
  t_eq "65536-byte PEM files: SIGTERM, exit 0" 0 "$SRV_RC"
fi
refuse "a TLS certificate file of 65537 bytes" \
  "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",\"tls\":{\"cert_file\":\"$D/over.crt\",\"key_file\":\"$D/rsa.key\"},$P}" \
  "^[^ ]+ error TLS certificate $(re_escape "$D/over.crt") is larger than 65536 bytes\$"
refuse "a TLS key file of 65537 bytes" \
  "{\"listen\":\"127.0.0.1:@PORT@\",\"data_dir\":\"$TLS_DATA\",\"tls\":{\"cert_file\":\"$D/rsa.crt\",\"key_file\":\"$D/over.key\"},$P}" \
  "^[^ ]+ error TLS key $(re_escape "$D/over.key") is larger than 65536 bytes\$"
t_done
