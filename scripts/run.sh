#!/usr/bin/env bash
# Runs incidentd as a single-node cluster on the embedded default data directory (./data) at
# http://127.0.0.1:8080. Installs what is missing first (idempotently), builds in release mode.
# Extra arguments go to incidentd (see `incidentd --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product incidentd
exec .build/release/incidentd "$@"
