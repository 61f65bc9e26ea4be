#!/usr/bin/env bash
# What a fixed rate costs the servers: starts cluster/local-3.json (release incidentd, or
# INCIDENTD; data under /var/tmp, or BENCH_DATA_BASE, e.g. /dev/shm to take the fsyncs out),
# warms up 2 s, then for each of RATES ("200 1000 2000 5000 10000") events/s runs incident-bench
# for DURATION (10) s over all three nodes (256 connections, 1,000 distinct keys) and prints the
# latency, the CPU seconds the three servers used, and the consensus-loop turns the three took per
# event (incidentd_loop_turn_seconds_count from each node's /metrics). With SYSCALLS=1 it also
# counts the leader's write, read and epoll_wait calls and its CPU time with `perf stat` for 4 s
# from the 3rd second of each run. docs/BENCHMARKS.md, tenth pass. Starts and stops only its own
# cluster, by PID.
#
#   cluster/bench-rates.sh
#   BENCH_DATA_BASE=/dev/shm RATES="200 2000 10000" cluster/bench-rates.sh
#   SYSCALLS=1 RATES=2000 INCIDENTD_EXTRA_ARGS="--commit-announcement-delay-us 2000" cluster/bench-rates.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RATES=${RATES:-"200 1000 2000 5000 10000"}
DURATION=${DURATION:-10}
start_bench_cluster bench-rates
leader="$(wait_for_leader "$TOPOLOGY")"
leader_pid="$(cat "$DIR/node-$leader/pid")"
turns() {
    local total=0 id count
    for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do
        count="$(curl -fsS -H "X-API-Key: $KEY" "http://$(node_field "$TOPOLOGY" "$id" api)/metrics" \
            | awk '/^incidentd_loop_turn_seconds_count/ { print int($2) }')"
        total=$((total + count))
    done
    echo "$total"
}
for rate in $RATES; do
    before_turns="$(turns)"
    if [[ "${SYSCALLS:-0}" == 1 ]]; then
        (sleep 3; perf stat -e 'syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait,task-clock' \
            -p "$leader_pid" -- sleep 4 2>&1 | awk '/syscalls|task-clock/ { printf "  leader, 4 s: %s %s\n", $1, $2 }') &
    fi
    RATE="$rate" fixed_rate_run "$rate/s" "$ALL"
    wait
    jq -n --argjson turns "$(( $(turns) - before_turns ))" --argjson events "$(jq '.valid' <<<"$REPORT")" \
        '"  consensus-loop turns per event (three nodes): \(($turns / $events * 10 | round) / 10)"' -r
done
