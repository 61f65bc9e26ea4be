#!/usr/bin/env bash
# A/B of two incident-bench binaries against one cluster: how much of the machine the load
# generator itself takes, and what that does to the servers' figures. Starts cluster/local-3.json
# (release incidentd, or INCIDENTD), warms up 2 s, then ROUNDS (3) rounds, each running both
# generators one after the other on the same cluster at 10,000/s (256 connections), closed loop at
# 64 connections and 2,000/s (64 connections), DURATION (8) s each, 1,000 distinct keys. Prints
# one line per generator, round and row: events/s, p50/p99, failures, the generator's own CPU
# seconds (its report's client_cpu_seconds) and the servers' CPU seconds (from /proc).
# docs/BENCHMARKS.md, ninth pass. Starts and stops only its own cluster, by PID.
#
#   cluster/bench-generator.sh /var/tmp/incident-bench-before .build/release/incident-bench
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
[[ $# -eq 2 ]] || { echo "usage: cluster/bench-generator.sh INCIDENT_BENCH_A INCIDENT_BENCH_B" >&2; exit 2; }
ensure_tools
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
start_bench_cluster bench-generator
for round in $(seq 1 "$ROUNDS"); do
    for label in A B; do
        generator="$1"; [[ "$label" == B ]] && generator="$2"
        for row in "--rate 10000 --connections 256" "--connections 64" "--rate 2000 --connections 64"; do
            before="$(server_ticks $PIDS)"
            # shellcheck disable=SC2086
            report="$(INCIDENT_BENCH_API_KEY="$KEY" "$generator" --endpoints "$ALL" $row --duration "$DURATION" \
                --distinct 1000 --run-tag same --json)"
            jq -r --arg head "$label round $round [$row]" --arg cpu "$(cpu_seconds "$before" $PIDS)" \
                '"\($head): \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, failures \(.failures), generator CPU \(.client_cpu_seconds * 100 | floor / 100) s, server CPU \($cpu) s"' <<<"$report"
        done
    done
done
