#!/usr/bin/env bash
# A/B of two incidentd binaries on cluster/local-3.json, alternating, so that both meet the same
# hours of this shared machine: each round starts a fresh cluster on A, then on B, warms up 3 s,
# and runs closed loops of DURATION (8) s over all three nodes at each of CONNECTIONS ("1 64 256")
# with incident-bench (1,000 distinct keys). Prints one line per binary, round and row.
#
#   cluster/bench-ab.sh /var/tmp/incidentd-before .build/release/incidentd        # 3 rounds
#   ROUNDS=2 CONNECTIONS=256 cluster/bench-ab.sh A B
#
# Starts and stops only its own clusters (cluster/up.sh / down.sh, by recorded PIDs).
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
[[ $# -eq 2 ]] || { echo "usage: cluster/bench-ab.sh INCIDENTD_A INCIDENTD_B" >&2; exit 2; }
ensure_tools
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-"1 64 256"}
TOPOLOGY="$(topology_file local-3)"
export CLUSTER_DIR="$(mktemp -d /var/tmp/incidentd-bench-ab.XXXXXX)"
trap 'cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true; rm -rf "$CLUSTER_DIR"' EXIT
[[ -x .build/release/incident-bench ]] || swift build -c release --product incident-bench >/dev/null
ALL="$(jq -r '[.nodes[] | "http://\(.api)"] | join(",")' "$TOPOLOGY")"

measure() {
    local label="$1" binary="$2" round="$3" key connections
    INCIDENTD="$binary" SKIP_BUILD=1 cluster/up.sh "$TOPOLOGY" >/dev/null
    key="$(cat "$(cluster_dir "$TOPOLOGY")/admin.key")"
    INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --connections 64 --duration 3 \
        --distinct 1000 --max-failures 1000000 >/dev/null
    for connections in $CONNECTIONS; do
        INCIDENT_BENCH_API_KEY="$key" .build/release/incident-bench --endpoints "$ALL" --connections "$connections" \
            --duration "$DURATION" --distinct 1000 --json |
            jq -r --arg l "$label" --arg r "$round" --arg c "$connections" \
                '"\($l) round \($r), \($c) connections: \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, failures \(.failures)"'
    done
    cluster/down.sh "$TOPOLOGY" >/dev/null
}

for round in $(seq 1 "$ROUNDS"); do
    measure A "$1" "$round"
    measure B "$2" "$round"
done
