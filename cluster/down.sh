#!/usr/bin/env bash
# Stops the nodes cluster/up.sh started for a topology (by their recorded PIDs: SIGTERM, then
# SIGKILL after 30 s). KEEP_DATA=1 keeps the data directories; otherwise they are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
[[ $# -ge 1 ]] || { echo "usage: cluster/down.sh TOPOLOGY" >&2; exit 2; }
TOPOLOGY="$(topology_file "$1")"
DIR="$(cluster_dir "$TOPOLOGY")"
for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do stop_node "$TOPOLOGY" "$id" TERM; done
if [[ -z "${KEEP_DATA:-}" ]]; then rm -rf "$DIR"; fi
echo "stopped $(jq -r .cluster_id "$TOPOLOGY")"
