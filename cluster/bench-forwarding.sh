#!/usr/bin/env bash
# What forwarding costs: starts cluster/local-3.json on INCIDENTD (default the release build),
# warms up 2 s, then ROUNDS (3) times runs a fixed rate of RATE (10000) events/s for DURATION (10) s
# (256 connections, 1,000 distinct keys) twice in a row — once spread over all three nodes (two
# thirds of the writes reach a follower and are forwarded to the leader), once at the leader only —
# and prints for each run the latency, the CPU seconds the three servers used and their context
# switches per event (all threads, voluntary and not, from /proc), then the CPU seconds per thread
# name and node (L: the leader, F: a follower; NIO-ELT-2: the consensus loop, NIO-SGLTN: the HTTP
# loops, qos.overcommit: the sync queue). Same cluster, same hour, so the difference is what
# spreading the load, and forwarding two thirds of it, costs (docs/BENCHMARKS.md, seventh pass).
# Starts and stops only its own cluster, by PID.
#
#   cluster/bench-forwarding.sh
#   RATE=2000 ROUNDS=5 cluster/bench-forwarding.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RATE=${RATE:-10000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
start_bench_cluster bench-forwarding
leader="$(wait_for_leader "$TOPOLOGY" 30)"
LEADER="http://$(node_field "$TOPOLOGY" "$leader" api)"

# Context switches of every thread of the given PIDs so far.
switches() {
    local pid
    for pid in "$@"; do cat /proc/"$pid"/task/*/status; done | awk '/ctxt_switches/ { n += $2 } END { print n }'
}

# CPU ticks per node role and thread name ("L1:NIO-ELT-2-#1 123"), summed over same-named threads.
thread_ticks() {
    local n pid role task
    for n in $(jq -r '.nodes[].id' "$TOPOLOGY"); do
        pid="$(cat "$DIR/node-$n/pid")"
        role=F
        [[ "$n" == "$leader" ]] && role=L
        for task in /proc/"$pid"/task/*; do
            echo "$role$n:$(tr ' ' _ <"$task/comm") $(awk '{print $14 + $15}' "$task/stat")"
        done
    done | awk '{ t[$1] += $2 } END { for (k in t) print k, t[k] }' | sort
}

for round in $(seq 1 "$ROUNDS"); do
    for spread in all leader; do
        endpoints="$ALL"
        [[ "$spread" == leader ]] && endpoints="$LEADER"
        switched="$(switches $PIDS)"
        threads="$(thread_ticks)"
        fixed_rate_run "round $round, $([[ "$spread" == all ]] && echo "all nodes  " || echo "leader only")" "$endpoints"
        jq -r --arg switched "$(( $(switches $PIDS) - switched ))" \
            '"  \(($switched | tonumber) / .valid * 100 | floor / 100) context switches per event"' <<<"$REPORT"
        join <(echo "$threads") <(thread_ticks) | awk -v hz="$(getconf CLK_TCK)" \
            '$3 - $2 >= hz / 10 { line = line sprintf(" %s %.2f", $1, ($3 - $2) / hz) } END { print "  CPU s per thread:" line }'
    done
done
