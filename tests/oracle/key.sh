#!/bin/bash
# Oracle test for lib/key.c against OpenSSH's ssh-keygen: fingerprints agree with
# `ssh-keygen -l`, keys we write are read by `ssh-keygen -y`, keys ssh-keygen writes load.
. "${SSHCERT_SRC_DIR:-$(dirname "$0")/../..}/tests/lib.sh"
cd "$T_DIR" || exit 1

# ---- fingerprints of ssh-keygen keys ----
for i in 1 2 3 4 5; do
  ssh-keygen -q -t ed25519 -N '' -C "user$i@host $i" -f "k$i"
  want=$(ssh-keygen -l -f "k$i.pub" | awk '{print $2}')
  t_rc "fingerprint k$i" 0 "$TT" key fp "k$i.pub"
  t_eq "fingerprint k$i equals ssh-keygen -l" "$want user$i@host $i" "$T_OUT"
  # The same key from its private file, as ssh-keygen -l computes it there.
  t_eq "ssh-keygen -l on the private file agrees" "$want" "$(ssh-keygen -l -f "k$i" | awk '{print $2}')"
done

# ---- ssh-keygen's private keys load ----
t_rc "load an ssh-keygen private key" 0 "$TT" key pub k1
t_eq "its public line is ssh-keygen's .pub" "$(cat k1.pub)" "$T_OUT"
ssh-keygen -q -t ed25519 -N '' -C '' -f nocomment
t_rc "load a key without comment" 0 "$TT" key pub nocomment
# ssh-keygen writes "TYPE BASE64 " with a trailing blank when the comment is empty; we don't.
t_eq "no comment" "$(sed 's/ $//' nocomment.pub)" "$T_OUT"

# ---- keys we write, read by ssh-keygen ----
t_rc "generate a key" 0 "$TT" key gen ours 'made by sshcert'
t_eq "mode 0600" "600" "$(stat -c %a ours)"
"$TT" key pub ours >ours.pub
t_rc "ssh-keygen -y reads our key" 0 ssh-keygen -y -f ours
t_eq "ssh-keygen -y gives our public key" "$(cat ours.pub)" "$T_OUT"
t_match "with our comment" ' made by sshcert$' "$T_OUT"
t_rc "our fingerprint" 0 "$TT" key fp ours.pub
t_eq "ssh-keygen -l agrees on our key" \
  "$(ssh-keygen -l -f ours | awk '{print $2}') made by sshcert" "$T_OUT"
# ssh-keygen can rewrite our file (new comment), and we read its version back.
t_rc "ssh-keygen -c rewrites our key" 0 ssh-keygen -q -c -C 'renamed' -f ours
t_rc "we load ssh-keygen's rewrite" 0 "$TT" key pub ours
t_eq "same key, new comment" "$(cut -d' ' -f1,2 ours.pub) renamed" "$T_OUT"

# Load + save of an ssh-keygen key: ssh-keygen reads the result, same key and comment.
t_rc "round trip an ssh-keygen key" 0 "$TT" key roundtrip k2 k2.ours
t_rc "ssh-keygen -y reads the rewritten key" 0 ssh-keygen -y -f k2.ours
t_eq "rewritten key is the same" "$(cat k2.pub)" "$T_OUT"
t_eq "same file size as ssh-keygen writes" "$(stat -c %s k2)" "$(stat -c %s k2.ours)"

# ---- what we refuse, with the exact reason ----
ssh-keygen -q -t ed25519 -N 'pass' -f enc
t_rc "encrypted key refused" 1 "$TT" key pub enc
t_match "encrypted: exact error" 'load: encrypted keys are not supported yet \(-10\)' "$T_ERR"
ssh-keygen -q -t rsa -b 2048 -N '' -f rsa
t_rc "rsa private key refused" 1 "$TT" key pub rsa
t_match "rsa: key type" 'load: unsupported key type \(only ssh-ed25519\) \(-8\)' "$T_ERR"
t_rc "rsa public key refused" 1 "$TT" key fp rsa.pub
t_match "rsa pub: key type" 'parse: unsupported key type \(only ssh-ed25519\) \(-8\)' "$T_ERR"
ssh-keygen -q -t ecdsa -N '' -f ecdsa
t_rc "ecdsa public key refused" 1 "$TT" key fp ecdsa.pub
t_match "ecdsa pub: key type" '\(-8\)$' "$T_ERR"
# A key in the old PEM format is not openssh-key-v1.
ssh-keygen -q -t ecdsa -N '' -m PEM -f pem
t_rc "PEM key refused" 1 "$TT" key pub pem
t_match "PEM: format" 'load: invalid format \(-4\)' "$T_ERR"
t_rc "missing file" 1 "$TT" key pub does-not-exist
t_match "missing: not found" 'load: not found \(-16\)' "$T_ERR"

# A single flipped character in the base64 of ssh-keygen's key breaks it for both tools.
sed '3s/^\(.....\)./\1A/' k3 >k3.bad
if cmp -s k3 k3.bad; then sed '3s/^\(.....\)./\1B/' k3 >k3.bad; fi
chmod 600 k3.bad
t_rc "we refuse a corrupted key" 1 "$TT" key pub k3.bad
t_rc "ssh-keygen refuses it too" 255 ssh-keygen -y -f k3.bad

t_done
