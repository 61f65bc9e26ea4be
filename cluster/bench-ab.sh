#!/usr/bin/env bash
# A/B of two incidentd binaries on cluster/local-3.json, alternating, so that both meet the same
# hours of this shared machine: each round starts a fresh cluster on A, then on B (B first in
# even rounds: whichever side ran second did better by several per cent), warms up 3 s,
# and runs closed loops of DURATION (8) s over all three nodes at each of CONNECTIONS ("1 64 256")
# and fixed-rate runs at each of RATES ("2000"; 64 connections, 256 from 10,000/s on as in
# cluster/bench.sh; RATES="" skips them) with
# incident-bench (1,000 distinct keys). Prints one line per binary, round and row, with the CPU
# time the three servers used during the row (user + system, from /proc).
#
#   cluster/bench-ab.sh /var/tmp/incidentd-before .build/release/incidentd        # 3 rounds
#   ROUNDS=2 CONNECTIONS=256 RATES= cluster/bench-ab.sh A B
#
# A_ARGS and B_ARGS add incidentd options to one side only, to compare a setting on one binary:
#
#   A_ARGS="--commit-announcement-delay-us 0" cluster/bench-ab.sh .build/release/incidentd .build/release/incidentd
#
# Starts and stops only its own clusters (cluster/up.sh / down.sh, by recorded PIDs).
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
[[ $# -eq 2 ]] || { echo "usage: cluster/bench-ab.sh INCIDENTD_A INCIDENTD_B" >&2; exit 2; }
ensure_tools
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-"1 64 256"}
RATES=${RATES-2000}
bench_workspace bench-ab

measure() {
    local label="$1" binary="$2" round="$3" args="$4" key connections
    INCIDENTD="$binary" SKIP_BUILD=1 INCIDENTD_EXTRA_ARGS="${INCIDENTD_EXTRA_ARGS:-} $args" cluster/up.sh "$TOPOLOGY" >/dev/null
    key="$(cat "$(cluster_dir "$TOPOLOGY")/admin.key")"
    INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --connections 64 --duration 3 \
        --distinct 1000 --max-failures 1000000 >/dev/null
    local pids before report
    pids="$(cat "$(cluster_dir "$TOPOLOGY")"/node-*/pid)"
    for connections in $CONNECTIONS; do
        before="$(server_ticks $pids)"
        report="$(INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --connections "$connections" \
            --duration "$DURATION" --distinct 1000 --json)"
        jq -r --arg l "$label" --arg r "$round" --arg c "$connections" --arg cpu "$(cpu_seconds "$before" $pids)" \
            '"\($l) round \($r), \($c) connections: \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, failures \(.failures), server CPU \($cpu) s"' <<<"$report"
    done
    for rate in $RATES; do
        before="$(server_ticks $pids)"
        # As in cluster/bench.sh: 64 connections, 256 from 10,000/s on.
        report="$(INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --rate "$rate" \
            --connections "$((rate >= 10000 ? 256 : 64))" \
            --duration "$DURATION" --distinct 1000 --json)"
        jq -r --arg l "$label" --arg r "$round" --arg rate "$rate" --arg cpu "$(cpu_seconds "$before" $pids)" \
            '"\($l) round \($r), \($rate)/s: p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, max \(.latency.max_ms) ms, failures \(.failures), server CPU \($cpu) s"' <<<"$report"
    done
    cluster/down.sh "$TOPOLOGY" >/dev/null
}

for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 == 1 )); then
        measure A "$1" "$round" "${A_ARGS:-}"
        measure B "$2" "$round" "${B_ARGS:-}"
    else
        measure B "$2" "$round" "${B_ARGS:-}"
        measure A "$1" "$round" "${A_ARGS:-}"
    fi
done
