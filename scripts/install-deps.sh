#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only when something is missing.
set -euo pipefail
# liblz4-dev: snapshot and wire compression; libjemalloc-dev: the allocator (Sources/CAllocator);
# libpq-dev + pkg-config: the archive's client library; postgresql: the server ArchiveTests start.
packages=(liblz4-dev libjemalloc-dev libpq-dev postgresql pkg-config)
# --tests: also what only the test suite uses (shellcheck lints terraform/'s boot script).
[ "${1:-}" = "--tests" ] && packages+=(shellcheck)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift 6.3 toolchain not found on PATH" >&2; exit 1; }
