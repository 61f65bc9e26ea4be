import Foundation
import IncidentdTesting
import XCTest

/// A whole region goes down at once — both members of the preferred region, the leader among
/// them — and comes back: five real `incidentd` processes in three regions on loopback.
final class RegionOutageTests: IncidentdTestCase {
    private static let regions = ["us-east", "us-east", "eu-west", "eu-west", "ap-south"]
    private let usEast: Set<Int> = [1, 2]
    private let survivors: Set<Int> = [3, 4, 5]

    /// Losing the leader's region costs an election, nothing more: writes go on through the
    /// other regions without losing an acknowledged one, an escalation that falls due meanwhile
    /// pages once, and the lost region's incidents are paged from elsewhere. When the region
    /// returns it catches up, takes back the lead (preferred) and its pages, and nobody is paged
    /// twice.
    func testLosingTheLeadersWholeRegionKeepsWritesEscalationsAndPagesGoing() async throws {
        let cluster = try IncidentdCluster(
            cleanup: cleanup, count: 5, regions: Self.regions, extra: ["--preferred-leader-regions", "us-east"])
        try await cluster.startAll()
        let inUSEast = await eventually(20) {
            let seen = await cluster.leaderSeen(by: 5)
            return usEast.contains(seen)
        }
        XCTAssertTrue(inUSEast, "a us-east member leads")
        let first = try await cluster.leader()
        XCTAssertTrue(usEast.contains(first), "node \(first) leads")
        let webhook = try await WebhookReceiver.start(cleanup: cleanup)
        try await OnCallConfiguration.apply(to: cluster.nodes[first]!, webhook: webhook, mail: nil)

        // A us-east incident, paged from us-east.
        let posted = try await cluster.nodes[3]!.admin.post(
            "/api/v1/events", OnCallConfiguration.event(title: "us-east chat-api p99 over SLO", region: "us-east"))
        XCTAssertEqual(posted.status, 202, "\(posted)")
        let paged = await eventually(15) { webhook.requests(event: "incident.triggered").count == 1 }
        XCTAssertTrue(paged, "level 1 was not paged")
        let fromUSEast = await eventually(10) {
            let holder = await self.regionLeaseHolder(cluster, via: 5, region: "us-east")
            return usEast.contains(holder ?? 0)
        }
        XCTAssertTrue(fromUSEast, "us-east pages leave from us-east")
        // Let the delivery report commit (an unreported page is delivered again, same key).
        try await Task.sleep(nanoseconds: 1_000_000_000)

        let writers = LoadWriters(cluster, prefix: "outage")
        try await Task.sleep(nanoseconds: 700_000_000)
        // us-east goes dark, then level 2 falls due (every clock moves six minutes, and the
        // region's leases run out) before anyone leads.
        for id in usEast.sorted() { await cluster.nodes[id]!.crash() }
        for id in 1...5 { try cluster.nodes[id]!.advanceClock(byMilliseconds: OnCallConfiguration.levelOneDelayMilliseconds + 60_000) }
        let second = try await cluster.leader(among: survivors)
        XCTAssertTrue(survivors.contains(second))
        let beforeOutageWrites = writers.acknowledged.value.count
        let escalated = await eventually(20) { !webhook.requests(event: "incident.escalated").isEmpty }
        XCTAssertTrue(escalated, "level 2 was not paged while us-east was down:\n\(cluster.nodes[second]!.logs.suffix(2_000))")

        // A new us-east incident is paged although no us-east member is up.
        let during = try await cluster.nodes[4]!.admin.post(
            "/api/v1/events", OnCallConfiguration.event(title: "us-east gateway errors", region: "us-east"))
        XCTAssertEqual(during.status, 202, "\(during)")
        let pagedDuring = await eventually(20) { webhook.requests(event: "incident.triggered").count == 2 }
        XCTAssertTrue(pagedDuring, "a us-east incident was not paged while us-east was down")
        let fallback = await regionLeaseHolder(cluster, via: second, region: "us-east")
        XCTAssertTrue(survivors.contains(fallback ?? 0), "us-east's lease went to a survivor, not node \(fallback ?? 0)")
        let writesGoOn = await eventually(10) { writers.acknowledged.value.count > beforeOutageWrites + 20 }
        XCTAssertTrue(writesGoOn, "writes through the other regions were not acknowledged")
        try await Task.sleep(nanoseconds: 1_000_000_000)

        // us-east returns: it catches up, leads again and takes its pages back.
        for id in usEast.sorted() { try await cluster.nodes[id]!.start() }
        let back = await eventually(30) {
            var seen: Set<Int> = []
            for id in 1...5 { seen.insert(await cluster.leaderSeen(by: id)) }
            return seen.count == 1 && usEast.contains(seen.first!)
        }
        XCTAssertTrue(back, "leadership returns to us-east once its members caught up")
        // A minute on, the survivor's lease on us-east ran out and goes home.
        for id in 1...5 { try cluster.nodes[id]!.advanceClock(byMilliseconds: 60_000) }
        let home = await eventually(20) {
            let holder = await self.regionLeaseHolder(cluster, via: 5, region: "us-east")
            return usEast.contains(holder ?? 0)
        }
        XCTAssertTrue(home, "us-east's pages leave from us-east again")

        let expected = await writers.stop()
        XCTAssertGreaterThan(expected.count, beforeOutageWrites)
        let leader = try await cluster.leader()
        let commit = try await cluster.commitIndex(of: leader)
        for id in 1...5 {
            let titles = try await cluster.titles(on: id, appliedAtLeast: commit)
            XCTAssertEqual(expected.subtracting(titles), [], "node \(id) lacks acknowledged events")
        }
        try await Task.sleep(nanoseconds: 2_000_000_000)
        XCTAssertEqual(webhook.requests(event: "incident.triggered").count, 2, "an incident was paged twice")
        XCTAssertEqual(webhook.requests(event: "incident.escalated").count, 1, "level 2 paged more than once")
    }

    /// The holder of `region`'s dispatch lease as node `id` knows it (a local read).
    private func regionLeaseHolder(_ cluster: IncidentdCluster, via id: Int, region: String) async -> Int? {
        guard let status = try? await cluster.nodes[id]!.admin.get("/api/v1/cluster?consistency=local") else { return nil }
        let lease = status.json["dispatch_leases"]?.array?.first { $0["scope"]?.string == "region:" + region }
        return lease?["holder"]?.int
    }
}
