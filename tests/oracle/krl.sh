#!/bin/bash
# KRL oracle: KRLs we write must mean the same to `ssh-keygen -Q` (OpenSSH's own KRL code) as
# to us, and KRLs `ssh-keygen -k` writes must parse in our library and give the same answers.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
cd "$T_DIR" || exit 1

for k in ca ca2 ca3 u1 u2 u3 u4 u5 u6; do
  ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$k" || exit 1
done

# cert NAME CA KEY SERIAL ID: NAME-cert.pub, signed by ssh-keygen.
cert() {
  cp "$3.pub" "$1.pub"
  ssh-keygen -q -s "$2" -I "$5" -n p -z "$4" "$1.pub" || { echo "cannot sign $1"; exit 1; }
}

# A user certificate from ca for each serial we ask about, made once.
serial_cert() {
  [ -f "s$1-cert.pub" ] || cert "s$1" ca u1 "$1" "id-$1"
  echo "s$1-cert.pub"
}

# verdict KRL CERT: what ssh-keygen -Q says, as "REVOKED/1" or "ok/0".
keygen_verdict() {
  local out rc
  out=$(ssh-keygen -Q -f "$1" "$2" 2>&1)
  rc=$?
  echo "${out##*: }/$rc"
}
our_verdict() {
  local out rc
  out=$("$TT" krl check "$1" "$2" 2>&1)
  rc=$?
  echo "$out/$rc"
}
our_key_verdict() {
  local out rc
  out=$("$TT" krl check-key "$1" "$2" 2>&1)
  rc=$?
  echo "$out/$rc"
}

# expect DESC KRL CERT WANT(REVOKED|ok): ssh-keygen and our library both say WANT.
expect() {
  local want
  [ "$4" = REVOKED ] && want=REVOKED/1 || want=ok/0
  t_eq "$1: ssh-keygen -Q" "$want" "$(keygen_verdict "$2" "$3")"
  t_eq "$1: ours" "$want" "$(our_verdict "$2" "$3")"
}

# krl_date FILE: the generated_date field of a KRL header (bytes 20..27).
krl_date() { od -An -t u8 --endian=big -j 20 -N 8 "$1" | tr -d ' '; }
# first_subsection FILE: type byte of the first subsection of the first section.
first_subsection() { od -An -t x1 -j 108 -N 1 "$1" | tr -d ' '; }

# check_set NAME SPEC... : our KRL for the serials, checked against ssh-keygen's for the same
# set (byte for byte: the same encoding choices), its -Q -l listing and -Q per serial.
declare -A REV
check_set() {
  local name=$1 s lo hi probe want date
  shift
  REV=()
  : >"$name.spec"
  for s in "$@"; do
    echo "serial: $s" >>"$name.spec"
    lo=${s%-*} hi=${s#*-}
    for ((i = lo; i <= hi; i++)); do REV[$i]=1; done
  done
  ssh-keygen -q -k -f "$name.keygen.krl" -s ca.pub "$name.spec" 2>/dev/null
  date=$(krl_date "$name.keygen.krl")
  t_rc "$name: we write a KRL" 0 "$TT" krl make -d "$date" ca.pub "$name.krl" "$@"
  t_eq "$name: same bytes as ssh-keygen -k" "$(od -An -tx1 "$name.keygen.krl")" \
    "$(od -An -tx1 "$name.krl")"
  t_rc "$name: ssh-keygen -Q -l reads it" 0 ssh-keygen -Q -l -f "$name.krl"
  t_eq "$name: ssh-keygen lists our serials" "$(ssh-keygen -Q -l -f "$name.keygen.krl" |
    grep '^serial')" "$(printf '%s\n' "$T_OUT" | grep '^serial')"
  t_eq "$name: count" "${#REV[@]}" "$("$TT" krl count "$name.krl" ca.pub)"
  for probe in $PROBES; do
    [ -n "${REV[$probe]:-}" ] && want=REVOKED || want=ok
    expect "$name serial $probe" "$name.krl" "$(serial_cert "$probe")" "$want"
  done
}

t_log "serial sets: bitmap, range, list, mixed"
PROBES="1 2 3 4 6 7 8 15 16 17"
check_set bitmap 1-3 7 16
t_eq "bitmap: encoded as SERIAL_BITMAP" 22 "$(first_subsection bitmap.krl)"
PROBES="99 100 150 200 201"
check_set range 100-200
t_eq "range: encoded as SERIAL_RANGE" 21 "$(first_subsection range.krl)"
PROBES="999 1000 1001 4999 5000 90000 1000000 1000001"
check_set list 1000 5000 90000 1000000
t_eq "list: encoded as SERIAL_LIST" 20 "$(first_subsection list.krl)"
RANDOM=4242
specs=() PROBES=""
for ((n = 0; n < 150; n++)); do
  lo=$((1 + RANDOM % 4000))
  case $((RANDOM % 4)) in
    0) specs+=("$lo-$((lo + RANDOM % 300))") ;;
    *) specs+=("$lo") ;;
  esac
done
for ((n = 0; n < 30; n++)); do PROBES+=" $((1 + RANDOM % 4400))"; done
PROBES+=" ${specs[3]%-*} ${specs[7]%-*} ${specs[11]%-*}"
check_set mixed "${specs[@]}"

t_log "a set ssh-keygen 9.2 writes as one oversized bitmap"
"$TT" krl make ca.pub odd.krl $(seq 1 2 40001) || exit 1
seq 1 2 40001 | sed 's/^/serial: /' >odd.spec
ssh-keygen -q -k -f odd.keygen.krl -s ca.pub odd.spec 2>/dev/null
t_rc "ssh-keygen cannot read its own 5 KiB bitmap" 255 ssh-keygen -Q -f odd.keygen.krl \
  "$(serial_cert 1)"
t_rc "we refuse it too" 1 "$TT" krl parse odd.keygen.krl
t_eq "with the size error" "size or count limit exceeded (-7)" "$T_OUT"
t_eq "ours splits it: ssh-keygen lists all of it" 20001 \
  "$(ssh-keygen -Q -l -f odd.krl | grep -c '^serial')"
for probe in 16383 16384 16385 32767 32769 40001 40002 40003; do
  [ $((probe % 2)) = 1 ] && [ "$probe" -le 40001 ] && want=REVOKED || want=ok
  expect "odd serial $probe" odd.krl "$(serial_cert "$probe")" "$want"
done

t_log "empty KRLs, header fields, serial 0"
t_rc "an empty KRL" 0 "$TT" krl make ca.pub empty.krl
t_eq "is the 44-byte header" 44 "$(stat -c %s empty.krl)"
expect "empty KRL" empty.krl "$(serial_cert 1)" ok
: >empty.spec
ssh-keygen -q -k -f empty.keygen.krl -s ca.pub empty.spec 2>/dev/null
t_rc "ssh-keygen's empty KRL parses" 0 "$TT" krl parse empty.keygen.krl
t_rc "version and date" 0 "$TT" krl make -z 42 -d 1700000000 ca.pub v.krl 5
t_match "ssh-keygen reads our version" '^# KRL version 42$' "$(ssh-keygen -Q -l -f v.krl)"
t_eq "and we read it back" "$(printf 'version 42\ndate 1700000000')" "$("$TT" krl info v.krl)"
rm -f zero.krl
t_rc "serial 0 is refused" 1 "$TT" krl make ca.pub zero.krl 0
t_rc "inverted range is refused" 1 "$TT" krl make ca.pub zero.krl 9-8
t_eq "and nothing is written" no "$([ -e zero.krl ] && echo yes || echo no)"

t_log "KRLs made by ssh-keygen -k: serials, ids, keys, fingerprints, any CA"
{
  echo "# revocations for ca"
  echo "serial: 5"
  echo "serial: 10-20"
  echo "id: bad-id"
  echo "key: $(cat u2.pub)"
  echo "sha256: $(cat u3.pub)"
  echo "sha1: $(cat u4.pub)"
  echo "hash: $(ssh-keygen -l -f u6.pub | awk '{print $2}')"
  echo "key: $(cat ca3.pub)"
} >full.spec
printf 'serial: 77\nid: any-id\n' >any.spec
t_rc "ssh-keygen -k" 0 ssh-keygen -k -f full.krl -s ca.pub full.spec
t_rc "ssh-keygen -k -u -s none" 0 ssh-keygen -k -u -f full.krl -s none any.spec
t_rc "we parse it" 0 "$TT" krl parse full.krl
t_eq "serials for ca" 12 "$("$TT" krl count full.krl ca.pub)"
t_eq "serials for any CA" 1 "$("$TT" krl count full.krl any)"
t_eq "serials for ca2" 0 "$("$TT" krl count full.krl ca2.pub)"
t_rc "we re-encode it" 0 "$TT" krl reencode full.krl re.krl
t_rc "ssh-keygen reads our re-encoding" 0 ssh-keygen -Q -l -f re.krl
# Our sections are in canonical (sorted CA) order, so compare the listings as sets.
t_eq "with the same listing" "$(ssh-keygen -Q -l -f full.krl | grep -v '^#' | sort)" \
  "$(printf '%s\n' "$T_OUT" | grep -v '^#' | sort)"

cert c5 ca u1 5 x
cert c9 ca u1 9 x
cert c10 ca u1 10 x
cert c20 ca u1 20 x
cert c21 ca u1 21 x
cert cid ca u1 50 bad-id
cert cid0 ca u1 0 bad-id
cert cnoid0 ca u1 0 x
cert ckey ca u2 50 x
cert csha256 ca u3 50 x
cert csha1 ca u4 50 x
cert chash ca u6 50 x
cert cfine ca u5 50 x
cert cany77 ca2 u5 77 x
cert cany77b ca u5 77 x
cert canyid ca2 u5 78 any-id
cert cother5 ca2 u5 5 x
cert cca3 ca3 u5 1 x
for krl in full.krl re.krl; do
  expect "$krl serial 5" "$krl" c5-cert.pub REVOKED
  expect "$krl serial 9" "$krl" c9-cert.pub ok
  expect "$krl range start" "$krl" c10-cert.pub REVOKED
  expect "$krl range end" "$krl" c20-cert.pub REVOKED
  expect "$krl past range" "$krl" c21-cert.pub ok
  expect "$krl key id" "$krl" cid-cert.pub REVOKED
  expect "$krl key id, serial 0" "$krl" cid0-cert.pub REVOKED
  expect "$krl serial 0, other id" "$krl" cnoid0-cert.pub ok
  expect "$krl explicit key" "$krl" ckey-cert.pub REVOKED
  expect "$krl sha256 key" "$krl" csha256-cert.pub REVOKED
  expect "$krl sha1 key" "$krl" csha1-cert.pub REVOKED
  expect "$krl hash: line" "$krl" chash-cert.pub REVOKED
  expect "$krl unlisted key" "$krl" cfine-cert.pub ok
  expect "$krl any-CA serial (ca2)" "$krl" cany77-cert.pub REVOKED
  expect "$krl any-CA serial (ca)" "$krl" cany77b-cert.pub REVOKED
  expect "$krl any-CA key id" "$krl" canyid-cert.pub REVOKED
  expect "$krl serial of another CA" "$krl" cother5-cert.pub ok
  expect "$krl revoked CA key" "$krl" cca3-cert.pub REVOKED
  for u in u2 u3 u4 u5 u6; do
    got=$(keygen_verdict "$krl" "$u.pub")
    t_eq "$krl plain key $u: ours as ssh-keygen" "$got" "$(our_key_verdict "$krl" "$u.pub")"
  done
done
t_eq "plain u5 is fine" ok/0 "$(our_key_verdict full.krl u5.pub)"
t_eq "plain u4 (sha1) is revoked" REVOKED/1 "$(our_key_verdict full.krl u4.pub)"

t_log "certificates signed by our library"
"$TT" cert sign ca u1.pub 16 ours-16 p 0 18446744073709551615 >ours16-cert.pub || exit 1
"$TT" cert sign ca u1.pub 17 ours-17 p 0 18446744073709551615 >ours17-cert.pub || exit 1
expect "our cert, serial 16" bitmap.krl ours16-cert.pub REVOKED
expect "our cert, serial 17" bitmap.krl ours17-cert.pub ok

t_done
