# Shared by cluster/up.sh, cluster/down.sh and chaos/*.sh: reads a topology file and manages the
# incidentd processes it describes. Only processes started by these scripts are ever stopped,
# by the PIDs they recorded.

# The topology file for a name (local-3) or a path.
topology_file() {
    local name="$1"
    if [[ -f "$name" ]]; then echo "$name"; else echo "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$name.json"; fi
}

# Where a topology's nodes keep data, logs, PIDs and the admin key.
cluster_dir() { echo "${CLUSTER_DIR:-/var/tmp/incidentd-cluster}/$(jq -r .cluster_id "$1")"; }

ensure_tools() {
    local tool missing=()
    for tool in curl jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    if ((${#missing[@]})); then
        local sudo=""; [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
    fi
}

# The incidentd binary: release build unless INCIDENTD is set.
incidentd_binary() {
    if [[ -n "${INCIDENTD:-}" ]]; then echo "$INCIDENTD"; return; fi
    local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    if [[ -z "${SKIP_BUILD:-}" ]]; then
        (cd "$root" && ./scripts/install-deps.sh >/dev/null && swift build -c release --product incidentd >&2)
    fi
    echo "$(cd "$root" && swift build -c release --show-bin-path)/incidentd"
}

# Builds incidentd and incident-bench in release mode (unless SKIP_BUILD) and sets BIN_DIR,
# INCIDENTD and BIN for the scripts that drive a cluster with load.
release_binaries() {
    if [[ -z "${SKIP_BUILD:-}" ]]; then
        ./scripts/install-deps.sh >/dev/null
        swift build -c release --product incidentd >&2
        swift build -c release --product incident-bench >&2
    fi
    export SKIP_BUILD=1
    BIN_DIR="$(swift build -c release --show-bin-path)"
    export INCIDENTD="$BIN_DIR/incidentd"
    BIN="$INCIDENTD"
}

# --peers for the founding (non-learner) nodes.
founding_peers() {
    jq -r '[.nodes[] | select(.learner != true) | "\(.id)=\(.peer)@\(.region)/\(.zone)"] | join(",")' "$1"
}

node_field() { jq -r --argjson id "$2" ".nodes[] | select(.id == \$id) | .$3" "$1"; }

# Starts node $2 of topology $1 (founder, or with --join when it is a learner), recording its PID.
start_node() {
    local topology="$1" id="$2" dir bin api peer region zone learner host port
    dir="$(cluster_dir "$topology")"
    bin="${BIN:?}"
    api="$(node_field "$topology" "$id" api)"; peer="$(node_field "$topology" "$id" peer)"
    region="$(node_field "$topology" "$id" region)"; zone="$(node_field "$topology" "$id" zone)"
    learner="$(node_field "$topology" "$id" learner)"
    host="${api%:*}"; port="${api##*:}"
    mkdir -p "$dir/node-$id"
    local extra=()
    if [[ "$learner" == "true" ]]; then extra+=(--join); else extra+=(--peers "$(founding_peers "$topology")"); fi
    local preferred; preferred="$(jq -r '.preferred_leader_regions | join(",")' "$topology")"
    [[ -n "$preferred" ]] && extra+=(--preferred-leader-regions "$preferred")
    # A simulated WAN (cluster/wan-5.json): this node's row of the one-way latency matrix.
    local delays; delays="$(jq -r --arg r "$region" '(.one_way_delay_ms[$r] // {}) | to_entries | map("\(.key)=\(.value)") | join(",")' "$topology")"
    [[ -n "$delays" ]] && extra+=(--peer-send-delay-ms "$delays")
    [[ -n "${TLS_DIR:-}" ]] && extra+=(--tls-ca "$TLS_DIR/ca.pem" --tls-cert "$TLS_DIR/node-$id.pem" --tls-key "$TLS_DIR/node-$id-key.pem" --tls-require-client-cert)
    INCIDENTD_BOOTSTRAP_ADMIN_KEY="$(cat "$dir/admin.key")" "$bin" \
        --data-dir "$dir/node-$id/data" --host "$host" --port "$port" --node-id "$id" \
        --cluster-id "$(jq -r .cluster_id "$topology")" --region "$region" --zone "$zone" \
        --peer-listen "$peer" --advertise-api "http://$api" \
        --rate-limit-rps "${RATE_LIMIT_RPS:-1000000}" --rate-limit-burst "${RATE_LIMIT_BURST:-1000000}" \
        --tick-interval-ms "${TICK_MS:-$(jq -r '.timing.tick_ms // 100' "$topology")}" \
        --election-ticks "${ELECTION_TICKS:-$(jq -r '.timing.election_ticks // 10' "$topology")}" \
        --heartbeat-ticks "$(jq -r '.timing.heartbeat_ticks // 1' "$topology")" \
        "${extra[@]}" ${INCIDENTD_EXTRA_ARGS:-} >>"$dir/node-$id/incidentd.log" 2>&1 &
    echo $! >"$dir/node-$id/pid"
    disown "$!" 2>/dev/null || true  # a drill's kill -9 is not a job-control event worth a message
}

# Stops node $2 with signal $3 (TERM by default) if this script family started it.
stop_node() {
    local dir pidfile pid signal="${3:-TERM}" tenths=0
    dir="$(cluster_dir "$1")"; pidfile="$dir/node-$2/pid"
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "-$signal" "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((tenths < 300)); do sleep 0.1; tenths=$((tenths + 1)); done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

admin_curl() { curl -fsS -m "${CURL_TIMEOUT:-5}" -H "Authorization: Bearer $(cat "$(cluster_dir "$1")/admin.key")" "${@:2}"; }

# The leader as node $2 reports it (0: none / unreachable).
leader_seen_by() {
    admin_curl "$1" "http://$(node_field "$1" "$2" api)/api/v1/cluster?consistency=local" 2>/dev/null | jq -r '.leader // 0' 2>/dev/null || echo 0
}

# Waits until every running founder (or each of the ids $3) reports the same non-zero leader;
# prints it.
wait_for_leader() {
    local topology="$1" timeout="${2:-30}" deadline ids leader seen agree
    deadline=$(( $(date +%s) + timeout ))
    ids="${3:-$(jq -r '.nodes[] | select(.learner != true) | .id' "$topology")}"
    while (( $(date +%s) < deadline )); do
        leader=""; agree=1
        for id in $ids; do
            [[ -f "$(cluster_dir "$topology")/node-$id/pid" ]] || continue
            seen="$(leader_seen_by "$topology" "$id")"
            if [[ "$seen" == "0" || ( -n "$leader" && "$seen" != "$leader" ) ]]; then agree=0; break; fi
            leader="$seen"
        done
        if (( agree )) && [[ -n "$leader" ]]; then echo "$leader"; return 0; fi
        sleep 0.1
    done
    echo "no agreed leader within ${timeout} s" >&2
    return 1
}

# For the benchmark scripts: cluster/local-3.json in a new directory under /var/tmp named after
# $1 (under BENCH_DATA_BASE instead when set, e.g. /dev/shm), stopped and removed on exit; sets
# TOPOLOGY and ALL (its API endpoints) and builds incident-bench when missing.
bench_workspace() {
    TOPOLOGY="$(topology_file local-3)"
    export CLUSTER_DIR="$(mktemp -d "${BENCH_DATA_BASE:-/var/tmp}/incidentd-$1.XXXXXX")"
    trap 'cluster/down.sh "$TOPOLOGY" >/dev/null 2>&1 || true; rm -rf "$CLUSTER_DIR"' EXIT
    [[ -x .build/release/incident-bench ]] || swift build -c release --product incident-bench >/dev/null
    ALL="$(jq -r '[.nodes[] | "http://\(.api)"] | join(",")' "$TOPOLOGY")"
}

# bench_workspace, then the cluster started from INCIDENTD (default the release build) and warmed
# up 2 s at 64 connections; also sets DIR (the cluster's directory), KEY (its admin key) and PIDS
# (its nodes' PIDs).
start_bench_cluster() {
    bench_workspace "$1"
    INCIDENTD="${INCIDENTD:-.build/release/incidentd}" SKIP_BUILD=1 cluster/up.sh "$TOPOLOGY" >/dev/null
    DIR="$(cluster_dir "$TOPOLOGY")"
    KEY="$(cat "$DIR/admin.key")"
    PIDS="$(cat "$DIR"/node-*/pid)"
    INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$ALL" --connections 64 --duration 2 \
        --distinct 1000 --max-failures 1000000 >/dev/null
}

# User + system clock ticks of the given PIDs so far.
server_ticks() {
    local total=0 pid
    for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
    echo "$total"
}

# Seconds of CPU the PIDs used since `server_ticks` printed $1.
cpu_seconds() {
    local before="$1"
    shift
    awk -v t="$(( $(server_ticks "$@") - before ))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# One fixed-rate run of incident-bench against the cluster of `start_bench_cluster`: RATE events/s
# for DURATION s over the endpoints $2 (256 connections, 1,000 distinct keys; further
# incident-bench arguments after $2), printed as one line starting with the label $1, with the CPU
# seconds its nodes used meanwhile. Leaves the JSON report in REPORT.
fixed_rate_run() {
    local label="$1" endpoints="$2" before
    shift 2
    before="$(server_ticks $PIDS)"
    REPORT="$(INCIDENT_BENCH_API_KEY="$KEY" .build/release/incident-bench --endpoints "$endpoints" --rate "$RATE" \
        --connections 256 --duration "$DURATION" --distinct 1000 "$@" --json)"
    jq -r --arg name "$label" --arg cpu "$(cpu_seconds "$before" $PIDS)" \
        '"\($name): \(.events_per_second | floor) events/s, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms, p99.9 \(.latency.p999_ms) ms, max \(.latency.max_ms) ms, failures \(.failures), server CPU \($cpu) s"' <<<"$REPORT"
}
