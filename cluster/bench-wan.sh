#!/usr/bin/env bash
# What a WAN costs a write: starts cluster/wan-5.json (local-5 with the one-way latencies of three
# AWS regions simulated between its nodes, WAN timing; release incidentd, or INCIDENTD), waits for
# the leader to settle in a preferred region, then RUNS (3) times sends RATE (100) events/s for
# DURATION (10) s to each node in turn (256 connections, 1,000 distinct keys) and prints the
# latency per node with its region, then a table of medians. A write is answered after a majority
# (3 of 5) holds it, so the expected floor is the entry node's round trip to the leader plus the
# leader's round trip to its second-nearest other voter; docs/BENCHMARKS.md, "Regions: losing
# one, and a WAN on one machine". Starts and stops only its own cluster, by PID.
#
#   cluster/bench-wan.sh
#   RUNS=5 RATE=200 cluster/bench-wan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RUNS=${RUNS:-3}
RATE=${RATE:-100}
DURATION=${DURATION:-10}
release_binaries
TOPOLOGY="$(topology_file wan-5)"
export CLUSTER_DIR="$(mktemp -d "${BENCH_DATA_BASE:-/var/tmp}/incidentd-bench-wan.XXXXXX")"
trap 'cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true; rm -rf "$CLUSTER_DIR"' EXIT
cluster/up.sh "$TOPOLOGY" >/dev/null
KEY="$(cat "$(cluster_dir "$TOPOLOGY")/admin.key")"
preferred="$(jq -r '.preferred_leader_regions | join(" ")' "$TOPOLOGY")"
for _ in $(seq 1 100); do
    leader="$(wait_for_leader "$TOPOLOGY" 30)"
    [[ " $preferred " == *" $(node_field "$TOPOLOGY" "$leader" region) "* ]] && break
    sleep 0.2
done
echo "wan-5: leader node $leader ($(node_field "$TOPOLOGY" "$leader" region)); $RATE events/s to one node at a time, $DURATION s, $RUNS runs"
ids="$(jq -r '.nodes[].id' "$TOPOLOGY")"
OUT="$(mktemp -d)"
for run in $(seq 1 "$RUNS"); do
    for id in $ids; do
        report="$(INCIDENT_BENCH_API_KEY="$KEY" "$BIN_DIR/incident-bench" --endpoints "http://$(node_field "$TOPOLOGY" "$id" api)" \
            --rate "$RATE" --connections 256 --duration "$DURATION" --distinct 1000 --json)"
        jq -r --arg id "$id" --arg region "$(node_field "$TOPOLOGY" "$id" region)" --arg run "$run" \
            '"run \($run), node \($id) (\($region)): \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, failures \(.failures)"' <<<"$report"
        jq -r '"\(.latency.p50_ms) \(.latency.p99_ms)"' <<<"$report" >>"$OUT/node-$id"
    done
done
now_leader="$(wait_for_leader "$TOPOLOGY" 30)"
[[ "$now_leader" == "$leader" ]] || echo "note: leadership moved from node $leader to node $now_leader during the runs"
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "| entry node (region) | p50 ms | p99 ms |"
echo "|---|---|---|"
for id in $ids; do
    role=""; [[ "$id" == "$leader" ]] && role=", leader"
    echo "| $id ($(node_field "$TOPOLOGY" "$id" region)$role) | $(cut -d' ' -f1 "$OUT/node-$id" | median) | $(cut -d' ' -f2 "$OUT/node-$id" | median) |"
done
rm -rf "$OUT"
