#!/usr/bin/env bash
# Latency at a fixed rate as the state grows: starts cluster/local-3.json on INCIDENTD (default the
# release build), warms up 2 s, then RUNS (3) runs of DURATION (10) s at RATE (10000) events/s over
# all three nodes (256 connections, deduplicating onto the same 1,000 keys every run), then
# preloads for PRELOAD (15) s — a closed loop at 256 connections whose every event opens an
# incident (about 200,000 here) — and repeats the runs. Prints each run's latency and the servers'
# CPU, the snapshots the nodes took (count and last size) and their slow consensus-loop turns after
# each phase, and the last slow turns' breakdowns (docs/BENCHMARKS.md, seventh pass).
# INCIDENTD_EXTRA_ARGS passes flags to every node. Starts and stops only its own cluster, by PID.
#
#   cluster/bench-state.sh
#   INCIDENTD_EXTRA_ARGS="--snapshot-every-entries 200000" cluster/bench-state.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RATE=${RATE:-10000}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
PRELOAD=${PRELOAD:-15}
start_bench_cluster bench-state

runs() {
    local run log
    for run in $(seq 1 "$RUNS"); do fixed_rate_run "$1, run $run" "$ALL" --run-tag same; done
    for log in "$DIR"/node-*/incidentd.log; do
        echo "  $(basename "$(dirname "$log")"): $(grep -c 'snapshot taken' "$log") snapshots so far, the last" \
            "$(grep 'snapshot taken' "$log" | grep -o ' bytes=[0-9]*' | tail -1 | cut -d= -f2) bytes," \
            "$(grep -c 'slow consensus-loop turn' "$log") slow turns so far"
    done
}

runs "small state (about 2,000 open incidents)"
opened="$(INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" --connections 256 \
    --duration "$PRELOAD" --distinct 1000000 --run-tag preload --json | jq '.valid')"
echo "preload: $opened events, each opening an incident"
runs "after the preload"
echo "the slow consensus-loop turns (over 100 ms), with where their time went:"
grep -h "slow consensus-loop turn" "$DIR"/node-*/incidentd.log | tail -6 | cut -c1-400 || true
