#!/bin/bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. a gcc build with -Werror under ASan+UBSan, and every test under ctest;
#   2. a plain -Werror build (what gets installed), and the tests an ASan build cannot run:
#      our PAM module loaded by an uninstrumented pamtester, the server under valgrind, and
#      the password hash's memory mappings under strace (e2e_plain_*);
#   3. clang libFuzzer targets, each run briefly over its seed corpus and regressions;
#   4. a 2-second benchmark smoke run, which prints figures and never fails.
# Usage: tests/run.sh            (FUZZ_SECONDS=N to fuzz longer; SKIP_FUZZ=1 to skip)
set -eu
cd "$(dirname "$0")/.."
top=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

bash tests/deps.sh

status=0
step() { printf '\n=== %s ===\n' "$*"; }

step "ASan+UBSan build and full test suite"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSSHCERT_SANITIZE=ON -DSSHCERT_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs") || status=1

step "Plain build: PAM module under pamtester, server under valgrind, mappings under strace"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSHCERT_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -R 'pam|valgrind|plain_') || status=1

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  step "Fuzz targets (clang, ${FUZZ_SECONDS:=10}s each)"
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSSHCERT_FUZZ=ON -DSSHCERT_WERROR=ON >/dev/null
  cmake --build build-fuzz -j"$jobs"
  (cd build-fuzz && FUZZ_SECONDS=$FUZZ_SECONDS ctest --output-on-failure -R '^fuzz_short_') || status=1
fi

step "Benchmark smoke run (figures only, never a failure)"
SSHCERT_BUILD_DIR=$top/build BENCH_SECONDS=2 bash tests/bench/run.sh >build/bench-smoke.txt 2>&1 \
  && tail -n 20 build/bench-smoke.txt || echo "benchmark smoke run did not complete (not a test failure)"

if [ $status = 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $status
