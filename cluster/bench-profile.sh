#!/usr/bin/env bash
# Where the machine's time goes under load: starts cluster/local-3.json on INCIDENTD (default the
# release build), warms up 2 s, runs incident-bench at RATE (10000) events/s over all three nodes
# (256 connections, 1,000 distinct keys) for 12 s, and records the whole machine with
# `perf record -a -g` for 6 s of it (from the 3rd second). Prints the run's latency, then the
# share of the machine per thread (tid:name; NIO-ELT-2: the nodes' consensus loops; NIO-SGLTN:
# their HTTP event loops; qos.overcommit: their sync and snapshot queues; the busiest NIO-ELT-1
# thread: the generator, incident-bench; swapper: idle) and the top symbols of the consensus and
# HTTP threads. With PRELOAD=N, first opens incidents for N s (a closed loop at 256 connections
# whose every event opens one; 15 s opens about 200,000), to profile a large state.
# Keeps perf.data in PERF_DATA (default /var/tmp/incidentd-profile.data) for `perf report`.
# Needs linux-perf (installed when missing). Starts and stops only its own cluster, by PID.
#
#   cluster/bench-profile.sh
#   RATE=2000 cluster/bench-profile.sh
#   LOAD="--connections 64" cluster/bench-profile.sh
#   PRELOAD=15 cluster/bench-profile.sh
#   CALL_GRAPH="--call-graph dwarf,8192 -F 499" cluster/bench-profile.sh
#
# With LEADER_LOOP=1 it records only the leader's consensus-loop thread (`perf record -t`, dwarf
# call graphs) and prints the consensus loop's functions by their inclusive share of that thread:
#
#   LEADER_LOOP=1 LOAD="--rate 500 --connections 64" cluster/bench-profile.sh
#
# With SNAPSHOT_THREADS=1 it records only the three nodes' snapshot threads (`incidentd-snap`)
# for 9 s and prints where their time went, by inclusive share of their samples (docs/BENCHMARKS.md,
# nineteenth pass); a preload gives them a state to encode:
#
#   SNAPSHOT_THREADS=1 PRELOAD=2 RATE=8000 cluster/bench-profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
if ! command -v perf >/dev/null; then
    sudo=""; [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-perf
fi
RATE=${RATE:-10000}
PERF_DATA=${PERF_DATA:-/var/tmp/incidentd-profile.data}
PRELOAD=${PRELOAD:-0}
# LOAD="--connections 64" profiles a closed loop instead of the fixed rate.
LOAD=${LOAD:-"--rate $RATE --connections 256"}
# CALL_GRAPH="--call-graph dwarf,8192 -F 499" finds the callers of leaf functions (swift_retain,
# malloc) that frame pointers miss; the default is frame pointers.
CALL_GRAPH=${CALL_GRAPH:--g}
start_bench_cluster bench-profile
if [[ "$PRELOAD" -gt 0 ]]; then
    opened="$(INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" --connections 256 \
        --duration "$PRELOAD" --distinct 1000000 --run-tag preload --json | jq '.valid')"
    echo "preload: $opened events, each opening an incident"
fi
REPORT="$(mktemp)"
# shellcheck disable=SC2086
INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" $LOAD \
    --duration 12 --distinct 1000 --json >"$REPORT" &
BENCH=$!
sleep 3
if [[ -n "${LEADER_LOOP:-}" ]]; then
    leader="$(wait_for_leader "$TOPOLOGY")"
    tid="$(ps -L -o tid=,comm= -p "$(cat "$DIR/node-$leader/pid")" | awk '$2 == "NIO-ELT-2-#1" { print $1 }')"
    perf record -t "$tid" --call-graph dwarf,16384 -F 2999 -o "$PERF_DATA" -- sleep 5 >/dev/null 2>&1
elif [[ -n "${SNAPSHOT_THREADS:-}" ]]; then
    # shellcheck disable=SC2086
    tids="$(for pid in $PIDS; do ps -L -o tid=,comm= -p "$pid" | awk '$2 == "incidentd-snap" { print $1 }'; done | paste -sd,)"
    perf record -t "$tids" -g -o "$PERF_DATA" -- sleep 9 >/dev/null 2>&1
else
    perf record -a $CALL_GRAPH -o "$PERF_DATA" -- sleep 6 >/dev/null 2>&1
fi
wait "$BENCH"
jq -r '"run: \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, failures \(.failures)"' "$REPORT"
rm -f "$REPORT"
if [[ -n "${LEADER_LOOP:-}" ]]; then
    echo "the leader's consensus loop (node $leader, thread $tid), inclusive shares of its samples:"
    perf report -i "$PERF_DATA" --children --sort sym -g none 2>/dev/null | grep -E 'ClusterNode1[0-9]ConsensusLoop' \
        | grep -v '(inlined)' | awk '!seen[$NF]++' | head -25 | cut -c1-150
    exit 0
fi
if [[ -n "${SNAPSHOT_THREADS:-}" ]]; then
    samples="$(perf report -i "$PERF_DATA" --stdio -g none 2>/dev/null | sed -n 's/^# Samples: \([0-9.]*K*\).*/\1/p' | head -1)"
    echo "the nodes' snapshot threads ($tids, $samples samples), inclusive shares of their samples:"
    perf report -i "$PERF_DATA" --children --sort sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' \
        | swift demangle --simplified \
        | grep -E 'snapshot\(|encodeByNumber|Incident\.encode\(to:\)|encodeTables|RequestTable\.encode|LZ4|prepare\(|sorted|exc_page_fault|memmove|fsync' \
        | grep -v '(inlined)' | head -20 | cut -c1-150
    exit 0
fi
echo "share of the machine per thread (pid:name):"
perf report -i "$PERF_DATA" --no-children --sort pid,comm -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -16
# `comm` in the sort key: without it perf merges a symbol's samples across threads before the
# --comm filter and credits them all to one thread (swift_retain showed up on the generator).
for thread in NIO-ELT-2-#1 NIO-SGLTN-1-#1; do
    echo "top symbols on $thread threads (share of the machine):"
    perf report -i "$PERF_DATA" --no-children --comm "$thread" --sort comm,dso,sym -g none 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -15 | cut -c1-160
done
