#!/bin/bash
# Makes the seed corpus of fuzz_krl with the real ssh-keygen (OpenSSH 9.2p1 made the committed
# seeds). The CA and user keys have the fixed public halves fuzz_krl.c certifies (32 bytes of
# 0x11 and 0x22), so seeds exercise the matching paths. Run from anywhere:
#   tests/fuzz/corpus/make-krl-seeds.sh
set -eu
out=$(cd "$(dirname "$0")" && pwd)/fuzz_krl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
cd "$work"

# fixed_pub FILL COMMENT: an ssh-ed25519 public-key line whose key is 32 bytes of FILL.
fixed_pub() {
  local blob
  blob=$( (printf '\0\0\0\013ssh-ed25519\0\0\0\040'; for _ in $(seq 32); do printf "\\x$1"; done) |
    base64 -w0)
  echo "ssh-ed25519 $blob $2"
}
fixed_pub 11 fuzz-ca >ca.pub
fixed_pub 22 fuzz-user >user.pub
fixed_pub 33 other >other.pub
ssh-keygen -q -t rsa -b 1024 -N '' -C rsa-ca -f rsa-ca

# seed NAME CA SPEC-LINES...: ssh-keygen -k with the given spec lines.
seed() {
  local name=$1 ca=$2
  shift 2
  printf '%s\n' "$@" >"$name.spec"
  ssh-keygen -q -k -f "$out/$name.krl" -s "$ca" "$name.spec"
}

seed empty ca.pub
seed list ca.pub "serial: 16" "serial: 5000" "serial: 90000"
seed range ca.pub "serial: 100-200"
seed bitmap ca.pub "serial: 1-3" "serial: 7" "serial: 16"
seed mixed ca.pub "serial: 1-3" "serial: 7" "serial: 16" "serial: 100-200" "serial: 1000" \
  "serial: 5000" "serial: 1048576-1053576" "serial: 18446744073709551615"
seed ids ca.pub "id: fuzz-id" "id: other-id" "id: "
seed keys ca.pub "key: $(cat user.pub)" "sha1: $(cat other.pub)" "sha256: $(cat user.pub)" \
  "hash: $(ssh-keygen -l -f other.pub | awk '{print $2}')"
seed wildcard none "serial: 16" "id: fuzz-id"
seed rsa-ca rsa-ca.pub "serial: 16" "id: fuzz-id"
# Several sections in one file: two CAs, any CA, keys and fingerprints.
seed full ca.pub "serial: 5" "serial: 10-20" "id: bad-id" "key: $(cat other.pub)" \
  "sha1: $(cat user.pub)" "sha256: $(cat other.pub)"
printf 'serial: 77\nid: any-id\n' >any.spec
ssh-keygen -q -k -u -f "$out/full.krl" -s none any.spec
printf 'serial: 16\n' >rsa.spec
ssh-keygen -q -k -u -f "$out/full.krl" -s rsa-ca.pub rsa.spec
ls -l "$out"
