#!/usr/bin/env bash
# Where the servers' CPU goes, per thread: starts cluster/local-3.json on INCIDENTD (default the
# release build), warms up 2 s, runs a closed loop of DURATION (8) s at CONNECTIONS (256) over all
# three nodes, and prints for every thread that used CPU or switched: its name, CPU (% of one
# core) and voluntary context switches per second and per event, read from /proc before and after.
# (docs/BENCHMARKS.md, "Where the CPU goes now".) Starts and stops only its own cluster, by PID.
#
#   cluster/bench-threads.sh
#   CONNECTIONS=1 INCIDENTD=/var/tmp/incidentd-before cluster/bench-threads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-256}
start_bench_cluster bench-threads

# One line per thread: node-pid-tid, name, voluntary switches, CPU ticks.
snapshot() {
    local pid task
    for pid in $(cat "$DIR"/node-*/pid); do
        for task in /proc/"$pid"/task/*; do
            echo "$pid-$(basename "$task") $(tr ' ' _ <"$task/comm") $(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status") $(awk '{print $14 + $15}' "$task/stat")"
        done
    done | sort
}

before="$(snapshot)"
events="$(INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" --connections "$CONNECTIONS" \
    --duration "$DURATION" --distinct 1000 --json | jq '.events_per_second | floor')"
after="$(snapshot)"
echo "$CONNECTIONS connections: $events events/s over $DURATION s"
printf '%-16s %-18s %8s %12s %10s\n' "pid-tid" "thread" "CPU %" "switches/s" "per event"
join <(echo "$before") <(echo "$after") | awk -v d="$DURATION" -v e="$events" -v hz="$(getconf CLK_TCK)" '{
    switches = ($6 - $3) / d; cpu = ($7 - $4) / hz / d * 100
    if (switches > 10 || cpu >= 1) printf "%-16s %-18s %8.0f %12.0f %10.2f\n", $1, $2, cpu, switches, switches / e }'
