#!/bin/bash
# Secrets stay secret. The CA private key, secret.key, TOTP secrets (base32, raw, hex) and
# passwords and codes that went through sshcert-server (good, wrong, replayed, inside malformed
# JSON) must not appear, in any encoding we can think of, in the server's log, any response
# body, sshcert-admin's outputs (other than `user add`/`totp-reset`, whose job is to print the
# new TOTP secret once), or the database files (sshcert.db, -wal, -shm, copied while the server
# runs and after it stops). And the server is not dumpable: run as an unprivileged user, its
# /proc/PID files belong to root (the kernel's sign of a non-dumpable process), its
# /proc/PID/mem cannot be read by that same user, and its core size limit is 0.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh"

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
D="$T_DIR/ca"
OUT="$T_DIR/out"      # everything that must be free of secrets
SECRETS="$T_DIR/secrets" # one secret per file
mkdir -p "$D" "$OUT" "$SECRETS"
chmod 0755 "$D"
PORT=$(t_free_port)
CFG="$D/cfg.json"
DATA="$D/data"
DB="$DATA/sshcert.db"
URL="http://127.0.0.1:$PORT"
printf '{"listen":"127.0.0.1:%s","data_dir":"%s","auth":{"password_hash":"min","max_failures":50},"connection_timeout":5}\n' \
  "$PORT" "$DATA" >"$CFG"
chmod 0644 "$CFG"
# Distinctive passwords, so that a hit is never a coincidence.
P1='Corr3ct-H0rse-Batt3ry-Stap1e'
P2='Sec0nd-Pa55phrase-Aft3r-Passwd'
PW='Wr0ng-Gu3ss-N0t-The-Pa55word'
printf '%s' "$P1" >"$SECRETS/password1"
printf '%s' "$P2" >"$SECRETS/password2"
printf '%s' "$PW" >"$SECRETS/password-wrong"

"$ADMIN" -c "$CFG" init >"$OUT/admin-init.out" 2>&1 || { cat "$OUT/admin-init.out"; exit 1; }
printf '%s\n' "$P1" | "$ADMIN" -c "$CFG" user add alice --principals alice --json >"$D/alice.json" \
  2>"$OUT/admin-useradd.err" || { cat "$OUT/admin-useradd.err"; exit 1; }
S1=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$D/alice.json")
printf '%s' "$S1" >"$SECRETS/totp1.b32"
cp "$DATA/secret.key" "$SECRETS/secret.key.raw"
# The CA key's private half: the 32-byte seed and the 64-byte private key of openssh-key-v1.
$PY - "$DATA/ca_key" "$SECRETS" <<'PY'
import base64, struct, sys
text = open(sys.argv[1]).read().split("\n")
blob = base64.b64decode("".join(l for l in text if l and not l.startswith("-----")))
assert blob.startswith(b"openssh-key-v1\0")
p = len(b"openssh-key-v1\0")
def string():
    global p
    (n,) = struct.unpack(">I", blob[p:p + 4]); p += 4
    s = blob[p:p + n]; p += n
    return s
string(); string(); string()          # cipher, kdf, kdf options
p += 4                                # number of keys
string()                              # public key blob
priv = string()
q = 8                                 # two check words
def pstring():
    global q
    (n,) = struct.unpack(">I", priv[q:q + 4]); q += 4
    s = priv[q:q + n]; q += n
    return s
assert pstring() == b"ssh-ed25519"
pstring()                             # public key
sk = pstring()                        # seed || public key
open(sys.argv[2] + "/ca_seed.raw", "wb").write(sk[:32])
open(sys.argv[2] + "/ca_private.raw", "wb").write(sk)
PY

# The server runs as nobody over a data_dir it owns: then its /proc files tell dumpability.
chown -R nobody "$DATA"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$SERVER" -c "$CFG" 2>"$OUT/server.log" &
SRV_PID=$!
T_PIDS+=("$SRV_PID")
t_wait_file_match "$OUT/server.log" "sshcert-server listening on" 20 ||
  { echo "server did not start:"; cat "$OUT/server.log"; exit 1; }

ssh-keygen -q -t ed25519 -N '' -C secrets -f "$D/key"
PUB=$(cat "$D/key.pub")
# post BODY: the answer's body goes to a new $OUT/body.*, its status is printed. (Called in
# $(...), a subshell: a counter would not survive, mktemp does.)
post() {
  curl -s -o "$(mktemp "$OUT/body.XXXXXX")" -w '%{http_code}' --max-time 20 \
    -H 'Content-Type: application/json' --data-binary "$1" "$URL/v1/certificates"
}
code() { oathtool --totp -b "$1" --now "@$(($(date +%s) + $2 * 30))"; }
secret_code() { printf '%s' "$1" >"$SECRETS/code.$2"; }
req() { printf '{"username":"%s","password":"%s","totp":"%s","public_key":"%s"}' "$1" "$2" "$3" "$PUB"; }
while [ $(($(date +%s) % 30)) -gt 20 ]; do sleep 1; done

c0=$(code "$S1" 0); secret_code "$c0" c0
c1=$(code "$S1" 1); secret_code "$c1" c1
cm=$(code "$S1" -1); secret_code "$cm" cm
wrong=$(printf '%06d' $(((10#$c0 + 500000) % 1000000))); secret_code "$wrong" wrong
t_eq "401 a wrong code" 401 "$(post "$(req alice "$P1" "$wrong")")"
t_eq "401 a wrong password with a right code" 401 "$(post "$(req alice "$PW" "$cm")")"
t_eq "201 the right password and code" 201 "$(post "$(req alice "$P1" "$c0")")"
t_eq "401 the same code again (replay)" 401 "$(post "$(req alice "$P1" "$c0")")"
t_eq "401 an unknown user with the password" 401 "$(post "$(req mallory "$P1" "$c1")")"
t_eq "400 JSON cut inside the password" 400 "$(post "{\"username\":\"alice\",\"password\":\"$P1")"
t_eq "400 a bad escape inside the password" 400 "$(post "{\"username\":\"alice\",\"password\":\"$P1\\q\"}")"
t_eq "400 invalid UTF-8 after the password" 400 "$(post "$(printf '{"username":"alice","password":"%s\xff","totp":"1","public_key":"x"}' "$P1")")"
t_eq "400 a control character after the code" 400 "$(post "$(printf '{"username":"alice","password":"%s","totp":"%s\x01","public_key":"x"}' "$P1" "$c1")")"
t_eq "400 the password given twice" 400 "$(post "{\"username\":\"alice\",\"password\":\"$P1\",\"password\":\"$P1\"}")"
t_eq "400 a bad public key with good credentials" 400 "$(post "$(printf '{"username":"alice","password":"%s","totp":"%s","public_key":"ssh-ed25519 AAAA"}' "$P1" "$c1")")"
t_eq "400 the password where a number goes" 400 "$(post "{\"username\":\"alice\",\"password\":\"$P1\",\"totp\":\"$c1\",\"public_key\":\"$PUB\",\"ttl\":\"$P1\"}")"
head -c 17000 /dev/zero | tr '\0' 'a' >"$D/pad"
t_eq "413 the password in an oversize body" 413 "$(post "{\"username\":\"alice\",\"password\":\"$P1\",\"pad\":\"$(cat "$D/pad")\"}")"

# A new password and a new TOTP secret also go through the server.
printf '%s\n' "$P2" | "$ADMIN" -c "$CFG" user passwd alice >"$OUT/admin-passwd.out" 2>&1
t_eq "admin user passwd" 0 "$?"
"$ADMIN" -c "$CFG" user totp-reset alice --json >"$D/reset.json" 2>"$OUT/admin-reset.err"
t_eq "admin user totp-reset" 0 "$?"
S2=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["totp_secret"])' "$D/reset.json")
printf '%s' "$S2" >"$SECRETS/totp2.b32"
chown -R nobody "$DATA" # the admin commands ran as root
c2=$(code "$S2" 1); secret_code "$c2" c2
t_eq "401 the old password after passwd" 401 "$(post "$(req alice "$P1" "$(code "$S2" 0)")")"
t_eq "201 the new password and the new secret" 201 "$(post "$(req alice "$P2" "$c2")")"
secret_code "$(code "$S2" 0)" c2old

curl -s --max-time 10 "$URL/metrics" >"$OUT/metrics"
curl -s --max-time 10 "$URL/v1/ca" >"$OUT/ca.json"
for cmd in "user list --json" "user show alice --json" "user show alice" "cert list --json" \
  "cert show 1 --json" "audit export" "audit verify"; do
  "$ADMIN" -c "$CFG" $cmd >"$OUT/admin-${cmd// /_}.out" 2>&1
done
chown -R nobody "$DATA"
# The database files as they are while the server runs (the WAL holds the recent writes).
for f in "$DB" "$DB-wal" "$DB-shm"; do [ -f "$f" ] && cp "$f" "$OUT/running-$(basename "$f")"; done

# Not dumpable. A process that is dumpable has its /proc/PID files owned by its own uid; the
# kernel gives a non-dumpable one's to root, and refuses ptrace (so /proc/PID/mem) to its uid.
setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 30 &
CONTROL=$!
T_PIDS+=("$CONTROL")
sleep 0.2
t_eq "control: a dumpable process of nobody owns its /proc/PID/status" nobody "$(stat -c %U "/proc/$CONTROL/status")"
t_eq "sshcert-server runs as nobody" nobody "$(ps -o user= -p "$SRV_PID" | tr -d ' ')"
t_eq "sshcert-server's /proc/PID/status belongs to root: not dumpable" root "$(stat -c %U "/proc/$SRV_PID/status")"
t_eq "control: nobody can read its own dumpable process's memory map" 0 \
  "$(setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$CONTROL/maps" >/dev/null 2>&1; echo $?)"
t_eq "nobody cannot read sshcert-server's /proc/PID/mem" 1 \
  "$(setpriv --reuid=nobody --regid=nogroup --clear-groups dd if="/proc/$SRV_PID/mem" of=/dev/null bs=1 count=1 skip=4096 2>/dev/null; echo $?)"
t_eq "nobody cannot read sshcert-server's /proc/PID/environ" 1 \
  "$(setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$SRV_PID/environ" >/dev/null 2>&1; echo $?)"
t_match "sshcert-server's core file size limit is 0" '^Max core file size +0 +0 ' "$(grep '^Max core file size' "/proc/$SRV_PID/limits")"
# SQLite creates the database, -wal and -shm at 0644 less the umask before either program can
# make them private, and data_dir ($D is 0755 here) may let others in: both programs run
# under umask 077 whatever they were started with (this test's shell has $(umask)).
t_eq "sshcert-server runs with umask 0077" 0077 "$(awk '$1 == "Umask:" { print $2 }' "/proc/$SRV_PID/status")"
t_eq "the database and its -wal and -shm are 0600 while the server runs" "600 600 600" \
  "$(stat -c %a "$DB" "$DB-wal" "$DB-shm" | xargs)"
mkfifo "$T_DIR/pw.fifo"
"$ADMIN" -c "$CFG" user add umaskprobe --principals umaskprobe <"$T_DIR/pw.fifo" >"$T_DIR/probe.out" 2>&1 &
PROBE=$!
T_PIDS+=("$PROBE")
exec 7>"$T_DIR/pw.fifo"
# It sets the umask first thing in main; wait (up to 4 s) for it to get there.
for _ in $(seq 200); do
  [ "$(awk '$1 == "Umask:" { print $2 }' "/proc/$PROBE/status" 2>/dev/null)" = 0077 ] && break
  sleep 0.02
done
t_eq "sshcert-admin runs with umask 0077" 0077 "$(awk '$1 == "Umask:" { print $2 }' "/proc/$PROBE/status")"
printf '%s\n' 'Umask-Pr0be-Passw0rd' >&7
exec 7>&-
wait "$PROBE"
t_eq "...and its user add went through" 0 "$?"
kill "$CONTROL" 2>/dev/null

# For the record (not asserted): which secrets root could still find in the live process.
# The CA key and secret.key are meant to be there; passwords and codes may linger in freed
# buffers of libmicrohttpd and jansson until reused. tests/SECURITY.md discusses it.
$PY - "$SRV_PID" "$SECRETS" <<'PY' || true
import os, re, sys
pid, sdir = sys.argv[1], sys.argv[2]
secrets = {}
for name in sorted(os.listdir(sdir)):
    b = open(os.path.join(sdir, name), "rb").read()
    if name.endswith(".b32"):
        import base64
        secrets[name + " (raw)"] = base64.b32decode(b + b"=" * (-len(b) % 8))
    secrets[name] = b
found = {k: 0 for k in secrets}
control = 0
ca_line = open(os.path.join(os.path.dirname(sdir), "ca", "data", "ca_key.pub"), "rb").read().split()[1]
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if "r" not in f[1] or (len(f) > 5 and f[5].startswith("/")) or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]")):
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        for k, v in secrets.items():
            found[k] += data.count(v)
        control += data.count(ca_line)
print("# in the live server's memory: " + ", ".join(f"{k} x{v}" for k, v in found.items()))
# Control: the scan does read the heap (the CA's public key line is there for /v1/ca).
print(f"# memory scan control: CA public key line found x{control}")
PY

kill "$SRV_PID"
wait "$SRV_PID"
t_eq "server stops cleanly" 0 "$?"
for f in "$DB" "$DB-wal" "$DB-shm"; do [ -f "$f" ] && cp "$f" "$OUT/stopped-$(basename "$f")"; done

# The scan: every secret, in every encoding, against every output file.
$PY - "$SECRETS" "$OUT" >"$T_DIR/scan" <<'PY'
import base64, binascii, os, sys
sdir, odir = sys.argv[1], sys.argv[2]

def b64_variants(raw):
    """Base64 of raw at each of the 3 alignments it can have inside a longer blob, keeping only
    the characters that depend on raw alone."""
    out = []
    for pad in range(3):
        enc = base64.b64encode(bytes(pad) + raw + bytes(3)).decode()
        start = (pad * 8 + 5) // 6
        end = ((pad + len(raw)) * 8) // 6
        if end - start >= 8:
            out.append(enc[start:end])
    return out

def encodings(name, raw):
    forms = {"raw": raw}
    if len(raw) >= 16 and not raw.isascii() or name.endswith(".raw"):
        forms["hex"] = binascii.hexlify(raw)
        forms["HEX"] = binascii.hexlify(raw).upper()
        for i, v in enumerate(b64_variants(raw)):
            forms[f"base64/{i}"] = v.encode()
        forms["base32"] = base64.b32encode(raw).rstrip(b"=")
    return forms

secrets = {}
for name in sorted(os.listdir(sdir)):
    b = open(os.path.join(sdir, name), "rb").read()
    if name.endswith(".b32"):
        secrets[name] = {"base32": b, "base32 lower": b.lower()}
        raw = base64.b32decode(b + b"=" * (-len(b) % 8))
        secrets[name + " as bytes"] = encodings(name + ".raw", raw)
    elif name.startswith("code."):
        secrets[name] = {"text": b}
    else:
        secrets[name] = encodings(name, b)
        if name.startswith("password"):
            for i, v in enumerate(b64_variants(b)):
                secrets[name][f"base64/{i}"] = v.encode()
            secrets[name]["hex"] = binascii.hexlify(b)

def code_hit(data, code):
    # A 6-digit code counts when it stands alone (not inside a longer number or base64 run).
    i = data.find(code)
    while i >= 0:
        before = data[i - 1:i] if i > 0 else b""
        after = data[i + len(code):i + len(code) + 1]
        alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        if (not before or before not in alnum) and (not after or after not in alnum):
            return True
        i = data.find(code, i + 1)
    return False

files = sorted(os.listdir(odir))
hits = 0
for f in files:
    data = open(os.path.join(odir, f), "rb").read()
    for name, forms in secrets.items():
        for form, v in forms.items():
            hit = code_hit(data, v) if name.startswith("code.") else (len(v) >= 6 and v in data)
            if hit:
                hits += 1
                print(f"LEAK {name} ({form}) in {f}")
print(f"scanned {len(files)} files for {sum(len(v) for v in secrets.values())} secret forms: {hits} hits")
PY
cat "$T_DIR/scan"
t_match "scanned the log, bodies, admin outputs and database files" '^scanned [0-9]+ files' "$(tail -1 "$T_DIR/scan")"
t_match "no secret in any of them" ': 0 hits$' "$(tail -1 "$T_DIR/scan")"
t_eq "the scan saw every response body" 15 "$(ls "$OUT" | grep -c '^body\.')"
t_match "the scan saw the database and its WAL" 'running-sshcert.db-wal' "$(ls "$OUT")"
t_done
