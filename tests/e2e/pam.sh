#!/bin/bash
# pam_sshcert.so in a real PAM stack: pamtester as root with PAM_RUSER naming the user (as
# sudo and su set it), a real ssh-agent run as the test user, certificates from
# `sshcert-admin sign` and `ssh-keygen -s`, KRLs from both; then who may ask (another PAM_RUSER,
# none, an unknown one, pamtester run as the user), and the folders on the policy files' paths.
# Asserts the exact PAM outcome (pamtester prints pam_strerror) and, with `debug`, the module's
# reason (the line it sends to syslog).
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

MOD="$SSHCERT_BUILD_DIR/pam/pam_sshcert.so"
skip() {
  echo "skipped: $*"
  t_done
}

[ -f "$MOD" ] || { echo "missing $MOD (build the pam_sshcert target)"; exit 1; }
t_log "exported symbols"
t_rc "nm -D lists only pam_sm_* in pam_sshcert.so" 0 sh "$SSHCERT_SRC_DIR/pam/check_exports.sh" "$MOD"

[ "$(id -u)" = 0 ] || skip "the PAM end-to-end test needs root (useradd, /etc/pam.d, privilege drop)"
command -v pamtester >/dev/null || skip "pamtester is not installed"
# An ASan/UBSan module cannot be dlopen'ed by an uninstrumented pamtester.
if grep -q '^SSHCERT_SANITIZE:BOOL=ON' "$SSHCERT_BUILD_DIR/CMakeCache.txt" 2>/dev/null ||
  ldd "$MOD" | grep -Eq 'lib(asan|ubsan)'; then
  skip "sanitizer build: pamtester cannot load an instrumented module; run in a plain build"
fi

UA="scpa$$"
UB="scpb$$"
t_user "$UA" || exit 1
t_user "$UB" || exit 1
GA=$(id -g "$UA")
GB=$(id -g "$UB")
SVC="sshcert-test-$$"
PAMFILE="/etc/pam.d/$SVC"
[ -e "$PAMFILE" ] && { echo "$PAMFILE exists already"; exit 1; }
T_CLEANUPS+=("rm -f '$PAMFILE'")
cd "$T_DIR" || exit 1
# The module reads ca_keys, revoked_keys and principals files only when every folder on their
# path is root's and not writable by group or others (sshd's StrictModes): /tmp, mode 1777, is
# not, so they live in a folder of their own under /run (root's, 0755).
POL=$(mktemp -d /run/sshcert-pam-test.XXXXXX) || exit 1
T_CLEANUPS+=("rm -rf '$POL'")
chmod 0755 "$POL"

as_a() { setpriv --reuid="$UA" --regid="$GA" --init-groups "$@"; }
as_b() { setpriv --reuid="$UB" --regid="$GB" --init-groups "$@"; }

# start_agent USER GID DIR: an ssh-agent run as USER on DIR/agent.sock (DIR 0700, USER's).
start_agent() {
  local u=$1 g=$2 d=$3
  install -d -m 0700 -o "$u" -g "$g" "$d"
  setpriv --reuid="$u" --regid="$g" --init-groups ssh-agent -D -a "$d/agent.sock" \
    >"$d.log" 2>&1 &
  T_PIDS+=("$!")
  for _ in $(seq 1 100); do
    [ -S "$d/agent.sock" ] && return 0
    sleep 0.05
  done
  echo "ssh-agent for $u did not start:"
  cat "$d.log"
  exit 1
}

# pam_stack LINE...: writes the test service file.
pam_stack() { printf '%s\n' "$@" >"$PAMFILE"; }
# svc OPTIONS...: the module alone, `required`.
svc() { pam_stack "auth required $MOD $*"; }

# pam DESC WANT_RC WANT_MESSAGE SOCK USER [RUSER [AS]]: pamtester with SSH_AUTH_SOCK=SOCK in
# the process environment ("-" leaves it unset) and PAM_RUSER=RUSER (USER by default, "-" for
# none), run as root or, with AS, as that user. WANT_MESSAGE is pamtester's last line.
pam() {
  local desc=$1 rc=$2 msg=$3 sock=$4 user=$5 ruser=${6:-$5} as=${7:-} cmd=()
  [ -n "$as" ] && cmd=(setpriv --reuid="$as" --regid="$(id -g "$as")" --init-groups)
  if [ "$sock" = - ]; then cmd+=(env -u SSH_AUTH_SOCK); else cmd+=(env SSH_AUTH_SOCK="$sock"); fi
  cmd+=(pamtester)
  [ "$ruser" = - ] || cmd+=(-I "ruser=$ruser")
  t_rc "$desc: exit $rc" "$rc" "${cmd[@]}" "$SVC" "$user" authenticate
  t_eq "$desc: pamtester says" "$msg" "$( { printf '%s\n' "$T_OUT"; printf '%s\n' "$T_ERR"; } |
    grep '^pamtester: ' | tail -n 1)"
}
OK="pamtester: successfully authenticated"
AUTH_ERR="pamtester: Authentication failure"
UNAVAIL="pamtester: Authentication service cannot retrieve authentication info"
SERVICE_ERR="pamtester: Error in service module"

# agent_holds KEY...: empties A's agent, then adds each KEY (and its -cert.pub) for 300 s.
agent_holds() {
  local k
  SSH_AUTH_SOCK="$SA" as_a ssh-add -D >/dev/null 2>&1
  for k in "$@"; do
    SSH_AUTH_SOCK="$SA" as_a ssh-add -t 300 "$k" >/dev/null 2>&1 ||
      { echo "ssh-add $k failed"; exit 1; }
  done
}

# newkey NAME: an ed25519 key for user A in keys-a/NAME.
newkey() { ssh-keygen -q -t ed25519 -N '' -C "$1" -f "keys-a/$1"; }
# own_keys: hands keys-a to user A (ssh-add refuses keys it cannot read).
own_keys() { chown -R "$UA:$GA" keys-a; }

t_log "CAs, keys and certificates"
install -d -m 0700 keys-a
echo '{"data_dir": "admin-data"}' >admin.json
"$ADMIN" -c admin.json init >admin-init.out 2>&1 || { cat admin-init.out; exit 1; }
CA1=admin-data/ca_key.pub
ssh-keygen -q -t ed25519 -N '' -C ca2 -f ca2
ssh-keygen -q -t ed25519 -N '' -C ca3-untrusted -f ca3
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa-ca -f ca-rsa
{
  echo "# trusted sshcert CAs"
  cat ca-rsa.pub
  cat "$CA1"
  echo
  cat ca2.pub
} >cas.pub
chmod 0644 cas.pub

admin_sign() { # KEY PRINCIPALS
  "$ADMIN" -c admin.json sign "keys-a/$1.pub" --principals "$2" --ttl 30m >"$1.sign.out" 2>&1 ||
    { cat "$1.sign.out"; exit 1; }
}
for k in ok_admin wrongp rev_admin admin_p ops_p ok_kg other expired future rev_kg forced \
  plain; do
  newkey "$k"
done
admin_sign ok_admin "$UA"
admin_sign wrongp "someone-else"
admin_sign rev_admin "$UA"
admin_sign admin_p "admin-$UA"
admin_sign ops_p "ops"
ssh-keygen -q -s ca2 -I "kg-$UA" -n "$UA" -z 77 -V -5m:+1h keys-a/ok_kg.pub
ssh-keygen -q -s ca3 -I untrusted -n "$UA" -z 78 -V -5m:+1h keys-a/other.pub
ssh-keygen -q -s ca2 -I expired -n "$UA" -z 79 -V 20200101:20200102 keys-a/expired.pub
ssh-keygen -q -s ca2 -I future -n "$UA" -z 80 -V +1h:+2h keys-a/future.pub
ssh-keygen -q -s ca2 -I revoked -n "$UA" -z 500 -V -5m:+1h keys-a/rev_kg.pub
ssh-keygen -q -s ca2 -I forced -n "$UA" -z 81 -V -5m:+1h -O force-command=/bin/true \
  keys-a/forced.pub
own_keys
OK_SERIAL=$(ssh-keygen -L -f keys-a/ok_admin-cert.pub | awk '$1 == "Serial:" {print $2}')
REV_SERIAL=$(ssh-keygen -L -f keys-a/rev_admin-cert.pub | awk '$1 == "Serial:" {print $2}')
OK_KEYID=$(ssh-keygen -L -f keys-a/ok_admin-cert.pub | sed -n 's/^ *Key ID: "\(.*\)"$/\1/p')

printf 'serial: 500\n' >krl-kg.spec
ssh-keygen -q -k -f krl-kg -s ca2.pub krl-kg.spec
"$ADMIN" -c admin.json cert revoke "$REV_SERIAL" >/dev/null 2>&1
"$ADMIN" -c admin.json krl -o krl-admin >/dev/null 2>&1 || { echo "sshcert-admin krl failed"; exit 1; }
chmod 0644 krl-kg krl-admin
: >krl-empty
head -c 200 /dev/urandom >krl-corrupt
t_rc "oracle: ssh-keygen sees serial 500 revoked" 1 ssh-keygen -Q -f krl-kg keys-a/rev_kg-cert.pub
t_rc "oracle: ssh-keygen sees the admin-revoked serial revoked" 1 \
  ssh-keygen -Q -f krl-admin keys-a/rev_admin-cert.pub
t_rc "oracle: ssh-keygen sees the good admin certificate not revoked" 0 \
  ssh-keygen -Q -f krl-admin keys-a/ok_admin-cert.pub
install -m 0644 cas.pub krl-kg krl-admin krl-empty krl-corrupt ca3.pub "$POL/"

start_agent "$UA" "$GA" "$T_DIR/agent-a"
SA="$T_DIR/agent-a/agent.sock"
BASE="ca_keys=$POL/cas.pub"

t_log "success"
svc "$BASE debug"
agent_holds keys-a/ok_admin
pam "sshcert-admin certificate in the user's own agent" 0 "$OK" "$SA" "$UA"
t_match "debug: accepted with serial and key id" \
  "^pam_sshcert: accepted user $UA: certificate serial $OK_SERIAL key id \"$OK_KEYID\" principal $UA CA SHA256:" \
  "$T_ERR"
t_nomatch "no key material in the output" "$(awk '{print $2}' keys-a/ok_admin.pub | cut -c 1-40)" \
  "$T_ERR"
t_nomatch "no certificate blob in the output" \
  "$(awk '{print $2}' keys-a/ok_admin-cert.pub | cut -c 30-70)" "$T_ERR"
t_rc "the agent socket path from the PAM environment (pamtester -E)" 0 env -u SSH_AUTH_SOCK \
  pamtester -I "ruser=$UA" -E "SSH_AUTH_SOCK=$SA" "$SVC" "$UA" authenticate
t_rc "authenticate then setcred" 0 env SSH_AUTH_SOCK="$SA" pamtester -I "ruser=$UA" "$SVC" "$UA" \
  authenticate setcred
t_rc "setcred alone does not succeed" 1 env SSH_AUTH_SOCK="$SA" pamtester -I "ruser=$UA" "$SVC" \
  "$UA" setcred

agent_holds keys-a/ok_kg
pam "ssh-keygen -s certificate" 0 "$OK" "$SA" "$UA"
t_match "debug: serial 77 and key id" "accepted user $UA: certificate serial 77 key id \"kg-$UA\"" \
  "$T_ERR"

agent_holds keys-a/plain keys-a/expired keys-a/ok_kg
pam "a plain key and an expired certificate before the good one" 0 "$OK" "$SA" "$UA"
t_match "debug: the expired one is reported" "certificate serial 79 .*expired at 2020-01-02" "$T_ERR"

t_log "refusals"
agent_holds
t_rc "the agent is empty (ssh-add -l exits 1)" 1 env SSH_AUTH_SOCK="$SA" \
  setpriv --reuid="$UA" --regid="$GA" --init-groups ssh-add -l
pam "empty agent" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "refused user $UA: the agent holds no identities" "$T_ERR"

agent_holds keys-a/plain
pam "a plain key, no certificate" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "no ssh-ed25519 certificate" "$T_ERR"

agent_holds keys-a/wrongp
pam "wrong principal" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "no principal matches \(certificate has someone-else; allowed: $UA\)" \
  "$T_ERR"

agent_holds keys-a/other
pam "another CA" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "signed by CA SHA256:[^ ]+, which is not in ca_keys" "$T_ERR"

agent_holds keys-a/expired
pam "expired certificate" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "expired at 2020-01-02 00:00:00 UTC" "$T_ERR"

agent_holds keys-a/future
pam "certificate not yet valid" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "not valid before" "$T_ERR"

agent_holds keys-a/forced
pam "certificate with force-command" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "critical option force-command" "$T_ERR"

pam "the user has no agent (SSH_AUTH_SOCK unset)" 1 "$UNAVAIL" - "$UA"
t_match "debug: reason" "SSH_AUTH_SOCK is not set" "$T_ERR"
pam "SSH_AUTH_SOCK names nothing" 1 "$UNAVAIL" "$T_DIR/agent-a/nothing.sock" "$UA"
pam "SSH_AUTH_SOCK relative" 1 "$UNAVAIL" "agent-a/agent.sock" "$UA"
pam "unknown user" 1 "pamtester: User not known to the underlying authentication module" \
  "$SA" "nosuchuser$$"

t_log "revocation"
agent_holds keys-a/rev_kg
svc "$BASE revoked_keys=$POL/krl-kg debug"
pam "revoked in a KRL from ssh-keygen -k" 1 "$AUTH_ERR" "$SA" "$UA"
t_match "debug: reason" "certificate serial 500 .*revoked by revoked_keys" "$T_ERR"
svc "$BASE revoked_keys=$POL/krl-empty debug"
pam "the same certificate with a 0-byte KRL" 0 "$OK" "$SA" "$UA"
agent_holds keys-a/rev_admin
svc "$BASE revoked_keys=$POL/krl-admin debug"
pam "revoked in the KRL from sshcert-admin krl" 1 "$AUTH_ERR" "$SA" "$UA"
agent_holds keys-a/ok_admin
pam "a certificate the KRL does not list" 0 "$OK" "$SA" "$UA"
svc "$BASE revoked_keys=$POL/missing.krl debug"
pam "missing KRL file" 1 "$UNAVAIL" "$SA" "$UA"
t_match "debug: reason" "cannot open revoked_keys $POL/missing.krl" "$T_ERR"
svc "$BASE revoked_keys=$POL/krl-corrupt debug"
pam "corrupt KRL file" 1 "$UNAVAIL" "$SA" "$UA"
t_match "debug: reason" "is not a usable KRL" "$T_ERR"

t_log "configuration"
svc "ca_keys=$POL/missing.pub debug"
pam "missing CA file" 1 "$UNAVAIL" "$SA" "$UA"
t_match "debug: reason" "cannot open ca_keys $POL/missing.pub" "$T_ERR"
install -m 0664 cas.pub "$POL/cas-gw.pub"
svc "ca_keys=$POL/cas-gw.pub debug"
pam "group-writable CA file" 1 "$UNAVAIL" "$SA" "$UA"
svc "ca_keys=$POL/ca3.pub debug"
pam "a CA file without the signing CA" 1 "$AUTH_ERR" "$SA" "$UA"
svc "$BASE alwaysok"
pam "unknown option" 1 "$SERVICE_ERR" "$SA" "$UA"
svc "debug"
pam "no ca_keys option" 1 "$SERVICE_ERR" "$SA" "$UA"
svc "ca_keys=cas.pub"
pam "relative ca_keys" 1 "$SERVICE_ERR" "$SA" "$UA"
svc "$BASE principals=%h"
pam "unknown % escape in principals" 1 "$SERVICE_ERR" "$SA" "$UA"

t_log "principals="
agent_holds keys-a/admin_p
svc "$BASE debug"
pam "admin-USER certificate under the default rule" 1 "$AUTH_ERR" "$SA" "$UA"
svc "$BASE principals=admin-%u debug"
pam "principals=admin-%u" 0 "$OK" "$SA" "$UA"
agent_holds keys-a/ok_admin
pam "principals=admin-%u refuses the plain USER certificate" 1 "$AUTH_ERR" "$SA" "$UA"
svc "$BASE principals=%u,admin-%u"
pam "principals=%u,admin-%u accepts USER" 0 "$OK" "$SA" "$UA"
install -d -m 0755 "$POL/principals"
printf '# who may sudo as %s\n\n  ops  \nadmins\n' "$UA" >"$POL/principals/$UA"
agent_holds keys-a/ops_p
svc "$BASE principals=file:$POL/principals/%u debug"
pam "principals file lists ops" 0 "$OK" "$SA" "$UA"
t_match "debug: matched principal" "principal ops CA" "$T_ERR"
agent_holds keys-a/ok_admin
pam "principals file does not list the user's name" 1 "$AUTH_ERR" "$SA" "$UA"
# '#' starts a comment anywhere on a line, as in sshd's AuthorizedPrincipalsFile.
agent_holds keys-a/ops_p
printf 'ops   # the ops team, may sudo\n' >"$POL/principals/$UA"
pam "a comment after the name: the name counts" 0 "$OK" "$SA" "$UA"
t_match "debug: matched principal ops" "principal ops CA" "$T_ERR"
printf 'ops#team\n' >"$POL/principals/$UA"
pam "a name cut at its '#', as sshd cuts it" 0 "$OK" "$SA" "$UA"
printf 'nobody # ops\n' >"$POL/principals/$UA"
pam "a name in the comment does not count" 1 "$AUTH_ERR" "$SA" "$UA"
rm "$POL/principals/$UA"
agent_holds keys-a/ops_p
pam "missing principals file" 1 "$UNAVAIL" "$SA" "$UA"

t_log "folders on a policy file's path (sshd's StrictModes)"
# refused_by DESC REASON: the module's last refusal line (debug, on stderr) is exactly
# "pam_sshcert: refused user A: REASON".
refused_by() {
  t_eq "$1" "pam_sshcert: refused user $UA: $2" \
    "$(printf '%s\n' "$T_ERR" | grep '^pam_sshcert: refused user ' | tail -n 1)"
}
W="is writable by group or others"
PF="principals file"
BG="$POL/by-group"
ST="$POL/sticky"
# Root's list that names ops, in a safe folder: what A would like to have read as theirs.
install -d -m 0755 "$POL/lists"
printf 'ops\n' >"$POL/lists/ops-team"
chmod 0644 "$POL/lists/ops-team"
printf 'ops\n' >"$POL/principals/$UA"
chmod 0644 "$POL/principals/$UA"
agent_holds keys-a/ops_p
svc "$BASE principals=file:$POL/principals/%u debug"
pam "a safe path: accepted" 0 "$OK" "$SA" "$UA"
ln -s "$POL/principals" "$POL/principals-link"
svc "$BASE principals=file:$POL/principals-link/%u debug"
pam "a link among safe folders: accepted" 0 "$OK" "$SA" "$UA"
# A folder that A's group may write, holding a file that root wrote: refused all the same.
install -d -m 0775 -g "$GA" "$BG"
install -m 0644 "$POL/principals/$UA" "$BG/$UA"
svc "$BASE principals=file:$BG/%u debug"
pam "principals file in a group-writable folder" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: the refusal names the folder" "$PF $BG/$UA: directory $BG $W (mode 0775)"
# What A can do there: put a link to any root-owned file or folder in a safe place.
rm "$BG/$UA"
as_a ln -s "$POL/lists/ops-team" "$BG/$UA"
pam "a link A put in the writable folder, to root's file" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: the link's folder is named" "$PF $BG/$UA: directory $BG $W (mode 0775)"
as_a ln -s "$POL/lists" "$BG/lists"
svc "$BASE principals=file:$BG/lists/ops-team debug"
pam "a link A put in the writable folder, to root's folder" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: the folder that holds the link is named" \
  "$PF $BG/lists/ops-team: directory $BG $W (mode 0775)"
# Root's link in a safe folder that leads through the writable one.
ln -s "$BG" "$POL/via"
svc "$BASE principals=file:$POL/via/%u debug"
pam "a link in a safe folder that leads through the writable one" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: the folder the link leads through is named" \
  "$PF $POL/via/$UA: directory $BG $W (mode 0775)"
# World-writable with the sticky bit, like /tmp: sshd makes no exception, nor do we.
install -d -m 1777 "$ST"
install -m 0644 "$POL/principals/$UA" "$ST/$UA"
svc "$BASE principals=file:$ST/%u debug"
pam "principals file in a sticky world-writable folder" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: mode 1777 named" "$PF $ST/$UA: directory $ST $W (mode 1777)"
# A folder of A's own (0755): A could swap the file in it.
install -d -m 0755 -o "$UA" -g "$GA" "$POL/a-owned"
install -m 0644 "$POL/principals/$UA" "$POL/a-owned/$UA"
svc "$BASE principals=file:$POL/a-owned/%u debug"
pam "principals file in a folder A owns" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: the owner named" \
  "$PF $POL/a-owned/$UA: directory $POL/a-owned is owned by uid $(id -u "$UA"), not by root"
# ca_keys and revoked_keys follow the same rule; so the old home of these files, /tmp, fails.
install -m 0644 cas.pub "$BG/cas.pub"
svc "ca_keys=$BG/cas.pub debug"
pam "ca_keys in the group-writable folder" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: ca_keys" "ca_keys $BG/cas.pub: directory $BG $W (mode 0775)"
if [ "$(dirname "$T_DIR")" = /tmp ]; then
  svc "ca_keys=$T_DIR/cas.pub debug"
  pam "ca_keys under /tmp" 1 "$UNAVAIL" "$SA" "$UA"
  refused_by "debug: /tmp named" "ca_keys $T_DIR/cas.pub: directory /tmp $W (mode 1777)"
fi
install -m 0644 krl-empty "$ST/krl"
svc "$BASE revoked_keys=$ST/krl debug"
pam "revoked_keys in the sticky folder" 1 "$UNAVAIL" "$SA" "$UA"
refused_by "debug: revoked_keys" "revoked_keys $ST/krl: directory $ST $W (mode 1777)"

t_log "another user's agent"
# B runs an agent holding a valid certificate for A's name.
install -d -m 0700 keys-b
cp keys-a/ok_admin keys-a/ok_admin.pub keys-a/ok_admin-cert.pub keys-b/
chown -R "$UB:$GB" keys-b
start_agent "$UB" "$GB" "$T_DIR/agent-b"
SB="$T_DIR/agent-b/agent.sock"
SSH_AUTH_SOCK="$SB" as_b ssh-add -t 300 keys-b/ok_admin >/dev/null 2>&1 || { echo "ssh-add for B failed"; exit 1; }
svc "$BASE debug"
pam "B's agent socket (in B's 0700 folder) for A" 1 "$UNAVAIL" "$SB" "$UA"
t_match "debug: reason" "cannot connect to the agent at $SB: Permission denied" "$T_ERR"
chmod 0711 "$T_DIR/agent-b"
as_b chmod 0666 "$SB"
pam "B's agent socket opened to everyone, for A" 1 "$AUTH_ERR" "$SB" "$UA"
t_match "debug: reason" "belongs to uid $(id -u "$UB"), not to $UA" "$T_ERR"
chown "$UA" "$SB"
chmod 0600 "$SB"
pam "B's agent behind a socket file chowned to A" 1 "$AUTH_ERR" "$SB" "$UA"
t_match "debug: reason" "runs as uid $(id -u "$UB"), not as $UA" "$T_ERR"
agent_holds keys-a/ok_admin
pam "the same certificate from A's own agent" 0 "$OK" "$SA" "$UA"

t_log "who asks: PAM_RUSER for a root application, the real uid otherwise"
# A's own agent with a good certificate for A: only the requester changes below.
svc "$BASE debug"
agent_holds keys-a/ok_admin
REFUSED_BY="is not the user being authenticated, $UA \\(uid $(id -u "$UA")\\)"
pam "PAM_RUSER is A, for A" 0 "$OK" "$SA" "$UA" "$UA"
t_match "debug: accepted" "^pam_sshcert: accepted user $UA: certificate serial $OK_SERIAL " "$T_ERR"
pam "PAM_RUSER is B, for A (B points at A's agent)" 1 "$AUTH_ERR" "$SA" "$UA" "$UB"
t_match "debug: the refusal names the requester" \
  "^pam_sshcert: refused user $UA: the requesting user $UB \\(uid $(id -u "$UB"), PAM_RUSER\\) $REFUSED_BY\$" \
  "$T_ERR"
t_nomatch "debug: refused before the files and the agent" \
  "CA key\\(s\\)|holds [0-9]+ identities|accepted|certificate serial" "$T_ERR"
pam "no PAM_RUSER from root, for A" 1 "$AUTH_ERR" "$SA" "$UA" -
t_match "debug: the requester is root" \
  "^pam_sshcert: refused user $UA: the requesting user root \\(real uid 0, no PAM_RUSER\\) $REFUSED_BY\$" \
  "$T_ERR"
pam "PAM_RUSER is root, for A" 1 "$AUTH_ERR" "$SA" "$UA" root
t_match "debug: root by PAM_RUSER" "the requesting user root \\(uid 0, PAM_RUSER\\) $REFUSED_BY" \
  "$T_ERR"
pam "PAM_RUSER is an unknown name, for A" 1 "$AUTH_ERR" "$SA" "$UA" "nosuchuser$$"
t_match "debug: the unknown requester" \
  "^pam_sshcert: refused user $UA: the requesting user PAM_RUSER=\"nosuchuser$$\" is not a known user\$" \
  "$T_ERR"
pam "PAM_RUSER is A again (nothing sticks)" 0 "$OK" "$SA" "$UA" "$UA"
# pamtester run as A itself (real uid A, like a setuid sudo's caller): the module needs no
# privileges then (it opens A's own socket as A, and the config files are world-readable).
if as_a test -r "$MOD" && as_a test -r "$POL/cas.pub"; then
  pam "pamtester run as A, no PAM_RUSER, for A" 0 "$OK" "$SA" "$UA" - "$UA"
  t_match "debug: accepted as A" "^pam_sshcert: accepted user $UA: " "$T_ERR"
  pam "pamtester run as A, PAM_RUSER B is ignored, for A" 0 "$OK" "$SA" "$UA" "$UB" "$UA"
  pam "pamtester run as B, for A with A's agent" 1 "$AUTH_ERR" "$SA" "$UA" - "$UB"
  t_match "debug: the real uid is the requester" \
    "^pam_sshcert: refused user $UA: the requesting user \\(real uid $(id -u "$UB")\\) $REFUSED_BY\$" \
    "$T_ERR"
  pam "pamtester run as B, PAM_RUSER A does not help" 1 "$AUTH_ERR" "$SA" "$UA" "$UA" "$UB"
  t_match "debug: PAM_RUSER ignored" "the requesting user \\(real uid $(id -u "$UB")\\) $REFUSED_BY" \
    "$T_ERR"
else
  echo "# skipped pamtester run as $UA: $MOD or $POL/cas.pub is not readable by $UA"
fi

t_log "a sudo-like stack: sufficient, then pam_deny"
pam_stack "auth sufficient $MOD $BASE" "auth requisite pam_deny.so"
pam "sufficient with a good certificate" 0 "$OK" "$SA" "$UA"
pam "sufficient, another requester: falls through to pam_deny" 1 "$AUTH_ERR" "$SA" "$UA" "$UB"
agent_holds
pam "sufficient with an empty agent falls through to pam_deny" 1 "$AUTH_ERR" "$SA" "$UA"

t_done
