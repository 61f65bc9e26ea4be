#!/usr/bin/env bash
# When a fixed-rate run's slow answers came, next to when the nodes took snapshots: starts
# cluster/local-3.json (release incidentd, or INCIDENTD; nodes log JSON), warms up 2 s, preloads for
# PRELOAD (2) s with a closed loop whose every event opens an incident (about 25,000 here), then
# RUNS (2) runs of DURATION (10) s at RATE (10,000) events/s over all three nodes with
# `incident-bench --timeline-ms 100`. For each run prints its latency, every 100 ms window with
# answers over SLOW_MS (20) ms (from the run's start: slow/all, max), and each node's snapshots:
# when the loop handed the state to the snapshot thread, how long encoding and writing took (and
# the thread's CPU time for both) and when it was published, in ms from the run's start (from
# the "snapshot taken" log lines; logs of servers before 2026-11-27 evening have whole seconds).
# docs/BENCHMARKS.md, ninth pass. Starts and stops only its own cluster, by PID.
#
#   cluster/bench-timeline.sh
#   PRELOAD=0 RUNS=1 cluster/bench-timeline.sh
#   SNAPSHOT_SCHED_IDLE=1 RATE=7000 cluster/bench-timeline.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RATE=${RATE:-10000}
RUNS=${RUNS:-2}
DURATION=${DURATION:-10}
PRELOAD=${PRELOAD:-2}
SLOW_MS=${SLOW_MS:-20}
export INCIDENTD_EXTRA_ARGS="${INCIDENTD_EXTRA_ARGS:-} --log-format json"
start_bench_cluster bench-timeline
# SNAPSHOT_SCHED_IDLE=1: the nodes' snapshot threads as SCHED_IDLE instead of their nice value
# (docs/BENCHMARKS.md, eighteenth pass: tried, not kept).
if [[ -n "${SNAPSHOT_SCHED_IDLE:-}" ]]; then
    for pid in $PIDS; do
        for task in /proc/"$pid"/task/*; do
            [[ "$(cat "$task/comm")" == incidentd-snap ]] && chrt --idle -p 0 "$(basename "$task")"
        done
    done
fi
if [[ "$PRELOAD" -gt 0 ]]; then
    opened="$(INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" --connections 256 \
        --duration "$PRELOAD" --distinct 1000000 --run-tag preload --json | jq '.valid')"
    echo "preload: $opened events, each opening an incident"
fi
for run in $(seq 1 "$RUNS"); do
    report="$(INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" --rate "$RATE" \
        --connections 256 --duration "$DURATION" --distinct 1000 --run-tag same --timeline-ms 100 \
        --timeline-slow-ms "$SLOW_MS" --json)"
    jq -r --arg run "$run" '"run \($run): p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, max \(.latency.max_ms) ms, failures \(.failures)"' <<<"$report"
    jq -r '.timeline.windows | to_entries[] | select(.value.slow > 0)
        | "  from \(.key * 100) ms: \(.value.slow)/\(.value.answers) over, max \(.value.max_ms) ms"' <<<"$report"
    start="$(jq '.timeline.start_unix_ms' <<<"$report")"
    for log in "$DIR"/node-*/incidentd.log; do
        node="$(basename "$(dirname "$log")")"
        { grep '^{' "$log" || true; } | jq -r --arg node "$node" --argjson start "$start" --argjson stop "$((DURATION * 1000))" '
            select(.msg == "snapshot taken")
            | (.ts | capture("^(?<s>[^.Z]+)(\\.(?<ms>[0-9]+))?Z$")) as $ts
            | (($ts.s + "Z" | fromdateiso8601) * 1000 + (($ts.ms // "0") | tonumber) - $start) as $offset
            | select($offset > -1000 and $offset < $stop + 1000)
            | if .since_start_ms then
                "  \($node): snapshot handed to its thread at \($offset - (.since_start_ms | tonumber)) ms, encoded in \(.encode_ms) ms, written in \(.write_ms) ms (\(.cpu_ms) ms of CPU\(if .encode_cpu_ms then ", \(.encode_cpu_ms) encoding" else "" end)\(if .incidents_reused then ", \(.incidents_encoded) incidents encoded, \(.incidents_reused) reused" else "" end)), published at \($offset) ms in \(.publish_us) µs, \(.bytes) bytes"
              else "  \($node): snapshot taken at \($offset | floor) ms (second resolution), \(.bytes) bytes" end'
    done
done
