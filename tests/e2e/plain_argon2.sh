#!/bin/bash
# Which library verifies a password, seen from the outside (strace). A hash made at the `min`
# cost is verified through libargon2, with its memory from malloc: no mapping per verify, and so
# no TLB-shootdown interrupt to the server's other CPU when it is unmapped (tests/bench/README.md,
# sixteenth pass). Every other cost stays with libsodium, which maps each hash's memory fresh.
# That both libraries compute the same argon2id is tests/unit/test_totp.c's part. Runs the
# password code of the server (sshcert_password_verify, sshcert_password_dummy_verify) through
# sshcert-bench-argon2. An ASan build maps memory of its own, so there the test says so and
# passes without running; CI runs it in the plain build.
. "${SSHCERT_SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib.sh"

ARGON="$SSHCERT_BUILD_DIR/tests/bench/sshcert-bench-argon2"
t_plain_only strace "$ARGON" "which maps memory of its own"

# unmaps SIZE ARGS...: sshcert-bench-argon2 ARGS under strace; prints its exit code and how many
# munmap calls of SIZE bytes it made.
unmaps() {
  local size=$1 rc
  shift
  strace -f -e trace=munmap -o "$T_DIR/strace.txt" "$ARGON" "$@" >"$T_DIR/out.txt" 2>&1
  rc=$?
  printf '%s %s\n' "$rc" "$(grep -c "munmap(0x[0-9a-f]*, $size) *= 0" "$T_DIR/strace.txt")"
}

# min: 8 KiB. The one hash made (by libsodium) maps once; 15 verifies, or 15 unknown names'
# dummy hashes, map nothing.
t_eq "min: 15 verifies unmap no 8 KiB block (only the hash made first)" "0 1" \
  "$(unmaps 8192 -C min -r 15)"
t_match "min: the verifies succeeded" '^argon2_min_ms: [0-9.]+$' "$(cat "$T_DIR/out.txt")"
t_eq "min: 15 unknown names' dummy hashes unmap none either" "0 1" \
  "$(unmaps 8192 -C min -r 15 -u)"
t_match "min: the dummy hashes ran" '^argon2_dummy_min_ms: [0-9.]+$' "$(cat "$T_DIR/out.txt")"

# interactive: 64 MiB, libsodium's. The hash made and each of 2 verifies map and unmap it.
t_eq "interactive: libsodium maps each hash (1 made + 2 verifies)" "0 3" \
  "$(unmaps 67108864 -C interactive -r 2)"
t_match "interactive: the verifies succeeded" '^argon2_interactive_ms: [0-9.]+$' \
  "$(cat "$T_DIR/out.txt")"
t_done
