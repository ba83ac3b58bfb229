#!/bin/bash
# Oracle test for lib/cert.c against OpenSSH's ssh-keygen:
#  - certificates signed by sshcert are read by `ssh-keygen -L` (which also checks the CA
#    signature) and show exactly the fields we set;
#  - certificates made by `ssh-keygen -s` are parsed and verified by sshcert with the same
#    fields; a bit flip in one makes our verify fail.
. "${SSHCERT_SRC_DIR:-$(dirname "$0")/../..}/tests/lib.sh"
cd "$T_DIR" || exit 1

# ssh-keygen -L prints times in local time; use a zone with a non-whole-hour offset so a
# UTC/local mix-up shows. Expected strings come from date(1) in the same zone.
export TZ=Asia/Kolkata
ltime() { date -d "@$1" +%Y-%m-%dT%H:%M:%S; }
fp() { ssh-keygen -l -f "$1" | awk '{print $2}'; }
# Flips one bit of byte $2 in the base64 blob of a one-line key/cert file $1 (to stdout).
flip() {
  perl -MMIME::Base64 -ane '$b = decode_base64($F[1]);
    substr($b, '"$2"', 1) = chr(ord(substr($b, '"$2"', 1)) ^ 1);
    print "$F[0] ", encode_base64($b, ""), (defined $F[2] ? " $F[2]" : ""), "\n"' "$1"
}

ssh-keygen -q -t ed25519 -N '' -C 'ca@oracle' -f ca
ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f user
CA_FP=$(fp ca.pub)
USER_FP=$(fp user.pub)

# ---- 1. our certificate, read by ssh-keygen -L ----
AFTER=1700000000
BEFORE=1800000000
t_rc "sign with an ssh-keygen CA key" 0 "$TT" cert sign ca user.pub 4242 'alice "key" id' \
  alice,bob,root $AFTER $BEFORE -O 'force-command=/bin/echo hi there' \
  -O source-address=127.0.0.1/32,10.0.0.0/8 -E permit-pty -E permit-X11-forwarding \
  -E permit-agent-forwarding
printf '%s\n' "$T_OUT" >ours-cert.pub
t_match "our line keeps the key's comment" '^ssh-ed25519-cert-v01@openssh.com [A-Za-z0-9+/=]+ alice@laptop$' "$T_OUT"
t_rc "ssh-keygen -L accepts our certificate" 0 ssh-keygen -L -f ours-cert.pub
expected=$(cat <<EOF
ours-cert.pub:
        Type: ssh-ed25519-cert-v01@openssh.com user certificate
        Public key: ED25519-CERT $USER_FP
        Signing CA: ED25519 $CA_FP (using ssh-ed25519)
        Key ID: "alice "key" id"
        Serial: 4242
        Valid: from $(ltime $AFTER) to $(ltime $BEFORE)
        Principals: 
                alice
                bob
                root
        Critical Options: 
                force-command /bin/echo hi there
                source-address 127.0.0.1/32,10.0.0.0/8
        Extensions: 
                permit-X11-forwarding
                permit-agent-forwarding
                permit-pty
EOF
)
t_eq "ssh-keygen -L shows exactly our fields" "$expected" "$T_OUT"
if [ -e /usr/share/zoneinfo/Asia/Kolkata ]; then
  t_match "valid-from is local time (+05:30)" 'Valid: from 2023-11-15T03:43:20 to 2027-01-15T13:30:00' "$T_OUT"
fi

# Same certificate, read in UTC: the strings move with the zone, the instants do not.
t_rc "ssh-keygen -L in UTC" 0 env TZ=UTC ssh-keygen -L -f ours-cert.pub
t_match "valid in UTC" 'Valid: from 2023-11-14T22:13:20 to 2027-01-15T08:00:00$' "$T_OUT"

# No options, no extensions, "forever" validity, a host certificate's absence of those.
t_rc "sign a minimal certificate" 0 "$TT" cert sign ca user.pub 1 minimal alice 0 18446744073709551615
printf '%s\n' "$T_OUT" >min-cert.pub
t_rc "ssh-keygen -L accepts the minimal certificate" 0 ssh-keygen -L -f min-cert.pub
t_match "forever" '^        Valid: forever$' "$T_OUT"
t_match "no critical options" '^        Critical Options: \(none\)$' "$T_OUT"
t_match "no extensions" '^        Extensions: \(none\)$' "$T_OUT"
t_rc "sign with validity from the epoch" 0 "$TT" cert sign ca user.pub 2 x alice 0 $BEFORE
printf '%s\n' "$T_OUT" >before-cert.pub
t_rc "ssh-keygen -L (before ...)" 0 ssh-keygen -L -f before-cert.pub
t_match "valid before only" "^        Valid: before $(ltime $BEFORE)\$" "$T_OUT"

# Serial at its maximum.
t_rc "sign serial 2^64-1" 0 "$TT" cert sign ca user.pub 18446744073709551615 big alice $AFTER $BEFORE
printf '%s\n' "$T_OUT" >serial-cert.pub
t_rc "ssh-keygen -L (serial 2^64-1)" 0 ssh-keygen -L -f serial-cert.pub
t_match "serial 2^64-1" '^        Serial: 18446744073709551615$' "$T_OUT"

# 256 principals, the cap both sides share.
names=$(seq -f 'user%03g' 1 256 | paste -sd,)
t_rc "sign 256 principals" 0 "$TT" cert sign ca user.pub 3 many "$names" $AFTER $BEFORE
printf '%s\n' "$T_OUT" >many-cert.pub
t_rc "ssh-keygen -L (256 principals)" 0 ssh-keygen -L -f many-cert.pub
t_eq "all 256 principals shown, in order" "$(seq -f '                user%03g' 1 256)" \
  "$(printf '%s\n' "$T_OUT" | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d')"
t_rc "257 principals are refused" 1 "$TT" cert sign ca user.pub 3 many "$names,user257" $AFTER $BEFORE
t_match "257: size limit" 'principal: size or count limit exceeded \(-7\)' "$T_ERR"

# A CA key made by sshcert itself.
t_rc "generate a CA key with sshcert" 0 "$TT" key gen ourca 'our ca'
"$TT" key pub ourca >ourca.pub
t_rc "sign with our CA key" 0 "$TT" cert sign ourca user.pub 5 ours alice $AFTER $BEFORE -E permit-pty
printf '%s\n' "$T_OUT" >ourca-cert.pub
t_rc "ssh-keygen -L accepts it" 0 ssh-keygen -L -f ourca-cert.pub
t_eq "signed by our CA" "        Signing CA: ED25519 $(fp ourca.pub) (using ssh-ed25519)" \
  "$(printf '%s\n' "$T_OUT" | grep 'Signing CA:')"

# A bit flip in our certificate's signed part: ssh-keygen refuses it too.
flip ours-cert.pub 45 >ours-flipped-cert.pub
t_rc "ssh-keygen -L refuses our flipped certificate" 1 ssh-keygen -L -f ours-flipped-cert.pub
t_match "ssh-keygen: incorrect signature" 'invalid key: incorrect signature' "$T_ERR"
t_rc "our verify refuses it" 1 "$TT" cert show ours-flipped-cert.pub
t_match "signature failure" '^signature: signature verification failed$' "$T_OUT"

# ---- 2. ssh-keygen's certificates, read by sshcert ----
# -V takes local time; date(1) converts the same strings in the same zone.
ssh-keygen -q -s ca -I 'keygen id' -n alice,bob,carol -z 777 -V 20240102030405:20301231235959 \
  -O force-command=/usr/bin/id -O source-address=192.168.0.0/16,::1 user.pub
K_AFTER=$(date -d '2024-01-02 03:04:05' +%s)
K_BEFORE=$(date -d '2030-12-31 23:59:59' +%s)
t_rc "we parse and verify ssh-keygen's certificate" 0 "$TT" cert show user-cert.pub
expected=$(cat <<EOF
serial: 777
type: 1
key_id: keygen id
principal: alice
principal: bob
principal: carol
valid_after: $K_AFTER
valid_before: $K_BEFORE
option: force-command=/usr/bin/id
option: source-address=192.168.0.0/16,::1
extension: permit-X11-forwarding
extension: permit-agent-forwarding
extension: permit-port-forwarding
extension: permit-pty
extension: permit-user-rc
key_fp: $USER_FP
ca_fp: $CA_FP
signature: ok
EOF
)
t_eq "every field as ssh-keygen set it" "$expected" "$T_OUT"
t_rc "valid at valid_after" 0 "$TT" cert check user-cert.pub "$K_AFTER"
t_eq "time ok" "time: ok" "$T_OUT"
t_rc "not yet valid one second before" 1 "$TT" cert check user-cert.pub $((K_AFTER - 1))
t_eq "time not yet" "time: certificate not yet valid" "$T_OUT"
t_rc "valid one second before valid_before" 0 "$TT" cert check user-cert.pub $((K_BEFORE - 1))
t_rc "expired at valid_before" 1 "$TT" cert check user-cert.pub "$K_BEFORE"
t_eq "time expired" "time: certificate expired" "$T_OUT"

# A bit flip in ssh-keygen's certificate (inside the nonce): ssh-keygen and we both refuse.
flip user-cert.pub 45 >flipped-cert.pub
t_rc "ssh-keygen refuses the flipped certificate" 1 ssh-keygen -L -f flipped-cert.pub
t_match "ssh-keygen: incorrect signature (its own cert)" 'invalid key: incorrect signature' "$T_ERR"
t_rc "our verify refuses the flipped certificate" 1 "$TT" cert show flipped-cert.pub
t_match "flipped: signature" '^signature: signature verification failed$' "$T_OUT"
t_match "flipped: fields still parse" '^key_id: keygen id$' "$T_OUT"
# ...and in the validity (signed, structurally harmless).
flip user-cert.pub 150 >flipped2-cert.pub
t_rc "our verify refuses a flip in the body" 1 "$TT" cert show flipped2-cert.pub
t_match "flipped body: signature" '^signature: signature verification failed$' "$T_OUT"

# -O clear, a flag critical option, "forever", the default serial 0, a host certificate.
ssh-keygen -q -s ca -I 'clear' -n alice -O clear -O permit-pty -O verify-required \
  -V always:forever user.pub
t_rc "parse -O clear certificate" 0 "$TT" cert show user-cert.pub
expected=$(cat <<EOF
serial: 0
type: 1
key_id: clear
principal: alice
valid_after: 0
valid_before: 18446744073709551615
option: verify-required
extension: permit-pty
key_fp: $USER_FP
ca_fp: $CA_FP
signature: ok
EOF
)
t_eq "-O clear fields" "$expected" "$T_OUT"

ssh-keygen -q -s ca -h -I 'host.example' -n host.example,10.0.0.1 -z 9 user.pub
t_rc "parse a host certificate" 0 "$TT" cert show user-cert.pub
t_match "host type" '^type: 2$' "$T_OUT"
t_match "host principal" '^principal: host.example$' "$T_OUT"
t_match "host: signature ok" '^signature: ok$' "$T_OUT"
t_nomatch "host: no extensions listed" '^extension:' "$T_OUT"

# A certificate signed by ssh-keygen with a CA key that sshcert generated.
ssh-keygen -q -s ourca -I 'by our key' -n alice -z 10 user.pub
t_rc "ssh-keygen signs with our CA key; we verify" 0 "$TT" cert show user-cert.pub
t_eq "ca is ours" "ca_fp: $(fp ourca.pub)" "$(printf '%s\n' "$T_OUT" | grep '^ca_fp:')"

# Non-ed25519 CA: ssh-keygen can make one; we refuse it by type.
ssh-keygen -q -t ecdsa -N '' -f ecca
ssh-keygen -q -s ecca -I 'ecdsa ca' -n alice user.pub
t_rc "ecdsa-signed certificate refused" 1 "$TT" cert show user-cert.pub
t_match "ecdsa CA: key type" 'parse: unsupported key type \(only ssh-ed25519\) \(-8\)' "$T_ERR"

t_done
