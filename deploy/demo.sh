#!/bin/bash
# The sshcert demo: runs the CA for real on embedded defaults in ./demo and shows a
# certificate being issued and used. On a fresh Debian 12 machine, as root:
#     ./deploy/demo.sh
# It installs what is missing, builds, creates a CA and a demo user, starts the server on
# loopback, shows the TOTP QR code, logs in with `sshcert login` (computing the TOTP code
# itself, as your phone would), and connects with plain `ssh` to a throwaway sshd that trusts
# the CA. Everything it starts it stops; everything it writes is under ./demo.
set -eu
umask 077 # the demo folder holds a CA key, a TOTP secret and a password
cd "$(dirname "$0")/.."
top=$PWD
demo=$top/demo
user=sshcertdemo
password='demo-password-123'

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
created_user=0
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ $created_user = 1 ] && userdel -r "$user" >/dev/null 2>&1
  true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

say "1. Installing build dependencies (Debian packages) and building"
bash tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
ADMIN=$top/build/ca-server/sshcert-admin
SERVER=$top/build/ca-server/sshcert-server
CLIENT=$top/build/ca-client/sshcert

say "2. Creating a CA in $demo"
rm -rf "$demo"
mkdir -p "$demo"
port=$(free_port)
cat >"$demo/sshcert.json" <<JSON
{
  "listen": "127.0.0.1:$port",
  "data_dir": "data",
  "cert": { "default_ttl": "1h", "max_ttl": "8h" }
}
JSON
"$ADMIN" -c "$demo/sshcert.json" init
echo "CA public key: $demo/data/ca_key.pub  (this line is all a device needs to trust)"

say "3. Adding user '$user' (password + TOTP)"
printf '%s\n' "$password" | "$ADMIN" -c "$demo/sshcert.json" user add "$user" \
  --principals "$user" --json >"$demo/user.json"
secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$demo/user.json")
uri=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["otpauth_uri"])' "$demo/user.json")
echo "TOTP URI: $uri"
echo "(sshcert-admin draws this as a QR code on a terminal; scan it with an authenticator app)"

say "4. Starting sshcert-server on http://127.0.0.1:$port (loopback only without TLS)"
"$SERVER" -c "$demo/sshcert.json" 2>"$demo/server.log" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/v1/health"; echo

say "5. sshcert login (the TOTP code is computed with oathtool, as a phone would)"
code=$(printf '%s\n' "$secret" | oathtool --totp -b -) # not on a command line
printf '%s\n%s\n' "$password" "$code" | "$CLIENT" login --server "http://127.0.0.1:$port" \
  --user "$user" --password-stdin --key-dir "$demo/keys" --no-agent
ssh-keygen -L -f "$demo/keys/id_ed25519-cert.pub" | sed -n '1,18p'

say "6. A throwaway sshd on loopback that trusts only the CA key"
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh --password '*' "$user"
  created_user=1
fi
install -d -m 0755 /run/sshd
mkdir -p "$demo/sshd"
ssh-keygen -q -t ed25519 -N '' -f "$demo/sshd/host" <<<y >/dev/null 2>&1 || true
"$ADMIN" -c "$demo/sshcert.json" krl -o "$demo/sshd/revoked.krl"
sport=$(free_port)
cat >"$demo/sshd/sshd_config" <<CONF
Port $sport
ListenAddress 127.0.0.1
HostKey $demo/sshd/host
PidFile $demo/sshd/sshd.pid
TrustedUserCAKeys $demo/data/ca_key.pub
RevokedKeys $demo/sshd/revoked.krl
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
LogLevel VERBOSE
CONF
/usr/sbin/sshd -D -f "$demo/sshd/sshd_config" -E "$demo/sshd/log" &
pids+=($!)
for _ in $(seq 100); do grep -q "Server listening" "$demo/sshd/log" 2>/dev/null && break; sleep 0.1; done

say "7. ssh $user@127.0.0.1 -p $sport with the certificate (no authorized_keys anywhere)"
ssh -F /dev/null -p "$sport" -i "$demo/keys/id_ed25519" -o IdentitiesOnly=yes -o IdentityAgent=none \
  -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
  "$user@127.0.0.1" 'echo "logged in as $(id -un) on $(hostname) with a certificate"'
sleep 0.3
grep "Accepted publickey" "$demo/sshd/log" | tail -1

say "What just happened"
cat <<TEXT
- sshcert-admin created a CA key ($demo/data/ca_key) and a SQLite store; the user got a
  password and a TOTP secret.
- sshcert login proved both to the server, made a fresh ed25519 key, and got it signed into
  a certificate valid for 1 hour, recorded in the store before it was returned:
      $ADMIN -c $demo/sshcert.json cert list
- sshd trusted it through one line: TrustedUserCAKeys $demo/data/ca_key.pub

For your own devices: enroll each with deploy/enroll-device.sh (see README, "Devices"),
run the server with TLS (README, "Running the CA"), and have users run sshcert login.
TEXT
"$ADMIN" -c "$demo/sshcert.json" cert list
