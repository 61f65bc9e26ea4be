#!/usr/bin/env bash
# p99 at a fixed rate against snapshots: for each binary given, in SETS (2) alternating sets,
# starts cluster/local-3.json fresh, warms up 3 s, and runs RUNS (5) fixed-rate runs of DURATION
# (10) s at RATE (2000) events/s over all three nodes, printing each run's p50/p99/max and how many
# snapshots the members took during it (from their logs). (docs/BENCHMARKS.md, "Members snapshot
# at different entries".) Starts and stops only its own clusters, by PID.
#
#   cluster/bench-snapshot-p99.sh /var/tmp/incidentd-before .build/release/incidentd
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
[[ $# -ge 1 ]] || { echo "usage: cluster/bench-snapshot-p99.sh INCIDENTD..." >&2; exit 2; }
ensure_tools
SETS=${SETS:-2}
RUNS=${RUNS:-5}
DURATION=${DURATION:-10}
RATE=${RATE:-2000}
bench_workspace bench-snapshots

# Snapshots the members logged between two epoch seconds.
snapshots_between() {
    local line stamp count=0
    while read -r line; do
        stamp="$(date -d "${line%% *}" +%s 2>/dev/null)" || continue
        ((stamp >= $1 && stamp <= $2)) && count=$((count + 1))
    done < <(grep -h "snapshot taken" "$(cluster_dir "$TOPOLOGY")"/node-*/*.log || true)
    echo "$count"
}

for set in $(seq 1 "$SETS"); do
    for binary in "$@"; do
        INCIDENTD="$binary" SKIP_BUILD=1 cluster/up.sh "$TOPOLOGY" >/dev/null
        key="$(cat "$(cluster_dir "$TOPOLOGY")/admin.key")"
        INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --connections 64 --duration 3 \
            --distinct 1000 --max-failures 1000000 >/dev/null
        for run in $(seq 1 "$RUNS"); do
            started="$(date +%s)"
            report="$(INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --rate "$RATE" --connections 64 \
                --duration "$DURATION" --distinct 1000 --json)"
            jq -r --arg b "$binary" --arg s "$set" --arg r "$run" --arg n "$(snapshots_between "$started" "$(date +%s)")" \
                '"\($b) set \($s) run \($r): p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, max \(.latency.max_ms) ms, snapshots \($n)"' <<<"$report"
        done
        cluster/down.sh "$TOPOLOGY" >/dev/null
    done
done
