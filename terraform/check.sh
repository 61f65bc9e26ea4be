#!/usr/bin/env bash
# Offline check of terraform/: no AWS account, no network, nothing written to the tree.
#
#   bash terraform/check.sh            (from any directory)
#
# 1. terraform fmt -check -recursive
# 2. terraform init -backend=false from a filesystem provider mirror (TF_PLUGIN_MIRROR, default
#    /opt/tf-plugins, holding registry.terraform.io/hashicorp/aws), in a temporary copy of the
#    tree with TF_DATA_DIR in a temporary directory; then terraform validate
# 3. offline plans of the fixtures in tests/fixtures (offline_plan = true), each turned into JSON
#    and checked by tests/check_plan.py; every AWS API call would go through an unreachable
#    proxy, so a plan that needed one would fail
# 4. plans that variable validation must refuse, each with the message that names the problem
#    (every case against the variable rules alone, the main ones against the whole configuration)
#
#    and, with INCIDENTD and INCIDENTCTL set to built binaries (required under CI=true), each
#    plan's node configurations started as a real cluster on loopback (tests/run_configs.py)
# Environment: TERRAFORM (binary, default terraform), TF_PLUGIN_MIRROR, KEEP_WORK=1 (keep the
# temporary directory and print it).
set -euo pipefail

TF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
TERRAFORM="${TERRAFORM:-terraform}"
started=$(date +%s)
assertions=0
started_clusters=0
# With INCIDENTD and INCIDENTCTL (built binaries), every plan's rendered node configurations are
# also started as a real cluster on loopback (tests/run_configs.py). Required under CI=true.
INCIDENTD="${INCIDENTD:-}"
INCIDENTCTL="${INCIDENTCTL:-}"

die() { echo "terraform check: FAILED: $*" >&2; exit 1; }
step() { echo "--- [$(($(date +%s) - started))s] $*"; }

command -v "$TERRAFORM" >/dev/null || die "$TERRAFORM not found"
command -v python3 >/dev/null || die "python3 not found"
if [[ -n "$INCIDENTD" || -n "$INCIDENTCTL" || "${CI:-}" == "true" ]]; then
    [[ -x "$INCIDENTD" && -x "$INCIDENTCTL" ]] ||
        die "INCIDENTD and INCIDENTCTL must name built incidentd and incidentctl binaries (required under CI=true)"
fi
[[ -d "$MIRROR/registry.terraform.io/hashicorp/aws" ]] ||
    die "no hashicorp/aws provider in the mirror $MIRROR (set TF_PLUGIN_MIRROR)"

work="$(mktemp -d "${TMPDIR:-/tmp}/incidentd-tf-check.XXXXXX")"
if [[ -n "${KEEP_WORK:-}" ]]; then
    trap 'echo "work directory kept: $work"' EXIT
else
    trap 'rm -rf "$work"' EXIT
fi

# Terraform's environment: the mirror only, no update checks, no credentials or profiles of the
# caller, and a dead proxy so that any AWS API call fails at once instead of reaching AWS.
cat >"$work/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
tf() {
    env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
        -u AWS_DEFAULT_REGION -u AWS_REGION -u TF_WORKSPACE \
        TF_CLI_CONFIG_FILE="$work/terraformrc" TF_DATA_DIR="$work/data" TF_IN_AUTOMATION=1 \
        CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
        AWS_SHARED_CREDENTIALS_FILE=/dev/null HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
        NO_PROXY= https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 no_proxy= \
        "$TERRAFORM" -chdir="$work/tf" "$@"
}

# --- 1. formatting ---------------------------------------------------------------------------
step "terraform fmt -check -recursive"
if ! out="$(TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 "$TERRAFORM" fmt -check -recursive -diff -no-color "$TF_DIR" 2>&1)"; then
    echo "$out" >&2
    die "terraform fmt: the files above need 'terraform fmt -recursive terraform/'"
fi
assertions=$((assertions + 1))

# --- 2. init + validate in a copy (the lock file and .terraform stay out of the tree) ---------
step "terraform init (mirror $MIRROR) + validate"
mkdir -p "$work/tf"
# (A local terraform.tfvars or *.auto.tfvars would be loaded into every plan: leave them out.)
tar -C "$TF_DIR" --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' \
    --exclude='*.tfplan' --exclude=./terraform.tfvars --exclude='*.auto.tfvars' --exclude='*.auto.tfvars.json' \
    --exclude=./terraform.tfvars.json -cf - . | tar -C "$work/tf" -xf -
tf init -backend=false -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; die "terraform init"; }
tf validate -no-color >"$work/validate.log" 2>&1 || { cat "$work/validate.log" >&2; die "terraform validate"; }
assertions=$((assertions + 2))

# --- 3. offline plans, checked ---------------------------------------------------------------
# name | expected voters | fixture | extra -var arguments (space-separated, no spaces inside)
positive=(
    "three-regions|3|three-regions.tfvars|"
    "five-nodes|5|five-nodes.tfvars|"
    "three-regions-no-archive|3|three-regions.tfvars|-var=archive={enabled=false}"
)
secrets_of() {  # the fixture's fake secrets: check_plan.py asserts they never reach the plan
    sed -n 's/^archive_db_password *= *"\(.*\)"$/\1/p' "$TF_DIR/tests/fixtures/$1"
}
plan_one() {
    local name="$1" fixture="$2" extra="$3"
    # shellcheck disable=SC2086  # extra holds whole -var=... words
    tf plan -input=false -no-color -lock=false -refresh=false -var-file="tests/fixtures/$fixture" $extra \
        -out="$work/$name.tfplan" >"$work/$name.plan.log" 2>&1 &&
        tf show -json -no-color "$work/$name.tfplan" >"$work/$name.json" 2>"$work/$name.show.log"
}
step "offline plans: ${positive[*]%%|*}"
pids=()
for entry in "${positive[@]}"; do
    IFS='|' read -r name _ fixture extra <<<"$entry"
    plan_one "$name" "$fixture" "$extra" &
    pids+=("$!")
done
for i in "${!positive[@]}"; do
    name="${positive[$i]%%|*}"
    if ! wait "${pids[$i]}"; then
        cat "$work/$name.plan.log" "$work/$name.show.log" 2>/dev/null | tail -n 60 >&2
        die "offline plan $name failed (an AWS API call would show as a proxyconnect error)"
    fi
done
for entry in "${positive[@]}"; do
    IFS='|' read -r name voters fixture _ <<<"$entry"
    secret_args=()
    while IFS= read -r s; do [[ -n "$s" ]] && secret_args+=(--secret "$s"); done < <(secrets_of "$fixture")
    ((${#secret_args[@]})) || die "fixture $fixture has no archive_db_password to look for"
    secret_args+=(--secret "offline-plan-placeholder-not-a-credential")
    out="$(python3 "$TF_DIR/tests/check_plan.py" "$work/$name.json" --expect-nodes "$voters" --label "$name" "${secret_args[@]}")" ||
        die "plan assertions for $name (listed above)"
    echo "$out"
    n="$(sed -n 's/.*: \([0-9][0-9]*\) assertions passed.*/\1/p' <<<"$out")"
    assertions=$((assertions + ${n:-0}))
    if [[ -n "$INCIDENTD" ]]; then
        python3 "$TF_DIR/tests/run_configs.py" "$work/$name.json" --incidentd "$INCIDENTD" --incidentctl "$INCIDENTCTL" \
            --label "$name" || die "the plan's configurations of $name do not make a working cluster"
        started_clusters=$((started_clusters + 1))
    fi
done

# --- 4. plans variable validation must refuse ------------------------------------------------
# name | scope | -var arguments (space-separated words) | text the error must contain
#
# Every case is planned against a root holding only variables.tf (the same file, so the same
# rules; no providers, a fraction of a second each), and the cases marked "full" against the
# whole configuration too, proving that a real plan is refused. (Each full plan costs as much as
# a real one: planning all twelve that way would double the check's time.)
negative=(
    "even-voters|full|-var=nodes_per_region={\"us-east-1\"=2}|must add up to an odd number of voters"
    "majority-in-one-region|rules|-var=nodes_per_region={\"us-east-1\"=3}|half or more of the voters in one region"
    "overlapping-cidrs|full|-var=vpc_cidrs={\"us-east-1\"=\"10.10.0.0/16\",\"eu-west-1\"=\"10.10.128.0/17\",\"ap-south-1\"=\"10.30.0.0/16\"}|vpc_cidrs overlap"
    "bad-sha256|full|-var=release_sha256=0123456789abcdef|release_sha256 must be a SHA-256 digest"
    "uppercase-sha256|rules|-var=release_sha256=5F1C2E8A9B3D4C6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6|release_sha256 must be a SHA-256 digest"
    "two-regions|rules|-var=regions=[\"us-east-1\",\"eu-west-1\"]|must list exactly 3 distinct regions"
    "duplicate-region|rules|-var=regions=[\"us-east-1\",\"us-east-1\",\"ap-south-1\"]|must list exactly 3 distinct regions"
    "election-too-short|rules|-var=raft_timing={heartbeat_ticks=2,election_ticks=10}|election_ticks must be at least 10 x heartbeat_ticks"
    "weak-archive-password|rules|-var=archive_db_password=short|archive_db_password is required when the archive is enabled"
    "archive-region-elsewhere|rules|-var=archive={region=\"us-west-2\"}|archive.region must be one of var.regions"
    "ssh-from-anywhere|rules|-var=ssh_cidrs=[\"0.0.0.0/0\"]|ssh_cidrs must be IPv4 CIDRs, and not 0.0.0.0/0"
    "plain-http-release|rules|-var=release_url=http://releases.example.com/incidentd.tar.gz|release_url must be an https:// URL"
)
mkdir -p "$work/rules/tests"
cp "$TF_DIR/variables.tf" "$work/rules/"
cp -r "$TF_DIR/tests/fixtures" "$work/rules/tests/"
rules() { env TF_CLI_CONFIG_FILE="$work/terraformrc" TF_DATA_DIR="$work/rules-data" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 \
    "$TERRAFORM" -chdir="$work/rules" "$@"; }
refuse_one() {  # refuse_one NAME ROOT(tf|rules) ARGS
    local name="$1" root="$2" args="$3" rc=0
    # shellcheck disable=SC2086  # args holds whole -var=... words
    "$root" plan -input=false -no-color -lock=false -refresh=false -var-file=tests/fixtures/three-regions.tfvars $args \
        >"$work/neg-$root-$name.log" 2>&1 || rc=$?
    echo "$rc" >"$work/neg-$root-$name.rc"
}
expect_refused() {  # expect_refused NAME ROOT EXPECTED
    local name="$1" root="$2" expected="$3" rc text
    rc="$(cat "$work/neg-$root-$name.rc" 2>/dev/null || echo missing)"
    text="$(tr -s '[:space:]' ' ' <"$work/neg-$root-$name.log")"
    [[ "$rc" != 0 ]] || die "refusal case $name ($root): terraform plan succeeded, but the variables are invalid"
    if [[ "$text" != *"Invalid value for variable"* || "$text" != *"$expected"* ]]; then
        tail -n 30 "$work/neg-$root-$name.log" >&2
        die "refusal case $name ($root): exit $rc, but the output does not name the problem (\"$expected\")"
    fi
    assertions=$((assertions + 2))
}

step "plans that must be refused: ${#negative[@]} by the variable rules, the \"full\" ones by the whole configuration too"
rules init -backend=false -input=false -no-color >"$work/rules-init.log" 2>&1 || { cat "$work/rules-init.log" >&2; die "init of the rules-only root"; }
# Control: the rules accept every fixture as it is.
for fixture in "$TF_DIR"/tests/fixtures/*.tfvars; do
    rules plan -input=false -no-color -lock=false -var-file="tests/fixtures/$(basename "$fixture")" >"$work/rules-ok.log" 2>&1 ||
        { cat "$work/rules-ok.log" >&2; die "the variable rules refuse the valid fixture $(basename "$fixture")"; }
    assertions=$((assertions + 1))
done
pids=()
for entry in "${negative[@]}"; do
    IFS='|' read -r name scope args _ <<<"$entry"
    [[ "$scope" == full ]] && { refuse_one "$name" tf "$args" & pids+=("$!"); }
done
for entry in "${negative[@]}"; do
    IFS='|' read -r name _ args _ <<<"$entry"
    refuse_one "$name" rules "$args"
done
wait "${pids[@]}" || true
for entry in "${negative[@]}"; do
    IFS='|' read -r name scope _ expected <<<"$entry"
    expect_refused "$name" rules "$expected"
    if [[ "$scope" == full ]]; then
        expect_refused "$name" tf "$expected"
        echo "refused as expected: $name (variable rules and full plan)"
    else
        echo "refused as expected: $name (variable rules)"
    fi
done

elapsed=$(($(date +%s) - started))
echo "terraform check: $assertions assertions passed (fmt, validate, ${#positive[@]} offline plans checked, ${#negative[@]} invalid inputs refused), $started_clusters plans' configurations started as clusters, in ${elapsed}s"
