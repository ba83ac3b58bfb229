#!/bin/bash
# Makes the seed corpora of fuzz_cert (raw certificate blobs), fuzz_pubkey_line (key and
# certificate lines) and fuzz_privkey (key files) with the real ssh-keygen. OpenSSH 9.2p1
# made the committed seeds. Run from anywhere:
#   tests/fuzz/corpus/make-key-seeds.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cert_out=$here/fuzz_cert
line_out=$here/fuzz_pubkey_line
priv_out=$here/fuzz_privkey
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$cert_out" "$line_out" "$priv_out"
mkdir -p "$cert_out" "$line_out" "$priv_out"
cd "$work"

kg() { ssh-keygen -q "$@"; }
kg -t ed25519 -N '' -C 'ca@seed' -f ca
kg -t ecdsa -N '' -C 'ecdsa-ca@seed' -f ecca
kg -t ed25519 -N '' -C 'user@seed' -f user
kg -t ed25519 -N '' -C '' -f nocomment
kg -t ed25519 -N '' -C "$(printf 'long comment %.0s' $(seq 60))" -f longcomment
kg -t ed25519 -N 'pass' -C 'encrypted@seed' -f enc
kg -t rsa -b 1024 -N '' -C 'rsa@seed' -f rsa
kg -t ecdsa -N '' -C 'ecdsa@seed' -f ecdsa
kg -t ecdsa -N '' -m PEM -f pem

# cert NAME KEY SIGNING-ARGS...: signs KEY.pub, keeps the line and the raw blob.
cert() {
  local name=$1 key=$2
  shift 2
  cp "$key.pub" "$name.pub"
  kg "$@" "$name.pub"
  cp "$name-cert.pub" "$line_out/$name.cert.line"
  awk '{print $2}' "$name-cert.pub" | base64 -d >"$cert_out/$name.cert"
}
cert default user -s ca -I 'default id' -n alice,bob -z 1 -V 20240101:20300101
cert options user -s ca -I 'options' -n alice -z 2 -V 20240101:20300101 \
  -O force-command=/usr/bin/id -O source-address=127.0.0.1/32,10.0.0.0/8,::1
cert clear user -s ca -I 'clear' -n alice -O clear -O permit-pty -O verify-required
cert forever user -s ca -I 'forever' -n alice -V always:forever -z 18446744073709551615
cert host user -s ca -h -I 'host.example' -n host.example,10.0.0.1 -z 3
cert many user -s ca -I 'many' -n "$(seq -f 'user%03g' 1 256 | paste -sd,)" -z 4
cert ecdsa-ca user -s ecca -I 'ecdsa ca' -n alice -z 5
cert rsa-user rsa -s ca -I 'rsa user' -n alice -z 6
cert nonascii user -s ca -I "$(printf 'j\303\274rgen')" -n "$(printf 'j\303\274rgen')" -z 7

for k in user nocomment longcomment rsa ecdsa; do
  cp "$k.pub" "$line_out/$k.pub.line"
done
sed 's/$/\r/' user.pub >"$line_out/user-crlf.pub.line"
sed 's/ /\t/g' user.pub >"$line_out/user-tabs.pub.line"

for k in user nocomment longcomment enc rsa ecdsa pem; do
  cp "$k" "$priv_out/$k.key"
done
sed 's/$/\r/' user >"$priv_out/user-crlf.key"
# The decoded blobs too: fuzz_privkey also reads its input as the blob inside the armour.
for k in user nocomment longcomment enc rsa ecdsa; do
  sed '1d;$d' "$k" | base64 -d >"$priv_out/$k.blob"
done
