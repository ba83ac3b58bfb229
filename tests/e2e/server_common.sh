#!/bin/bash
# Shared setup of the sshcert-server end-to-end tests (tests/e2e/server_*.sh), which source it:
# a real server on a free loopback port, users enrolled with sshcert-admin, TOTP codes from
# oathtool, requests with curl, answers checked against schemas/ with tests/tools/validate-json.py.
#
# Run on its own (ctest: e2e_server_common) it checks the schemas themselves: each is a valid
# draft 2020-12 schema, sample documents pass or fail as the server would answer, and the config
# schema accepts exactly the configs that sshcert-admin accepts.
# shellcheck disable=SC2034  # the variables set here are read by the scripts that source it
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh"

VALIDATE="$SSHCERT_SRC_DIR/tests/tools/validate-json.py"
SCHEMAS="$SSHCERT_SRC_DIR/schemas"
PASSWORD='password123'
declare -A TOTP_SECRET=()
SRV_CURL=(-s -g --max-time 20) # extra curl options for the current server (TLS: --cacert ...)

# The interpreter that has jsonschema: Debian's python3-jsonschema lives in /usr/bin/python3,
# which a pyenv or venv python3 earlier in PATH does not see. Missing module: validations fail.
SRV_PY=/usr/bin/python3
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import jsonschema' 2>/dev/null; then SRV_PY=$p; break; fi
done
# For the small JSON helpers any python3 does; the system one starts fastest.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# re_escape STRING: STRING as a literal in an extended regex (fingerprints hold + and /).
re_escape() {
  printf '%s' "$1" | sed -e 's/[][\\.^$*+?(){}|]/\\&/g'
}

# t_schema DESC SCHEMA_NAME FILE: FILE validates against schemas/SCHEMA_NAME.schema.json.
t_schema() {
  local err
  if err=$("$SRV_PY" "$VALIDATE" "$SCHEMAS/$2.schema.json" "$3" 2>&1); then
    t_ok "$1"
  else
    t_bad "$1" "$err" "document: $(head -c 600 "$3")"
  fi
}
# t_schema_rejects DESC SCHEMA_NAME FILE: FILE does not validate (exit 1, not a usage error).
t_schema_rejects() {
  "$SRV_PY" "$VALIDATE" "$SCHEMAS/$2.schema.json" "$3" >/dev/null 2>"$T_DIR/.verr"
  t_eq "$1" 1 "$?"
}

# srv_start NAME [EXTRA_MEMBERS [SCHEME]]: config {"listen":"127.0.0.1:PORT","data_dir":...,
# EXTRA_MEMBERS} in $T_DIR/NAME, `sshcert-admin init`, then the server, retried on
# another port if the bind races. Sets SRV_DIR SRV_CFG SRV_DATA SRV_LOG SRV_PID SRV_PORT SRV_URL.
# SRV_HOST=ADDRESS (an IPv6 one unbracketed) listens there instead of on 127.0.0.1.
srv_start() {
  local name=$1 extra=${2:-} scheme=${3:-http} try i port host=${SRV_HOST:-127.0.0.1}
  case $host in *:*) host="[$host]" ;; esac
  SRV_DIR="$T_DIR/$name"
  SRV_CFG="$SRV_DIR/cfg.json"
  SRV_DATA="$SRV_DIR/data"
  SRV_LOG="$SRV_DIR/server.log"
  mkdir -p "$SRV_DIR"
  for try in 1 2 3 4 5; do
    port=$(t_free_port)
    printf '{"listen":"%s:%s","data_dir":"%s"%s}\n' "$host" "$port" "$SRV_DATA" \
      "${extra:+,$extra}" >"$SRV_CFG"
    # init keeps what exists (a CA key made by ssh-keygen, an earlier init), so always run it.
    if ! "$ADMIN" -c "$SRV_CFG" init >"$SRV_DIR/init.out" 2>&1; then
      echo "sshcert-admin init failed:"; cat "$SRV_DIR/init.out"
      return 1
    fi
    : >"$SRV_LOG"
    "$SERVER" -c "$SRV_CFG" 2>>"$SRV_LOG" &
    SRV_PID=$!
    T_PIDS+=("$SRV_PID")
    for i in $(seq 200); do
      grep -q "sshcert-server listening on" "$SRV_LOG" && break
      kill -0 "$SRV_PID" 2>/dev/null || break
      sleep 0.05
    done
    if grep -q "sshcert-server listening on" "$SRV_LOG"; then
      SRV_PORT=$port
      SRV_URL="$scheme://$host:$port"
      return 0
    fi
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    grep -q "cannot listen" "$SRV_LOG" || break
  done
  echo "sshcert-server $name did not start:"; cat "$SRV_LOG"
  return 1
}

# srv_stop [SIGNAL]: SIGTERM (or SIGNAL) to the current server; SRV_RC gets its exit status.
srv_stop() {
  kill -"${1:-TERM}" "$SRV_PID" 2>/dev/null
  wait "$SRV_PID"
  SRV_RC=$?
}

# t_verify_fails DESC WANT [t_has]: sshcert-admin audit verify exits 1 and says WANT on
# stderr (with t_has: says it among the rest).
t_verify_fails() {
  t_rc "$1: audit verify exits 1" 1 "$ADMIN" -c "$SRV_CFG" audit verify
  "${3:-t_eq}" "$1: ...saying so" "$2" "$T_ERR"
}

# srv_user NAME PRINCIPALS [ADMIN_ARGS...]: enrols NAME with $PASSWORD; keeps its TOTP secret.
srv_user() {
  local name=$1 principals=$2 out
  shift 2
  out=$(printf '%s\n' "$PASSWORD" | "$ADMIN" -c "$SRV_CFG" user add "$name" \
    --principals "$principals" --json "$@") || { echo "user add $name failed"; return 1; }
  TOTP_SECRET[$name]=$(printf '%s' "$out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["totp_secret"])')
}

# totp NAME [STEPS]: the code of NAME's secret STEPS 30 s steps from now (default 0). Every
# code made is listed in $CODES, for checking that none reaches a log.
CODES="$T_DIR/codes.used"
totp() {
  local c
  c=$(oathtool --totp -b "${TOTP_SECRET[$1]}" --now "@$(( $(date +%s) + 30 * ${2:-0} ))")
  printf '%s\n' "$c" >>"$CODES"
  printf '%s\n' "$c"
}
# t_no_codes DESC FILE: none of the TOTP codes made so far appears in FILE.
t_no_codes() {
  local c hits=""
  while read -r c; do
    grep -q -F "$c" "$2" && hits="$hits $c"
  done <"$CODES"
  t_eq "$1" "" "$hits"
}
# totp_settle SECONDS: waits for the next 30 s step unless SECONDS are left in this one, for
# a sequence whose outcome depends on the server seeing the same step throughout.
totp_settle() {
  local left=$(( 30 - $(date +%s) % 30 ))
  [ "$left" -ge "$1" ] || sleep "$left"
}
# totp_wrong NAME: a well-formed code that no step in the server's window (-1..+1) accepts.
totp_wrong() {
  local k c
  for k in 7 8 9 10 11; do
    c=$(totp "$1" "$k")
    [ "$c" != "$(totp "$1" -1)" ] && [ "$c" != "$(totp "$1" 0)" ] &&
      [ "$c" != "$(totp "$1" 1)" ] && [ "$c" != "$(totp "$1" 2)" ] && { echo "$c"; return; }
  done
}

# json KEY=STRING KEY:=RAW_JSON ... : a JSON object (httpie's notation).
json() {
  "$PY" - "$@" <<'PY'
import json, sys
d = {}
for a in sys.argv[1:]:
    k, _, v = a.partition("=")
    if k.endswith(":"):
        d[k[:-1]] = json.loads(v)
    else:
        d[k] = v
print(json.dumps(d))
PY
}
# login_body USER KEYFILE.pub [MORE json ARGS]: a request with the right password and a fresh code.
login_body() {
  local u=$1 pub=$2
  shift 2
  json username="$u" password="$PASSWORD" totp="$(totp "$u")" public_key="$(cat "$pub")" "$@"
}

# post BODY [CURL_ARGS...]: POST /v1/certificates as JSON. Sets HTTP_CODE; the body is in
# $RESP (HTTP_BODY) and the headers in $RESP_HDR.
RESP="$T_DIR/resp.body"
RESP_HDR="$T_DIR/resp.hdr"
post() {
  post_as application/json "$@"
}
# post_as CONTENT_TYPE BODY [CURL_ARGS...]: the same with another Content-Type ("": none).
post_as() {
  local type=$1 body=$2
  shift 2
  : >"$RESP"
  HTTP_CODE=$(curl "${SRV_CURL[@]}" -o "$RESP" -D "$RESP_HDR" -w '%{http_code}' \
    -H "Content-Type:${type:+ $type}" --data-binary "$body" "$@" "$SRV_URL/v1/certificates")
  HTTP_BODY=$(tr -d '\000' <"$RESP")
}
# get PATH [CURL_ARGS...]: GET, same outputs as post.
get() {
  local path=$1
  shift
  : >"$RESP" # curl writes nothing (and leaves the file alone) when there is no body
  HTTP_CODE=$(curl "${SRV_CURL[@]}" -o "$RESP" -D "$RESP_HDR" -w '%{http_code}' "$@" \
    "$SRV_URL$path")
  HTTP_BODY=$(tr -d '\000' <"$RESP")
}
# header NAME: a header of the last answer (value only, no CR).
header() {
  grep -i "^$1:" "$RESP_HDR" | head -1 | sed -e 's/^[^:]*: *//' -e 's/\r$//'
}
# jget KEY [FILE]: a top-level field of a JSON answer (strings raw, the rest as JSON).
jget() {
  "$PY" - "$1" "${2:-$RESP}" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[2])).get(sys.argv[1])
except Exception:
    v = "(not JSON)"
print(v if isinstance(v, str) else json.dumps(v))
PY
}
# issue USER KEY STEP: a certificate for USER's KEY (logging in as $PASSWORD with the TOTP
# code of STEP) into KEY-USER-cert.pub; asserts the 201.
issue() {
  post "$(json username="$1" password="$PASSWORD" totp="$(totp "$1" "$3")" public_key="$(cat "$2.pub")")"
  t_eq "issue for $1: 201" 201 "$HTTP_CODE"
  jget certificate >"$2-$1-cert.pub"
}
# t_error DESC STATUS CODE: the last answer is STATUS with {"error": CODE}. Its body is kept
# for t_error_bodies, which validates them all against error.schema.json in one go (one
# python start per script, not per answer).
ERR_BODIES="$T_DIR/error-bodies"
t_error() {
  t_eq "$1: status $2" "$2" "$HTTP_CODE"
  t_eq "$1: error $3" "$3" "$(jget error)"
  mkdir -p "$ERR_BODIES"
  cp "$RESP" "$ERR_BODIES/$(printf '%03d' "$(find "$ERR_BODIES" -type f | wc -l)").json"
  printf '%s\n' "$1" >>"$ERR_BODIES.txt"
}
# t_error_bodies: every body t_error saw matches error.schema.json.
t_error_bodies() {
  local n err
  n=$(find "$ERR_BODIES" -type f 2>/dev/null | wc -l)
  [ "$n" -gt 0 ] || { t_bad "error bodies: none collected"; return; }
  if err=$("$SRV_PY" "$VALIDATE" "$SCHEMAS/error.schema.json" "$ERR_BODIES"/*.json 2>&1); then
    t_ok "all $n error bodies match error.schema.json"
  else
    t_bad "all $n error bodies match error.schema.json" "$err" "(bodies in order: $(tr '\n' ';' <"$ERR_BODIES.txt"))"
  fi
}
# metric NAME_WITH_LABELS: its value in GET /metrics (empty when absent).
metric() {
  curl "${SRV_CURL[@]}" "$SRV_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# ---- run on its own: the schemas themselves ----
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  for s in "$SCHEMAS"/*.schema.json; do
    "$SRV_PY" "$VALIDATE" --check "$s" >"$T_DIR/.out" 2>&1
    t_eq "$(basename "$s") is a valid draft 2020-12 schema" 0 "$?"
  done
  for s in config certificate-request certificate-response error ca-response health-response; do
    [ -f "$SCHEMAS/$s.schema.json" ]
    t_eq "schemas/$s.schema.json exists" 0 "$?"
  done
  [ -f "$SCHEMAS/README.md" ] && grep -q '001_init.sql' "$SCHEMAS/README.md"
  t_eq "schemas/README.md lists the SQL migrations" 0 "$?"
  for s in "$SCHEMAS"/*.schema.json; do
    grep -q "$(basename "$s")" "$SCHEMAS/README.md"
    t_eq "schemas/README.md lists $(basename "$s")" 0 "$?"
  done
  for s in "$SCHEMAS"/sql/*.sql; do
    grep -q "sql/$(basename "$s")" "$SCHEMAS/README.md"
    t_eq "schemas/README.md lists sql/$(basename "$s")" 0 "$?"
  done

  # The error codes of the schema are exactly DESIGN.md's.
  codes=$("$PY" -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["properties"]["error"]["enum"])))' "$SCHEMAS/error.schema.json")
  t_eq "error.schema.json has DESIGN's codes" \
    "account_disabled bad_request internal invalid_credentials method_not_allowed not_found payload_too_large principal_not_allowed too_many_attempts unavailable unsupported_key_type unsupported_media_type" \
    "$codes"

  # Sample bodies: what the schemas accept and refuse.
  ed="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"
  rsa="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice@laptop"
  check() { # check SCHEMA WANT(0|1) DESC JSON
    printf '%s\n' "$4" >"$T_DIR/doc.json"
    "$SRV_PY" "$VALIDATE" "$SCHEMAS/$1.schema.json" "$T_DIR/doc.json" >/dev/null 2>"$T_DIR/.verr"
    t_eq "$1: $3" "$2" "$?"
  }
  check certificate-request 0 "minimal request" \
    "$(json username=alice password=pw totp=123456 public_key="$ed")"
  check certificate-request 0 "request with ttl and principals" \
    "$(json username=alice password=pw totp=123456 public_key="$ed" ttl:=600 'principals:=["a","b"]')"
  check certificate-request 1 "missing totp" "$(json username=alice password=pw public_key="$ed")"
  check certificate-request 1 "unknown field" \
    "$(json username=alice password=pw totp=1 public_key="$ed" admin:=true)"
  check certificate-request 1 "ttl as a string" \
    "$(json username=alice password=pw totp=1 public_key="$ed" ttl=600)"
  check certificate-request 1 "ttl 0" "$(json username=alice password=pw totp=1 public_key="$ed" ttl:=0)"
  check certificate-request 1 "RSA key" "$(json username=alice password=pw totp=1 public_key="$rsa")"
  check certificate-request 1 "empty principals" \
    "$(json username=alice password=pw totp=1 public_key="$ed" 'principals:=[]')"
  check certificate-request 1 "principal with a comma" \
    "$(json username=alice password=pw totp=1 public_key="$ed" 'principals:=["a,b"]')"
  check certificate-request 1 "principal listed twice" \
    "$(json username=alice password=pw totp=1 public_key="$ed" 'principals:=["a","a"]')"
  check error 0 "an error" '{"error":"bad_request","message":"missing field \"totp\""}'
  check error 1 "an unknown code" '{"error":"teapot","message":"x"}'
  check error 1 "no message" '{"error":"internal"}'
  check health-response 0 "ok" '{"status":"ok"}'
  check health-response 1 "not ok" '{"status":"degraded"}'
  check ca-response 0 "a CA key" \
    "{\"public_key\":\"${ed% *} sshcert-ca\",\"fingerprint\":\"SHA256:mSWXX7iyx6y3j+i02xdwKksQ8o0tFe/eSEWjbMGEzyY\"}"
  check ca-response 1 "an RSA CA key" \
    "{\"public_key\":\"$rsa\",\"fingerprint\":\"SHA256:mSWXX7iyx6y3j+i02xdwKksQ8o0tFe/eSEWjbMGEzyY\"}"
  check certificate-response 1 "no serial" \
    '{"certificate":"ssh-ed25519-cert-v01@openssh.com AAAA","key_id":"a#1","principals":["a"],"valid_after":1,"valid_before":2}'

  # The config schema and the config loader agree, key by key: each sample is accepted by
  # both (schema exit 0, `sshcert-admin init` exit 0) or refused by both.
  n=0
  agree() { # agree WANT(0|1) DESC MEMBERS
    n=$((n + 1))
    local d="$T_DIR/cfg$n" rc_schema rc_admin
    mkdir -p "$d"
    case "$3" in
    *'"data_dir"'*) printf '{%s}\n' "$3" >"$d/cfg.json" ;;
    *) printf '{"data_dir":"data"%s}\n' "${3:+,$3}" >"$d/cfg.json" ;;
    esac
    "$SRV_PY" "$VALIDATE" "$SCHEMAS/config.schema.json" "$d/cfg.json" >/dev/null 2>"$d/schema.err"
    rc_schema=$?
    "$ADMIN" -c "$d/cfg.json" init >/dev/null 2>"$d/admin.err"
    rc_admin=$([ $? = 0 ] && echo 0 || echo 1)
    t_eq "config $2: schema says $1" "$1" "$rc_schema"
    t_eq "config $2: sshcert-admin says $1" "$1" "$rc_admin"
  }
  agree 0 "data_dir only" ""
  agree 0 "every key" '"listen":"127.0.0.1:8443","tls":{"cert_file":"c.pem","key_file":"k.pem"},"cert":{"default_ttl":"15m","max_ttl":28800,"backdate":"0","extensions":["permit-pty","permit-X11-forwarding"]},"auth":{"password_hash":"moderate","max_failures":5,"lockout":"15m","client_max_failures":100,"hash_workers":2},"threads":8,"max_connections":512,"connection_timeout":10,"log":"syslog"'
  agree 0 "IPv6 listen" '"listen":"[::1]:8443"'
  agree 0 "durations 90s 2d 30" '"cert":{"default_ttl":"90s","max_ttl":"2d","backdate":"30"}'
  agree 0 "no extensions" '"cert":{"extensions":[]}'
  agree 1 "unknown top-level key" '"listen_port":8443'
  agree 1 "unknown cert key" '"cert":{"ttl":"1h"}'
  agree 1 "unknown auth key" '"auth":{"max_failure":5}'
  agree 1 "unknown tls key" '"tls":{"cert_file":"c","key_file":"k","ca_file":"x"}'
  agree 1 "tls without key_file" '"tls":{"cert_file":"c.pem"}'
  agree 1 "listen without port" '"listen":"127.0.0.1"'
  agree 1 "port 0" '"listen":"127.0.0.1:0"'
  agree 1 "duration 5w" '"cert":{"max_ttl":"5w"}'
  agree 1 "default_ttl 0s" '"cert":{"default_ttl":"0s"}'
  agree 1 "lockout 0" '"auth":{"lockout":0}'
  agree 1 "negative backdate" '"cert":{"backdate":-1}'
  agree 1 "max_ttl over a year" '"cert":{"max_ttl":31622401}'
  agree 1 "password_hash fast" '"auth":{"password_hash":"fast"}'
  agree 1 "max_failures 0" '"auth":{"max_failures":0}'
  agree 1 "max_failures as a string" '"auth":{"max_failures":"5"}'
  agree 1 "threads 0" '"threads":0'
  agree 1 "connection_timeout 3601" '"connection_timeout":3601'
  agree 1 "log to a file" '"log":"/var/log/sshcert.log"'
  agree 1 "an extension listed twice" '"cert":{"extensions":["permit-pty","permit-pty"]}'
  agree 1 "an extension with a comma" '"cert":{"extensions":["permit-pty,permit-user-rc"]}'
  agree 1 "an empty extension" '"cert":{"extensions":[""]}'
  agree 1 "17 extensions" "\"cert\":{\"extensions\":[$(seq -f '"e%g"' -s, 17)]}"
  agree 1 "empty data_dir" '"data_dir":""'
  t_done
fi
