#!/usr/bin/env bash
# Starts the incidentd cluster described by a topology file (cluster/local-3.json, local-5.json,
# wan-5.json, local-learners.json, or a path) on this machine, waits for a leader, adds the
# learners, and prints the cluster's status. Data, logs, PIDs and the admin key live in
# ${CLUSTER_DIR:-/var/tmp/incidentd-cluster}/<cluster id>/. Stop it with cluster/down.sh.
#
#   cluster/up.sh local-3
#   SKIP_BUILD=1 cluster/up.sh local-5        # use the existing release build
#   TLS_DIR=/path/with/ca.pem+node-N.pem+node-N-key.pem cluster/up.sh local-3   # mutual TLS between peers
#
# Environment: ADMIN_KEY (default: generated once and kept in the cluster directory), TICK_MS,
# ELECTION_TICKS, INCIDENTD (binary to use), INCIDENTD_EXTRA_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
[[ $# -ge 1 ]] || { echo "usage: cluster/up.sh TOPOLOGY (local-3 | local-5 | wan-5 | local-learners | path)" >&2; exit 2; }
ensure_tools
TOPOLOGY="$(topology_file "$1")"
[[ -f "$TOPOLOGY" ]] || { echo "no topology file $TOPOLOGY" >&2; exit 2; }
DIR="$(cluster_dir "$TOPOLOGY")"
mkdir -p "$DIR"
if [[ -n "${ADMIN_KEY:-}" ]]; then echo "$ADMIN_KEY" >"$DIR/admin.key"; fi
[[ -s "$DIR/admin.key" ]] || echo "imk_cluster$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$DIR/admin.key"
chmod 600 "$DIR/admin.key"
BIN="$(incidentd_binary)"

for id in $(jq -r '.nodes[] | select(.learner != true) | .id' "$TOPOLOGY"); do
    if [[ -f "$DIR/node-$id/pid" ]] && kill -0 "$(cat "$DIR/node-$id/pid")" 2>/dev/null; then continue; fi
    start_node "$TOPOLOGY" "$id"
done
leader="$(wait_for_leader "$TOPOLOGY" 60)"
echo "leader: node $leader"

for id in $(jq -r '.nodes[] | select(.learner == true) | .id' "$TOPOLOGY"); do
    if [[ -f "$DIR/node-$id/pid" ]] && kill -0 "$(cat "$DIR/node-$id/pid")" 2>/dev/null; then continue; fi
    start_node "$TOPOLOGY" "$id"
    body="$(jq -c --argjson id "$id" '.nodes[] | select(.id == $id) | {id, address: .peer, api_address: ("http://" + .api), region, zone}' "$TOPOLOGY")"
    # Already a member (a restart): the API answers 409 or the node simply catches up.
    admin_curl "$TOPOLOGY" -X POST -H 'Content-Type: application/json' -d "$body" \
        "http://$(node_field "$TOPOLOGY" "$leader" api)/api/v1/cluster/members" >/dev/null 2>&1 || true
done

admin_curl "$TOPOLOGY" "http://$(node_field "$TOPOLOGY" "$leader" api)/api/v1/cluster" |
    jq -r '"cluster \(.node_id) sees leader \(.leader), term \(.term), commit \(.commit_index)",
           (.members[] | "  node \(.id)  \(.kind)\t\(.region)/\(.zone)\t\(.health)\tmatch \(.match_index // "-")\tlag \(.lag // "-")")'
echo "admin key: $DIR/admin.key; logs: $DIR/node-*/incidentd.log"
