#!/usr/bin/env bash
# Failover drill: under steady load spread over every node, kill -9 the leader (or, with
# KILL=region, every voter of the leader's region at once), measure
#   RTO — from the kill to the next write acknowledged by the cluster (a probe posts an event to a
#         surviving node every PROBE_MS until one is answered 202), and
#   RPO — acknowledged events missing afterwards (every event the load generator saw acknowledged
#         must be an incident in the cluster at the end; none may exist twice),
# restart what was killed, let it catch up, and repeat ROUNDS times. Prints every round and a
# min/median/max table (docs/BENCHMARKS.md, "Failover").
#
#   chaos/kill-leader.sh                                # local-3, 20 rounds, 400 events/s of load
#   ROUNDS=5 TOPOLOGY=local-5 chaos/kill-leader.sh
#   KILL=region TOPOLOGY=local-5 chaos/kill-leader.sh   # lose the leader's whole region each round
#   SIGNAL=STOP KILL=region TOPOLOGY=wan-5 chaos/kill-leader.sh   # freeze it instead, over a WAN
#
# With SIGNAL=STOP the victims are frozen (kill -STOP) instead of killed, and resumed (kill -CONT)
# instead of restarted: cut off with their state intact, like a partitioned region, a deposed
# leader must come back as a follower without committing anything of its own.
#
# Environment: TOPOLOGY (default local-3), ROUNDS (20), RATE (load events/s, 400), SETTLE_S
# (seconds of load between rounds, 3), PROBE_MS (20), KILL (leader or region), SIGNAL (KILL or STOP),
# SKIP_BUILD=1, KEEP=1
# (leave the cluster up). KILL=region refuses a topology where some region holds half of the voters
# or more (losing it leaves no majority: nothing could be acknowledged until it returns).
# Starts and stops only its own processes (by PID); the cluster lives in a temporary CLUSTER_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
TOPOLOGY="$(topology_file "${TOPOLOGY:-local-3}")"
ROUNDS=${ROUNDS:-20}
RATE=${RATE:-400}
SETTLE_S=${SETTLE_S:-3}
PROBE_MS=${PROBE_MS:-20}
KILL=${KILL:-leader}
SIGNAL=${SIGNAL:-KILL}
[[ "$SIGNAL" == KILL || "$SIGNAL" == STOP ]] || { echo "SIGNAL must be KILL or STOP, not $SIGNAL" >&2; exit 2; }
case "$KILL" in
    leader) ;;
    region)
        voters=$(jq '[.nodes[] | select(.learner != true)] | length' "$TOPOLOGY")
        largest=$(jq -r '[.nodes[] | select(.learner != true)] | group_by(.region) | map({region: .[0].region, n: length})
            | max_by(.n) | "\(.n) \(.region)"' "$TOPOLOGY")
        if (( ${largest%% *} * 2 >= voters )); then
            echo "KILL=region: region ${largest#* } holds ${largest%% *} of $voters voters; losing it leaves no majority" >&2
            exit 2
        fi
        ;;
    *) echo "KILL must be leader or region, not $KILL" >&2; exit 2 ;;
esac
export CLUSTER_DIR="${CLUSTER_DIR:-$(mktemp -d /var/tmp/incidentd-chaos.XXXXXX)}"
DIR="$(cluster_dir "$TOPOLOGY")"
WORK="$(mktemp -d /var/tmp/kill-leader.XXXXXX)"
LOAD_PID=""

release_binaries

FROZEN=()
cleanup() {
    [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null || true
    for pid in "${FROZEN[@]}"; do kill -CONT "$pid" 2>/dev/null || true; done
    if [[ -z "${KEEP:-}" ]]; then cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true; rm -rf "$CLUSTER_DIR"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cluster/up.sh "$TOPOLOGY" >"$WORK/up.txt"
KEY="$(cat "$DIR/admin.key")"
ENDPOINTS="$(jq -r '[.nodes[] | select(.learner != true) | "http://\(.api)"] | join(",")' "$TOPOLOGY")"
TAG="drill$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
DURATION=$(( ROUNDS * (SETTLE_S + 8) + 30 ))

# Steady load over every node (two thirds of it forwarded to the leader). Failures during a
# failover are expected and not counted as loss: only acknowledged events must survive.
INCIDENT_BENCH_API_KEY="$KEY" "$BIN_DIR/incident-bench" --endpoints "$ENDPOINTS" --rate "$RATE" --connections 32 \
    --duration "$DURATION" --distinct 0 --run-tag "$TAG" --timeout-ms 5000 --max-failures 100000000 \
    --max-reconnects 100000 --acked-file "$WORK/acked.txt" --json >"$WORK/load.json" 2>"$WORK/load.err" &
LOAD_PID=$!

probe_until_acknowledged() {
    local target="$1" n=0 body
    while true; do
        n=$((n + 1))
        body="{\"source\":\"chaos\",\"title\":\"probe $TAG $2 $n\",\"severity\":\"low\",\"resource\":{\"type\":\"service\",\"id\":\"probe\"}}"
        if curl -fs -m 1 -o /dev/null -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
            -d "$body" "http://$target/api/v1/events"; then
            return 0
        fi
        sleep "$(awk -v ms="$PROBE_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
    done
}

: >"$WORK/rto"
echo "kill-leader drill (KILL=$KILL, SIGNAL=$SIGNAL): $(jq -r .cluster_id "$TOPOLOGY"), $ROUNDS rounds, load $RATE events/s over $ENDPOINTS (tag $TAG)"
for round in $(seq 1 "$ROUNDS"); do
    sleep "$SETTLE_S"
    leader="$(wait_for_leader "$TOPOLOGY" 30)"
    if [[ "$KILL" == region ]]; then
        region="$(node_field "$TOPOLOGY" "$leader" region)"
        victims="$(jq -r --arg r "$region" '[.nodes[] | select(.region == $r) | .id] | join(" ")' "$TOPOLOGY")"
        what="region $region (nodes $victims, leader $leader)"
    else
        victims="$leader"
        what="leader node $leader"
    fi
    survivors="$(jq -r --arg v " $victims " '[.nodes[] | . as $n | select($n.learner != true and ($v | contains(" \($n.id) ") | not)) | .id] | join(" ")' "$TOPOLOGY")"
    survivor="$(node_field "$TOPOLOGY" "${survivors%% *}" api)"
    pids=()
    for id in $victims; do pids+=("$(cat "$DIR/node-$id/pid")"); done
    killed_at=$(now_ms)
    kill "-$SIGNAL" "${pids[@]}"
    if [[ "$SIGNAL" == STOP ]]; then FROZEN=("${pids[@]}"); else for id in $victims; do rm -f "$DIR/node-$id/pid"; done; fi
    probe_until_acknowledged "$survivor" "$round"
    rto=$(( $(now_ms) - killed_at ))
    echo "$rto" >>"$WORK/rto"
    new_leader="$(wait_for_leader "$TOPOLOGY" 30 "$survivors")"
    if [[ "$SIGNAL" == STOP ]]; then
        kill -CONT "${pids[@]}"
        FROZEN=()
        done_with="resumed"
    else
        for id in $victims; do start_node "$TOPOLOGY" "$id"; done
        done_with="restarted"
    fi
    echo "  round $round: $([[ "$SIGNAL" == STOP ]] && echo froze || echo killed) $what (PIDs ${pids[*]}); node $new_leader leads; RTO $rto ms; $done_with"
done

echo "waiting for the load to finish ($DURATION s in all)"
wait "$LOAD_PID" || true
LOAD_PID=""
leader="$(wait_for_leader "$TOPOLOGY" 30)"
api="$(node_field "$TOPOLOGY" "$leader" api)"

# Every incident of this drill's load, by title (paged through the list API).
: >"$WORK/present.txt"
cursor=""
while true; do
    page="$(curl -fsS -m 30 -H "Authorization: Bearer $KEY" "http://$api/api/v1/incidents?q=$TAG&limit=500${cursor:+&cursor=$cursor}")"
    jq -r '.incidents[].title' <<<"$page" | sed -n "s/^p95 latency above threshold on bench-//p" >>"$WORK/present.txt"
    cursor="$(jq -r '.next_cursor // empty' <<<"$page")"
    [[ -n "$cursor" ]] || break
done
acked=$(wc -l <"$WORK/acked.txt")
present=$(sort -u "$WORK/present.txt" | wc -l)
duplicated=$(( $(wc -l <"$WORK/present.txt") - present ))
missing=$(comm -23 <(sort -u "$WORK/acked.txt") <(sort -u "$WORK/present.txt") | wc -l)

echo
echo "| figure | min | median | max |"
echo "|---|---|---|---|"
echo "| RTO (kill -$SIGNAL of the $([[ "$KILL" == region ]] && echo "leader's region" || echo leader) → next acknowledged write), ms | $(sort -n "$WORK/rto" | head -1) | $(median <"$WORK/rto") | $(sort -n "$WORK/rto" | tail -1) |"
echo
jq -r '"load: \(.sent) sent, \(.valid) acknowledged, \(.failures) not (refused or cut off during failovers), p99 \(.latency.p99_ms) ms"' "$WORK/load.json"
echo "RPO: $missing of $acked acknowledged events missing; $duplicated duplicated incidents; $present load incidents present"
(( missing == 0 && duplicated == 0 )) || { echo "FAILED: acknowledged events were lost or duplicated" >&2; exit 1; }
