#!/usr/bin/env bash
# Archive benchmark (issue #6; docs/BENCHMARKS.md, "Archive"). On this machine, in one run:
#
#   - a throwaway PostgreSQL from the installed binaries (initdb under /var/tmp, a loopback port,
#     fsync on; as the postgres user when run as root), stopped by PID at the end;
#   - the local-3 cluster (release build) archiving into it;
#   1. steady state: RATE events/s (default 5,000) over all three nodes for DURATION s (default
#      30); the archive lag (seconds of the oldest unarchived change, and entries) sampled from
#      GET /api/v1/cluster every 0.2 s -> median, p99, max of the samples after the first 5 s;
#   2. catch-up: PostgreSQL stopped, BACKLOG events (default 200,000, 10 per request, each its own
#      incident) ingested, PostgreSQL started again; the time until the journal is empty and the
#      rows the archiver wrote meanwhile -> rows/s.
# RUNS times (default 3) each, then the medians. Stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source cluster/lib.sh
ensure_tools
RUNS=${RUNS:-3}
RATE=${RATE:-5000}
DURATION=${DURATION:-30}
BACKLOG=${BACKLOG:-200000}
DISTINCT=${DISTINCT:-0}  # incidents per backlog run (0: every event opens its own, the heaviest mix)
TOPOLOGY="$(topology_file local-3)"
export CLUSTER_DIR="$(mktemp -d /var/tmp/incidentd-bench-archive.XXXXXX)"
WORK="$(mktemp -d /var/tmp/bench-archive.XXXXXX)"
PGROOT="$(mktemp -d /var/tmp/bench-archive-pg.XXXXXX)"
release_binaries

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$PGBIN/initdb" ]] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ "$(id -u)" -eq 0 ]] && chown postgres "$PGROOT"
PGPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg "$PGBIN/initdb" -D "$PGROOT/data" --auth=trust -U postgres >/dev/null
pg_start() {
    as_pg "$PGBIN/postgres" -D "$PGROOT/data" -c listen_addresses=127.0.0.1 -p "$PGPORT" -k "$PGROOT" >>"$PGROOT/postgres.log" 2>&1 &
    for _ in $(seq 1 100); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && return 0; sleep 0.1; done
    echo "PostgreSQL did not start; see $PGROOT/postgres.log" >&2; return 1
}
pg_stop() {
    local pid; pid="$(head -1 "$PGROOT/data/postmaster.pid" 2>/dev/null || true)"
    [[ -n "$pid" ]] || return 0
    kill -INT "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
cleanup() {
    if [[ -n "${KEEP_LOGS:-}" ]]; then
        mkdir -p "$KEEP_LOGS"
        for f in "$CLUSTER_DIR"/*/node-*/incidentd.log; do cp "$f" "$KEEP_LOGS/$(basename "$(dirname "$f")").log" 2>/dev/null || true; done
        cp "$PGROOT/postgres.log" "$KEEP_LOGS/" 2>/dev/null || true
    fi
    cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true
    pg_stop
    rm -rf "$CLUSTER_DIR" "$WORK" "$PGROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
percentile() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] }'; }

export INCIDENTD_EXTRA_ARGS="--archive-url postgres://postgres@127.0.0.1:$PGPORT/postgres"
cluster/up.sh "$TOPOLOGY" >"$WORK/up.txt"
DIR="$(cluster_dir "$TOPOLOGY")"
KEY="$(cat "$DIR/admin.key")"
LEADER="$(wait_for_leader "$TOPOLOGY" 30)"
ALL="$(jq -r '[.nodes[] | "http://\(.api)"] | join(",")' "$TOPOLOGY")"
LEADER_URL="http://$(node_field "$TOPOLOGY" "$LEADER" api)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB; source $(git rev-parse --short HEAD); leader node $LEADER; PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }') on :$PGPORT"
archive() { admin_curl "$TOPOLOGY" "$LEADER_URL/api/v1/cluster?consistency=local" | jq -c '.archive'; }
for _ in $(seq 1 300); do [[ "$(archive | jq -r '.holder // empty')" != "" ]] && break; sleep 0.1; done
HOLDER="$(archive | jq -r '.holder')"
HOLDER_URL="http://$(node_field "$TOPOLOGY" "$HOLDER" api)"
echo "archive lease held by node $HOLDER"
bench() { INCIDENT_BENCH_API_KEY="$KEY" "$BIN_DIR/incident-bench" "$@" --json; }
rows_written() { admin_curl "$TOPOLOGY" "$HOLDER_URL/api/v1/cluster?consistency=local" | jq -r '.archive.this_node.rows_written'; }
drained() { [[ "$(archive | jq -r '.journal_records')" == "0" ]]; }

for run in $(seq 1 "$RUNS"); do
    # 1. Steady state.
    : >"$WORK/lag-$run.txt"
    bench --endpoints "$ALL" --rate "$RATE" --connections 64 --duration "$DURATION" --max-failures 1000000 >"$WORK/steady-$run.json" &
    BENCH=$!
    start=$(date +%s.%N)
    while kill -0 "$BENCH" 2>/dev/null; do
        now=$(date +%s.%N)
        if awk -v a="$now" -v b="$start" 'BEGIN { exit !(a - b > 5) }'; then archive | jq -r '"\(.lag_seconds) \(.lag_entries)"' >>"$WORK/lag-$run.txt" || true; fi
        sleep 0.2
    done
    wait "$BENCH" || true
    lag_median=$(awk '{ print $1 }' "$WORK/lag-$run.txt" | median)
    lag_p99=$(awk '{ print $1 }' "$WORK/lag-$run.txt" | percentile 99)
    lag_max=$(awk '{ print $1 }' "$WORK/lag-$run.txt" | sort -n | tail -1)
    entries_p99=$(awk '{ print $2 }' "$WORK/lag-$run.txt" | percentile 99)
    echo "$lag_median $lag_p99 $lag_max" >"$WORK/steady-lag-$run.txt"
    jq -r --arg run "$run" --arg m "$lag_median" --arg p "$lag_p99" --arg x "$lag_max" --arg e "$entries_p99" \
        '"  steady run \($run): \(.events_per_second | floor) events/s acknowledged (p99 \(.latency.p99_ms) ms, failures \(.failures)); archive lag median \($m) s, p99 \($p) s, max \($x) s (p99 \($e) entries)"' \
        "$WORK/steady-$run.json"
    for _ in $(seq 1 600); do drained && break; sleep 0.1; done
done
# The catch-up runs after all steady runs: each leaves BACKLOG more incidents in state.
for run in $(seq 1 "$RUNS"); do
    # 2. Catch-up from a backlog.
    pg_stop
    bench --endpoints "$ALL" --connections 64 --requests $((BACKLOG / 10)) --batch 10 --distinct "$DISTINCT" --max-failures 1000000 >"$WORK/backlog-$run.json" || true
    journal=$(archive | jq -r '"\(.journal_records) records, \(.journal_bytes) bytes"')
    stalled=$(rows_written)
    pg_start
    # The clock starts at the first rows after the restart (the archiver's retry backoff is not
    # part of the write rate); the first batch's rows are not counted.
    for _ in $(seq 1 600); do [[ "$(rows_written)" != "$stalled" ]] && break; sleep 0.05; done
    before=$(rows_written)
    t0=$(date +%s.%N)
    for _ in $(seq 1 6000); do drained && break; sleep 0.05; done
    t1=$(date +%s.%N)
    after=$(rows_written)
    rate=$(awk -v r=$((after - before)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", r / (b - a) }')
    echo "$rate" >"$WORK/catchup-$run.txt"
    echo "  catch-up run $run: backlog of $(jq -r '.sent - .failures' "$WORK/backlog-$run.json") requests ($journal) -> $((after - before)) rows in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s = $rate rows/s"
done
echo "medians of $RUNS runs: archive lag at $RATE events/s: median $(awk '{ print $1 }' "$WORK"/steady-lag-*.txt | median) s," \
    "p99 $(awk '{ print $2 }' "$WORK"/steady-lag-*.txt | median) s, max $(awk '{ print $3 }' "$WORK"/steady-lag-*.txt | median) s;" \
    "catch-up $(cat "$WORK"/catchup-*.txt | median) rows/s"
