#!/usr/bin/env bash
# Slow-client attacks against berth with slowhttptest (Debian package slowhttptest), on loopback
# only, each bounded in connections, rate and time. While each attack runs, a normal client
# (curl, a new connection every ~100 ms) fetches a file; the script fails if any normal request
# did not get 200 with the exact length, if slowhttptest ever saw the service unavailable, if
# berth did not drop the attack connections itself, or if berth's descriptors do not return to
# their baseline afterwards. It prints one Markdown table row per attack.
#
#   bash scripts/slow-attacks.sh          (after `npm run build`; CI runs it after `npm test`)
#   SLOW_ATTACKS_KEEP=1 bash scripts/slow-attacks.sh   keeps the work directory (slowhttptest
#                                         logs and CSVs, curl timings, berth's output) to read
#
# What berth does with each attack (README "berth serve" flags, "Connections"):
#   slow headers (-H, slowloris): the head must arrive within --header-timeout-ms of its first
#     byte, trickling does not extend it: 408 and close after ~2 s.
#   slow body (-B, R-U-Dead-Yet): berth needs no request body; it answers on the head (POST: 405,
#     GET: 200) and reads and discards the body. slowhttptest sends Connection: close, so berth
#     closes right after its answer (lingering ≤ 2 s to discard input) and slowhttptest, seeing the
#     answer, closes too: the attack holds nothing. (Without Connection: close the body would have
#     to arrive within --body-timeout-ms.)
#   slow read (-X): a 1 GiB file to clients that ask for a 1..4 byte receive buffer (the kernel
#     rounds it up to its minimum) and read 4 bytes a second. berth reads the file in 64 KiB steps
#     only when the socket drained, so each stalled client holds one chunk, and after
#     --send-timeout-ms without progress berth drops it ("stopped reading the response: dropped").
#     slowhttptest itself reports these as still connected to the end: it reads 4 bytes a second
#     out of its own receive buffer and never reaches berth's FIN within -l. berth's stderr lines
#     and its socket count are the evidence there. On loopback (64 KiB MTU) the kernel takes up to
#     4 MiB into each connection's send buffer before berth sees backpressure: while the 200
#     connections ramp up (~2 s) berth's process spends most of a core in system time copying
#     them, and normal requests then take up to ~1 s (2 CPUs shared with slowhttptest and curl).
#
# CI runs this once, after `npm test`, rather than from a node:test wrapper inside the suite: the
# suite runs 4 test files at once and again on Node 24 and 26, which would triple its ~20 s and
# blur the latency it reports.
set -euo pipefail
cd "$(dirname "$0")/.."

HEADER_TIMEOUT_MS=2000
SEND_TIMEOUT_MS=3000
# Bounds from the task: ≤ 200 connections, ≤ 100 new connections/s, ≤ 10 s per attack.
ATTACK_CONNECTIONS=200
ATTACK_RATE=100
ATTACK_SECONDS=8
# The normal client: one request every ~100 ms, each allowed at most this long.
NORMAL_INTERVAL_S=0.1
NORMAL_MAX_TIME_S=3
NORMAL_FILE_BYTES=102400
# berth lingers ≤ 2 s on a closing connection: its descriptors are back within this after an attack.
SETTLE_S=5
# The whole script, whatever happens.
TOTAL_LIMIT_S=45

for tool in slowhttptest curl node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "slow-attacks: $tool is not installed (Debian: apt-get install $tool)" >&2
    exit 2
  fi
done
if [[ ! -f dist/cli/main.js ]]; then
  echo "slow-attacks: dist/cli/main.js is missing: run npm run build first" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-slow-attacks.XXXXXX")
root="$work/root"
mkdir -p "$root"
printf '<!doctype html><title>berth</title><p>slow attacks target</p>\n' >"$root/index.html"
head -c "$NORMAL_FILE_BYTES" /dev/urandom >"$root/normal.bin"
truncate -s 1G "$root/huge.bin" # sparse: no disk used

berth_pid=""
watchdog_pid=""
background_pids=()
cleanup() {
  local pid
  for pid in "${background_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n "$watchdog_pid" ]]; then kill "$watchdog_pid" 2>/dev/null || true; fi
  if [[ -n "$berth_pid" ]]; then kill -KILL "$berth_pid" 2>/dev/null || true; fi
  if [[ -n "${SLOW_ATTACKS_KEEP:-}" ]]; then
    echo "slow-attacks: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# The total bound: the watchdog signals the script, whose EXIT trap stops every process it
# started (slowhttptest runs in the background under `wait`, which the trap interrupts at once).
# The watchdog's own sleep is stopped with it, so no process outlives the script (an orphaned
# sleep would hold the caller's output pipe open).
trap 'exit 124' TERM INT
(
  trap 'kill "$sleep_pid" 2>/dev/null; exit 0' TERM
  sleep "$TOTAL_LIMIT_S" &
  sleep_pid=$!
  wait "$sleep_pid"
  echo "slow-attacks: over ${TOTAL_LIMIT_S} s, giving up" >&2
  kill -TERM $$ 2>/dev/null
) &
watchdog_pid=$!

node dist/cli/main.js serve "$root" --port 0 --host 127.0.0.1 \
  --header-timeout-ms "$HEADER_TIMEOUT_MS" --send-timeout-ms "$SEND_TIMEOUT_MS" \
  >"$work/berth.out" 2>"$work/berth.err" &
berth_pid=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's#^berth: serving .* on http://127\.0\.0\.1:\([0-9]*\)/$#\1#p' "$work/berth.out")
  [[ -n "$port" ]] && break
  if ! kill -0 "$berth_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "slow-attacks: berth did not start:" >&2
  cat "$work/berth.out" "$work/berth.err" >&2
  exit 1
fi
base="http://127.0.0.1:$port"
echo "slow-attacks: berth pid $berth_pid on $base, $(slowhttptest -h 2>&1 | grep -o 'version [0-9.]*' | head -1)"

# berth's open sockets (the listener plus one per connection), from /proc.
berth_sockets() {
  find "/proc/$berth_pid/fd" -lname 'socket:*' 2>/dev/null | wc -l
}
berth_fds() {
  find "/proc/$berth_pid/fd" -mindepth 1 2>/dev/null | wc -l
}

# Fetches normal.bin every ~100 ms until $1 exists; one "status bytes seconds" line per request.
normal_client() {
  local stop_file=$1 out=$2 line
  while [[ ! -e "$stop_file" ]]; do
    # curl writes -w's line even when it fails (status 000); a missing line is a failure too.
    line=$(curl --noproxy '*' -sS -o /dev/null --max-time "$NORMAL_MAX_TIME_S" \
      -w '%{http_code} %{size_download} %{time_total}' "$base/normal.bin" 2>>"$out.err") || true
    echo "${line:-000 0 $NORMAL_MAX_TIME_S}" >>"$out"
    sleep "$NORMAL_INTERVAL_S"
  done
}

# Samples berth's socket count every 250 ms until $1 exists: "elapsed_ms sockets".
sampler() {
  local stop_file=$1 out=$2 start_ms
  start_ms=$(($(date +%s%N) / 1000000))
  while [[ ! -e "$stop_file" ]]; do
    echo "$(($(date +%s%N) / 1000000 - start_ms)) $(berth_sockets)" >>"$out"
    sleep 0.25
  done
}

failures=0
attacks_run=0
rows=()

# run_attack NAME TARGET_PATH EVIDENCE SLOWHTTPTEST_ARGS...
# EVIDENCE: a fixed string in berth's log lines (access log on stdout, errors on stderr) that shows
# berth handling an attack connection; the lines that appear during the attack are counted.
run_attack() {
  local name=$1 target=$2 pattern=$3
  shift 3
  attacks_run=$((attacks_run + 1))
  local dir="$work/attack-$attacks_run"
  mkdir -p "$dir"
  local sockets_before fds_before out_before err_before
  sockets_before=$(berth_sockets)
  fds_before=$(berth_fds)
  out_before=$(wc -l <"$work/berth.out")
  err_before=$(wc -l <"$work/berth.err")

  normal_client "$dir/stop" "$dir/normal.txt" &
  background_pids+=($!)
  local normal_pid=$!
  sampler "$dir/stop" "$dir/sockets.txt" &
  background_pids+=($!)
  local sampler_pid=$!

  # slowhttptest's own -l bound, and timeout(1) in case it hangs.
  local status=0 attack_pid
  timeout $((ATTACK_SECONDS + 5)) slowhttptest "$@" -c "$ATTACK_CONNECTIONS" -r "$ATTACK_RATE" \
    -l "$ATTACK_SECONDS" -p 2 -u "$base$target" -g -o "$dir/report" >"$dir/slowhttptest.log" 2>&1 &
  attack_pid=$!
  background_pids+=("$attack_pid")
  wait "$attack_pid" || status=$?
  # A last normal request after the attack, then stop the helpers.
  sleep 0.3
  touch "$dir/stop"
  wait "$normal_pid" "$sampler_pid" 2>/dev/null || true

  # berth's descriptors must come back to where they were (lingering closes take ≤ 2 s).
  local settled="no" waited
  for waited in $(seq 0 $((SETTLE_S * 10))); do
    if (($(berth_fds) <= fds_before)); then
      settled="yes"
      break
    fi
    sleep 0.1
  done

  local verdict ended
  verdict=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$dir/slowhttptest.log" | sed -n 's/^Exit status: *//p' | tail -1)
  ended=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$dir/slowhttptest.log" | sed -n 's/^Test ended on \([0-9]*\)th second.*/\1/p' | tail -1)
  local handled
  handled=$({
    tail -n +"$((out_before + 1))" "$work/berth.out"
    tail -n +"$((err_before + 1))" "$work/berth.err"
  } | grep -cF -- "$pattern" || true)

  # slowhttptest's CSV: Seconds,Closed,Pending,Connected,Service Available, one row a second.
  # Connections are assumed closed in the order they opened: the k-th to close lived from the
  # second the k-th connected to the second the k-th closed (±1 s, the CSV's resolution).
  local csv_summary
  csv_summary=$(awk -F, '
    NR == 1 { next }
    {
      t = $1; closed = $2; opened = $2 + $4
      for (k = maxopened + 1; k <= opened; k++) openAt[k] = t
      if (opened > maxopened) maxopened = opened
      for (k = maxclosed + 1; k <= closed; k++) closeAt[k] = t
      if (closed > maxclosed) maxclosed = closed
      # "Service Available" is -c while the probe connection got an answer within -p s, else 0.
      if (minAvail == "" || $5 + 0 < minAvail) minAvail = $5 + 0
      if ($4 + 0 > peak) peak = $4 + 0
    }
    END {
      n = 0
      for (k = 1; k <= maxclosed; k++) if (k in openAt) lives[++n] = closeAt[k] - openAt[k]
      # insertion sort: n ≤ 200
      for (i = 2; i <= n; i++) { v = lives[i]; for (j = i - 1; j >= 1 && lives[j] > v; j--) lives[j + 1] = lives[j]; lives[j + 1] = v }
      median = n > 0 ? lives[int((n + 1) / 2)] : "-"
      printf "%d %d %d %s %s\n", maxopened, maxclosed, peak, median, (minAvail == "" ? "-" : (minAvail > 0 ? "yes" : "no"))
    }' "$dir/report.csv" 2>/dev/null || echo "0 0 0 - -")
  local opened closed peak median_life min_avail
  read -r opened closed peak median_life min_avail <<<"$csv_summary"

  local requests failed max_latency
  requests=$(wc -l <"$dir/normal.txt")
  failed=$(awk -v size="$NORMAL_FILE_BYTES" '$1 != 200 || $2 != size' "$dir/normal.txt" | wc -l)
  max_latency=$(awk 'BEGIN { m = 0 } $3 + 0 > m { m = $3 + 0 } END { printf "%.0f", m * 1000 }' "$dir/normal.txt")
  local peak_sockets
  peak_sockets=$(awk 'BEGIN { m = 0 } $2 + 0 > m { m = $2 + 0 } END { print m }' "$dir/sockets.txt")
  # When berth's socket count fell back to where it was, after its peak.
  local released_at
  released_at=$(awk -v base="$sockets_before" '
    $2 + 0 > base + 0 { risen = 1 }
    risen && $2 + 0 <= base + 0 { printf "%.1f", $1 / 1000; found = 1; exit }
    END { if (!found) printf "-" }' "$dir/sockets.txt")

  rows+=("| $name | ${verdict:-?} (${ended:-?} s) | $opened | $closed | ${median_life} s | $handled \`$pattern\` | $((peak_sockets - sockets_before)) | ${released_at} s | ${min_avail} | $requests | $failed | ${max_latency} ms |")

  local problems=()
  ((status == 0)) || problems+=("slowhttptest exited $status")
  ((requests > 0)) || problems+=("the normal client made no request")
  ((failed == 0)) || problems+=("$failed normal request(s) failed (count, status, bytes):$(awk -v size="$NORMAL_FILE_BYTES" '$1 != 200 || $2 != size { print $1, $2 }' "$dir/normal.txt" | sort | uniq -c | tr -s ' \n' ' ') $(head -3 "$dir/normal.txt.err" 2>/dev/null | tr '\n' ' ')")
  [[ "$min_avail" == "yes" ]] || problems+=("slowhttptest's probe found the service unavailable ($min_avail)")
  ((opened > 0)) || problems+=("slowhttptest opened no connection")
  [[ "$settled" == "yes" ]] || problems+=("berth holds $(berth_fds) fds ${SETTLE_S} s after the attack, had $fds_before before")
  # Every attack connection slowhttptest saw connected must show in berth's log.
  ((handled >= opened)) || problems+=("berth logged \"$pattern\" $handled times for $opened attack connections")
  if ((${#problems[@]} > 0)); then
    failures=$((failures + 1))
    local problem
    for problem in "${problems[@]}"; do echo "slow-attacks: $name: $problem" >&2; done
    echo "--- slowhttptest output ($name) ---" >&2
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$dir/slowhttptest.log" | grep -v '^$' | tail -15 >&2
    echo "--- berth stderr (last lines) ---" >&2
    tail -5 "$work/berth.err" >&2
  fi
  echo "slow-attacks: $name done: ${verdict:-?}; berth logged $handled × \"$pattern\"; normal: $requests requests, $failed failed, max ${max_latency} ms"
}

# -i 1: one more header line (or body bytes) per second; berth's clock does not restart with them.
run_attack "slow headers (-H)" /index.html "request head not received in time: 408" \
  -H -i 1 -x 24
# slowhttptest sends "Connection: close": berth answers on the head and closes.
run_attack "slow body (-B, POST)" /index.html '"POST /index.html HTTP/1.1" 405' \
  -B -t POST -i 1 -s 8192 -x 24
run_attack "slow body (-B, GET)" /index.html '"GET /index.html HTTP/1.1" 200' \
  -B -t GET -i 1 -s 8192 -x 24
run_attack "slow read (-X)" /huge.bin "stopped reading the response: dropped" \
  -X -w 1 -y 4 -n 1 -z 4 -k 1

kill -TERM "$berth_pid"
exit_code=0
wait "$berth_pid" || exit_code=$?
berth_pid=""
if ((exit_code != 0)); then
  echo "slow-attacks: berth exited $exit_code after SIGTERM" >&2
  failures=$((failures + 1))
fi
if grep -q "internal error\|^    at " "$work/berth.err"; then
  echo "slow-attacks: berth printed an internal error:" >&2
  grep -A5 "internal error" "$work/berth.err" >&2 || true
  failures=$((failures + 1))
fi

echo
echo "header timeout ${HEADER_TIMEOUT_MS} ms, send timeout ${SEND_TIMEOUT_MS} ms; slowhttptest -c $ATTACK_CONNECTIONS -r $ATTACK_RATE -l $ATTACK_SECONDS; normal client: curl every ${NORMAL_INTERVAL_S} s, ${NORMAL_FILE_BYTES} bytes"
echo
echo "| attack | slowhttptest verdict | connected | closed (slowhttptest) | median lifetime (±1 s) | berth log lines | peak berth sockets | berth sockets back at | service available (slowhttptest) | normal requests | failed | max latency |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if ((failures > 0)); then
  echo "slow-attacks: $failures attack(s) failed" >&2
  exit 1
fi
echo "slow-attacks: all ${#rows[@]} attacks passed"
