import CoreMetrics
import Foundation
import IncidentCore
import Locking
import Logging
import Notifier
import XCTest

/// The delivery under test.
typealias Delivery = OutboundNotification

enum Fixture {
    static let createdAt = Timestamp(millisecondsSinceEpoch: 1_772_366_400_000)  // 2026-03-01T12:00:00Z
    static let sentAt = Timestamp(millisecondsSinceEpoch: 1_772_366_461_250)
    static let incidentID = IncidentID(number: 42, createdAt: createdAt)
    static let dashboard = "https://incidents.example.com"

    static func incident(severity: Severity = .p1, status: IncidentStatus = .new) -> IncidentSummary {
        IncidentSummary(
            id: incidentID.description, title: "Model latency above SLO", description: "p95 latency 2.4s over 800ms",
            severity: severity, status: status, category: "performance", team: "ml-platform", assignee: "",
            source: "llm-sentinel", environment: "production", component: "gpt-gateway",
            labels: ["region": "eu-west-1", "model": "gpt-4o"], occurrenceCount: 3, escalationLevel: 0,
            createdAt: createdAt, updatedAt: createdAt.adding(milliseconds: 60_000))
    }

    static func intent(
        kind: NotificationKind = .triggered, target: NotificationTarget = .channel, address: String = "", id: UInt64 = 7,
        level: Int = 0
    ) -> NotificationIntent {
        NotificationIntent(
            id: id, incident: incidentID, channel: "ch-1", target: target, address: address, kind: kind, level: level,
            state: .dispatched, attempts: 1, createdAt: createdAt, updatedAt: createdAt)
    }

    static func channel(
        _ type: ChannelType, url: String, secret: String = "", headers: [String: String] = [:], routingKey: String = "",
        template: String = "", emailFrom: String = "", emailTo: [String] = [], username: String = ""
    ) -> NotificationChannel {
        NotificationChannel(
            id: "ch-1", name: "primary", type: type, url: url, headers: headers, secret: secret, routingKey: routingKey,
            emailFrom: emailFrom, emailTo: emailTo, username: username, template: template)
    }

    static func notification(
        _ channel: NotificationChannel, kind: NotificationKind = .triggered, severity: Severity = .p1,
        status: IncidentStatus = .new, target: NotificationTarget = .channel, address: String = ""
    ) -> Delivery {
        Delivery(
            intent: intent(kind: kind, target: target, address: address), channel: channel,
            incident: incident(severity: severity, status: status))
    }
}

extension NotifierConfig {
    /// Short timeouts and backoffs so failure tests run fast.
    static var test: NotifierConfig {
        NotifierConfig(
            requestTimeoutMilliseconds: 2_000, maxAttempts: 5, initialBackoffMilliseconds: 10, maxBackoffMilliseconds: 100,
            circuitFailureThreshold: 5, circuitOpenMilliseconds: 30_000, dashboardBaseURL: Fixture.dashboard,
            smtp: SMTPSettings(connectTimeoutMilliseconds: 2_000, replyTimeoutMilliseconds: 2_000))
    }
}

/// Runs `body` with a notifier whose clock reads `Fixture.sentAt`, and shuts it down afterwards.
func withNotifier(
    _ config: NotifierConfig = .test, metrics: any MetricsFactory = NOOPMetricsHandler.instance,
    _ body: (Notifier) async throws -> Void
) async throws {
    let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let notifier = try Notifier(config: config, logger: quiet, metricsFactory: metrics, now: { Fixture.sentAt })
    do {
        try await body(notifier)
    } catch {
        try await notifier.shutdown()
        throw error
    }
    try await notifier.shutdown()
}

func jsonObject(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(bytes))
    return try XCTUnwrap(value as? [String: Any], "not a JSON object", file: file, line: line)
}

/// Records the delays `deliver(withRetries:)` asks for, without sleeping long.
final class SleepRecorder: Sendable {
    private let delays = Lock<[Int64]>([])
    var recorded: [Int64] { delays.withLock { $0 } }

    var sleep: @Sendable (Int64) async throws -> Void {
        { milliseconds in self.delays.withLock { $0.append(milliseconds) } }
    }
}

struct WatchdogExpired: Error {}

/// Runs `body`, failing with `WatchdogExpired` if it takes longer than `seconds`, so a broken
/// timeout fails its test instead of hanging the suite.
func withWatchdog<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw WatchdogExpired() }
        return value
    }
}
