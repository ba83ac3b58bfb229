#!/bin/bash
# Our ssh-agent client (lib/agent.c through sshcert-testtool) against a real ssh-agent, with
# ssh-add and ssh-keygen as the oracle: add, list, sign, remove, lifetime, refusals, and
# identities that ssh-add put there.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

SOCK="$T_DIR/agent.sock"
export SSH_AUTH_SOCK="$SOCK"
cd "$T_DIR" || exit 1

ssh-agent -D -a "$SOCK" >"$T_DIR/agent.log" 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 1 100); do
  [ -S "$SOCK" ] && break
  sleep 0.05
done
[ -S "$SOCK" ] || { echo "ssh-agent did not start:"; cat "$T_DIR/agent.log"; exit 1; }

ms_now() { echo $(($(date +%s%N) / 1000000)); }

ssh-keygen -q -t ed25519 -N '' -C ca -f ca
ssh-keygen -q -t ed25519 -N '' -C user -f k
ssh-keygen -q -s ca -I alice-id -n alice -z 42 -V -5m:+1h k.pub
fp=$(ssh-keygen -l -f k.pub | awk '{print $2}')

t_log "add, then ssh-add sees the certificate"
t_rc "our add" 0 "$TT" agent add "$SOCK" k k-cert.pub 0 "alice cert"
t_rc "ssh-add -l after our add" 0 ssh-add -l
t_eq "ssh-add -l shows the identity as ED25519-CERT" "256 $fp alice cert (ED25519-CERT)" "$T_OUT"

t_log "our list"
t_rc "our list" 0 "$TT" agent list "$SOCK"
t_eq "our list shows type, comment and serial" \
  "ssh-ed25519-cert-v01@openssh.com alice cert serial=42" "$T_OUT"
t_rc "our list through SSH_AUTH_SOCK" 0 "$TT" agent list -
t_eq "same identity through SSH_AUTH_SOCK" \
  "ssh-ed25519-cert-v01@openssh.com alice cert serial=42" "$T_OUT"

t_log "our sign"
t_rc "sign with the certificate identity" 0 "$TT" agent sign "$SOCK" k-cert.pub
t_eq "signature verifies with the certificate's key" "signature ok" "$T_OUT"
t_rc "sign with the plain key, which was not added" 1 "$TT" agent sign "$SOCK" k.pub
t_match "agent refuses the plain key (SSHCERT_ERR_AGENT)" '\(-14\)$' "$T_ERR"

t_log "ssh-add -L"
t_rc "ssh-add -L" 0 ssh-add -L
printf '%s\n' "$T_OUT" >from-agent-cert.pub
t_eq "ssh-add -L gives back the blob we added, byte for byte" \
  "$(awk '{print $1, $2}' k-cert.pub)" "$(awk '{print $1, $2}' from-agent-cert.pub)"
t_rc "our parser reads the ssh-add -L line" 0 "$TT" cert show from-agent-cert.pub
t_match "serial from ssh-add -L" '^serial: 42$' "$T_OUT"
t_match "key id from ssh-add -L" '^key_id: alice-id$' "$T_OUT"
t_match "CA signature of the listed cert" '^signature: ok$' "$T_OUT"
t_rc "ssh-keygen -L reads the ssh-add -L line" 0 ssh-keygen -L -f from-agent-cert.pub

t_log "our remove"
t_rc "our remove" 0 "$TT" agent remove "$SOCK" k-cert.pub
t_rc "ssh-add -l after remove exits 1" 1 ssh-add -l
t_eq "ssh-add -l after remove" "The agent has no identities." "$T_OUT"
t_rc "removing it again" 1 "$TT" agent remove "$SOCK" k-cert.pub
t_match "agent refuses to remove what it does not hold (SSHCERT_ERR_AGENT)" '\(-14\)$' "$T_ERR"
t_rc "our list of an empty agent" 0 "$TT" agent list "$SOCK"
t_eq "our list prints nothing" "" "$T_OUT"

t_log "lifetime constraint"
t0=$(ms_now)
t_rc "our add with a 2 s lifetime" 0 "$TT" agent add "$SOCK" k k-cert.pub 2 short
t_rc "present right after the add" 0 ssh-add -l
t_match "ssh-add -l lists the short-lived cert" 'short \(ED25519-CERT\)$' "$T_OUT"
gone_ms=""
for _ in $(seq 1 40); do
  if ! ssh-add -l >/dev/null 2>&1; then
    gone_ms=$(($(ms_now) - t0))
    break
  fi
  sleep 0.25
done
t_eq "identity removed by the agent within 10 s" yes "$([ -n "$gone_ms" ] && echo yes || echo no)"
t_log "gone after ${gone_ms:-?} ms"
# The agent keeps whole seconds on its monotonic clock: death comes 1-2 s after the add.
t_eq "identity not removed before ~1 s" yes "$([ "${gone_ms:-0}" -ge 900 ] && echo yes || echo no)"

t_log "key mismatch"
ssh-keygen -q -t ed25519 -N '' -C other -f k2
ssh-keygen -q -s ca -I bob-id -n bob -z 43 -V -5m:+1h k2.pub
t_rc "add k with k2's certificate" 1 "$TT" agent add "$SOCK" k k2-cert.pub 0 wrong
t_match "refused before sending (SSHCERT_ERR_KEY_MISMATCH)" '\(-20\)$' "$T_ERR"
t_rc "nothing was added" 1 ssh-add -l

t_log "corrupted certificate"
# Flip the last byte of the blob: the CA signature. The structure still parses.
b64=$(awk '{print $2}' k-cert.pub)
printf '%s' "$b64" | base64 -d >bad.blob
size=$(stat -c %s bad.blob)
last=$(od -An -tu1 -j $((size - 1)) -N1 bad.blob | tr -d ' ')
printf "\\$(printf '%03o' $((last ^ 1)))" |
  dd of=bad.blob bs=1 seek=$((size - 1)) conv=notrunc status=none
printf 'ssh-ed25519-cert-v01@openssh.com %s bad\n' "$(base64 -w0 bad.blob)" >bad-cert.pub
t_rc "our parser reads the corrupted cert" 1 "$TT" cert show bad-cert.pub
t_match "its CA signature fails" '^signature: signature verification failed$' "$T_OUT"
t_rc "add the corrupted cert" 1 "$TT" agent add "$SOCK" k bad-cert.pub 0 bad
t_match "the agent refuses it (SSHCERT_ERR_AGENT)" '\(-14\)$' "$T_ERR"
t_rc "nothing was added" 1 ssh-add -l

t_log "identities added by ssh-add"
ssh-keygen -q -t ed25519 -N '' -C carol -f k3
ssh-keygen -q -s ca -I carol-id -n carol -z 7 -V -5m:+1h k3.pub
t_rc "ssh-add k3 (key and certificate)" 0 ssh-add k3
t_rc "our list" 0 "$TT" agent list "$SOCK"
t_match "the plain key is listed" '^ssh-ed25519 carol$' "$T_OUT"
t_match "the certificate is listed" '^ssh-ed25519-cert-v01@openssh.com carol serial=7$' "$T_OUT"
t_eq "exactly two identities" 2 "$(printf '%s\n' "$T_OUT" | wc -l)"
t_rc "sign with ssh-add's plain key" 0 "$TT" agent sign "$SOCK" k3.pub
t_eq "its signature verifies" "signature ok" "$T_OUT"
t_rc "sign with ssh-add's certificate" 0 "$TT" agent sign "$SOCK" k3-cert.pub
t_eq "its signature verifies" "signature ok" "$T_OUT"
t_rc "our remove of ssh-add's certificate" 0 "$TT" agent remove "$SOCK" k3-cert.pub
t_rc "ssh-add -l" 0 ssh-add -l
t_match "only the plain key is left" '^256 SHA256:[^ ]+ carol \(ED25519\)$' "$T_OUT"
t_eq "one identity left" 1 "$(printf '%s\n' "$T_OUT" | wc -l)"

t_log "no agent"
t_rc "a socket path that does not exist" 1 "$TT" agent list "$T_DIR/missing.sock"
t_match "SSHCERT_ERR_AGENT_UNAVAILABLE" '\(-15\)$' "$T_ERR"
t_rc "SSH_AUTH_SOCK unset" 1 env -u SSH_AUTH_SOCK "$TT" agent list -
t_match "SSHCERT_ERR_AGENT_UNAVAILABLE" '\(-15\)$' "$T_ERR"

t_done
