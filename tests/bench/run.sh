#!/bin/bash
# sshcert benchmarks (issue 8): measures the server against its ceilings, side by side in one
# run on this machine, and prints one `name: value` line per figure, then a short summary with
# the goals. Benchmarks never fail a build: this script exits 0 whatever the figures are.
#
#   SSHCERT_BUILD_DIR=build BENCH_SECONDS=5 bash tests/bench/run.sh
#
# SSHCERT_BUILD_DIR  where the binaries are (default ./build)
# BENCH_SECONDS      how long each load runs (default 5; CI's smoke run uses 2)
# BENCH_CLIENTS      concurrent keep-alive clients of each load (default 16)
# BENCH_KEEP=1       keep the scratch folder (server logs, users) and print where it is
#
# Everything runs on 127.0.0.1 in a scratch folder, and only the processes started here are
# stopped. See tests/bench/README.md for what each figure means.
set -u
export LC_ALL=C

BUILD=$(cd "${SSHCERT_BUILD_DIR:-./build}" 2>/dev/null && pwd) || {
  echo "bench: build folder ${SSHCERT_BUILD_DIR:-./build} not found" >&2
  exit 0
}
S=${BENCH_SECONDS:-5}
C=${BENCH_CLIENTS:-16}
SERVER=$BUILD/ca-server/sshcert-server
ADMIN=$BUILD/ca-server/sshcert-admin
B=$BUILD/tests/bench
LOAD=$B/sshcert-bench-load
MKUSERS=$B/sshcert-bench-mkusers

for f in "$SERVER" "$ADMIN" "$LOAD" "$MKUSERS" "$B/sshcert-bench-krl" "$B/sshcert-bench-argon2"; do
  [ -x "$f" ] || { echo "bench: $f is missing: build first" >&2; exit 0; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/sshcert-bench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 0' INT TERM

declare -A FIG=()
fig() { # fig NAME VALUE: records and prints one figure
  FIG[$1]=${2:-n/a}
  printf '%s: %s\n' "$1" "${FIG[$1]}"
}
# get KEY FILE: the value of a `key: value` line
get() { awk -v k="$1:" '$1 == k { print $2; exit }' "$2" 2>/dev/null; }
# calc EXPR over awk, n/a when an operand is n/a or empty
calc() {
  case "$*" in *n/a*) echo n/a; return ;; esac
  awk "BEGIN { x = $*; printf \"%.2f\", x }" 2>/dev/null || echo n/a
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $((20000 + RANDOM % 20000))
}
rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
# cpu_ticks PID: user + system CPU time of a process so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
# cpu_us TICKS_BEFORE TICKS_AFTER RESULT_FILE: server CPU microseconds per answered request
cpu_us() {
  local n
  n=$(get requests "$3")
  [ -n "$1" ] && [ -n "$2" ] && [ -n "$n" ] && [ "$n" -gt 0 ] || { echo n/a; return; }
  awk -v t="$(($2 - $1))" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }'
}
note() { printf '# %s\n' "$*" >&2; }

# start_server NAME HASH_COST: a fresh CA in $W/NAME; sets SRV_PID, SRV_PORT, SRV_CFG.
start_server() {
  local name=$1 cost=$2 d=$W/$1 try i
  mkdir -p "$d"
  for try in 1 2 3 4 5; do
    SRV_PORT=$(free_port)
    SRV_CFG=$d/cfg.json
    printf '{"listen":"127.0.0.1:%s","data_dir":"%s/data","auth":{"password_hash":"%s"}}\n' \
      "$SRV_PORT" "$d" "$cost" >"$SRV_CFG"
    [ -f "$d/data/ca_key" ] || "$ADMIN" -c "$SRV_CFG" init >"$d/init.out" 2>&1 || {
      note "sshcert-admin init failed: $(cat "$d/init.out")"
      return 1
    }
    : >"$d/server.log"
    "$SERVER" -c "$SRV_CFG" 2>>"$d/server.log" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for i in $(seq 200); do
      grep -q "listening on" "$d/server.log" && return 0
      kill -0 "$SRV_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    grep -q "cannot listen" "$d/server.log" || break
  done
  note "sshcert-server $name did not start: $(tail -3 "$d/server.log")"
  return 1
}
stop_server() {
  kill -TERM "$SRV_PID" 2>/dev/null
  wait "$SRV_PID" 2>/dev/null
}
# load OUT ARGS...: one load run; its `key: value` lines land in OUT, its notes on stderr.
load() {
  local out=$1
  shift
  "$LOAD" -p "$SRV_PORT" -c "$C" "$@" >"$out" 2>"$out.err"
  sed 's/^/#   /' "$out.err" >&2
}

# hash_seconds: the running server's sshcert_password_hash_seconds_sum (time spent in argon2id).
hash_seconds() {
  curl -s --max-time 10 "http://127.0.0.1:$SRV_PORT/metrics" |
    awk '$1 == "sshcert_password_hash_seconds_sum" { print $2 }'
}
# batch_counts: "BATCHES ISSUANCES" from the running server's /metrics (the group commit's
# transactions that recorded login issuances, and how many they recorded)
batch_counts() {
  curl -s --max-time 10 "http://127.0.0.1:$SRV_PORT/metrics" | awk '
    $1 == "sshcert_issue_batches_total" { b = $2 } $1 == "sshcert_issue_batched_total" { n = $2 }
    END { print b + 0, n + 0 }'
}
# batch_mean "B0 N0" "B1 N1": issuances per batch between two batch_counts, or n/a
batch_mean() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    if (y[1] > x[1]) printf "%.1f\n", (y[2] - x[2]) / (y[1] - x[1]); else print "n/a" }'
}
# median FILE: the median of a file of numbers, one per line
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# ms_of URL: the time of one GET, in milliseconds, or nothing when it did not answer 200
ms_of() {
  curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}\n' "$1" |
    awk '$1 == 200 { printf "%.2f\n", $2 * 1000 }'
}

# big_store: the running main server's store grows by 1,000,000 certificates of the past
# (1,000 of them revoked and still in force), written by another process as sshcert-admin
# would. Then: GET /metrics and a KRL rebuild against that store, and a second issuance load
# while /metrics is scraped 5 times a second. Until migration 002 every scrape and every
# rebuild read all 1,000,000 rows under the writer's lock, and issuance waited for them.
big_store() {
  local db=$W/main/data/sshcert.db i p q scraper
  command -v sqlite3 >/dev/null || { note "sqlite3 is missing: no big-store figures"; return; }
  note "a store of 1,000,000 more certificates: /metrics, the KRL, issuance while scraped"
  sql() { sqlite3 -cmd '.timeout 10000' "$db" "$@"; }
  p=$(sql "SELECT value FROM meta WHERE key = 'next_serial'") || return
  q=$(date +%s)
  sql "BEGIN IMMEDIATE;
    INSERT INTO certificates(serial, key_id, username, principals, key_fingerprint,
      valid_after, valid_before, issued_at, client_address, issued_by, certificate,
      revoked_at, revoke_reason)
    SELECT $p + value, 'old#' || value, 'old' || (value % 5000), 'old', 'SHA256:x',
      $q - 200000 - value, CASE WHEN value % 1000 = 0 THEN $q + 86400 ELSE $q - 1000 - value END,
      $q - 200000 - value, '127.0.0.1', 'server', 'x',
      CASE WHEN value % 1000 = 0 THEN $q - 150000 END, NULL
    FROM generate_series(1, 1000000);
    UPDATE meta SET value = $p + 1000001 WHERE key = 'next_serial';
    UPDATE meta SET value = value + 1 WHERE key = 'krl_version';
    COMMIT;" >"$W/big.err" 2>&1 || { note "bulk insert failed: $(cat "$W/big.err")"; return; }
  base="http://127.0.0.1:$SRV_PORT"
  : >"$W/metrics-ms.txt"
  for i in 1 2 3 4 5; do ms_of "$base/metrics" >>"$W/metrics-ms.txt"; done
  METRICS_MS=$(median "$W/metrics-ms.txt")
  curl -s "$base/metrics" | awk '$1 == "sshcert_certificates_revoked_total" { print $2 }' \
    >"$W/revoked.txt"
  : >"$W/krl-ms.txt"
  for i in 1 2 3; do
    sql "UPDATE meta SET value = value + 1 WHERE key = 'krl_version'"
    ms_of "$base/v1/krl" >>"$W/krl-ms.txt"
  done
  KRL_REBUILD_MS=$(median "$W/krl-ms.txt")
  "$MKUSERS" -c "$SRV_CFG" -n "$nusers" -p v -t 16 -o "$W/users2.txt" 2>"$W/mk2.err" ||
    note "mkusers failed: $(cat "$W/mk2.err")"
  ( while :; do curl -s -o /dev/null --max-time 30 "$base/metrics"; sleep 0.2; done ) &
  scraper=$!
  load "$W/issue-scraped.txt" -u "$W/users2.txt" -k "$W/user.pub" -d "$S"
  kill "$scraper" 2>/dev/null
  wait "$scraper" 2>/dev/null
}

# keygen_slice SECONDS: signs certificates with ssh-keygen -s, one process each, for that long
# with the main CA's key; adds to KG_N (certificates, which are also their serials) and KG_US.
KG_N=0
KG_US=0
keygen_slice() {
  local t0 now limit
  [ -f "$W/main/data/ca_key" ] || return
  note "ssh-keygen -s, one process per certificate, ${1}s"
  limit=$(awk -v s="$1" 'BEGIN { printf "%.0f", s * 1e6 }')
  t0=${EPOCHREALTIME/./}
  now=$t0
  while :; do
    ssh-keygen -q -s "$W/main/data/ca_key" -I "bench#$KG_N" -n bench -V +1h -z $((KG_N + 1)) \
      "$W/user.pub" 2>/dev/null || break
    KG_N=$((KG_N + 1))
    now=${EPOCHREALTIME/./}
    [ $((now - t0)) -ge "$limit" ] && break
  done
  KG_US=$((KG_US + now - t0))
}

note "sshcert benchmarks: ${S}s per load, $C clients, $(nproc) CPUs, scratch $W"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$W/user" || exit 0

# ---- 1. The issuing server: "min" argon2id cost, default threads and durability ----
if start_server main min; then
  curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$SRV_PORT/v1/health"
  sleep 0.5
  RSS_IDLE=$(rss "$SRV_PID" VmRSS)

  note "GET /v1/health and GET /v1/ca (the bare endpoints), $C clients, ${S}s each"
  c0=$(cpu_ticks "$SRV_PID")
  load "$W/health.txt" -g /v1/health -d "$S"
  c1=$(cpu_ticks "$SRV_PID")
  HEALTH_CPU=$(cpu_us "$c0" "$c1" "$W/health.txt")
  load "$W/ca.txt" -g /v1/ca -d "$S"

  # How many users: each serves 3 logins per 30 s window (TOTP replay protection). A short
  # calibration run with a small pool estimates the rate, then the real run gets 1.5x what
  # it needs.
  cal_s=$(awk -v s="$S" 'BEGIN { print (s < 2 ? s / 2 : 1) }')
  "$MKUSERS" -c "$SRV_CFG" -n 500 -p c -t 16 -o "$W/users-cal.txt" 2>"$W/mk-cal.err" ||
    note "mkusers failed: $(cat "$W/mk-cal.err")"
  load "$W/cal.txt" -u "$W/users-cal.txt" -k "$W/user.pub" -d "$cal_s"
  cal=$(get rate_per_s "$W/cal.txt")
  nusers=$(awk -v r="${cal:-0}" -v s="$S" -v c="$C" \
    'BEGIN { n = int(r * s / 3 * 1.5) + 4 * c; if (n < 200) n = 200; if (n > 1000000) n = 1000000; print n }')
  note "calibration: ${cal:-?}/s; enrolling $nusers users"
  "$MKUSERS" -c "$SRV_CFG" -n "$nusers" -p u -t 16 -o "$W/users.txt" 2>"$W/mk.err" ||
    note "mkusers failed: $(cat "$W/mk.err")"
  sed 's/^/#   /' "$W/mk.err" >&2

  half=$(awk -v s="$S" 'BEGIN { print s / 2 }')
  keygen_slice "$half"
  note "POST /v1/certificates (password min + TOTP, durable record), $C clients, ${S}s"
  c0=$(cpu_ticks "$SRV_PID")
  b0=$(batch_counts)
  load "$W/issue.txt" -u "$W/users.txt" -k "$W/user.pub" -d "$S"
  c1=$(cpu_ticks "$SRV_PID")
  b1=$(batch_counts)
  keygen_slice "$half"
  ISSUE_CPU=$(cpu_us "$c0" "$c1" "$W/issue.txt")
  ISSUE_BATCH=$(batch_mean "$b0" "$b1")
  [ "$(get exhausted "$W/issue.txt")" = 1 ] && note "WARNING: the users ran out; the rate undercounts"
  RSS_PEAK=$(rss "$SRV_PID" VmHWM)
  RSS_AFTER=$(rss "$SRV_PID" VmRSS)
  HASH_WORKERS=$(sed -n 's/.* \([0-9]*\) hash workers.*/\1/p' "$W/main/server.log" | head -1)
  THREADS=$(sed -n 's/.* \([0-9]*\) threads, .*/\1/p' "$W/main/server.log" | head -1)
  # More clients than HTTP threads: two or more connections share a thread, which serves one
  # request at a time and waits while its issuance's batch is flushed. Until the seventeenth
  # pass a hash worker handed to a login queued on such a thread idled meanwhile, and at 32
  # clients the rate halved (tests/bench/README.md).
  WIDE=$((C * 4))
  note "POST /v1/certificates, $WIDE clients (more than the server's ${THREADS:-?} threads), ${S}s"
  "$MKUSERS" -c "$SRV_CFG" -n "$((nusers + 3 * WIDE))" -p w -t 16 -o "$W/users-wide.txt" \
    2>"$W/mk-wide.err" || note "mkusers failed: $(cat "$W/mk-wide.err")"
  c0=$(cpu_ticks "$SRV_PID")
  b0=$(batch_counts)
  C=$WIDE load "$W/issue-wide.txt" -u "$W/users-wide.txt" -k "$W/user.pub" -d "$S"
  c1=$(cpu_ticks "$SRV_PID")
  b1=$(batch_counts)
  WIDE_CPU=$(cpu_us "$c0" "$c1" "$W/issue-wide.txt")
  WIDE_BATCH=$(batch_mean "$b0" "$b1")
  [ "$(get exhausted "$W/issue-wide.txt")" = 1 ] &&
    note "WARNING: the users ran out at $WIDE clients; that rate undercounts"
  big_store
  stop_server
fi
ISSUE=$(get rate_per_s "$W/issue.txt")
HEALTH=$(get rate_per_s "$W/health.txt")
CA=$(get rate_per_s "$W/ca.txt")

# ---- 2. ssh-keygen -s, one process per certificate, as a shell script would ----
# Measured in two halves, right before and right after the issuance load of section 1, so that
# both see the machine in the same state: the host's load drifts, and a baseline taken later
# (after the big store's writes) moved the ratio by a third between runs.
KEYGEN=
if [ "$KG_US" -gt 0 ]; then
  KEYGEN=$(awk -v n="$KG_N" -v us="$KG_US" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
  ssh-keygen -L -f "$W/user-cert.pub" 2>/dev/null | grep -q "Serial: $KG_N$" ||
    note "WARNING: the last ssh-keygen certificate is not serial $KG_N"
fi

# ---- 3. Logins at the real "interactive" cost ----
# One login at a time, each between two timings of the bare hash (the machine's speed drifts
# when other work runs); then 8 logins at once, which the hash workers must bound in memory.
note "logins with argon2id interactive: 5 alone, then 8 at once"
ARGON=
if start_server interactive interactive; then
  "$MKUSERS" -c "$SRV_CFG" -n 13 -p i -t 1 -o "$W/users-int.txt" 2>"$W/mk-int.err" ||
    note "mkusers failed: $(cat "$W/mk-int.err")"
  : >"$W/argon.txt"
  : >"$W/logins.txt"
  : >"$W/login-hash.txt"
  : >"$W/login-overhead.txt"
  for i in 0 1 2 3 4; do
    "$B/sshcert-bench-argon2" -C interactive -r 3 | awk '{ print $2 }' >>"$W/argon.txt"
    sed -n "$((i + 1))p" "$W/users-int.txt" >"$W/user-int-$i.txt"
    h0=$(hash_seconds)
    C=1 load "$W/login-$i.txt" -u "$W/user-int-$i.txt" -k "$W/user.pub" -n 1 -d 60
    h1=$(hash_seconds)
    ms=$(get p50_ms "$W/login-$i.txt")
    echo "$ms" >>"$W/logins.txt"
    # The same login's hash, timed by the server (/metrics), and the rest of the login: this
    # pair needs no second timing of the hash, so the host's drift between timings cannot
    # move it.
    if [ -n "$h0" ] && [ -n "$h1" ] && [ -n "$ms" ]; then
      awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }' >>"$W/login-hash.txt"
      awk -v a="$h0" -v b="$h1" -v l="$ms" \
        'BEGIN { printf "%.2f\n", l - (b - a) * 1000 }' >>"$W/login-overhead.txt"
    fi
  done
  "$B/sshcert-bench-argon2" -C interactive -r 3 | awk '{ print $2 }' >>"$W/argon.txt"
  ARGON=$(median "$W/argon.txt")
  LOGIN=$(median "$W/logins.txt")
  LOGIN_HASH=$(median "$W/login-hash.txt")
  LOGIN_OVERHEAD=$(median "$W/login-overhead.txt")
  sed -n '6,13p' "$W/users-int.txt" >"$W/users-int-8.txt"
  C=8 load "$W/logins8.txt" -u "$W/users-int-8.txt" -k "$W/user.pub" -n 8 -d 60
  [ "$(get errors "$W/logins8.txt")" = 0 ] || note "WARNING: some of the 8 concurrent logins failed"
  RSS_PEAK_INT=$(rss "$SRV_PID" VmHWM)
  stop_server
fi

# ---- 4. KRL of 1,000,000 serials through lib/krl ----
note "KRL: build and encode 1,000,000 revoked serials"
"$B/sshcert-bench-krl" -r 3 >"$W/krl.txt" 2>&1 || note "krl: $(cat "$W/krl.txt")"

# ---- figures ----
fig issue_rate_per_s "$ISSUE"
fig health_rate_per_s "$HEALTH"
fig ca_rate_per_s "$CA"
fig ratio_issue_vs_health "$(calc "${ISSUE:-n/a} / ${HEALTH:-n/a}")"
fig sshkeygen_rate_per_s "${KEYGEN:-n/a}"
fig ratio_issue_vs_sshkeygen "$(calc "${ISSUE:-n/a} / ${KEYGEN:-n/a}")"
fig issue_p50_ms "$(get p50_ms "$W/issue.txt")"
fig issue_p99_ms "$(get p99_ms "$W/issue.txt")"
fig issue_errors "$(get errors "$W/issue.txt")"
fig issue_server_cpu_us "${ISSUE_CPU:-n/a}"
fig issue_batch_mean "${ISSUE_BATCH:-n/a}"
fig issue_wide_clients "${WIDE:-n/a}"
fig issue_wide_rate_per_s "$(get rate_per_s "$W/issue-wide.txt")"
fig issue_wide_p99_ms "$(get p99_ms "$W/issue-wide.txt")"
fig issue_wide_server_cpu_us "${WIDE_CPU:-n/a}"
fig issue_wide_batch_mean "${WIDE_BATCH:-n/a}"
fig health_server_cpu_us "${HEALTH_CPU:-n/a}"
fig health_reconnects "$(get reconnects "$W/health.txt")"
fig health_p99_ms "$(get p99_ms "$W/health.txt")"
fig login_interactive_ms "${LOGIN:-n/a}"
fig argon2_interactive_ms "${ARGON:-n/a}"
fig login_hash_ms "${LOGIN_HASH:-n/a}"
fig login_overhead_ms "${LOGIN_OVERHEAD:-n/a}"
fig rss_idle_kb "${RSS_IDLE:-n/a}"
fig rss_peak_kb "${RSS_PEAK:-n/a}"
fig rss_after_load_kb "${RSS_AFTER:-n/a}"
fig rss_peak_interactive_kb "${RSS_PEAK_INT:-n/a}"
fig krl_1m_serials_ms "$(get krl_1m_serials_ms "$W/krl.txt")"
fig krl_1m_bytes "$(get krl_bytes "$W/krl.txt")"
fig metrics_1m_certs_ms "${METRICS_MS:-n/a}"
fig krl_rebuild_1m_certs_ms "${KRL_REBUILD_MS:-n/a}"
fig issue_scraped_rate_per_s "$(get rate_per_s "$W/issue-scraped.txt")"
fig issue_scraped_p99_ms "$(get p99_ms "$W/issue-scraped.txt")"
fig issue_scraped_max_ms "$(get max_ms "$W/issue-scraped.txt")"

# ---- summary: issue 8's goals ----
# verdict VALUE OP LIMIT: pass, MISS, or n/a
verdict() {
  case "$1 $3" in *n/a*|" "*|*" ") echo "n/a"; return ;; esac
  awk -v v="$1" -v l="$3" -v op="$2" \
    'BEGIN { ok = (op == "ge") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print ok ? "pass" : "MISS" }'
}
hw=${HASH_WORKERS:-2}
th=${THREADS:-4}
# "Bounded by the hash pool": under load the server may hold, beyond the idle goal, what its
# hashes hold (interactive: 64 MiB for each hash worker; min: 8 KiB for each HTTP thread, as a
# hash at min takes no worker since the seventeenth pass) plus its fixed
# caches: SQLite's page cache (2 MiB), libmicrohttpd's 32 KiB per connection, and 256 KiB per
# HTTP thread (its stack, its reader connection, its share of the malloc arenas; until the
# fifth pass this was a flat 1 MiB for the 4 threads of then). Nothing may grow with the
# number of requests.
peak_limit=$((8192 + th * 8 + 2048 + C * 32 + th * 256))
peak_int_limit=$((8192 + hw * 65536 + 2048 + 8 * 32 + th * 256))
login_limit=$(calc "${ARGON:-n/a} + 5")
echo
echo "summary: issue 8's goals on this machine ($(nproc) CPUs), ${S}s per load, $C clients."
echo "  The bare endpoint is GET /v1/health (it probes the store with a durable write at most"
echo "  once a second and reuses the answer in between; GET /v1/ca measured ${FIG[ca_rate_per_s]}/s)."
echo "  Issuance: ${FIG[issue_rate_per_s]}/s at ${FIG[issue_server_cpu_us]} us of server CPU each,"
echo "  ${FIG[issue_batch_mean]} per batch (one transaction and one flush);"
echo "  at ${FIG[issue_wide_clients]} clients: ${FIG[issue_wide_rate_per_s]}/s at ${FIG[issue_wide_server_cpu_us]} us each, p99 ${FIG[issue_wide_p99_ms]} ms,"
echo "  ${FIG[issue_wide_batch_mean]} per batch;"
echo "  GET /v1/health: ${FIG[health_rate_per_s]}/s at ${FIG[health_server_cpu_us]} us each;"
echo "  ssh-keygen -s: ${FIG[sshkeygen_rate_per_s]}/s."
printf '  %-46s %-10s %-14s %s\n' "figure" "value" "goal" "verdict"
row() { printf '  %-46s %-10s %-14s %s\n' "$1" "$2" "$3" "$4"; }
row "issue rate / bare endpoint rate" "${FIG[ratio_issue_vs_health]}" ">= 0.5" \
  "$(verdict "${FIG[ratio_issue_vs_health]}" ge 0.5)"
row "issue rate / ssh-keygen -s rate" "${FIG[ratio_issue_vs_sshkeygen]}" ">= 40" \
  "$(verdict "${FIG[ratio_issue_vs_sshkeygen]}" ge 40)"
row "issue p99 at $C clients (ms)" "${FIG[issue_p99_ms]}" "<= 10" \
  "$(verdict "${FIG[issue_p99_ms]}" le 10)"
# The login goal (login <= hash + 5 ms) is judged on each login against its own hash, timed by
# the server: a bare hash timed apart, in another process, moves by 10-30% with the host's
# load between two timings (tests/bench/README.md, eleventh pass), more than the 5 ms judged.
row "interactive login minus its own hash (ms)" "${FIG[login_overhead_ms]}" "<= 5" \
  "$(verdict "${FIG[login_overhead_ms]}" le 5)"
echo "    (a login ${FIG[login_interactive_ms]} ms, its own hash ${FIG[login_hash_ms]} ms; a bare hash" \
  "timed apart ${FIG[argon2_interactive_ms]} ms, $(verdict "${FIG[login_interactive_ms]}" le "$login_limit") against it + 5 ms)"
row "RSS idle (KiB)" "${FIG[rss_idle_kb]}" "<= 8192" "$(verdict "${FIG[rss_idle_kb]}" le 8192)"
row "RSS peak, issue load at min cost (KiB)" "${FIG[rss_peak_kb]}" "<= $peak_limit" \
  "$(verdict "${FIG[rss_peak_kb]}" le "$peak_limit")"
row "RSS peak, 8 interactive logins at once (KiB)" "${FIG[rss_peak_interactive_kb]}" \
  "<= $peak_int_limit" "$(verdict "${FIG[rss_peak_interactive_kb]}" le "$peak_int_limit")"
row "KRL of 1,000,000 serials (ms)" "${FIG[krl_1m_serials_ms]}" "<= 500" \
  "$(verdict "${FIG[krl_1m_serials_ms]}" le 500)"
echo "  With 1,000,000 more certificates in the store ($(cat "$W/revoked.txt" 2>/dev/null || echo ?) revoked):"
echo "  GET /metrics ${FIG[metrics_1m_certs_ms]} ms, a KRL rebuild ${FIG[krl_rebuild_1m_certs_ms]} ms;"
echo "  issuance while /metrics is scraped 5 times a second: ${FIG[issue_scraped_rate_per_s]}/s,"
echo "  p99 ${FIG[issue_scraped_p99_ms]} ms, max ${FIG[issue_scraped_max_ms]} ms."
[ "${FIG[issue_errors]}" != 0 ] && [ "${FIG[issue_errors]}" != n/a ] &&
  echo "  note: ${FIG[issue_errors]} issuance requests failed (see the load notes above)"
exit 0
