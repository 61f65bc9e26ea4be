#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the peer protocol's decoders (docs/PROTOCOL.md §2.12).
#
#   scripts/fuzz.sh [RUNS] [TARGET...]     RUNS defaults to 1000000; TARGET is one or more of
#                                          frame-stream handshake raft-codec forward (default all)
#
# The decoders live in the WireFormat module (pure Swift, no I/O). This script compiles
# Checksums, RaftCore and WireFormat with `swiftc -sanitize=fuzzer,address` into .build/fuzz
# (outside SwiftPM, so the normal `swift build`/`swift test` never see fuzzer flags), links one
# binary per target from Tests/Fuzz/Targets, writes seed corpora with Tests/Fuzz/SeedGenerator,
# and runs each target for RUNS executions over its seeds plus Tests/Fuzz/regressions/<target>.
# A crash leaves crash-* files in .build/fuzz/artifacts; copy them into the regressions folder.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${1:-1000000}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(frame-stream handshake raft-codec forward); fi

OUT=.build/fuzz
SWIFTC="${SWIFTC:-swiftc}"
FLAGS=(-O -parse-as-library -sanitize=fuzzer,address -use-ld=lld -I "$OUT" -I Sources/CLZ4)
mkdir -p "$OUT/artifacts"

module() {  # name, then its sources
    local name="$1"
    shift
    "$SWIFTC" "${FLAGS[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$OUT/$name.swiftmodule" \
        -emit-object -o "$OUT/$name.o" "$@"
}

echo "building modules into $OUT"
module Checksums Sources/Checksums/*.swift
module RaftCore Sources/RaftCore/*.swift
module WireFormat Sources/WireFormat/*.swift

"$SWIFTC" -O -use-ld=lld -I "$OUT" -I Sources/CLZ4 -sanitize=address Tests/Fuzz/SeedGenerator/main.swift \
    "$OUT/Checksums.o" "$OUT/RaftCore.o" "$OUT/WireFormat.o" -llz4 -o "$OUT/seed-generator"
"$OUT/seed-generator" "$OUT/corpus"

for target in "${TARGETS[@]}"; do
    case "$target" in
        frame-stream) source=FuzzFrameStream ;;
        handshake) source=FuzzHandshake ;;
        raft-codec) source=FuzzRaftCodec ;;
        forward) source=FuzzForward ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
    "$SWIFTC" "${FLAGS[@]}" -module-name "Fuzz${source#Fuzz}" "Tests/Fuzz/Targets/$source.swift" \
        "$OUT/Checksums.o" "$OUT/RaftCore.o" "$OUT/WireFormat.o" -llz4 -o "$OUT/fuzz-$target"
    mkdir -p "Tests/Fuzz/regressions/$target" "$OUT/corpus/$target"
    echo "== fuzz-$target: $RUNS runs"
    set +e
    "$OUT/fuzz-$target" -runs="$RUNS" -max_len=4096 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$target-" \
        "$OUT/corpus/$target" "Tests/Fuzz/regressions/$target" > "$OUT/$target.log" 2>&1
    status=$?
    set -e
    grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|Done)|ERROR|SUMMARY" "$OUT/$target.log" || true
    if [ "$status" -ne 0 ]; then
        echo "fuzz-$target FAILED (exit $status), log: $OUT/$target.log" >&2
        exit 1
    fi
done
