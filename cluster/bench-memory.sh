#!/usr/bin/env bash
# Memory per node after the load of issue #7: 1,000,000 events with 100,000 open incidents on a
# three-node cluster (cluster/local-3.json), spread over all nodes. Prints each node's resident
# set (VmRSS) and peak (VmHWM) before and after, and the sizes of its data directory.
#
#   cluster/bench-memory.sh               # builds release; RUNS=1
#   RUNS=3 SKIP_BUILD=1 cluster/bench-memory.sh
#
# Every run starts a fresh cluster (cluster/up.sh) and stops it afterwards (cluster/down.sh, by
# the PIDs up.sh recorded). SETTLE (default 5) seconds pass between the load and the reading.
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
RUNS="${RUNS:-1}"
SETTLE="${SETTLE:-5}"
TOPOLOGY="$(topology_file local-3)"
if [[ -z "${SKIP_BUILD:-}" ]]; then
    swift build -c release --product incidentd >/dev/null
    swift build -c release --product incident-bench >/dev/null
fi
export SKIP_BUILD=1
trap 'cluster/down.sh local-3 >/dev/null 2>&1 || true' EXIT
DIR="$(cluster_dir "$TOPOLOGY")"
ENDPOINTS="$(jq -r '[.nodes[] | "http://" + .api] | join(",")' "$TOPOLOGY")"
rss() { grep -E "^$2:" "/proc/$1/status" | awk '{printf "%.1f", $2 / 1024}'; }
for run in $(seq "$RUNS"); do
    cluster/down.sh local-3 >/dev/null 2>&1 || true
    cluster/up.sh local-3 >/dev/null
    declare -A before=()
    for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do before[$id]="$(rss "$(cat "$DIR/node-$id/pid")" VmRSS)"; done
    INCIDENT_BENCH_API_KEY="$(cat "$DIR/admin.key")" .build/release/incident-bench --endpoints "$ENDPOINTS" \
        --connections 64 --requests 100000 --batch 10 --distinct 100000 | grep -E "throughput|failures"
    sleep "$SETTLE"
    echo "run $run: node | RSS at start MB | RSS after MB | peak MB | snapshot dir | WAL dir"
    for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do
        pid="$(cat "$DIR/node-$id/pid")"
        echo "run $run: $id | ${before[$id]} | $(rss "$pid" VmRSS) | $(rss "$pid" VmHWM) | $(du -sh "$DIR/node-$id/data/raft/snap" | cut -f1) | $(du -sh "$DIR/node-$id/data/raft/wal" | cut -f1)"
    done
    cluster/down.sh local-3 >/dev/null
done
