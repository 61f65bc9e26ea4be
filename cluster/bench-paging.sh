# Shared by cluster/bench.sh and cluster/bench-single-node.sh: configures, through the API, what
# makes every incident-bench event page a webhook receiver at once.

# configure_bench_paging ENDPOINT KEY WEBHOOK_PORT — creates a user, a webhook channel pointing at
# http://127.0.0.1:WEBHOOK_PORT/page, a one-level policy, a team owning it and a routing rule for
# incident-bench's service ("bench service"). Exits when the API refuses any of them.
configure_bench_paging() {
    local endpoint="$1" key="$2" port="$3" path body
    while IFS='|' read -r path body; do
        curl -fsS -m 10 -o /dev/null -X POST "$endpoint$path" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" ||
            { echo "POST $path was refused" >&2; exit 1; }
    done <<EOF_CONFIG
/api/v1/users|{"id": "bench-oncall", "name": "Bench on-call"}
/api/v1/channels|{"id": "bench-hook", "name": "Bench receiver", "type": "webhook", "url": "http://127.0.0.1:$port/page"}
/api/v1/policies/escalation|{"id": "bench-policy", "name": "Bench", "levels": [{"delay": "30m", "targets": ["user:bench-oncall"], "channels": ["bench-hook"]}]}
/api/v1/teams|{"id": "bench-team", "name": "Bench", "members": ["bench-oncall"], "escalation_policy": "bench-policy"}
/api/v1/routing-rules|{"id": "bench-route", "name": "Bench service to the bench team", "match": {"services": ["bench service"]}, "team": "bench-team"}
EOF_CONFIG
}
