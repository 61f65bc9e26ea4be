#!/usr/bin/env bash
# Latency at a fixed rate and what the consensus loops' turns did meanwhile: starts
# cluster/local-3.json on INCIDENTD (default the release build), warms up 2 s, runs RUNS (3) fixed-
# rate runs of DURATION (10) s at RATE (10000) events/s over all three nodes (256 connections,
# 1,000 distinct keys; each run opens 1,000 new incidents unless RUN_TAG gives every run the same
# keys), prints each run's latency and the CPU seconds the three servers used, then per node the
# turn-duration and log-append histograms (`incidentd_loop_turn_seconds`,
# `incidentd_log_append_seconds`: how many, their total time since the node started, and how
# many took over 5, 10, 25 and 50 ms) and the slow-turn
# warnings from the logs (docs/BENCHMARKS.md, fourth pass). INCIDENTD_EXTRA_ARGS passes flags to
# every node. Starts and stops only its own cluster, by PID.
#
#   cluster/bench-turns.sh
#   RUNS=5 RUN_TAG=same cluster/bench-turns.sh
#   RATE=2000 INCIDENTD_EXTRA_ARGS="--snapshot-every-entries 10000000" cluster/bench-turns.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RATE=${RATE:-10000}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
start_bench_cluster bench-turns
for run in $(seq 1 "$RUNS"); do
    fixed_rate_run "run $run" "$ALL" ${RUN_TAG:+--run-tag "$RUN_TAG"}
done
# Of a histogram's cumulative buckets: how many observations exceeded each of 5, 10, 25, 50 ms.
over() {
    awk -v name="$1" '
        index($1, name "_bucket{le=\"0.005\"}") == 1 { b5 = $2 }
        index($1, name "_bucket{le=\"0.01\"}") == 1 { b10 = $2 }
        index($1, name "_bucket{le=\"0.025\"}") == 1 { b25 = $2 }
        index($1, name "_bucket{le=\"0.05\"}") == 1 { b50 = $2 }
        index($1, name "_count") == 1 { n = $2 }
        index($1, name "_sum") == 1 { sum = $2 }
        END { printf "%d taking %.1f s, over 5 / 10 / 25 / 50 ms: %d / %d / %d / %d", n, sum, n - b5, n - b10, n - b25, n - b50 }'
}
for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do
    api="$(jq -r --argjson id "$id" '.nodes[] | select(.id == $id) | .api' "$TOPOLOGY")"
    metrics="$(curl -s "http://$api/metrics")"
    echo "node $id: turns $(over incidentd_loop_turn_seconds <<<"$metrics"); log appends $(over incidentd_log_append_seconds <<<"$metrics")"
    grep -h "slow consensus-loop turn" "$DIR/node-$id/incidentd.log" | sed "s/^/  node $id: /" || true
done
