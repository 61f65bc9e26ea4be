#!/usr/bin/env bash
# The whole test suite. Installs what it needs (idempotently), then runs `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --parallel
