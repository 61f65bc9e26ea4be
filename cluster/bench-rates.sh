#!/usr/bin/env bash
# What a fixed rate costs the servers: starts cluster/local-3.json (release incidentd, or
# INCIDENTD; data under /var/tmp, or BENCH_DATA_BASE, e.g. /dev/shm to take the fsyncs out),
# warms up 2 s, then for each of RATES ("200 1000 2000 5000 10000") events/s runs incident-bench
# for DURATION (10) s over all three nodes (256 connections, 1,000 distinct keys) and prints the
# latency, the CPU seconds the three servers used, and the consensus-loop turns the three took per
# event (incidentd_loop_turn_seconds_count from each node's /metrics), and how many batches of
# forwarded writes the followers sent beyond forward_batches_in_flight because batches took long
# (incidentd_forward_extra_batches_total; forward_wait_us). With SYSCALLS=1 it also
# counts, on every node, its fdatasync, write, writev, read, futex, epoll_wait and epoll_ctl calls,
# context switches and CPU time with `perf stat` for 4 s from the 3rd second of each run.
# docs/BENCHMARKS.md, tenth and seventeenth passes. Starts and stops only its own cluster, by PID.
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
COUNTED='syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl,context-switches,task-clock'
# The sum over the three nodes of the /metrics series $1.
metric_sum() {
    local total=0 id count
    for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do
        count="$(curl -fsS -H "X-API-Key: $KEY" "http://$(node_field "$TOPOLOGY" "$id" api)/metrics" \
            | awk -v series="$1" '$1 == series { print int($2) }')"
        total=$((total + ${count:-0}))
    done
    echo "$total"
}
turns() { metric_sum incidentd_loop_turn_seconds_count; }
extras() { metric_sum incidentd_forward_extra_batches_total; }
for rate in $RATES; do
    before_turns="$(turns)" before_extras="$(extras)"
    if [[ "${SYSCALLS:-0}" == 1 ]]; then
        for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do
            role="follower"; [[ "$id" == "$leader" ]] && role="leader"
            (sleep 3; perf stat -e "$COUNTED" -p "$(cat "$DIR/node-$id/pid")" -- sleep 4 2>&1 \
                | awk -v who="node $id ($role)" '/syscalls|context-switches|task-clock/ { printf "  %s, 4 s: %s %s\n", who, $1, $2 }') &
        done
    fi
    RATE="$rate" fixed_rate_run "$rate/s" "$ALL"
    wait
    jq -n --argjson turns "$(( $(turns) - before_turns ))" --argjson events "$(jq '.valid' <<<"$REPORT")" \
        --argjson extras "$(( $(extras) - before_extras ))" \
        '"  consensus-loop turns per event (three nodes): \(($turns / $events * 10 | round) / 10); extra forward batches: \($extras)"' -r
done
