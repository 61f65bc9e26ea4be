#!/usr/bin/env bash
# Three-node incidentd benchmark on this machine (docs/BENCHMARKS.md, "Three-node cluster").
#
# Starts cluster/local-3.json (release build, loopback, data under /var/tmp), then RUNS times each:
#   1. closed loop, 64 connections spread over all three nodes (two thirds forwarded) -> events/s
#      acknowledged after a majority fsync
#   2. fixed rate 2,000 events/s over all three nodes                                  -> p99
#   3. fixed rate 1,000 events/s to the leader only, then to one follower only           -> p50/p99:
#      the cost of forwarding
# and prints every run and the medians. Stops only the nodes it started (cluster/down.sh).
#
# Environment: RUNS (default 3), DURATION (seconds per run, default 10), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
TOPOLOGY="$(topology_file local-3)"
export CLUSTER_DIR="$(mktemp -d /var/tmp/incidentd-bench-cluster.XXXXXX)"
WORK="$(mktemp -d /var/tmp/bench-cluster.XXXXXX)"
release_binaries
cleanup() { cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true; rm -rf "$CLUSTER_DIR" "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cluster/up.sh "$TOPOLOGY" >"$WORK/up.txt"
DIR="$(cluster_dir "$TOPOLOGY")"
KEY="$(cat "$DIR/admin.key")"
LEADER="$(wait_for_leader "$TOPOLOGY" 30)"
FOLLOWER="$(jq -r --argjson l "$LEADER" '[.nodes[] | select(.id != $l)][0].id' "$TOPOLOGY")"
ALL="$(jq -r '[.nodes[] | "http://\(.api)"] | join(",")' "$TOPOLOGY")"
LEADER_URL="http://$(node_field "$TOPOLOGY" "$LEADER" api)"
FOLLOWER_URL="http://$(node_field "$TOPOLOGY" "$FOLLOWER" api)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; source $(git rev-parse --short HEAD); leader node $LEADER"

bench() { INCIDENT_BENCH_API_KEY="$KEY" "$BIN_DIR/incident-bench" "$@" --json; }
bench --endpoints "$ALL" --connections 64 --duration 3 --max-failures 1000000 >/dev/null  # warm-up

measure() {
    local name="$1"; shift
    for run in $(seq 1 "$RUNS"); do
        bench "$@" >"$WORK/$name-$run.json" || true
        jq -r --arg run "$run" '"  run \($run): \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, p99.9 \(.latency.p999_ms) ms, failures \(.failures)"' "$WORK/$name-$run.json"
    done
    echo "  median of $RUNS: $(for f in "$WORK/$name"-*.json; do jq '.events_per_second' "$f"; done | median | xargs printf '%.0f') events/s," \
        "p50 $(for f in "$WORK/$name"-*.json; do jq '.latency.p50_ms' "$f"; done | median) ms," \
        "p99 $(for f in "$WORK/$name"-*.json; do jq '.latency.p99_ms' "$f"; done | median) ms"
}

echo "closed loop, 64 connections over all three nodes, $DURATION s"
measure closed --endpoints "$ALL" --connections 64 --duration "$DURATION"
echo "fixed rate 2,000 events/s over all three nodes, $DURATION s"
measure rate2000 --endpoints "$ALL" --rate 2000 --connections 64 --duration "$DURATION"
echo "fixed rate 1,000 events/s to the leader only"
measure viaLeader --endpoints "$LEADER_URL" --rate 1000 --connections 32 --duration "$DURATION"
echo "fixed rate 1,000 events/s to one follower only (every write forwarded)"
measure viaFollower --endpoints "$FOLLOWER_URL" --rate 1000 --connections 32 --duration "$DURATION"
