import Foundation
import IncidentdTesting
import XCTest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// kill -9 at bad moments: an answered write is on disk (RPO 0), and escalation timers are
/// replicated state, not memory, so one that fell due while the node was down fires once after
/// the restart.
final class CrashRecoveryTests: IncidentdTestCase {
    /// What the burst writers saw: 202s and attempts per title.
    private struct BurstLedger: Sendable {
        /// Distinct-title events answered 202: title → incident id.
        var created: [String: String] = [:]
        /// The repeated title of each writer: incident id, answers 202 and attempts.
        var repeats: [String: (incident: String?, acknowledged: Int, attempted: Int)] = [:]
        var acknowledged = 0
    }

    func testEveryEventAnswered202SurvivesAKill9DuringABurstOfWrites() async throws {
        // A generous rate limit: the point is the crash, not the 429s.
        let node = try await startedNode(["--rate-limit-rps", "100000", "--rate-limit-burst", "100000"])
        let writers = 12
        let ledger = Locked(BurstLedger())
        let stop = Locked(false)
        var generator = SystemRandomNumberGenerator()
        let killAfterAcknowledged = Int.random(in: 30...150, using: &generator)
        let extraDelayMilliseconds = UInt64.random(in: 0...150, using: &generator)
        let client = node.admin

        let burst = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var n = 0
                        while !stop.value {
                            n += 1
                            // Every third write repeats the writer's own title (deduplicated into one
                            // incident); the others are new incidents.
                            let repeated = n % 3 == 0
                            let title = repeated ? "burst writer \(writer) repeated alert" : "burst writer \(writer) event \(n)"
                            if repeated { ledger.withLock { $0.repeats[title, default: (nil, 0, 0)].attempted += 1 } }
                            let body = #"{"source": "burst-test", "title": \#(quoted(title)), "severity": "P3", "resource": {"id": "svc-\#(writer)"}}"#
                            guard let answer = try? await client.send(.POST, "/api/v1/events", body: Array(body.utf8), timeoutSeconds: 5),
                                answer.status == 202, let incident = answer.json["incident_id"]?.string
                            else { continue }
                            ledger.withLock { ledger in
                                ledger.acknowledged += 1
                                if repeated {
                                    ledger.repeats[title]!.acknowledged += 1
                                    ledger.repeats[title]!.incident = incident
                                } else {
                                    ledger.created[title] = incident
                                }
                            }
                        }
                    }
                }
            }
        }

        let enough = await eventually(20) { ledger.withLock { $0.acknowledged } >= killAfterAcknowledged }
        XCTAssertTrue(enough, "the burst did not get going\n\(node.logs.suffix(2_000))")
        try await Task.sleep(nanoseconds: extraDelayMilliseconds * 1_000_000)
        await node.crash()
        let answeredBeforeKill = ledger.withLock { $0.acknowledged }
        // Writes in flight fail now. New ones would wait for a connection until their deadline
        // (the client keeps retrying a refused connect), so stop the writers and cancel them.
        try await Task.sleep(nanoseconds: 200_000_000)
        stop.withLock { $0 = true }
        burst.cancel()
        await burst.value
        XCTAssertTrue(node.runs.last?.exitedBySignal ?? false, "the node was not killed by the signal")
        let final = ledger.withLock { $0 }
        print("kill -9 after \(answeredBeforeKill) answered writes (+\(extraDelayMilliseconds) ms); \(final.acknowledged) answered 202 in all")

        try await node.start()
        for (title, incident) in final.created.sorted(by: { $0.key < $1.key }) {
            let answer = try await node.admin.get("/api/v1/incidents/\(incident)")
            XCTAssertEqual(answer.status, 200, "\(title) was answered 202 with \(incident) but is gone after the crash: \(answer)")
            XCTAssertEqual(answer.json["title"]?.string, title)
            XCTAssertEqual(answer.json["occurrence_count"], 1, "\(title) was posted once")
        }
        for (title, record) in final.repeats.sorted(by: { $0.key < $1.key }) {
            guard let incident = record.incident else { continue }
            let answer = try await node.admin.get("/api/v1/incidents/\(incident)")
            XCTAssertEqual(answer.status, 200, "\(title): \(answer)")
            let count = answer.json["occurrence_count"]?.int ?? -1
            // Every answered repeat counted; unanswered ones in flight at the kill may or may not.
            XCTAssertGreaterThanOrEqual(count, record.acknowledged, "\(title): answered repeats were lost")
            XCTAssertLessThanOrEqual(count, record.attempted, "\(title): counted more repeats than were sent")
        }
        XCTAssertGreaterThanOrEqual(final.created.count + final.repeats.values.filter { $0.incident != nil }.count, 1)

        // The node takes writes again, and new incidents do not reuse a number.
        let after = try await node.admin.post("/api/v1/events", #"{"source": "burst-test", "title": "after the crash"}"#)
        XCTAssertEqual(after.status, 202, "\(after)")
        let newID = try XCTUnwrap(after.json["incident_id"]?.string)
        XCTAssertFalse(Set(final.created.values).contains(newID), "a new incident reused the id of an acknowledged one")
    }

    func testAnEscalationThatFellDueWhileTheNodeWasDownFiresOnceAfterRestart() async throws {
        let webhook = try await WebhookReceiver.start(cleanup: cleanup)
        // Frequent snapshots: the restart restores the armed timer from a snapshot, not only by
        // replaying the command that armed it.
        let node = try await startedNode(["--snapshot-every-entries", "4"])
        try await OnCallConfiguration.apply(to: node, webhook: webhook, mail: nil)
        let posted = try await node.admin.post("/api/v1/events", OnCallConfiguration.event(title: "safety filter bypass rate up"))
        XCTAssertEqual(posted.status, 202, "\(posted)")
        let incident = try XCTUnwrap(posted.json["incident_id"]?.string)

        // Level 1 paged and its delivery recorded, then the process dies.
        let paged = try await eventually {
            let timeline = try await node.admin.get("/api/v1/incidents/\(incident)/timeline")
            return (timeline.json["entries"]?.array ?? []).contains { $0["change"] == "delivered triggered via hook to user:alice" }
        }
        XCTAssertTrue(paged, "level 1 was not paged\n\(node.logs.suffix(2_000))")
        await node.crash()
        XCTAssertTrue(node.runs.last?.exitedBySignal ?? false)
        XCTAssertTrue(node.logs.contains("snapshot taken"), "no snapshot was taken before the crash")
        XCTAssertEqual(webhook.requests(event: "incident.escalated").count, 0)

        // Level 1's delay runs out while nobody is up.
        try node.advanceClock(byMilliseconds: OnCallConfiguration.levelOneDelayMilliseconds + 30_000)
        try await node.start()
        let escalated = await eventually { !webhook.requests(event: "incident.escalated").isEmpty }
        XCTAssertTrue(escalated, "the overdue level-2 page did not go out after the restart\n\(node.logs.suffix(2_000))")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let levelTwo = webhook.requests(event: "incident.escalated")
        XCTAssertEqual(levelTwo.count, 1, "level 2 paged \(levelTwo.count) times")
        XCTAssertEqual(levelTwo.first?.notification?["target"], "user:bob")
        XCTAssertEqual(webhook.requests(event: "incident.triggered").count, 1, "level 1 was paged again after the restart")
        let detail = try await node.admin.get("/api/v1/incidents/\(incident)")
        XCTAssertEqual(detail.json["escalation_level"], 1, "0-based: the second level")
        // The next level is armed from when level 2 fired, not from before the crash.
        let timers = detail.json["timers"]?.array ?? []
        let escalationDue = timers.first { $0["kind"] == "escalation" }?["due_at"]?.string
        XCTAssertNotNil(escalationDue, "no escalation timer armed after level 2: \(timers)")
    }
}
