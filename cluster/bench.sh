#!/usr/bin/env bash
# incidentd and etcd side by side on this machine (docs/BENCHMARKS.md, "Side by side with etcd").
#
# In one run:
#   1. builds incidentd and incident-bench (release) and installs Debian's etcd-server when missing;
#   2. starts cluster/local-3.json (three incidentd nodes on loopback, data under /var/tmp) and runs
#      incident-bench against it, RUNS times DURATION seconds per row:
#        closed loop at 1, 16, 64 and 256 connections spread over all three nodes,
#        closed loop at 64 connections to the leader only,
#        fixed rate 2,000 events/s (64 connections) and 10,000 events/s (256 connections) over all three;
#      then the end-to-end row: the cluster configured (through the API) to page a webhook receiver
#      that incident-bench runs on 127.0.0.1:WEBHOOK_PORT for every bench incident, and events at
#      WEBHOOK_RATE/s (default 1,000) over all three nodes, each opening its own incident, timed from
#      each event's intended send time to its page (incidentd only: etcd has nothing to compare);
#      then stops it;
#   3. starts a three-member etcd cluster on loopback (clients 127.0.0.1:23791-23793, peers
#      127.0.0.1:23801-23803, data under /var/tmp, etcd's default durability: every append fsynced)
#      and runs the same rows with `incident-bench --target etcd` (POST /v3/kv/put through etcd's JSON
#      gateway, one 256-byte value per request, a new key each); then stops it;
#   4. prints every run, then a markdown table of the medians per row (ours events/s, etcd puts/s,
#      ours/etcd, p50/p99 of both, failures over all runs) and writes it to TABLE.
# It stops only what it started, by PID: the incidentd nodes (cluster/down.sh, PIDs recorded by
# cluster/up.sh) and the etcd members it launched; an etcd that the package's installation
# started (normally none: policy-rc.d, no init) is stopped right after the installation.
#
# Environment: RUNS (default 3), DURATION (seconds per run, default 10), DISTINCT (incident keys per
# incidentd run, default 1000: the first 1,000 events open incidents, the rest deduplicate),
# VALUE_BYTES (etcd value size, default 256), TABLE (markdown output, default
# /var/tmp/bench-etcd-<UTC time>.md), OUT (directory to keep every run's JSON report), SKIP_BUILD=1,
# ETCD (the etcd binary, default the one on PATH after installation), SYSTEMS (default "ours etcd"),
# WEBHOOK_PORT (default 18190), WEBHOOK_RATE (default 1000), WEBHOOK=0 skips the end-to-end row,
# LOGS (where the incidentd nodes' logs are kept on exit, default the TABLE path without .md, plus
# -logs; the data directories themselves are removed).
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/bench-paging.sh
source cluster/lib.sh
ensure_tools
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
DISTINCT=${DISTINCT:-1000}
VALUE_BYTES=${VALUE_BYTES:-256}
SYSTEMS=${SYSTEMS:-"ours etcd"}
TABLE=${TABLE:-/var/tmp/bench-etcd-$(date -u +%Y%m%d-%H%M%S).md}
LOGS=${LOGS:-${TABLE%.md}-logs}
ETCD_CLIENT_PORTS=(23791 23792 23793)
ETCD_PEER_PORTS=(23801 23802 23803)
STOP_TIMEOUT_SECONDS=30
WEBHOOK=${WEBHOOK:-1}
WEBHOOK_PORT=${WEBHOOK_PORT:-18190}
WEBHOOK_RATE=${WEBHOOK_RATE:-1000}

# Rows: id|label|incident-bench arguments; @ALL and @LEADER are replaced by each system's endpoints.
ROWS=(
    "c1|closed loop, 1 connection, all nodes|--endpoints @ALL --connections 1"
    "c16|closed loop, 16 connections, all nodes|--endpoints @ALL --connections 16"
    "c64|closed loop, 64 connections, all nodes|--endpoints @ALL --connections 64"
    "c256|closed loop, 256 connections, all nodes|--endpoints @ALL --connections 256"
    "c64leader|closed loop, 64 connections, leader only|--endpoints @LEADER --connections 64"
    "r2000|fixed rate 2,000/s (64 connections), all nodes|--endpoints @ALL --rate 2000 --connections 64"
    "r10000|fixed rate 10,000/s (256 connections), all nodes|--endpoints @ALL --rate 10000 --connections 256"
)

TOPOLOGY="$(topology_file local-3)"
export CLUSTER_DIR="$(mktemp -d /var/tmp/incidentd-bench-etcd.XXXXXX)"
WORK="$(mktemp -d /var/tmp/bench-etcd.XXXXXX)"
[[ -n "${OUT:-}" ]] && mkdir -p "$OUT"
ETCD_PIDS=()
SERVER_PIDS=()

stop_pid() {
    local pid="$1" tenths=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && (( tenths < STOP_TIMEOUT_SECONDS * 10 )); do sleep 0.1; tenths=$((tenths + 1)); done
    kill -0 "$pid" 2>/dev/null && { echo "PID $pid did not stop within ${STOP_TIMEOUT_SECONDS} s; killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
}
stop_etcd() {
    local pid
    for pid in "${ETCD_PIDS[@]}"; do stop_pid "$pid"; done
    ETCD_PIDS=()
}
# The nodes' logs outlive the run (their data directories do not): a stall or a leader change in
# a row is read there.
keep_logs() {
    local log node
    for log in "$(cluster_dir "$TOPOLOGY")"/node-*/incidentd.log; do
        [[ -f "$log" ]] || continue
        node="$(basename "$(dirname "$log")")"
        mkdir -p "$LOGS"
        cp "$log" "$LOGS/$node.log"
    done
}
cleanup() {
    stop_etcd
    keep_logs
    cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian's etcd-server, only when etcd is missing. Its maintainer scripts may try to start a
# system-wide etcd (as user etcd); any etcd of that user that was not running before the
# installation was started by it, and is stopped, so that only this script's members run.
install_etcd() {
    [[ -n "${ETCD:-}" ]] && return 0
    if ! command -v etcd >/dev/null; then
        local sudo="" before pid
        [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
        before=" $({ pgrep -x etcd || true; } | tr '\n' ' ') "
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server >&2
        for pid in $(pgrep -x -u etcd etcd || true); do
            [[ "$before" == *" $pid "* ]] && continue
            echo "the etcd-server package started etcd (PID $pid); stopping it" >&2
            $sudo kill -TERM "$pid" 2>/dev/null || true
        done
    fi
    ETCD="$(command -v etcd)"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Median of JSON field $3 over the runs of system $1, row $2.
median_of() { for f in "$WORK/$1-$2"-*.json; do jq "$3" "$f"; done | median; }

# CPU seconds (user + system) used so far by the running servers (SERVER_PIDS).
server_cpu() {
    local pid total=0 ticks
    for pid in "${SERVER_PIDS[@]}"; do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + ticks))
    done
    awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

conditions() { echo "  [$(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), other swift builds running: $(pgrep -c -x swift-build || true)]"; }

# incident-bench against system $1 (ours | etcd) with the remaining arguments, JSON on stdout.
bench() {
    local system="$1"; shift
    if [[ "$system" == ours ]]; then
        INCIDENT_BENCH_API_KEY="$KEY" "$BIN_DIR/incident-bench" --distinct "$DISTINCT" "$@" --json
    else
        "$BIN_DIR/incident-bench" --target etcd --value-bytes "$VALUE_BYTES" "$@" --json
    fi
}

# Every row RUNS times against system $1, whose endpoints are $2 (all) and $3 (the leader).
run_rows() {
    local system="$1" all="$2" leader="$3" row id label args run status before used
    echo "warm-up: closed loop, 64 connections over all members, 3 s"
    bench "$system" --endpoints "$all" --connections 64 --duration 3 --max-failures 1000000 >/dev/null
    for row in "${ROWS[@]}"; do
        IFS='|' read -r id label args <<<"$row"
        args="${args//@ALL/$all}"
        args="${args//@LEADER/$leader}"
        echo "$system: $label"
        for run in $(seq 1 "$RUNS"); do
            conditions
            before=$(server_cpu)
            status=0
            # shellcheck disable=SC2086  # $args is a word list without spaces inside words
            bench "$system" $args --duration "$DURATION" >"$WORK/$system-$id-$run.json" || status=$?
            # Exit 1 (failures) is reported in the run's line and the table; 3 (unreachable) stops.
            (( status <= 1 )) || exit "$status"
            used=$(awk -v a="$(server_cpu)" -v b="$before" 'BEGIN { printf "%.2f", a - b }')
            jq -r --arg run "$run" --arg cpu "$used" '
                ([.wrong_status | to_entries[] | "status \(.key): \(.value)"]
                 + [["without marker", .missing_marker], ["transport", .transport_errors], ["timeout", .timeouts], ["unsent", .unsent]
                    | select(.[1] > 0) | "\(.[0]): \(.[1])"]) as $why
                | "  run \($run): \(.events_per_second | floor)/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, p99.9 \(.latency.p999_ms) ms, max \(.latency.max_ms) ms, failures \(.failures)\(if ($why | length) > 0 then " (" + ($why | join(", ")) + ")" else "" end); CPU s: servers \($cpu), incident-bench \(.client_cpu_seconds * 100 | floor / 100)"' \
                "$WORK/$system-$id-$run.json"
            if [[ -n "${OUT:-}" ]]; then cp "$WORK/$system-$id-$run.json" "$OUT/"; fi
        done
    done
}

# Event → webhook page through the cluster, RUNS times: every event opens its own incident, which
# the cluster pages to incident-bench's receiver; missing or duplicate pages count as failures.
run_webhook() {
    local all="$1" run status
    configure_bench_paging "${all%%,*}" "$KEY" "$WEBHOOK_PORT"
    echo "ours: event → webhook page, $WEBHOOK_RATE events/s over all nodes (64 connections), each a new incident"
    for run in $(seq 1 "$RUNS"); do
        conditions
        status=0
        INCIDENT_BENCH_API_KEY="$KEY" "$BIN_DIR/incident-bench" --endpoints "$all" --rate "$WEBHOOK_RATE" --connections 64 \
            --duration "$DURATION" --distinct 0 --webhook-listen "http://127.0.0.1:$WEBHOOK_PORT" --json >"$WORK/ours-webhook-$run.json" || status=$?
        (( status <= 1 )) || exit "$status"
        jq -r --arg run "$run" '"  run \($run): \(.webhook.paged) of \(.webhook.acknowledged) events paged (missing \(.webhook.missing), duplicates \(.webhook.duplicates)); event → page p50 \(.webhook.latency.p50_ms) ms, p99 \(.webhook.latency.p99_ms) ms, max \(.webhook.latency.max_ms) ms; ack p99 \(.latency.p99_ms) ms"' "$WORK/ours-webhook-$run.json"
        if [[ -n "${OUT:-}" ]]; then cp "$WORK/ours-webhook-$run.json" "$OUT/"; fi
    done
}

run_ours() {
    cluster/up.sh "$TOPOLOGY" >"$WORK/up.txt"
    local dir leader id
    dir="$(cluster_dir "$TOPOLOGY")"
    KEY="$(cat "$dir/admin.key")"
    SERVER_PIDS=()
    for id in $(jq -r '.nodes[].id' "$TOPOLOGY"); do SERVER_PIDS+=("$(cat "$dir/node-$id/pid")"); done
    leader="$(wait_for_leader "$TOPOLOGY" 30)"
    echo "incidentd: 3 nodes (PIDs ${SERVER_PIDS[*]}), leader node $leader, data under $dir"
    run_rows ours "$(jq -r '[.nodes[] | "http://\(.api)"] | join(",")' "$TOPOLOGY")" "http://$(node_field "$TOPOLOGY" "$leader" api)"
    if [[ "$WEBHOOK" == 1 ]]; then run_webhook "$(jq -r '[.nodes[] | "http://\(.api)"] | join(",")' "$TOPOLOGY")"; fi
    # The leader row assumes one leader throughout; say so when it moved.
    local after; after="$(wait_for_leader "$TOPOLOGY" 30)" || after="none"
    [[ "$after" == "$leader" ]] || echo "note: the leader moved from node $leader to node $after during the runs" >&2
    keep_logs
    echo "incidentd logs kept in $LOGS"
    cluster/down.sh "$TOPOLOGY" >/dev/null
    SERVER_PIDS=()
}

etcd_client_url() { echo "http://127.0.0.1:${ETCD_CLIENT_PORTS[$1]}"; }

# The client URL of the member that the members agree is leader (by /v3/maintenance/status).
etcd_leader_url() {
    local deadline=$(( $(date +%s) + 30 )) i status leader member url
    while (( $(date +%s) < deadline )); do
        for i in 0 1 2; do
            url="$(etcd_client_url "$i")"
            status="$(curl -fsS -m 2 -X POST -d '{}' "$url/v3/maintenance/status" 2>/dev/null)" || continue
            leader="$(jq -r '.leader // "0"' <<<"$status")"
            member="$(jq -r '.header.member_id' <<<"$status")"
            if [[ "$leader" != "0" && "$leader" == "$member" ]]; then echo "$url"; return 0; fi
        done
        sleep 0.2
    done
    echo "no etcd leader within 30 s" >&2
    return 1
}

start_etcd() {
    local i cluster="" token="bench-etcd-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" deadline
    for i in 0 1 2; do cluster+="${cluster:+,}m$((i + 1))=http://127.0.0.1:${ETCD_PEER_PORTS[$i]}"; done
    for i in 0 1 2; do
        "$ETCD" --name "m$((i + 1))" --data-dir "$WORK/etcd-m$((i + 1))" \
            --listen-client-urls "$(etcd_client_url "$i")" --advertise-client-urls "$(etcd_client_url "$i")" \
            --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORTS[$i]}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORTS[$i]}" \
            --initial-cluster "$cluster" --initial-cluster-token "$token" --initial-cluster-state new \
            --logger zap --log-outputs stderr >"$WORK/etcd-m$((i + 1)).log" 2>&1 &
        ETCD_PIDS+=("$!")
    done
    SERVER_PIDS=("${ETCD_PIDS[@]}")
    deadline=$(( $(date +%s) + 60 ))
    for i in 0 1 2; do
        until curl -fs -m 2 "$(etcd_client_url "$i")/health" 2>/dev/null | grep -q '"health":"true"'; do
            if ! kill -0 "${ETCD_PIDS[$i]}" 2>/dev/null; then
                echo "etcd member m$((i + 1)) exited while starting; its log:" >&2
                tail -20 "$WORK/etcd-m$((i + 1)).log" >&2
                exit 1
            fi
            (( $(date +%s) < deadline )) || { echo "etcd not healthy within 60 s" >&2; exit 1; }
            sleep 0.1
        done
    done
}

run_etcd() {
    start_etcd
    local all="" i leader
    for i in 0 1 2; do all+="${all:+,}$(etcd_client_url "$i")"; done
    leader="$(etcd_leader_url)"
    echo "etcd $("$ETCD" --version | head -1 | awk '{ print $3 }'): 3 members (PIDs ${ETCD_PIDS[*]}), leader $leader, data under $WORK"
    run_rows etcd "$all" "$leader"
    local after; after="$(etcd_leader_url)" || after="none"
    [[ "$after" == "$leader" ]] || echo "note: the etcd leader moved from $leader to $after during the runs" >&2
    echo "etcd data on disk after the runs: $(du -sh "$WORK"/etcd-m1 | cut -f1) per member"
    stop_etcd
    SERVER_PIDS=()
}

# Median of JSON field $3 for system $1, row $2, or n/a when that system did not run.
cell() { if [[ -e "$WORK/$1-$2-1.json" ]]; then median_of "$1" "$2" "$3"; else echo "n/a"; fi; }
# Failures of system $1, row $2, summed over all runs.
failures() { if [[ -e "$WORK/$1-$2-1.json" ]]; then cat "$WORK/$1-$2"-*.json | jq -s 'map(.failures) | add'; else echo "n/a"; fi; }

# A rate with thousands separators (12,345), or n/a.
grouped() {
    awk -v v="$1" 'BEGIN {
        if (v == "n/a") { print v; exit }
        s = sprintf("%.0f", v); out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        print s out
    }'
}

# One table line per row: medians, the ratio of the throughput medians, failures over all runs.
table() {
    local row id label args ours etcd ratio
    echo "| row | ours events/s | etcd puts/s | ours/etcd | ours p50 / p99 ms | etcd p50 / p99 ms | failures ours / etcd |"
    echo "|---|---|---|---|---|---|---|"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r id label args <<<"$row"
        ours="$(cell ours "$id" .events_per_second)"
        etcd="$(cell etcd "$id" .events_per_second)"
        ratio="$(awk -v a="$ours" -v b="$etcd" 'BEGIN { if (b + 0 > 0 && a != "n/a") printf "%.2f×", a / b; else print "n/a" }')"
        printf '| %s | %s | %s | %s | %s / %s | %s / %s | %s / %s |\n' "$label" \
            "$(grouped "$ours")" "$(grouped "$etcd")" "$ratio" \
            "$(cell ours "$id" .latency.p50_ms)" "$(cell ours "$id" .latency.p99_ms)" \
            "$(cell etcd "$id" .latency.p50_ms)" "$(cell etcd "$id" .latency.p99_ms)" \
            "$(failures ours "$id")" "$(failures etcd "$id")"
    done
}

release_binaries
install_etcd
SOURCE="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ' (with uncommitted changes)')"
MACHINE="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ { print $2 }') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
echo "machine: $MACHINE"
echo "source: $SOURCE; RUNS=$RUNS, DURATION=$DURATION s, DISTINCT=$DISTINCT, VALUE_BYTES=$VALUE_BYTES"
STARTED="$(date -u '+%Y-%m-%d %H:%M')"

if [[ " $SYSTEMS " == *" ours "* ]]; then run_ours; fi
if [[ " $SYSTEMS " == *" etcd "* ]]; then run_etcd; fi

{
    echo "Side by side, $STARTED–$(date -u +%H:%M) UTC: \`RUNS=$RUNS DURATION=$DURATION cluster/bench.sh\`; source $SOURCE;"
    echo "$MACHINE; etcd $("$ETCD" --version | head -1 | awk '{ print $3 }') (Debian etcd-server), values of $VALUE_BYTES bytes;"
    echo "incidentd events with $DISTINCT distinct keys per run. Medians of $RUNS runs of $DURATION s per row (each column's median"
    echo "on its own); latency from the write (closed loop) or from the intended send time (fixed rate)."
    echo
    table
    if compgen -G "$WORK/ours-webhook-*.json" >/dev/null; then
        echo
        echo "| end to end (incidentd only) | p50 ms | p99 ms | max ms | pages missing / duplicated over all runs |"
        echo "|---|---|---|---|---|"
        printf '| event → webhook page, %s events/s over all nodes | %s | %s | %s | %s / %s |\n' "$(grouped "$WEBHOOK_RATE")" \
            "$(cell ours webhook .webhook.latency.p50_ms)" "$(cell ours webhook .webhook.latency.p99_ms)" "$(cell ours webhook .webhook.latency.max_ms)" \
            "$(jq -s 'map(.webhook.missing) | add' "$WORK"/ours-webhook-*.json)" "$(jq -s 'map(.webhook.duplicates) | add' "$WORK"/ours-webhook-*.json)"
    fi
} >"$TABLE"
echo
cat "$TABLE"
echo
echo "table written to $TABLE"
