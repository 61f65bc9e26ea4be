#!/usr/bin/env bash
# The whole test suite. Installs what it needs (idempotently), then runs `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build --build-tests
# XCTest only (the suite has no Swift Testing tests; its empty run would print "0 tests" last).
# Sequential: XCTest then closes with "Executed N tests, with M failures".
swift test --skip-build --disable-swift-testing
