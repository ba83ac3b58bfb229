#!/bin/bash
# Issue 7, the fleet: one CA (HTTPS, configured from deploy/sshcert.json.example) and three
# devices (throwaway sshds on loopback, each enrolled into its own --etc folder by
# deploy/enroll-device.sh). One login gets into all three; after `cert revoke` and
# deploy/sshcert-krl-refresh on each, all three refuse that certificate; an expired certificate
# is refused everywhere; a wrong fingerprint installs nothing; a refresh that cannot reach the
# CA, or gets something that is not a good KRL, keeps the last good KRL; an enrolment that
# cannot get a good KRL for its CA installs nothing (fail closed), unless the device already
# holds one for that CA; sshd -t failures roll back; so does a config under which sshd would not
# use the drop-in's TrustedUserCAKeys or RevokedKeys (exit 6, judged by sshd -T and by reading
# the files, also when sshd -T cannot run), while hardening settings that win are warned
# about; the units and install rules hold (the units name the install-time --prefix, DESTDIR
# and absolute folders), and the installed scripts work.
. "$SSHCERT_SRC_DIR/tests/lib.sh"

ENROLL="$SSHCERT_SRC_DIR/deploy/enroll-device.sh"
REFRESH="$SSHCERT_SRC_DIR/deploy/sshcert-krl-refresh"
SSHD=/usr/sbin/sshd
cd "$T_DIR" || exit 1
install -d -m 0755 /run/sshd
PW="fleet-password-$$"
U="fleet$$"
t_user "$U" || { t_bad "cannot create login user $U"; t_done; }

# Everything about a folder: paths, types, modes, sizes, file mtimes and contents.
snapshot() {
  (cd "$1" && find . -printf '%p %y %m %s\n' | sort &&
    find . -type f -printf '%p %T@\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
# A fixed string as an extended regex (fingerprints hold + and /).
re() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'; }
serial_of() { ssh-keygen -L -f "$1" | sed -n 's/^ *Serial: //p'; }

# --- the CA: the example production config, with test paths and a cheap password hash ------
mkdir -p ca && chmod 700 ca
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout ca/tls.key -out ca/tls.pem >/dev/null 2>&1 || { t_bad "openssl cannot make a TLS cert"; t_done; }
TLS="$T_DIR/ca/tls.pem"
ca_config() { # PORT
  sed -e "s#\"0.0.0.0:8443\"#\"127.0.0.1:$1\"#" -e 's#"/var/lib/sshcert"#"data"#' \
    -e 's#"/etc/sshcert/tls/fullchain.pem"#"tls.pem"#' -e 's#"/etc/sshcert/tls/privkey.pem"#"tls.key"#' \
    -e 's#"password_hash": "interactive"#"password_hash": "min"#' \
    "$SSHCERT_SRC_DIR/deploy/sshcert.json.example" >ca/sshcert.json
}
ca_config 8443
t_rc "sshcert-admin init with the example config" 0 "$ADMIN" -c ca/sshcert.json init
CFG="$T_DIR/ca/sshcert.json"
for try in 1 2 3 4 5; do
  CA_PORT=$(t_free_port)
  ca_config "$CA_PORT"
  : >ca/server.log
  "$SERVER" -c "$CFG" 2>ca/server.log &
  CA_PID=$!
  T_PIDS+=("$CA_PID")
  t_wait_file_match ca/server.log "listening on 127\.0\.0\.1:$CA_PORT \(https\)" 10 && break
  kill "$CA_PID" 2>/dev/null; wait "$CA_PID" 2>/dev/null
  CA_PID=''
done
[ -n "$CA_PID" ] || { t_bad "the CA server did not start" "$(cat ca/server.log)"; t_done; }
t_ok "the server runs the example config with TLS"
URL="https://127.0.0.1:$CA_PORT"
FP=$(ssh-keygen -lf ca/data/ca_key.pub | cut -d' ' -f2)
t_match "GET /v1/ca names the same fingerprint" "\"fingerprint\": *\"$(re "$FP")\"" \
  "$(curl -sS --cacert "$TLS" "$URL/v1/ca")"

# A certificate that will have expired by the time we try it (made now, used last).
ssh-keygen -q -t ed25519 -N '' -C expiring -f expiring
t_rc "sign a 2-second certificate" 0 "$ADMIN" -c "$CFG" sign expiring.pub --principals "$U" --ttl 2s

# --- users and logins ----------------------------------------------------------------------
# add_user NAME: a CA user for login user $U; sets SECRET_<NAME>.
add_user() {
  local out
  out=$(printf '%s\n' "$PW" | "$ADMIN" -c "$CFG" user add "$1" --principals "$U" --json) || return 1
  eval "SECRET_$1=$(printf '%s' "$out" | sed -n 's/.*"totp_secret": *"\([A-Z2-7]*\)".*/\1/p')"
}
# login NAME DIR: a fresh key and certificate in DIR/id_ed25519{,-cert.pub}.
login() {
  local name=$1 dir=$2 secret code pub
  secret=$(eval echo "\$SECRET_$name")
  code=$(oathtool --totp -b "$secret")
  mkdir -p "$dir" "$T_DIR/home"
  if [ -x "$CLIENT" ]; then
    printf '%s\n' "$PW" | HOME="$T_DIR/home" "$CLIENT" login --server "$URL" --ca-cert "$TLS" \
      --user "$name" --password-stdin --totp "$code" --key-dir "$dir" --no-agent >"$dir/login.out" 2>&1
    return
  fi
  ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519" || return 1
  pub=$(cat "$dir/id_ed25519.pub")
  curl -sS --fail --cacert "$TLS" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$name\",\"password\":\"$PW\",\"totp\":\"$code\",\"public_key\":\"$pub\",\"ttl\":600}" \
    "$URL/v1/certificates" >"$dir/reply.json" || return 1
  sed -n 's/.*"certificate": *"\([^"]*\)".*/\1/p' "$dir/reply.json" >"$dir/id_ed25519-cert.pub"
  [ -s "$dir/id_ed25519-cert.pub" ]
}
if [ -x "$CLIENT" ]; then t_log "logging in with $CLIENT login"; else t_log "no client built: logging in with curl"; fi
add_user alice && add_user bob || { t_bad "cannot add CA users"; t_done; }

# --- devices -------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f hostkey
# mkdev NAME [PORT]: $T_DIR/NAME/etc with an sshd_config that Includes its sshd_config.d.
mkdev() {
  local d="$T_DIR/$1"
  mkdir -p "$d/etc"
  cat >"$d/etc/sshd_config" <<EOF
Include $d/etc/sshd_config.d/*.conf
Port ${2:-22}
ListenAddress 127.0.0.1
HostKey $T_DIR/hostkey
PidFile $d/sshd.pid
UsePAM no
AuthorizedKeysFile none
EOF
}
enroll() { # NAME [ARGS...]
  local n=$1
  shift
  "$ENROLL" --server "$URL" --fingerprint "$FP" --ca-cert "$TLS" --etc "$T_DIR/$n/etc" --no-reload "$@"
}
# start_dev NAME: starts sshd on a free port (retrying bind races); sets PORT_<NAME>, LOG_<NAME>.
start_dev() {
  local n=$1 d="$T_DIR/$1" port pid try
  for try in 1 2 3 4 5; do
    port=$(t_free_port)
    sed -i "s/^Port .*/Port $port/" "$d/etc/sshd_config"
    : >"$d/sshd.log"
    "$SSHD" -D -f "$d/etc/sshd_config" -E "$d/sshd.log" 2>"$d/sshd.err" &
    pid=$!
    T_PIDS+=("$pid")
    if t_wait_file_match "$d/sshd.log" "Server listening on 127.0.0.1 port $port" 10; then
      eval "PORT_$n=$port LOG_$n=$d/sshd.log"
      return 0
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  cat "$d/sshd.err" "$d/sshd.log"
  return 1
}

# Refusals first: nothing may be installed.
mkdev dev0
before=$(snapshot dev0/etc)
OTHER=$(ssh-keygen -q -t ed25519 -N '' -f otherca && ssh-keygen -lf otherca.pub | cut -d' ' -f2)
t_rc "enrolment with a wrong fingerprint fails (3)" 3 "$ENROLL" --server "$URL" --fingerprint "$OTHER" \
  --ca-cert "$TLS" --etc "$T_DIR/dev0/etc" --no-reload
t_match "...naming both fingerprints" "has fingerprint $(re "$FP"), not $(re "$OTHER"): refusing to trust it; nothing installed" "$T_ERR"
t_eq "...and installs nothing (the etc folder is byte-identical)" "$before" "$(snapshot dev0/etc)"
t_rc "plain http to a non-loopback host is refused (2)" 2 "$ENROLL" --server http://192.0.2.1:8443 \
  --fingerprint "$FP" --etc "$T_DIR/dev0/etc" --no-reload
t_match "...saying why" "refusing plain http to 192.0.2.1" "$T_ERR"
# Only the exact form 127.N.N.N: curl asks the DNS for the first two (not loopback); the
# short and zero-padded forms curl reads as 127.0.0.1 are refused too, as not that form.
for h in 127.0.0.1. 127.1.1.1.1 127.1 127.0.0.01; do
  t_rc "plain http to $h (not the form 127.N.N.N) is refused (2)" 2 "$ENROLL" \
    --server "http://$h:8443" --fingerprint "$FP" --etc "$T_DIR/dev0/etc" --no-reload
  t_match "...saying why" "plain http is only allowed to a loopback address \(localhost, \[::1\] or 127\.N\.N\.N\): http://$(re "$h"):8443" "$T_ERR"
done
t_rc "a malformed fingerprint is a usage error (2)" 2 "$ENROLL" --server "$URL" --fingerprint SHA256:abc \
  --etc "$T_DIR/dev0/etc" --no-reload
t_rc "an untrusted TLS certificate fails (1)" 1 "$ENROLL" --server "$URL" --fingerprint "$FP" \
  --etc "$T_DIR/dev0/etc" --no-reload
t_match "...with curl's reason" "cannot fetch $URL/v1/ca.pub: curl: \(60\)" "$T_ERR"
t_eq "after all refusals dev0/etc is byte-identical" "$before" "$(snapshot dev0/etc)"

for n in dev1 dev2 dev3; do
  mkdev $n
  t_rc "enroll $n" 0 enroll $n
  t_eq "...without warnings" "" "$T_ERR"
  t_match "...installing the drop-in" "installed $T_DIR/$n/etc/sshd_config.d/50-sshcert.conf" "$T_OUT"
done
E="$T_DIR/dev1/etc"
t_eq "sshcert_ca.pub is the CA key line" "$(cat ca/data/ca_key.pub)" "$(cat "$E/sshcert_ca.pub")"
t_eq "modes: 0644 files, 0755 sshd_config.d" "644 644 644 755" \
  "$(stat -c %a "$E/sshcert_ca.pub" "$E/sshcert.krl" "$E/sshd_config.d/50-sshcert.conf" "$E/sshd_config.d" | tr '\n' ' ' | sed 's/ $//')"
t_rc "the first KRL is a valid KRL" 0 ssh-keygen -Q -l -f "$E/sshcert.krl"
t_eq "no temp files are left behind" "" "$(find "$E" -name '.sshcert*')"
eff=$("$SSHD" -T -f "$E/sshd_config" 2>&1)
for kv in "trustedusercakeys $E/sshcert_ca.pub" "revokedkeys $E/sshcert.krl" \
  "passwordauthentication no" "kbdinteractiveauthentication no" "permitrootlogin no" \
  "permitemptypasswords no" "maxauthtries 3" "loglevel VERBOSE" "x11forwarding no"; do
  t_match "sshd -T: $kv" "^$kv\$" "$eff"
done
before=$(snapshot dev1/etc)
t_rc "enrolling again exits 0" 0 enroll dev1
t_match "...says nothing changed" "already enrolled: .* nothing changed" "$T_OUT"
t_eq "...without a warning" "" "$T_ERR"
t_eq "...and changes nothing (files, modes, mtimes)" "$before" "$(snapshot dev1/etc)"
t_rc "a wrong fingerprint on an enrolled device fails (3)" 3 "$ENROLL" --server "$URL" \
  --fingerprint "$OTHER" --ca-cert "$TLS" --etc "$E" --no-reload
t_eq "...and leaves it byte-identical" "$before" "$(snapshot dev1/etc)"

for n in dev1 dev2 dev3; do
  start_dev $n || { t_bad "sshd $n did not start"; t_done; }
done

# --- one login, three devices --------------------------------------------------------------
login alice alice || { t_bad "login alice failed" "$(cat alice/* 2>/dev/null)"; t_done; }
S1=$(serial_of alice/id_ed25519-cert.pub)
for n in dev1 dev2 dev3; do
  eval "port=\$PORT_$n log=\$LOG_$n"
  t_eq "alice's certificate gets into $n" "hello-$n" \
    "$(t_ssh "$port" "$U" alice/id_ed25519 alice/id_ed25519-cert.pub "echo hello-$n" 2>&1)"
  t_wait_file_match "$log" "Accepted publickey for $U from 127.0.0.1 port [0-9]+ ssh2: ED25519-CERT SHA256:[^ ]+ ID alice#$S1 \(serial $S1\)" 5
  t_eq "...and $n logs key id alice#$S1 and the serial" 0 $?
done

# --- revocation reaches every device through the refresh -----------------------------------
t_rc "cert revoke $S1" 0 "$ADMIN" -c "$CFG" cert revoke "$S1" --reason "fleet test"
for n in dev1 dev2 dev3; do
  t_rc "sshcert-krl-refresh on $n" 0 "$REFRESH" --server "$URL" --ca-cert "$TLS" --etc "$T_DIR/$n/etc"
  t_match "...installs the new KRL" "installed a new $T_DIR/$n/etc/sshcert.krl \(1 revocation entries\)" "$T_OUT"
  t_match "...which revokes alice's certificate (ssh-keygen -Q)" "REVOKED" \
    "$(ssh-keygen -Q -f "$T_DIR/$n/etc/sshcert.krl" alice/id_ed25519-cert.pub 2>&1)"
done
for n in dev1 dev2 dev3; do
  eval "port=\$PORT_$n log=\$LOG_$n"
  t_ssh "$port" "$U" alice/id_ed25519 alice/id_ed25519-cert.pub true >/dev/null 2>&1
  t_eq "$n refuses the revoked certificate" 255 $?
  t_wait_file_match "$log" "Authentication key ED25519-CERT SHA256:[^ ]+ revoked by file $T_DIR/$n/etc/sshcert.krl" 5
  t_eq "...and logs 'revoked by file'" 0 $?
done
login bob bob || { t_bad "login bob failed" "$(cat bob/* 2>/dev/null)"; t_done; }
for n in dev1 dev2 dev3; do
  eval "port=\$PORT_$n"
  t_eq "another certificate still gets into $n" "ok" \
    "$(t_ssh "$port" "$U" bob/id_ed25519 bob/id_ed25519-cert.pub 'echo ok' 2>&1)"
done
krl_before=$(sha256sum <"$E/sshcert.krl")
t_rc "a refresh with nothing new exits 0" 0 "$REFRESH" --server "$URL" --ca-cert "$TLS" --etc "$E"
t_match "...says the KRL is up to date" "is up to date \(1 revocation entries\)" "$T_OUT"
t_eq "...and leaves the file as it was" "$krl_before" "$(sha256sum <"$E/sshcert.krl")"

# --- a refresh that cannot get a good KRL keeps the last good one --------------------------
CLOSED=$(t_free_port)
t_rc "a refresh from an unreachable CA fails (1)" 1 "$REFRESH" --server "http://127.0.0.1:$CLOSED" --etc "$E"
t_match "...saying why and what it keeps" "cannot fetch http://127.0.0.1:$CLOSED/v1/krl: curl: \(7\).*; keeping the last good KRL $E/sshcert.krl" "$T_ERR"
t_eq "...and the KRL is unchanged" "$krl_before" "$(sha256sum <"$E/sshcert.krl")"
t_rc "a refresh that cannot verify the CA's TLS fails (1)" 1 "$REFRESH" --server "$URL" --etc "$E"
t_match "...with curl's reason" "curl: \(60\)" "$T_ERR"
t_rc "plain http to a non-loopback CA is refused (2)" 2 "$REFRESH" --server http://192.0.2.1 --etc "$E"
t_rc "plain http to 127.0.0.1. (a name for the DNS) is refused (2)" 2 "$REFRESH" --server http://127.0.0.1. --etc "$E"
t_eq "the KRL survived every failed refresh" "$krl_before" "$(sha256sum <"$E/sshcert.krl")"
t_eq "...and no temp files are left" "" "$(find "$E" -name '.sshcert*')"
t_ssh "$PORT_dev1" "$U" alice/id_ed25519 alice/id_ed25519-cert.pub true >/dev/null 2>&1
t_eq "dev1 still refuses the revoked certificate" 255 $?

# A stand-in CA on plain http (loopback) serving chosen bytes as /v1/ca.pub and /v1/krl;
# PATH.status holding a number makes it answer that HTTP status for PATH instead. With "once"
# it closes its listening socket while answering the first request, and exits after it: the
# CA stops between enrolment's fetch of the key and its fetch of the KRL.
cat >standin.py <<'PY'
import functools, http.server, os, sys
port, root, once = int(sys.argv[1]), sys.argv[2], len(sys.argv) > 3
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        status = os.path.join(root, self.path.lstrip("/") + ".status")
        if once:
            self.server.socket.close()
        if os.path.exists(status):
            self.send_error(int(open(status).read()))
        else:
            super().do_GET()
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), functools.partial(H, directory=root))
print("ready", flush=True)
srv.handle_request() if once else srv.serve_forever()
PY
# standin DIR [once]: starts it on a free port; sets STANDIN (its URL) and STANDIN_PID.
standin() {
  local port
  for _ in 1 2 3 4 5; do
    port=$(t_free_port)
    python3 standin.py "$port" "$@" >standin.log 2>&1 &
    STANDIN_PID=$!
    T_PIDS+=("$STANDIN_PID")
    if t_wait_file_match standin.log '^ready$' 10; then
      STANDIN="http://127.0.0.1:$port"
      return 0
    fi
    kill "$STANDIN_PID" 2>/dev/null; wait "$STANDIN_PID" 2>/dev/null
  done
  return 1
}
# absent DIR: which of enrolment's files DIR holds ("" when none).
absent() {
  local f
  for f in sshcert_ca.pub sshcert.krl sshd_config.d; do [ ! -e "$1/$f" ] || printf '%s ' "$f"; done
}
REFUSAL="refusing to enrol without this CA's KRL \(sshd would accept revoked certificates\); nothing installed"
if command -v python3 >/dev/null 2>&1; then
  mkdir -p fake/v1
  cp ca/data/ca_key.pub fake/v1/ca.pub
  standin fake || { t_bad "the stand-in CA did not start" "$(cat standin.log)"; t_done; }
  FAKE=$STANDIN
  echo "this is not a KRL" >fake/v1/krl
  t_rc "a refresh that gets garbage fails (1)" 1 "$REFRESH" --server "$FAKE" --etc "$E"
  t_match "...saying it is not a KRL" "^sshcert-krl-refresh: $FAKE/v1/krl is not a KRL \(no SSHKRL header\); keeping the last good KRL $(re "$E")/sshcert.krl \(from " "$T_ERR"
  : >fake/v1/krl
  t_rc "a refresh that gets an empty body fails (1)" 1 "$REFRESH" --server "$FAKE" --etc "$E"
  t_match "...saying so (an empty file would revoke nothing)" "$FAKE/v1/krl is empty, not a KRL" "$T_ERR"
  head -c 40 "$E/sshcert.krl" >fake/v1/krl
  t_rc "a refresh that gets a truncated KRL fails (1)" 1 "$REFRESH" --server "$FAKE" --etc "$E"
  t_match "...saying it does not parse" "the KRL $FAKE/v1/krl does not parse" "$T_ERR"
  echo "serial: 1" >spec
  ssh-keygen -q -k -f otherca.krl -s otherca.pub spec 2>/dev/null
  cp otherca.krl fake/v1/krl
  t_rc "a refresh that gets another CA's KRL fails (1)" 1 "$REFRESH" --server "$FAKE" --etc "$E"
  t_match "...naming the CA" "the KRL $FAKE/v1/krl is for CA $(re "$OTHER"), not for $(re "$FP") \\($(re "$E")/sshcert_ca.pub\\)" "$T_ERR"
  # An awk that fails while listing the KRL's CA keys must not read as "names no CA" (this
  # stand-in serves our own ca.pub, so nothing else would stop the other CA's KRL).
  mkdir -p shim
  printf '#!/bin/sh\ncase "$*" in *"# CA key"*) exit 1 ;; esac\nexec %s "$@"\n' "$(command -v awk)" >shim/awk
  chmod +x shim/awk
  PATH="$T_DIR/shim:$PATH" t_rc "a refresh whose awk fails on the KRL's CA keys fails (1)" 1 \
    "$REFRESH" --server "$FAKE" --etc "$E"
  t_match "...saying so" "cannot list the CA keys that the KRL $FAKE/v1/krl names; keeping the last good KRL" "$T_ERR"
  t_eq "the KRL survived the bad answers" "$krl_before" "$(sha256sum <"$E/sshcert.krl")"
  # Another CA that has revoked nothing serves a KRL that names no CA: only its /v1/ca.pub
  # tells that it is the wrong server (another CA, a typo'd host).
  mkdir -p wrongca/v1
  cp otherca.pub wrongca/v1/ca.pub
  : >nospec
  t_rc "(the other CA's empty KRL)" 0 ssh-keygen -q -k -f wrongca/v1/krl nospec
  t_eq "(the other CA's empty KRL names no CA)" 0 "$(ssh-keygen -Q -l -f wrongca/v1/krl | grep -c '^# CA key')"
  FAKE_PID=$STANDIN_PID
  standin wrongca || { t_bad "the second stand-in CA did not start" "$(cat standin.log)"; t_done; }
  t_rc "a refresh from another CA with nothing revoked fails (1)" 1 "$REFRESH" --server "$STANDIN" --etc "$E"
  t_match "...naming both CA keys" "^sshcert-krl-refresh: the server's CA key \($STANDIN/v1/ca\.pub\) is $(re "$OTHER"), not the CA this device trusts \($(re "$FP") in $(re "$E")/sshcert_ca\.pub\): the wrong server\?; keeping the last good KRL" "$T_ERR"
  t_eq "...and the KRL that revokes stays" "$krl_before" "$(sha256sum <"$E/sshcert.krl")"
  kill "$STANDIN_PID" 2>/dev/null; wait "$STANDIN_PID" 2>/dev/null
  STANDIN_PID=$FAKE_PID
  # A folder where the KRL should be: sshd could not read it, and mv would move into it.
  mkdir -p dirkrl/sshcert.krl
  cp "$E/sshcert_ca.pub" dirkrl/
  t_rc "a refresh where the KRL is a folder fails (1)" 1 "$REFRESH" --server "$URL" --ca-cert "$TLS" --etc "$T_DIR/dirkrl"
  t_match "...saying so" "^sshcert-krl-refresh: $(re "$T_DIR")/dirkrl/sshcert\.krl is not a regular file; move it away" "$T_ERR"
  t_eq "...and moves nothing into it" "" "$(ls -A dirkrl/sshcert.krl)"
  mkdir -p bare
  cp "$E/sshcert.krl" bare/
  t_rc "a refresh on a device with no CA key fails (1)" 1 "$REFRESH" --server "$URL" --ca-cert "$TLS" --etc "$T_DIR/bare"
  t_match "...since it cannot tell whose KRL it got" "cannot read the CA key in $T_DIR/bare/sshcert_ca.pub, so cannot tell whose KRL $URL/v1/krl is; keeping the last good KRL" "$T_ERR"
  t_eq "...and keeps the KRL" "$krl_before" "$(sha256sum <bare/sshcert.krl)"

  # Enrolment fails closed: without a good KRL for its CA it installs nothing.
  mkdev dev4
  before=$(snapshot dev4/etc)
  # enroll_bad SERVER DESC ERROR_REGEX: enrolment into dev4 from SERVER exits 1 with exactly one
  # line, ERROR_REGEX then the refusal, and installs nothing.
  enroll_bad() {
    t_rc "enrolment $2 fails (1)" 1 "$ENROLL" --server "$1" --fingerprint "$FP" --etc "$T_DIR/dev4/etc" --no-reload
    t_match "...with one error line naming the URL and the reason" "^enroll-device\.sh: $3; $REFUSAL\$" "$T_ERR"
    t_eq "...and nothing else on stderr" 1 "$(printf '%s\n' "$T_ERR" | wc -l)"
    t_eq "...installing nothing (no CA key, KRL or drop-in)" "" "$(absent dev4/etc)"
    t_eq "...leaving the etc folder byte-identical" "$before" "$(snapshot dev4/etc)"
  }
  rm -f fake/v1/krl
  enroll_bad "$FAKE" "when /v1/krl is not there (404)" "cannot fetch $FAKE/v1/krl: curl: \(22\) The requested URL returned error: 404"
  echo 503 >fake/v1/krl.status
  enroll_bad "$FAKE" "when /v1/krl answers 503" "cannot fetch $FAKE/v1/krl: curl: \(22\) The requested URL returned error: 503"
  rm -f fake/v1/krl.status
  echo "this is not a KRL" >fake/v1/krl
  enroll_bad "$FAKE" "when /v1/krl is not a KRL" "$FAKE/v1/krl is not a KRL \(no SSHKRL header\)"
  : >fake/v1/krl
  enroll_bad "$FAKE" "when /v1/krl is empty" "$FAKE/v1/krl is empty, not a KRL \(an empty file would revoke nothing\)"
  head -c 40 "$E/sshcert.krl" >fake/v1/krl
  enroll_bad "$FAKE" "when /v1/krl is truncated" "the KRL $FAKE/v1/krl does not parse: [^;]+"
  cp otherca.krl fake/v1/krl
  enroll_bad "$FAKE" "when /v1/krl is another CA's KRL" \
    "the KRL $FAKE/v1/krl is for CA $(re "$OTHER"), not for $(re "$FP") \($FAKE/v1/ca\.pub\)"
  mkdir -p once/v1
  cp ca/data/ca_key.pub once/v1/ca.pub
  cp "$E/sshcert.krl" once/v1/krl
  if standin once once; then
    enroll_bad "$STANDIN" "when the CA stops before the KRL is fetched" "cannot fetch $STANDIN/v1/krl: curl: \(7\) [^;]+"
    wait "$STANDIN_PID"
    t_eq "...(the stand-in answered the key and exited)" 0 $?
    # Reaped: its PID may be reused, so the cleanup must not signal it.
    pids=()
    for p in "${T_PIDS[@]}"; do [ "$p" = "$STANDIN_PID" ] || pids+=("$p"); done
    T_PIDS=("${pids[@]}")
  else
    t_bad "the one-shot stand-in did not start" "$(cat standin.log)"
  fi

  # On a device already enrolled with this CA, a KRL already there that passes the same
  # checks stands in: it is the last good list, which sshd uses now and a refresh would keep.
  rm -f fake/v1/krl
  before=$(snapshot dev1/etc)
  t_rc "re-enrolment while /v1/krl fails keeps the good KRL already there (0)" 0 \
    "$ENROLL" --server "$FAKE" --fingerprint "$FP" --etc "$E" --no-reload
  t_match "...warning why and what it keeps" "^enroll-device\.sh: warning: cannot fetch $FAKE/v1/krl: curl: \(22\) [^;]+; keeping the KRL already in $(re "$E")/sshcert\.krl \(for this CA, written [^)]+\); run sshcert-krl-refresh once the CA answers\$" "$T_ERR"
  t_eq "...(one line)" 1 "$(printf '%s\n' "$T_ERR" | wc -l)"
  t_match "...saying nothing changed" "already enrolled: .* nothing changed" "$T_OUT"
  t_eq "...leaving dev1 byte-identical" "$before" "$(snapshot dev1/etc)"
  t_match "...so alice's certificate stays revoked" "REVOKED" \
    "$(ssh-keygen -Q -f "$E/sshcert.krl" alice/id_ed25519-cert.pub 2>&1)"
  cp otherca.krl fake/v1/krl
  t_rc "re-enrolment that gets another CA's KRL keeps the good one too (0)" 0 \
    "$ENROLL" --server "$FAKE" --fingerprint "$FP" --etc "$E" --no-reload
  t_match "...naming that CA" "warning: the KRL $FAKE/v1/krl is for CA $(re "$OTHER"), not for $(re "$FP") .*; keeping the KRL already in $(re "$E")/sshcert\.krl" "$T_ERR"
  t_eq "...leaving dev1 byte-identical" "$before" "$(snapshot dev1/etc)"

  # A KRL already there that is not good for this CA cannot stand in.
  rm -f fake/v1/krl
  mkdev dev8
  t_rc "enroll dev8" 0 enroll dev8
  D8="$T_DIR/dev8/etc"
  # stand_in_bad DESC REASON_REGEX: re-enrolment of dev8 while /v1/krl is missing exits 1,
  # saying why the KRL there cannot stand in, and changes nothing.
  stand_in_bad() {
    local before8
    before8=$(snapshot dev8/etc)
    t_rc "re-enrolment while /v1/krl fails, $1, fails (1)" 1 "$ENROLL" --server "$FAKE" --fingerprint "$FP" --etc "$D8" --no-reload
    t_match "...saying why the KRL there cannot stand in" "^enroll-device\.sh: cannot fetch $FAKE/v1/krl: curl: \(22\) [^;]+; $(re "$D8")/sshcert\.krl cannot stand in: $2; $REFUSAL\$" "$T_ERR"
    t_eq "...and changes nothing" "$before8" "$(snapshot dev8/etc)"
  }
  cp otherca.krl "$D8/sshcert.krl"
  stand_in_bad "with another CA's KRL there" "the KRL $(re "$D8")/sshcert\.krl is for CA $(re "$OTHER"), not for $(re "$FP") \($FAKE/v1/ca\.pub\)"
  : >"$D8/sshcert.krl"
  stand_in_bad "with an empty file there" "$(re "$D8")/sshcert\.krl is empty, not a KRL \(an empty file would revoke nothing\)"
  # An empty KRL naming no CA (what enrolment used to install when the CA gave none) passes
  # the checks, as the CA's own KRL does while nothing is revoked; but only for the CA the
  # device is enrolled with, not for one it is moving to.
  rm -f "$D8/sshcert.krl"
  ssh-keygen -q -k -f "$D8/sshcert.krl" 2>/dev/null
  cp otherca.pub "$D8/sshcert_ca.pub"
  stand_in_bad "on a device enrolled with another CA" "$(re "$D8")/sshcert_ca\.pub does not hold this CA's key"
  cp ca/data/ca_key.pub "$D8/sshcert_ca.pub"
  t_rc "re-enrolment while /v1/krl fails keeps an empty KRL for this CA (0)" 0 \
    "$ENROLL" --server "$FAKE" --fingerprint "$FP" --etc "$D8" --no-reload
  t_match "...with the warning" "warning: cannot fetch $FAKE/v1/krl: .*; keeping the KRL already in $(re "$D8")/sshcert\.krl" "$T_ERR"
else
  t_log "python3 missing: skipped the stand-in CA checks"
fi

# --- the first KRL is the CA's: a device enrolled after a revocation refuses at once ----------
mkdev dev9
t_rc "enroll dev9 after the revocation" 0 enroll dev9
t_match "...reporting the KRL's entry" "KRL with 1 revocation entries" "$T_OUT"
t_match "...whose first KRL revokes alice's certificate" "REVOKED" \
  "$(ssh-keygen -Q -f "$T_DIR/dev9/etc/sshcert.krl" alice/id_ed25519-cert.pub 2>&1)"
"$ADMIN" -c "$CFG" krl -o ca.krl
t_eq "...and lists what the CA's KRL lists" "$(ssh-keygen -Q -l -f ca.krl | grep -v '^# Generated')" \
  "$(ssh-keygen -Q -l -f "$T_DIR/dev9/etc/sshcert.krl" | grep -v '^# Generated')"

# --- sshd -t rejects the result: everything goes back as it was ----------------------------
mkdev dev5
mkdir -p dev5/etc/sshd_config.d
echo "NoSuchKeyword yes" >dev5/etc/sshd_config.d/10-broken.conf
echo "# an older enrolment" >dev5/etc/sshd_config.d/50-sshcert.conf
cp otherca.pub dev5/etc/sshcert_ca.pub
touch -d '2020-01-01 00:00' dev5/etc/sshcert_ca.pub dev5/etc/sshd_config.d/50-sshcert.conf
before=$(snapshot dev5/etc)
t_rc "enrolment that sshd -t rejects fails (4)" 4 enroll dev5
t_match "...quoting sshd" "sshd -t -f $T_DIR/dev5/etc/sshd_config rejects the configuration: .*NoSuchKeyword" "$T_ERR"
t_match "...and saying it restored the files" "restored the previous files" "$T_ERR"
t_eq "...and the etc folder is as before (contents, modes, mtimes, no new files)" "$before" "$(snapshot dev5/etc)"

# --- sshd must use this CA and its KRL: otherwise enrolment rolls back and fails (6) ---------
# A stand-in for sshd whose -T fails and whose -t works: enrolment then judges from the files.
cat >sshd-no-T <<EOF
#!/bin/sh
for a; do [ "\$a" = -T ] && { echo "sshd: stand-in: -T cannot run" >&2; exit 1; }; done
exec $SSHD "\$@"
EOF
chmod 0755 sshd-no-T
NOT="$T_DIR/sshd-no-T"
# not_warn D: the warning when sshd -T fails for the etc folder D.
not_warn() {
  printf '%s' "warning: sshd -T -f $1/sshd_config fails (sshd: stand-in: -T cannot run): judging from the files alone which values sshd uses"
}
# enroll_with SSHD NAME: enrolment of NAME, with SSHD as sshd.
enroll_with() {
  env SSHD="$1" "$ENROLL" --server "$URL" --fingerprint "$FP" --ca-cert "$TLS" --etc "$T_DIR/$2/etc" --no-reload
}
# refused NAME DESC SSHD LINE_REGEX [LAST]: enrolling NAME with SSHD fails (6); stderr is the
# sshd -T warning (stand-in only), then one line matching LINE_REGEX, then LAST (default: the
# files were restored); the etc folder ends as it began (contents, modes, mtimes, no new file).
refused() {
  local n=$1 desc=$2 sshd=$3 line=$4 last=${5:-restored the previous files} d="$T_DIR/$1/etc" before want
  before=$(snapshot "$n/etc")
  t_rc "enrolment $desc fails (6)" 6 enroll_with "$sshd" "$n"
  want="^enroll-device\.sh: $line"$'\n'"enroll-device\.sh: $last; $(re "$d") is as it was before\$"
  [ "$sshd" = "$NOT" ] && want="^enroll-device\.sh: $(re "$(not_warn "$d")")"$'\n'"${want#^}"
  if [[ "$T_ERR" =~ $want ]]; then
    t_ok "...saying exactly which setting wins, what to change, and that the files are back"
  else
    t_bad "...saying exactly which setting wins, what to change, and that the files are back" "expected /$want/" "actual:   $T_ERR"
  fi
  t_eq "...installing nothing on stdout" "" "$T_OUT"
  t_eq "...and $n/etc is as it was (contents, modes, mtimes, no new files)" "$before" "$(snapshot "$n/etc")"
}
# no_include D: the error when the etc folder D's sshd_config does not Include the drop-in.
no_include() {
  printf '%s' "sshd would not use this enrolment: $1/sshd_config has no 'Include $1/sshd_config.d/*.conf' (outside any Match), so sshd ignores $1/sshd_config.d/50-sshcert.conf; sshd would not trust this CA, or would accept the certificates it has revoked. To fix: add 'Include $1/sshd_config.d/*.conf' as the first line of $1/sshd_config, then enrol again."
}
# err_wins D KEYWORD HAVE WHERE_REGEX: the error line for KEYWORD (with the value HAVE) that
# WHERE_REGEX sets in the etc folder D.
err_wins() {
  local d=$1 key=$2 have=$3 where=$4 want harm
  case $key in
  RevokedKeys) want="$d/sshcert.krl" harm="sshd would accept the certificates this CA has revoked" ;;
  TrustedUserCAKeys) want="$d/sshcert_ca.pub" harm="sshd would not trust this CA's key in $(re "$d")/sshcert_ca\.pub" ;;
  esac
  printf "%s" "sshd would use '$key $(re "$have")', not this enrolment's '$key $(re "$want")': $where; $harm\. To fix: remove that line, or make it '$key $(re "$want")', then enrol again\."
}
# before D FILE LINE KEYWORD VALUE: how the error says that FILE's LINE sets KEYWORD VALUE first.
before() {
  printf "%s" "$(re "$1/$2") line $3 sets '$4 $(re "$5")' before $(re "$1")/sshd_config\.d/50-sshcert\.conf, and sshd keeps the first value it reads"
}

# earlier_dropin NAME KEYWORD VALUE DESC: device NAME, whose drop-in 10-local.conf (sorting
# before ours) sets KEYWORD VALUE, is refused (6); d is left naming its etc folder. Reads the
# loop's sshd and how.
earlier_dropin() {
  mkdev "$1"
  d="$T_DIR/$1/etc"
  mkdir -p "$d/sshd_config.d"
  echo "$2 $3" >"$d/sshd_config.d/10-local.conf"
  refused "$1" "$4$how" "$sshd" \
    "$(err_wins "$d" "$2" "$3" "$(before "$d" sshd_config.d/10-local.conf 1 "$2" "$3")")"
}

for sshd in "$SSHD" "$NOT"; do
  [ "$sshd" = "$NOT" ] && how=" (files alone)" || how=""
  x=${sshd##*/}
  x=${x//-/}
  # No Include: sshd ignores the drop-in altogether.
  mkdev "ni$x"
  d="$T_DIR/ni$x/etc"
  sed -i '/^Include /d' "ni$x/etc/sshd_config"
  refused "ni$x" "with no Include in sshd_config$how" "$sshd" "$(re "$(no_include "$d")")"
  t_eq "...removing the sshd_config.d it made" "" "$(find "ni$x/etc" -mindepth 1 ! -name sshd_config)"
  # RevokedKeys none above the Include.
  mkdev "rk$x"
  d="$T_DIR/rk$x/etc"
  sed -i '1i RevokedKeys none' "rk$x/etc/sshd_config"
  refused "rk$x" "under 'RevokedKeys none' above the Include$how" "$sshd" \
    "$(err_wins "$d" RevokedKeys none "$(before "$d" sshd_config 1 RevokedKeys none)")"
  # Another CA file in a drop-in that sorts first.
  earlier_dropin "ca$x" TrustedUserCAKeys "$T_DIR/otherca.pub" "under another TrustedUserCAKeys in an earlier drop-in"
  t_eq "...leaving that drop-in alone" "TrustedUserCAKeys $T_DIR/otherca.pub" "$(cat "$d/sshd_config.d/10-local.conf")"
  # A path that differs from ours only in case is another file: paths compare exactly.
  earlier_dropin "cs$x" RevokedKeys "$T_DIR/cs$x/etc/SSHCERT.KRL" "under a RevokedKeys path that differs only in case"
  # "Match all" overrides the drop-in for every connection, even after the Include.
  mkdev "ma$x"
  d="$T_DIR/ma$x/etc"
  printf 'Match all\n  RevokedKeys=none\n' >>"$d/sshd_config"
  n=$(wc -l <"$d/sshd_config")
  refused "ma$x" "under 'Match all' with 'RevokedKeys=none'$how" "$sshd" \
    "$(err_wins "$d" RevokedKeys none "$(re "$d")/sshd_config line $n sets 'RevokedKeys none' under 'Match all' \($(re "$d")/sshd_config line $((n - 1))\), which every connection reads and which overrides $(re "$d")/sshd_config\.d/50-sshcert\.conf")"
  # The Include only under a Match: only the connections that match read the drop-in.
  mkdev "im$x"
  d="$T_DIR/im$x/etc"
  sed -i '/^Include /d' "$d/sshd_config"
  printf 'Match User nobody\nInclude %s/sshd_config.d/*.conf\n' "$d" >>"$d/sshd_config"
  n=$(($(wc -l <"$d/sshd_config") - 1))
  refused "im$x" "when sshd_config includes the drop-in only under a Match$how" "$sshd" \
    "sshd would not use this enrolment: $(re "$d")/sshd_config reads $(re "$d")/sshd_config\.d/50-sshcert\.conf only under 'Match User nobody' \($(re "$d")/sshd_config line $n\), for the connections that match it; sshd would not trust this CA, or would accept the certificates it has revoked\. To fix: move the Include of $(re "$d")/sshd_config\.d/\*\.conf above the first Match line of $(re "$d")/sshd_config, then enrol again\."

  # An enrolled device that a later edit overrides: an older drop-in is restored byte for byte.
  mkdev "re$x"
  d="$T_DIR/re$x/etc"
  t_rc "enroll re$x$how" 0 enroll_with "$sshd" "re$x"
  printf '# an older enrolment\nTrustedUserCAKeys %s/sshcert_ca.pub\n' "$d" >"$d/sshd_config.d/50-sshcert.conf"
  touch -d '2020-01-01 00:00' "$d/sshd_config.d/50-sshcert.conf"
  sed -i '1i TrustedUserCAKeys none' "$d/sshd_config"
  refused "re$x" "over an older enrolment under 'TrustedUserCAKeys none'$how" "$sshd" \
    "$(err_wins "$d" TrustedUserCAKeys none "$(before "$d" sshd_config 1 TrustedUserCAKeys none)")"
  t_eq "...the older drop-in is back" "# an older enrolment" "$(head -1 "$d/sshd_config.d/50-sshcert.conf")"
  # Already enrolled, nothing to change, but overridden: still refused.
  sed -i '1d' "$d/sshd_config"
  t_rc "re-enroll re$x$how without the override (0)" 0 enroll_with "$sshd" "re$x"
  t_match "...putting the current drop-in back" "installed $d/sshd_config.d/50-sshcert.conf" "$T_OUT"
  t_rc "...then re-enroll it again$how (0)" 0 enroll_with "$sshd" "re$x"
  t_match "...which changes nothing" "already enrolled: .* nothing changed" "$T_OUT"
  sed -i '1i RevokedKeys none' "$d/sshd_config"
  refused "re$x" "of an enrolled device overridden later$how" "$sshd" \
    "$(err_wins "$d" RevokedKeys none "$(before "$d" sshd_config 1 RevokedKeys none)")" "nothing was changed"

  # Hardening settings that win are warnings; enrolment succeeds.
  mkdev "hw$x"
  d="$T_DIR/hw$x/etc"
  sed -i "1i PasswordAuthentication yes" "$d/sshd_config"
  mkdir -p "$d/sshd_config.d"
  echo "PermitRootLogin yes" >"$d/sshd_config.d/10-local.conf"
  t_rc "enrolment under overriding hardening settings succeeds$how (0)" 0 enroll_with "$sshd" "hw$x"
  want="enroll-device.sh: warning: sshd would use 'PasswordAuthentication yes', not the drop-in's 'PasswordAuthentication no': $d/sshd_config line 1 sets 'PasswordAuthentication yes' before $d/sshd_config.d/50-sshcert.conf, and sshd keeps the first value it reads
enroll-device.sh: warning: sshd would use 'PermitRootLogin yes', not the drop-in's 'PermitRootLogin no': $d/sshd_config.d/10-local.conf line 1 sets 'PermitRootLogin yes' before $d/sshd_config.d/50-sshcert.conf, and sshd keeps the first value it reads"
  [ "$sshd" = "$NOT" ] && want="enroll-device.sh: $(not_warn "$d")"$'\n'"$want"
  t_eq "...warning about each, naming the file and line" "$want" "$T_ERR"
  t_match "...and installing the drop-in" "installed $d/sshd_config.d/50-sshcert.conf" "$T_OUT"

  # TrustedUserCAKeys or RevokedKeys under another Match concern some connections: a warning.
  mkdev "mu$x"
  d="$T_DIR/mu$x/etc"
  printf 'Match User nobody\n  RevokedKeys %s/other.krl\n' "$T_DIR" >>"$d/sshd_config"
  n=$(wc -l <"$d/sshd_config")
  t_rc "enrolment with a RevokedKeys under 'Match User' succeeds$how (0)" 0 enroll_with "$sshd" "mu$x"
  want="enroll-device.sh: warning: $d/sshd_config line $n sets 'RevokedKeys $T_DIR/other.krl' under 'Match User nobody' ($d/sshd_config line $((n - 1))): connections that match it would use that, not 'RevokedKeys $d/sshcert.krl'"
  [ "$sshd" = "$NOT" ] && want="enroll-device.sh: $(not_warn "$d")"$'\n'"$want"
  t_eq "...warning about it" "$want" "$T_ERR"
done

# Judged from the files: Includes nest, and a value sshd_config sets to ours first is ours.
mkdev nest
d="$T_DIR/nest/etc"
sed -i "s#^Include .*#Include $d/more.conf#" "$d/sshd_config"
sed -i "1i RevokedKeys \"$d/sshcert.krl\"" "$d/sshd_config"
printf '# more\nInclude %s/sshd_config.d/*.conf\n' "$d" >"$d/more.conf"
t_rc "enrolment through a nested Include, judged from the files, succeeds (0)" 0 enroll_with "$NOT" nest
t_eq "...with only the sshd -T warning" "enroll-device.sh: $(not_warn "$d")" "$T_ERR"
before=$(snapshot nest/etc)
t_rc "...and again (0)" 0 enroll_with "$NOT" nest
t_match "...changing nothing" "already enrolled: .* nothing changed" "$T_OUT"
t_eq "...(byte-identical)" "$before" "$(snapshot nest/etc)"
t_rc "sshd -T agrees: that enrolment succeeds (0)" 0 enroll nest
t_eq "...without a warning" "" "$T_ERR"
# No Include, but sshd_config itself names this CA and KRL: in force, so only a warning.
mkdev own
d="$T_DIR/own/etc"
sed -i "s#^Include .*#TrustedUserCAKeys $d/sshcert_ca.pub\nRevokedKeys $d/sshcert.krl#" "$d/sshd_config"
for sshd in "$SSHD" "$NOT"; do
  t_rc "enrolment without the Include, under sshd_config's own same CA and KRL, succeeds (${sshd##*/}) (0)" 0 enroll_with "$sshd" own
  want="enroll-device.sh: warning: $d/sshd_config has no 'Include $d/sshd_config.d/*.conf' (outside any Match), so sshd ignores $d/sshd_config.d/50-sshcert.conf: this CA and its KRL are in force (set elsewhere), but not the hardening baseline; to apply it, add 'Include $d/sshd_config.d/*.conf' as the first line of $d/sshd_config"
  [ "$sshd" = "$NOT" ] && want="enroll-device.sh: $(not_warn "$d")"$'\n'"$want"
  t_eq "...warning that the hardening baseline is not in force" "$want" "$T_ERR"
done

# --- the expired certificate ---------------------------------------------------------------
vb=$(ssh-keygen -L -f expiring-cert.pub | sed -n 's/.* to \([0-9T:-]*\)$/\1/p')
while [ "$(date +%s)" -le "$(date -d "$vb" +%s)" ]; do sleep 0.2; done
for n in dev1 dev2 dev3; do
  eval "port=\$PORT_$n log=\$LOG_$n"
  t_ssh "$port" "$U" expiring expiring-cert.pub true >/dev/null 2>&1
  t_eq "$n refuses the expired certificate" 255 $?
  t_wait_file_match "$log" "Certificate invalid: expired" 5
  t_eq "...and logs 'Certificate invalid: expired'" 0 $?
done

# --- units and install rules ---------------------------------------------------------------
if [ -f "$SSHCERT_BUILD_DIR/deploy/cmake_install.cmake" ]; then
  t_rc "cmake --install (component deploy)" 0 cmake --install "$SSHCERT_BUILD_DIR" --prefix "$T_DIR/inst" --component deploy
  # The units name the install-time folders: one configuration, installed under two prefixes,
  # under DESTDIR, and with absolute sbin and doc folders. The binaries (component Unspecified)
  # only where every folder they go to is under the prefix.
  with_bin=yes
  grep -Eq '^(CMAKE_INSTALL_(S?BIN|LIB)DIR|SSHCERT_PAM_MODULE_DIR):[A-Z]*=/' "$SSHCERT_BUILD_DIR/CMakeCache.txt" &&
    with_bin=no
  # units_at ROOT SBIN DOC DESC PREFIX [BIN]: the units in ROOT/PREFIX/lib/systemd/system run
  # SBIN's programs and name DOC's README, which are there below ROOT (DESTDIR, or ''); BIN
  # (yes or no, default no): sshcert-server was installed too.
  units_at() {
    local root=$1 sbin=$2 doc=$3 desc=$4 u="$1$5/lib/systemd/system" bin=${6:-no}
    t_eq "$desc: sshcert-server.service runs $sbin/sshcert-server" \
      "ExecStart=$sbin/sshcert-server -c /etc/sshcert/sshcert.json" "$(grep '^ExecStart=' "$u/sshcert-server.service" 2>&1)"
    t_eq "$desc: sshcert-krl-refresh.service runs $sbin/sshcert-krl-refresh" \
      "ExecStart=$sbin/sshcert-krl-refresh --server \${SSHCERT_SERVER} \$SSHCERT_KRL_REFRESH_ARGS" \
      "$(grep '^ExecStart=' "$u/sshcert-krl-refresh.service" 2>&1)"
    t_eq "$desc: ...which is installed there" yes "$([ -x "$root$sbin/sshcert-krl-refresh" ] && echo yes)"
    if [ "$bin" = yes ]; then
      t_eq "$desc: ...and so is sshcert-server" yes "$([ -x "$root$sbin/sshcert-server" ] && echo yes)"
    fi
    t_eq "$desc: the three units name $doc/README.md" \
      "Documentation=file:$doc/README.md Documentation=file:$doc/README.md Documentation=file:$doc/README.md" \
      "$(cat "$u/sshcert-server.service" "$u/sshcert-krl-refresh.service" "$u/sshcert-krl-refresh.timer" | grep '^Documentation=' | tr '\n' ' ' | sed 's/ $//')"
    t_eq "$desc: ...which is installed there" yes "$([ -s "$root$doc/README.md" ] && echo yes)"
    t_eq "$desc: no unit names /usr/sbin or /usr/share/doc" "" "$(grep -l '/usr/sbin\|/usr/share/doc' "$u"/sshcert-*)"
  }
  for p in pa pb; do
    t_rc "cmake --install --prefix $T_DIR/$p" 0 cmake --install "$SSHCERT_BUILD_DIR" --prefix "$T_DIR/$p" --component deploy
    if [ "$with_bin" = yes ]; then
      t_rc "...and its binaries" 0 cmake --install "$SSHCERT_BUILD_DIR" --prefix "$T_DIR/$p" --component Unspecified
    fi
    units_at "" "$T_DIR/$p/sbin" "$T_DIR/$p/share/doc/sshcert" "--prefix $p" "$T_DIR/$p" "$with_bin"
    t_eq "--prefix $p: the scripts source the shared code there" "common='$T_DIR/$p/share/sshcert/sshcert-device-common.sh'" \
      "$(grep -h '^common=' "$T_DIR/$p/sbin/sshcert-enroll-device" "$T_DIR/$p/sbin/sshcert-krl-refresh" | sort -u)"
  done
  OPT="/opt/sshcert-fleet-$$"
  if [ ! -e "$OPT" ]; then
    t_rc "DESTDIR=$T_DIR/stage cmake --install --prefix $OPT" 0 env DESTDIR="$T_DIR/stage" \
      cmake --install "$SSHCERT_BUILD_DIR" --prefix "$OPT" --component deploy
    if [ "$with_bin" = yes ]; then
      t_rc "...and its binaries" 0 env DESTDIR="$T_DIR/stage" cmake --install "$SSHCERT_BUILD_DIR" --prefix "$OPT" --component Unspecified
    fi
    units_at "$T_DIR/stage" "$OPT/sbin" "$OPT/share/doc/sshcert" "DESTDIR" "$OPT" "$with_bin"
    t_eq "DESTDIR: the scripts source the shared code by its path without DESTDIR" "common='$OPT/share/sshcert/sshcert-device-common.sh'" \
      "$(grep -h '^common=' "$T_DIR/stage$OPT/sbin/sshcert-enroll-device" "$T_DIR/stage$OPT/sbin/sshcert-krl-refresh" | sort -u)"
    t_eq "DESTDIR: nothing outside it" no "$([ -e "$OPT" ] && echo yes || echo no)"
  fi
  # Absolute sbin and doc folders: a configuration of its own (configured, never built).
  if cmake -S "$SSHCERT_SRC_DIR" -B "$T_DIR/absbuild" -DCMAKE_INSTALL_SBINDIR="$T_DIR/abs/sbin" \
    -DCMAKE_INSTALL_DOCDIR="$T_DIR/abs/doc" >"$T_DIR/absbuild.log" 2>&1; then
    t_rc "cmake --install with absolute sbin and doc folders" 0 cmake --install "$T_DIR/absbuild" --prefix "$T_DIR/pc" --component deploy
    units_at "" "$T_DIR/abs/sbin" "$T_DIR/abs/doc" "absolute folders" "$T_DIR/pc"
    t_rc "...and under DESTDIR" 0 env DESTDIR="$T_DIR/stage2" cmake --install "$T_DIR/absbuild" --prefix "$T_DIR/pd" --component deploy
    units_at "$T_DIR/stage2" "$T_DIR/abs/sbin" "$T_DIR/abs/doc" "absolute folders, DESTDIR" "$T_DIR/pd"
  else
    t_bad "cmake cannot configure the source with absolute install folders" "$(tail -5 "$T_DIR/absbuild.log")"
  fi
  for f in sbin/sshcert-enroll-device sbin/sshcert-krl-refresh lib/systemd/system/sshcert-server.service \
    lib/systemd/system/sshcert-krl-refresh.service lib/systemd/system/sshcert-krl-refresh.timer \
    lib/sysusers.d/sshcert.conf share/doc/sshcert/sshcert.json.example; do
    t_eq "installed $f" yes "$([ -s "$T_DIR/inst/$f" ] && echo yes || echo no)"
  done
  t_eq "the scripts are executable" yes "$([ -x inst/sbin/sshcert-enroll-device ] && [ -x inst/sbin/sshcert-krl-refresh ] && echo yes)"
  COMMON="$T_DIR/inst/share/sshcert/sshcert-device-common.sh"
  t_eq "installed the shared code, 0644" 644 "$(stat -c %a "$COMMON" 2>&1)"
  for f in sshcert-enroll-device sshcert-krl-refresh; do
    t_eq "installed $f sources the shared code by its installed path" "common='$COMMON'" \
      "$(grep '^common=' "inst/sbin/$f")"
  done
  # The installed scripts work on the installed shared code.
  t_rc "installed sshcert-krl-refresh works" 0 inst/sbin/sshcert-krl-refresh --server "$URL" --ca-cert "$TLS" --etc "$E"
  t_match "...and finds dev1's KRL up to date" "is up to date \(1 revocation entries\)" "$T_OUT"
  before=$(snapshot dev1/etc)
  t_rc "installed sshcert-enroll-device works" 0 inst/sbin/sshcert-enroll-device --server "$URL" \
    --fingerprint "$FP" --ca-cert "$TLS" --etc "$E" --no-reload
  t_match "...and finds dev1 enrolled" "already enrolled: .* nothing changed" "$T_OUT"
  t_eq "...changing nothing" "$before" "$(snapshot dev1/etc)"
  mv "$COMMON" "$COMMON.moved"
  t_rc "installed scripts do not look beside themselves for the shared code (1)" 1 \
    inst/sbin/sshcert-krl-refresh --server "$URL" --ca-cert "$TLS" --etc "$E"
  t_match "...naming the installed path" "cannot load $(re "$COMMON"): missing, or others may write it" "$T_ERR"
  mv "$COMMON.moved" "$COMMON"
fi

# --- root sources the shared code only from a place only root (or the script's owner) writes --
mkdir -p loose
cp "$SSHCERT_SRC_DIR/deploy/enroll-device.sh" "$SSHCERT_SRC_DIR/deploy/sshcert-krl-refresh" \
  "$SSHCERT_SRC_DIR/deploy/sshcert-device-common.sh" loose/
chmod 0755 loose
mkdev dev4
before=$(snapshot dev4/etc)
# loose_bad DESC: the copies in loose/ refuse to run (1), and enrolment installs nothing.
loose_bad() {
  t_rc "the scripts refuse shared code $1 (1)" 1 loose/enroll-device.sh --server "$URL" --fingerprint "$FP" \
    --ca-cert "$TLS" --etc "$T_DIR/dev4/etc" --no-reload
  t_eq "...saying so" "enroll-device.sh: cannot load loose/sshcert-device-common.sh: missing, or others may write it" "$T_ERR"
  t_eq "...installing nothing" "$before" "$(snapshot dev4/etc)"
  t_rc "...sshcert-krl-refresh too (1)" 1 loose/sshcert-krl-refresh --server "$URL" --ca-cert "$TLS" --etc "$E"
}
chmod g+w loose/sshcert-device-common.sh
loose_bad "that the group may write"
chmod g-w,o+w loose/sshcert-device-common.sh
loose_bad "that anyone may write"
chmod o-w loose/sshcert-device-common.sh
chmod 1777 loose
loose_bad "in a folder anyone may write (even sticky)"
chmod 0755 loose
chown 65534 loose/sshcert-device-common.sh
loose_bad "owned by another user"
chown 0 loose/sshcert-device-common.sh
mv loose/sshcert-device-common.sh loose/moved
loose_bad "that is missing"
mkdir loose/sshcert-device-common.sh
loose_bad "that is not a file"
rmdir loose/sshcert-device-common.sh
mv loose/moved loose/sshcert-device-common.sh
t_rc "the same copies run once the shared code is safe (0)" 0 loose/sshcert-krl-refresh --server "$URL" --ca-cert "$TLS" --etc "$E"
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p units
  for u in sshcert-server.service sshcert-krl-refresh.service sshcert-krl-refresh.timer; do
    sed -e "s#/usr/sbin/sshcert-server#$SERVER#" -e "s#/usr/sbin/sshcert-krl-refresh#$REFRESH#" \
      "$SSHCERT_SRC_DIR/deploy/systemd/$u" >units/$u
  done
  t_rc "systemd-analyze verify accepts the units" 0 systemd-analyze verify units/sshcert-server.service \
    units/sshcert-krl-refresh.service units/sshcert-krl-refresh.timer
  t_eq "...without a complaint" "" "$T_ERR"
fi
t_done
