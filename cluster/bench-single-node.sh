#!/usr/bin/env bash
# Single-node incidentd benchmark (docs/BENCHMARKS.md, "incidentd single node").
#
# Builds incidentd and incident-bench in release mode, starts incidentd on 127.0.0.1 with a data
# directory under /var/tmp, a known admin key and rate limits out of the way, warms it up, then:
#   1. closed loop, 64 connections, 10 s            (RUNS times)  -> events/s acknowledged after fsync
#   2. fixed rate 2,000 events/s, 10 s               (RUNS times)  -> p99 latency from the intended send time
#   4. (phase "webhook") end to end: a fresh node configured to page a webhook receiver inside
#      incident-bench for every new incident; 1,000 events/s for 10 s, each opening its own incident
#      (RUNS times) -> event POST to first page at the receiver, p50/p99, missing and duplicate pages
#   3. loads RESTART_EVENTS events (arrays of RESTART_BATCH) into a fresh node, then stops and restarts it
#      RUNS times, timing each start until /api/v1/ready answers "ready"
# and prints every run and the medians. It stops only the incidentd it started (by PID) and
# removes its temporary directory on exit.
#
# Environment: RUNS (default 3), PORT (default 18080), RESTART_EVENTS (default 1000000),
# RESTART_DISTINCT (distinct incidents among them, default 10000), RESTART_BATCH (events per
# request while loading, default 1000; 1 makes one log entry per event), SKIP_BUILD=1 to use the
# existing release build, OUT=<dir> to keep every run's JSON report there, PHASES (default
# "closed rate webhook restart"), WEBHOOK_PORT (receiver, default PORT+1), WEBHOOK_RATE (default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/bench-paging.sh

RUNS=${RUNS:-3}
PORT=${PORT:-18080}
RESTART_EVENTS=${RESTART_EVENTS:-1000000}
RESTART_DISTINCT=${RESTART_DISTINCT:-10000}
RESTART_BATCH=${RESTART_BATCH:-1000}
PHASES=${PHASES:-"closed rate webhook restart"}
WEBHOOK_PORT=${WEBHOOK_PORT:-$((PORT + 1))}
WEBHOOK_RATE=${WEBHOOK_RATE:-1000}
ENDPOINT="http://127.0.0.1:${PORT}"
READY_TIMEOUT_SECONDS=600
STOP_TIMEOUT_SECONDS=60
KEY="bench-admin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

# curl polls readiness, jq reads the JSON reports; installed (Debian) only when missing.
for tool in curl jq; do
    if ! command -v "$tool" >/dev/null; then
        SUDO=""; [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq curl jq
        break
    fi
done

if [[ -z "${SKIP_BUILD:-}" ]]; then
    ./scripts/install-deps.sh
    swift build -c release --product incidentd
    swift build -c release --product incident-bench
fi
BIN="$(swift build -c release --show-bin-path)"
WORK="$(mktemp -d /var/tmp/incidentd-bench.XXXXXX)"
[[ -n "${OUT:-}" ]] && mkdir -p "$OUT"
NODE_PID=""

stop_node() {
    [[ -n "$NODE_PID" ]] || return 0
    kill -TERM "$NODE_PID" 2>/dev/null || true
    local tenths=0
    while kill -0 "$NODE_PID" 2>/dev/null && (( tenths < STOP_TIMEOUT_SECONDS * 10 )); do
        sleep 0.1
        tenths=$((tenths + 1))
    done
    if kill -0 "$NODE_PID" 2>/dev/null; then
        echo "incidentd ($NODE_PID) did not stop within ${STOP_TIMEOUT_SECONDS} s; killing it" >&2
        kill -KILL "$NODE_PID" 2>/dev/null || true
    fi
    wait "$NODE_PID" 2>/dev/null || true
    NODE_PID=""
}

cleanup() {
    stop_node
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

# Starts incidentd on data directory $1 (sets NODE_PID) and sets READY_MS to the milliseconds
# from launch until /api/v1/ready answers "ready". Not to be called in a subshell.
start_node() {
    local data="$1" started deadline
    started=$(now_ms)
    INCIDENTD_BOOTSTRAP_ADMIN_KEY="$KEY" "$BIN/incidentd" --data-dir "$data" --host 127.0.0.1 --port "$PORT" \
        --rate-limit-rps 1000000 --rate-limit-burst 1000000 >>"$WORK/incidentd.log" 2>&1 &
    NODE_PID=$!
    deadline=$((started + READY_TIMEOUT_SECONDS * 1000))
    until curl -fs -m 2 "$ENDPOINT/api/v1/ready" 2>/dev/null | grep -q '"status":"ready"'; do
        if ! kill -0 "$NODE_PID" 2>/dev/null; then
            echo "incidentd exited while starting; its log:" >&2
            tail -20 "$WORK/incidentd.log" >&2
            exit 1
        fi
        if (( $(now_ms) > deadline )); then
            echo "incidentd not ready within ${READY_TIMEOUT_SECONDS} s" >&2
            exit 1
        fi
        sleep 0.01
    done
    READY_MS=$(( $(now_ms) - started ))
}

# The applied index from /api/v1/ready, retried (bounded) past spurious 503 answers.
applied_index() {
    local body
    for _ in $(seq 1 100); do
        if body=$(curl -fs -m 2 "$ENDPOINT/api/v1/ready"); then
            jq '.components.storage.applied_index' <<<"$body"
            return 0
        fi
        sleep 0.02
    done
    echo "no ready answer from $ENDPOINT in 100 tries" >&2
    return 1
}

bench() { INCIDENT_BENCH_API_KEY="$KEY" "$BIN/incident-bench" --endpoints "$ENDPOINT" "$@"; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

machine() {
    echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ { print $2 }') GiB," \
        "$(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r), $(swift --version 2>/dev/null | head -1)"
    echo "source: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ' (with uncommitted changes)')" \
        "${SKIP_BUILD:+(SKIP_BUILD: binaries built $(date -u -r "$BIN/incidentd" '+%Y-%m-%d %H:%M UTC'), maybe from older sources)}"
}

# CPU seconds (user + system) incidentd has used so far.
node_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$NODE_PID/stat"; }

# CPU seconds used by every live process and the children they have reaped (so short-lived
# compiler processes count once they exit). The change over a run, less incidentd's and
# incident-bench's own, is what the rest of the machine took meanwhile.
machine_busy() {
    # A process may exit between the glob and the read: ignore cat's complaint about it.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } |
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { printf "%.2f", s / hz }'
}

conditions() { echo "  [$(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), other swift builds running: $(pgrep -c -x swift-build || true)]"; }

# Runs incident-bench RUNS times with the given arguments; keeps each JSON report in $WORK/$1-<run>.json.
measure() {
    local name="$1"
    shift
    for run in $(seq 1 "$RUNS"); do
        conditions
        local node_before busy_before node_used busy_used
        node_before=$(node_cpu)
        busy_before=$(machine_busy)
        # Exit 1 (failures past --max-failures) is reported in the run's line; 3 (unreachable) stops.
        local status=0
        bench "$@" --json >"$WORK/$name-$run.json" || status=$?
        (( status <= 1 )) || exit "$status"
        node_used=$(awk -v a="$(node_cpu)" -v b="$node_before" 'BEGIN { printf "%.2f", a - b }')
        busy_used=$(awk -v a="$(machine_busy)" -v b="$busy_before" 'BEGIN { printf "%.2f", a - b }')
        # "others": CPU the rest of the machine used meanwhile (builds, tests): noise in the figures.
        jq -r --arg run "$run" --arg node "$node_used" --arg busy "$busy_used" \
            '"  run \($run): \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p90 \(.latency.p90_ms) ms, p99 \(.latency.p99_ms) ms, p99.9 \(.latency.p999_ms) ms, max \(.latency.max_ms) ms, failures \(.failures); CPU s: incidentd \($node), incident-bench \(.client_cpu_seconds * 100 | floor / 100), others \(($busy | tonumber) - ($node | tonumber) - .client_cpu_seconds | . * 100 | floor / 100)"' \
            "$WORK/$name-$run.json"
        [[ -n "${OUT:-}" ]] && cp "$WORK/$name-$run.json" "$OUT/"
    done
    echo "  median of $RUNS: $(for f in "$WORK/$name"-*.json; do jq '.events_per_second' "$f"; done | median | xargs printf '%.0f') events/s," \
        "p50 $(for f in "$WORK/$name"-*.json; do jq '.latency.p50_ms' "$f"; done | median) ms," \
        "p99 $(for f in "$WORK/$name"-*.json; do jq '.latency.p99_ms' "$f"; done | median) ms," \
        "p99.9 $(for f in "$WORK/$name"-*.json; do jq '.latency.p999_ms' "$f"; done | median) ms"
}

machine
if [[ " $PHASES " == *" closed "* || " $PHASES " == *" rate "* ]]; then
    start_node "$WORK/load"
    echo "started incidentd (PID $NODE_PID) on $ENDPOINT, data in $WORK/load: ready after $READY_MS ms"
    echo "warm-up: closed loop, 64 connections, 3 s"
    bench --connections 64 --duration 3 --max-failures 1000000 --json >/dev/null
    if [[ " $PHASES " == *" closed "* ]]; then
        echo "closed loop: 64 connections, 10 s, one event per request (incident-bench --connections 64 --duration 10)"
        measure closed --connections 64 --duration 10
    fi
    if [[ " $PHASES " == *" rate "* ]]; then
        echo "fixed rate: 2,000 events/s, 10 s, 64 connections (incident-bench --rate 2000 --connections 64 --duration 10)"
        measure rate --rate 2000 --connections 64 --duration 10
    fi
    stop_node
fi


if [[ " $PHASES " == *" webhook "* ]]; then
    start_node "$WORK/webhook"
    configure_bench_paging "$ENDPOINT" "$KEY" "$WEBHOOK_PORT"
    echo "end to end: $WEBHOOK_RATE events/s for 10 s, every event a new incident paged to a receiver on port $WEBHOOK_PORT" \
        "(incident-bench --rate $WEBHOOK_RATE --distinct 0 --webhook-listen http://127.0.0.1:$WEBHOOK_PORT)"
    for run in $(seq 1 "$RUNS"); do
        conditions
        status=0
        bench --rate "$WEBHOOK_RATE" --connections 64 --duration 10 --distinct 0 \
            --webhook-listen "http://127.0.0.1:$WEBHOOK_PORT" --json >"$WORK/webhook-$run.json" || status=$?
        (( status <= 1 )) || exit "$status"
        jq -r --arg run "$run" '"  run \($run): \(.webhook.paged) of \(.webhook.acknowledged) events paged (missing \(.webhook.missing), duplicates \(.webhook.duplicates)); event → page p50 \(.webhook.latency.p50_ms) ms, p90 \(.webhook.latency.p90_ms) ms, p99 \(.webhook.latency.p99_ms) ms, max \(.webhook.latency.max_ms) ms; ack p99 \(.latency.p99_ms) ms"' "$WORK/webhook-$run.json"
        [[ -n "${OUT:-}" ]] && cp "$WORK/webhook-$run.json" "$OUT/"
    done
    echo "  median of $RUNS: event → page p50 $(for f in "$WORK"/webhook-*.json; do jq '.webhook.latency.p50_ms' "$f"; done | median) ms," \
        "p99 $(for f in "$WORK"/webhook-*.json; do jq '.webhook.latency.p99_ms' "$f"; done | median) ms"
    stop_node
fi

if [[ " $PHASES " == *" restart "* ]]; then
    requests=$(( (RESTART_EVENTS + RESTART_BATCH - 1) / RESTART_BATCH ))
    connections=$(( RESTART_BATCH > 1 ? 4 : 64 ))
    echo "restart: loading $((requests * RESTART_BATCH)) events ($RESTART_DISTINCT distinct incidents) as $requests requests of $RESTART_BATCH into a fresh node"
    : >"$WORK/incidentd.log"
    start_node "$WORK/restart"
    echo "  started incidentd (PID $NODE_PID): ready after $READY_MS ms (empty)"
    bench --batch "$RESTART_BATCH" --requests "$requests" --connections "$connections" --distinct "$RESTART_DISTINCT" \
        --timeout-ms 60000 --json >"$WORK/load.json" || (( $? <= 1 ))
    jq -r '"  loaded: \(.valid * .batch) events acknowledged in \(.elapsed_seconds * 100 | floor / 100) s (\(.events_per_second | floor) events/s), failures \(.failures)"' "$WORK/load.json"
    before=$(applied_index)
    stop_node
    echo "  data directory: $(du -sh "$WORK/restart" | cut -f1); applied index $before;" \
        "$(grep -c 'snapshot taken' "$WORK/incidentd.log" || true) snapshots taken while loading, the last: $(grep 'snapshot taken' "$WORK/incidentd.log" | tail -1 | grep -o 'index=[0-9]*' || echo none)"
    : >"$WORK/restart-times"
    for run in $(seq 1 "$RUNS"); do
        conditions
        start_node "$WORK/restart"
        after=$(applied_index)
        echo "  run $run: ready after $READY_MS ms (applied index $after; $before before the first stop)"
        (( after >= before )) || { echo "applied index went back after restart" >&2; exit 1; }
        echo "$READY_MS" >>"$WORK/restart-times"
        stop_node
    done
    echo "  median of $RUNS: $(median <"$WORK/restart-times") ms from launch to ready with $RESTART_EVENTS events"
fi
