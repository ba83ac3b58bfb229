#!/bin/bash
# Runs one fuzz target briefly: every seed, then FUZZ_SECONDS (default 20) of mutation.
# Crashes found are written to the build dir and fail the test.
set -eu
target=$1 corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
regress=$(dirname "$0")/regressions/$(basename "$target")
args=()
[ -d "$regress" ] && args+=("$regress")
dict=$(dirname "$0")/$(basename "$target").dict
[ -f "$dict" ] && args=("-dict=$dict" "${args[@]+"${args[@]}"}")
# Not exec: the EXIT trap must still remove the copied corpus.
"$target" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$(pwd)/$(basename "$target")-" "$work/corpus" "${args[@]}"
