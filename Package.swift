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
    ],
    targets: [
        // The deterministic incident state machine: no I/O, no clock, no randomness.
        .target(name: "IncidentCore", swiftSettings: strict),
        // Consensus as a pure value type (etcd-raft shape): no I/O, no clock, injected randomness.
        .target(name: "RaftCore", swiftSettings: strict),
        // Deterministic cluster simulator over real RaftCore members (public test support).
        .target(name: "ClusterTesting", dependencies: ["RaftCore"], swiftSettings: strict),
        // Release-mode micro-benchmark of IncidentCore (docs/BENCHMARKS.md).
        .executableTarget(
            name: "incidentcore-bench",
            dependencies: ["IncidentCore"],
            swiftSettings: strict
        ),
        .testTarget(name: "IncidentCoreTests", dependencies: ["IncidentCore"], swiftSettings: strict),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore", "ClusterTesting"], swiftSettings: strict),
    ]
)
