// swift-tools-version:6.1
import PackageDescription

// Module layout follows shared/DESIGN.md. Arrows point down: IncidentCore and RaftCore import
// nothing of the project; RaftStorage knows RaftCore's types; the executables wire everything.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "LLMIncidentManager",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "IncidentCore", targets: ["IncidentCore"]),
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "ClusterTesting", targets: ["ClusterTesting"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "ClusterNode", targets: ["ClusterNode"]),
        .library(name: "Archiver", targets: ["Archiver"]),
        .library(name: "Notifier", targets: ["Notifier"]),
        .library(name: "IncidentAPI", targets: ["IncidentAPI"]),
        .library(name: "Checksums", targets: ["Checksums"]),
        .library(name: "Locking", targets: ["Locking"]),
        .library(name: "WireFormat", targets: ["WireFormat"]),
        .library(name: "ClusterWire", targets: ["ClusterWire"]),
        .library(name: "DevCertificates", targets: ["DevCertificates"]),
        .library(name: "Archive", targets: ["Archive"]),
        .library(name: "PostgresTesting", targets: ["PostgresTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
    ],
    targets: [
        // The deterministic incident state machine: no I/O, no clock, no randomness.
        .target(name: "IncidentCore", swiftSettings: strict),
        // Consensus as a pure value type (etcd-raft shape): no I/O, no clock, injected randomness.
        .target(name: "RaftCore", swiftSettings: strict),
        // Deterministic cluster simulator over real RaftCore members (public test support).
        .target(name: "ClusterTesting", dependencies: ["RaftCore"], swiftSettings: strict),
        // Many seeds of the Raft fault simulator: `swift run -c release raft-sim --seeds 10000`.
        .executableTarget(
            name: "raft-sim",
            dependencies: ["Locking", "ClusterTesting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // RaftCore commit throughput in memory: `swift run -c release raft-bench`.
        .executableTarget(
            name: "raft-bench",
            dependencies: ["RaftCore", "RaftStorage", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // liblz4 (Debian liblz4-dev), used for snapshot and wire compression.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // jemalloc (Debian libjemalloc-dev) as the process's allocator, and its controls.
        .target(name: "CAllocator", linkerSettings: [.linkedLibrary("jemalloc")]),
        // pthread_setname_np and a per-thread nice value (gettid), which it does not export either.
        .systemLibrary(name: "CThread"),
        // libpq (Debian libpq-dev), the PostgreSQL client library the archive writes through.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // PostgreSQL archival and historical analytics (docs/ARCHIVE.md): a blocking libpq
        // connection, versioned migrations, batched COPY writes fenced by a watermark, queries.
        .target(
            name: "Archive",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Test support: a throwaway PostgreSQL server (initdb + postgres on loopback) with
        // crash, pause and restart controls. Used by ArchiveTests and `archive-bench --start-server`.
        .target(name: "PostgresTesting", dependencies: ["Locking", "Archive"], swiftSettings: strict),
        // Archive catch-up throughput: `swift run -c release archive-bench --start-server`.
        .executableTarget(
            name: "archive-bench",
            dependencies: [
                "Archive", "PostgresTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // CRC-32C, shared by the storage formats and the wire protocol (neither depends on the other).
        // CRC-32C with the CPU's instruction (SSE4.2), used by Checksums when the CPU has it.
        .target(name: "CCRC32C"),
        .target(name: "Checksums", dependencies: ["CCRC32C"], swiftSettings: strict),
        // The project's lock: the standard library's Mutex with its critical sections annotated for
        // ThreadSanitizer, which cannot see that Mutex on Linux (Sources/Locking/Lock.swift).
        .target(name: "Locking", swiftSettings: strict),
        // Durable side of consensus: segmented write-ahead log and snapshot files (docs/STORAGE.md).
        .target(name: "RaftStorage", dependencies: ["RaftCore", "Checksums", "CLZ4"], swiftSettings: strict),
        // The peer protocol's bytes without I/O: frame header and stream parser, handshake,
        // Raft message codec, Forward framing, LZ4 (docs/PROTOCOL.md part 2). Fuzzed by Tests/Fuzz.
        .target(name: "WireFormat", dependencies: ["RaftCore", "Checksums", "CLZ4"], swiftSettings: strict),
        // Peer-to-peer transport on SwiftNIO: one TCP (optionally mutual-TLS) connection per peer
        // pair carrying WireFormat frames; reconnect, back-pressure, requests with deadlines.
        .target(
            name: "ClusterWire",
            dependencies: [
                "Locking",
                .product(name: "X509", package: "swift-certificates"),
                "RaftCore", "WireFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // A development certificate authority and node certificates (P-256, PEM) for mutual TLS:
        // the ClusterWire tests and `incidentctl certs`.
        .target(
            name: "DevCertificates",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        // The node runtime: drives RaftCore over RaftStorage, applies IncidentCore, group commit,
        // escalation scheduler, notification dispatch, snapshots.
        .target(
            name: "ClusterNode",
            dependencies: [
                "Locking", "IncidentCore", "RaftCore", "RaftStorage", "CAllocator", "CThread",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The archiver's runtime: reads the archive journal on the node holding the archive
        // lease and hands batches to a sink (PostgreSQL in production).
        .target(
            name: "Archiver",
            dependencies: [
                "Locking", "ClusterNode", "IncidentCore", "RaftCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The Hummingbird HTTP surface: REST v1, PagerDuty Events v2 and Alertmanager receivers,
        // API-key auth with roles, per-key rate limits, the OpenAPI document.
        .target(
            name: "IncidentAPI",
            dependencies: [
                "Locking", "Archive", "Archiver", "ClusterNode", "IncidentCore", "RaftCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            swiftSettings: strict
        ),
        // The node executable: `incidentd` with no arguments runs a single-node cluster.
        .executableTarget(
            name: "incidentd",
            dependencies: [
                "Locking", "Archive", "Archiver", "ClusterNode", "ClusterWire", "IncidentAPI", "IncidentCore", "Notifier", "RaftCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // HTTP load generator for incidentd (or, with `--target etcd`, etcd's v3 JSON gateway, for
        // cluster/bench.sh), closed or open loop (docs/BENCHMARKS.md):
        // `swift run -c release incident-bench --endpoints http://127.0.0.1:8080 --api-key ...`.
        .executableTarget(
            name: "incident-bench",
            dependencies: [
                "Locking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The operator CLI's logic: REST client with endpoint failover, commands, tables
        // (docs/INCIDENTCTL.md). A library so that parsing, rendering and requests are testable.
        .target(
            name: "IncidentControl",
            dependencies: [
                "DevCertificates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The operator CLI: `incidentctl --endpoints http://127.0.0.1:8080 cluster status`.
        .executableTarget(name: "incidentctl", dependencies: ["IncidentControl"], swiftSettings: strict),
        // Test support: locates, starts and stops the real `incidentd` binary on loopback with a
        // temporary data directory (used by IncidentdIntegrationTests and IncidentctlTests).
        .target(
            name: "IncidentdTesting",
            dependencies: [
                "Locking",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Release-mode micro-benchmark of IncidentCore (docs/BENCHMARKS.md).
        .executableTarget(
            name: "incidentcore-bench",
            dependencies: ["IncidentCore"],
            swiftSettings: strict
        ),
        // Delivery of outbox entries: webhook, Slack, PagerDuty Events v2, SMTP (docs/NOTIFICATIONS.md).
        .target(
            name: "Notifier",
            dependencies: [
                "Locking", "IncidentCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "IncidentCoreTests", dependencies: ["IncidentCore"], swiftSettings: strict),
        // testdata/*.txt are golden scripts read via #filePath, not resources.
        .testTarget(
            name: "RaftCoreTests", dependencies: ["RaftCore", "ClusterTesting"], exclude: ["testdata"], swiftSettings: strict),
        .testTarget(
            name: "ClusterNodeTests",
            dependencies: ["Locking", "ClusterNode", "Archiver", "IncidentCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        .testTarget(
            name: "IncidentAPITests",
            dependencies: [
                "Locking", "IncidentAPI", "ClusterNode", "IncidentCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore"], swiftSettings: strict),
        .testTarget(name: "ChecksumsTests", dependencies: ["Checksums"], swiftSettings: strict),
        .testTarget(name: "LockingTests", dependencies: ["Locking"], swiftSettings: strict),
        // The load generator's own logic: reading answers, the timeline.
        .testTarget(
            name: "IncidentBenchTests",
            dependencies: [
                "Locking", "incident-bench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ClusterWireTests",
            dependencies: [
                "Locking", "ClusterWire", "WireFormat", "DevCertificates", "RaftCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NotifierTests",
            dependencies: [
                "Locking", "Notifier",
                "IncidentCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Process-level tests: start the real `incidentd` binary (built alongside by
        // `swift build --build-tests`) on loopback, with local webhook and SMTP receivers.
        .testTarget(
            name: "IncidentdIntegrationTests",
            dependencies: [
                "Locking", "Archive", "PostgresTesting",
                "IncidentdTesting", "DevCertificates",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Against a real PostgreSQL started by PostgresTesting (fails under CI=true when the
        // binaries are missing, skips elsewhere).
        .testTarget(
            name: "ArchiveTests",
            dependencies: ["Locking", "Archive", "PostgresTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // incidentctl: parsing and rendering as pure functions, a local stub server for the
        // cluster endpoints, and the real `incidentd` for the endpoints it serves.
        .testTarget(
            name: "IncidentctlTests",
            dependencies: [
                "Locking", "IncidentControl", "IncidentdTesting", "DevCertificates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
