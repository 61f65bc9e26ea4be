import ClusterNode
import Foundation
import IncidentCore
import Locking
import RaftCore
import XCTest

/// Escalations and pages across a leader failure: a timer that falls due while the cluster has
/// no leader fires once; a page is never being delivered by two nodes at the same time (the
/// dispatch lease), and a deposed leader's unreported page is delivered again, with the same
/// idempotency key, only after its lease ran out.
final class FailoverDispatchTests: XCTestCase {
    private static let minute: Int64 = 60_000

    /// Every node's attempts in one log: who delivered which notification, when (real time).
    final class AttemptLog: Sendable {
        struct Attempt: Sendable {
            var node: NodeID
            var request: DeliveryRequest
            var started: Date
            var ended: Date?
        }
        private let attempts = Lock<[Attempt]>([])
        var all: [Attempt] { attempts.withLock { $0 } }

        func begin(_ node: NodeID, _ request: DeliveryRequest) -> Int {
            attempts.withLock { $0.append(Attempt(node: node, request: request, started: Date())); return $0.count - 1 }
        }
        func end(_ index: Int) { attempts.withLock { $0[index].ended = Date() } }
    }

    struct SlowDelivery: NotificationDelivery {
        let node: NodeID
        let log: AttemptLog
        let seconds: Double
        func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
            let index = log.begin(node, request)
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            log.end(index)
            return .delivered
        }
    }

    /// No notification has two attempts whose real-time intervals overlap on different nodes.
    private func assertNoConcurrentDelivery(_ log: AttemptLog, file: StaticString = #filePath, line: UInt = #line) {
        let byIntent = Dictionary(grouping: log.all, by: { $0.request.intent.id })
        for (id, attempts) in byIntent {
            for a in attempts {
                for b in attempts where a.node != b.node && a.started < b.started {
                    let aEnd = a.ended ?? .distantFuture
                    XCTAssertLessThanOrEqual(aEnd, b.started, "notification \(id): node \(a.node) and node \(b.node) delivered at once", file: file, line: line)
                }
            }
        }
    }

    func testAnEscalationDueDuringAFailoverFiresOnceOnTheNewLeader() async throws {
        let clock = ManualClock()
        let log = AttemptLog()
        let cluster = try LocalCluster(count: 3, clock: clock, delivery: { SlowDelivery(node: $0, log: log, seconds: 0.05) })
        let first = try await cluster.leader()
        try await configureOnCall(cluster.nodes[first]!)
        _ = try await cluster.nodes[cluster.follower(excluding: first)]!.submit(.ingest(events: [event("model p99 latency")], actor: .user("test")))
        let paged = await eventually { log.all.contains { $0.request.intent.kind == .triggered && $0.ended != nil } }
        XCTAssertTrue(paged, "level 1 was not paged")
        XCTAssertEqual(Set(log.all.map(\.node)), [first], "only the leader delivers")

        await cluster.stop(first)
        clock.advance(byMilliseconds: 6 * Self.minute)  // level 2 falls due (and the old lease runs out) with no leader
        let second = try await cluster.leader(excluding: [first])
        let escalated = await eventually { log.all.contains { $0.request.intent.kind == .escalated && $0.ended != nil } }
        XCTAssertTrue(escalated, "the overdue level-2 timer did not fire on the new leader")
        try cluster.start(first)
        try await Task.sleep(nanoseconds: 500_000_000)
        let escalations = log.all.filter { $0.request.intent.kind == .escalated }
        XCTAssertEqual(escalations.count, 1, "level 2 paged more than once")
        XCTAssertEqual(escalations.first?.node, second)
        assertNoConcurrentDelivery(log)
        await cluster.shutdown()
    }

    /// The leader works out its dispatch leases (and the member directory) in its first turn as
    /// leader and then on ticks, not in every turn: a burst of writes takes a turn or more each
    /// but no more of that work than the ticks it spanned. It cost the leader's loop a tenth of
    /// its time at 500 writes a second when it ran every turn.
    func testTheLeaderSeesToItsLeasesOnTicksNotInEveryTurn() async throws {
        let cluster = try LocalCluster(count: 3, configure: { $0.tickIntervalMilliseconds = 100 })
        let leader = try await cluster.leader()
        let node = cluster.nodes[leader]!
        let before = try await node.status()
        XCTAssertGreaterThan(before.leaderBookkeepingRuns, 0, "not in its first turn as leader")
        let started = Date()
        for i in 0..<200 {
            _ = try await node.submit(.ingest(events: [event("burst \(i)", dedupKey: "key-\(i % 10)")], actor: .user("test")))
        }
        let ticks = UInt64(Date().timeIntervalSince(started) * 1_000) / 100 + 1
        let after = try await node.status()
        let turns = after.loopTurns - before.loopTurns
        let runs = after.leaderBookkeepingRuns - before.leaderBookkeepingRuns
        XCTAssertGreaterThanOrEqual(turns, 200)
        XCTAssertLessThanOrEqual(runs, ticks + 1, "\(runs) runs in \(turns) turns, \(ticks) ticks")
        // And it goes on doing so on ticks: five of them idle.
        try await Task.sleep(nanoseconds: 500_000_000)
        let idle = try await node.status().leaderBookkeepingRuns - after.leaderBookkeepingRuns
        XCTAssertGreaterThanOrEqual(idle, 2, "not on ticks")
        await cluster.shutdown()
    }

    /// Only the leader fires timers. A follower's scheduler keeps what it applied, so it holds
    /// timers that are long due; it must still sleep between ticks instead of spinning (it did:
    /// a due timer made every wait zero on followers, a core each).
    func testAFollowerHoldingOverdueTimersSleepsBetweenTicks() async throws {
        let clock = ManualClock()
        let log = AttemptLog()
        let cluster = try LocalCluster(count: 3, clock: clock, delivery: { SlowDelivery(node: $0, log: log, seconds: 0) })
        let leader = try await cluster.leader()
        try await configureOnCall(cluster.nodes[leader]!)
        _ = try await cluster.nodes[leader]!.submit(.ingest(events: [event("gpu memory pressure")], actor: .user("test")))
        clock.advance(byMilliseconds: 6 * Self.minute)  // level 2 falls due and fires on the leader
        let escalated = await eventually { log.all.contains { $0.request.intent.kind == .escalated } }
        XCTAssertTrue(escalated, "level 2 did not fire")

        let follower = cluster.nodes[cluster.follower(excluding: leader)]!
        let before = try await follower.status().loopTurns
        try await Task.sleep(nanoseconds: 500_000_000)
        let turns = try await follower.status().loopTurns - before
        // 25 ticks of 20 ms, the leader's heartbeats and lease renewals: tens of turns, not many thousands.
        XCTAssertLessThan(turns, 1_000, "the follower's loop spun: \(turns) turns in 0.5 s")
        await cluster.shutdown()
    }

    func testADeposedLeadersPageIsRedeliveredOnlyAfterItsLeaseRanOut() async throws {
        let clock = ManualClock()
        let log = AttemptLog()
        let cluster = try LocalCluster(count: 3, clock: clock, delivery: { SlowDelivery(node: $0, log: log, seconds: 0.4) })
        let first = try await cluster.leader()
        try await configureOnCall(cluster.nodes[first]!)
        _ = try await cluster.nodes[first]!.submit(.ingest(events: [event("safety filter bypass")], actor: .user("test")))
        let started = await eventually { log.all.contains { $0.request.intent.kind == .triggered } }
        XCTAssertTrue(started)
        // Cut the leader off while its attempt is in flight: its report can never commit.
        cluster.board.isolate(first)
        let second = try await cluster.leader(excluding: [first])
        try await Task.sleep(nanoseconds: 1_000_000_000)
        XCTAssertEqual(log.all.filter { $0.node == second }.count, 0, "the new leader delivered while the old one's lease was still valid")

        clock.advance(byMilliseconds: 9_000)  // the old lease has run out by every clock
        let redelivered = await eventually { log.all.contains { $0.node == second && $0.request.intent.kind == .triggered } }
        XCTAssertTrue(redelivered, "the unreported page was not delivered again")
        let keys = Set(log.all.filter { $0.request.intent.kind == .triggered }.map(\.request.intent.idempotencyKey))
        XCTAssertEqual(keys.count, 1, "the retry keeps the idempotency key")
        assertNoConcurrentDelivery(log)
        cluster.board.heal(first)
        await cluster.shutdown()
    }

    /// A new leader has heard from no follower in its first turn (every one counts as inactive
    /// until it answers). Region leases it grants then must not go to itself for lack of anyone
    /// else: that kept a region's pages away from the region for a whole lease after every start.
    func testANewLeaderGrantsARegionsLeaseToAMemberOfThatRegion() async throws {
        for round in 0..<3 {
            let cluster = try LocalCluster(count: 3, regions: ["us-east", "eu-west", "ap-south"], configure: { $0.tickIntervalMilliseconds = 100 })
            _ = try await cluster.leader()
            let scopes = ["region:us-east", "region:eu-west", "region:ap-south"]
            var holders: [String: NodeID] = [:]
            let granted = await eventually {
                for id in 1...3 {
                    let leases = try? await cluster.nodes[NodeID(id)]!.read(.local) { $0.state.dispatchLeases.mapValues(\.holder) }
                    if let leases, scopes.allSatisfy({ leases[$0] != nil }) {
                        holders = leases.filter { scopes.contains($0.key) }
                        return true
                    }
                }
                return false
            }
            XCTAssertTrue(granted, "round \(round): every region's lease granted")
            XCTAssertEqual(holders, ["region:us-east": 1, "region:eu-west": 2, "region:ap-south": 3], "round \(round)")
            await cluster.shutdown()
        }
    }

    func testPagesLeaveFromTheIncidentsRegionWhileAHealthyMemberIsThereElseFromTheLeader() async throws {
        let clock = ManualClock()
        let log = AttemptLog()
        let cluster = try LocalCluster(
            count: 3, regions: ["us-east", "eu-west", "ap-south"], clock: clock,
            delivery: { SlowDelivery(node: $0, log: log, seconds: 0.01) }, configure: { $0.preferredLeaderRegions = ["us-east"] })
        var leader = try await cluster.leader()
        let settled = await eventually { (try? await cluster.leader()) == 1 }
        XCTAssertTrue(settled, "us-east leads")
        leader = 1
        try await configureOnCall(cluster.nodes[leader]!)
        // A lease granted by the first leader of the cluster's start stays with its holder until
        // it runs out; let every lease start afresh under the settled leader.
        clock.advance(byMilliseconds: 9_000)
        let regranted = await eventually {
            (try? await cluster.nodes[leader]!.read(.local) { $0.state.dispatchLeases["*"]?.holder }) == leader
        }
        XCTAssertTrue(regranted)

        func ingest(_ title: String, region: String?) async throws {
            var e = event(title)
            if let region { e.tags["region"] = region }
            _ = try await cluster.nodes[leader]!.submit(.ingest(events: [e], actor: .user("test")))
        }
        try await ingest("eu model drift", region: "eu-west")
        try await ingest("no region", region: nil)
        try await ingest("somewhere else", region: "mars")
        let paged = await eventually { log.all.filter { $0.ended != nil }.count >= 3 }
        XCTAssertTrue(paged, "three pages")
        let byTitle = Dictionary(log.all.map { ($0.request.incident.title, $0.node) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byTitle["eu model drift"], 2, "the eu-west member pages for eu-west incidents")
        XCTAssertEqual(byTitle["no region"], leader, "no region: the leader")
        XCTAssertEqual(byTitle["somewhere else"], leader, "a region without members: the leader")

        // The eu-west member goes away: once its lease ran out, eu-west pages leave from the leader.
        await cluster.stop(2)
        try await Task.sleep(nanoseconds: 300_000_000)
        clock.advance(byMilliseconds: 9_000)
        try await ingest("eu after failure", region: "eu-west")
        let fallback = await eventually { log.all.contains { $0.request.incident.title == "eu after failure" && $0.ended != nil } }
        XCTAssertTrue(fallback, "an eu-west page went out although no eu-west member is up")
        XCTAssertEqual(log.all.first { $0.request.incident.title == "eu after failure" }?.node, leader)
        assertNoConcurrentDelivery(log)
        await cluster.shutdown()
    }
}

