import ClusterNode
import Foundation
import IncidentCore
import Locking
import Logging
import XCTest

/// A node in a fresh temporary data directory, removed when the test ends.
final class TemporaryDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("clusternode-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func makeNode(
    _ directory: TemporaryDirectory, delivery: (any NotificationDelivery)? = nil, clock: ManualClock? = nil,
    configure: (inout NodeConfig) -> Void = { _ in }
) throws -> IncidentNode {
    var config = NodeConfig(dataDirectory: directory.path)
    config.tickIntervalMilliseconds = 20
    configure(&config)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    if let clock {
        return try IncidentNode(config: config, logger: logger, delivery: delivery, clock: { clock.now })
    }
    return try IncidentNode(config: config, logger: logger, delivery: delivery)
}

/// A wall clock the test moves forward by hand (escalation delays are minutes long).
final class ManualClock: Sendable {
    private let milliseconds = Lock(Int64(Date().timeIntervalSince1970 * 1_000))
    var now: Int64 { milliseconds.withLock { $0 } }
    func advance(byMilliseconds delta: Int64) { milliseconds.withLock { $0 += delta } }
}

func event(_ title: String, dedupKey: String = "", action: EventAction = .trigger, severity: String = "critical") -> Event {
    Event(
        source: "llm-sentinel", timestamp: Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000)),
        eventType: "anomaly", category: .performance, title: title, rawSeverity: severity,
        resource: Resource(type: "service", id: "chat-api", name: "chat-api"), environment: "production", dedupKey: dedupKey, action: action)
}

extension Submission {
    var eventResults: [EventResult] {
        guard case .success(let applied) = outcome, case .ingested(let results) = applied.result else { return [] }
        return results
    }
}

/// Records delivery requests and answers each with `answer`.
final class RecordingDelivery: NotificationDelivery {
    private let log = Lock<[DeliveryRequest]>([])
    let answer: @Sendable (DeliveryRequest) -> DeliveryReport

    init(answer: @escaping @Sendable (DeliveryRequest) -> DeliveryReport = { _ in .delivered }) { self.answer = answer }

    var requests: [DeliveryRequest] { log.withLock { $0 } }

    func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        log.withLock { $0.append(request) }
        return answer(request)
    }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

/// Two users, a webhook channel, a two-level policy (alice, then bob after 5 minutes; bob's level
/// waits 10), a team owning it and a routing rule sending everything to the team.
func configureOnCall(_ node: IncidentNode) async throws {
    let minute: Int64 = 60_000
    let admin = Actor.user("admin")
    let items: [ConfigItem] = [
        .user(User(id: "alice", name: "Alice", email: "alice@example.com")),
        .user(User(id: "bob", name: "Bob", email: "bob@example.com")),
        .channel(NotificationChannel(id: "hook", name: "hook", type: .webhook, url: "http://127.0.0.1:9/hook")),
        .escalationPolicy(EscalationPolicy(
            id: "llm", name: "LLM on-call",
            levels: [
                EscalationLevel(delayMilliseconds: 5 * minute, targets: [.user("alice")], channels: ["hook"]),
                EscalationLevel(delayMilliseconds: 10 * minute, targets: [.user("bob")], channels: ["hook"]),
            ])),
        .team(Team(id: "sre", name: "SRE", members: ["alice", "bob"], escalationPolicy: "llm")),
        .routingRule(RoutingRule(id: "all", name: "everything", match: EventMatcher(), team: "sre")),
    ]
    for item in items {
        let done = try await node.submit(.createConfig(item, actor: admin))
        if case .failure(let error) = done.outcome { XCTFail("config \(item) refused: \(error)") }
    }
}
