#!/usr/bin/env bash
# The project's threads under ThreadSanitizer: builds everything with `--sanitize=thread` into
# .build-tsan (~10 min from scratch), then runs
#   1. the in-process suites: the lock, the node runtime (consensus loop, inbox, sync and snapshot
#      threads), the peer transport, the HTTP surface, notification delivery, the load generator,
#      and the incident table's sharing with the snapshot thread;
#   2. the process-level suites: real nodes and clusters of the instrumented `incidentd` (next to
#      the tests in .build-tsan), incidentctl against it, the archive against a real PostgreSQL;
# with every process's reports going to files under REPORTS (TSAN_OPTIONS log_path); and fails
# when a test fails or any report was written. ~16 min of tests on two cores.
# Tests that check the allocator skip themselves: TSan's runtime serves malloc itself.
#
#   scripts/tsan.sh
#   FILTER='IncidentNodeTests' scripts/tsan.sh      # one part of the in-process suites only
set -euo pipefail
cd "$(dirname "$0")/.."
REPORTS="${REPORTS:-/var/tmp/incidentd-tsan-reports}"
IN_PROCESS="${FILTER:-LockTests|ClusterNodeTests|ClusterWireTests|IncidentAPITests|NotifierTests|IncidentBenchTests|IncidentTableTests|DeterminismPropertyTests}"
PROCESSES='IncidentdIntegrationTests|IncidentctlTests|ArchiveTests'
./scripts/install-deps.sh --tests
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
export TSAN_OPTIONS="log_path=$REPORTS/report ${TSAN_OPTIONS:-}"
status=0
swift test --skip-build --sanitize=thread --scratch-path .build-tsan --disable-swift-testing --filter "$IN_PROCESS" || status=$?
if [ -z "${FILTER:-}" ]; then
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan --disable-swift-testing --filter "$PROCESSES" || status=$?
fi
if compgen -G "$REPORTS/report*" >/dev/null; then
    echo "ThreadSanitizer reports (one file per process):" >&2
    for report in "$REPORTS"/report*; do echo "== $report" >&2; grep -E 'WARNING|SUMMARY' "$report" >&2 || true; done
    exit 1
fi
[ "$status" -eq 0 ] || { echo "tests failed under ThreadSanitizer (exit $status)" >&2; exit "$status"; }
echo "ThreadSanitizer: no reports"
