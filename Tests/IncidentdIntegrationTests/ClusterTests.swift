import DevCertificates
import Foundation
import IncidentdTesting
import XCTest

/// Real `incidentd` processes forming a cluster over ClusterWire on loopback: writes on any
/// node, failover under load without losing an acknowledged event, paused members, membership
/// changes, leadership placement, refused peers.
final class ClusterTests: IncidentdTestCase {
    func testEventsPostedToAnyNodeAreCommittedOnEveryNode() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        let leader = try await cluster.leader()
        var expected: Set<String> = []
        for id in 1...3 {
            let title = "posted to node \(id)"
            let answer = try await cluster.nodes[id]!.admin.post("/api/v1/events", eventBody(title, service: "svc-\(id)"))
            XCTAssertEqual(answer.status, 202, "\(answer)")
            XCTAssertEqual(answer.header("X-Incidentd-Node"), String(id))
            XCTAssertEqual(answer.header("X-Incidentd-Leader"), String(leader))
            expected.insert(title)
        }
        let commit = try await cluster.commitIndex(of: leader)
        for id in 1...3 {
            let titles = try await cluster.titles(on: id, appliedAtLeast: commit)
            XCTAssertEqual(titles, expected, "node \(id)")
        }
        // Every member advertises its own addresses through the replicated directory.
        let advertised = await eventually(10) {
            let status = try? await cluster.nodes[leader % 3 + 1]!.admin.get("/api/v1/cluster?consistency=local")
            let addresses = (status?.json["members"]?.array ?? []).compactMap { $0["api_address"]?.string }
            return Set(addresses) == Set((1...3).map { cluster.nodes[$0]!.baseURL })
        }
        XCTAssertTrue(advertised, "every member's API address is known on every member")
        // A linearizable read on a follower sees a write acknowledged by another node at once.
        let follower = leader % 3 + 1
        let other = follower % 3 + 1
        _ = try await cluster.nodes[other]!.admin.post("/api/v1/events", eventBody("read your writes", service: "ryw"))
        let list = try await cluster.nodes[follower]!.admin.get("/api/v1/incidents?q=read%20your%20writes")
        XCTAssertEqual(list.json["incidents"]?.array?.count, 1, "\(list)")
    }

    func testKillingTheLeaderUnderLoadLosesNoAcknowledgedEvent() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        let first = try await cluster.leader()
        let writers = LoadWriters(cluster, prefix: "load")
        try await Task.sleep(nanoseconds: 700_000_000)
        await cluster.nodes[first]!.crash()
        let second = try await cluster.leader(among: Set(1...3).subtracting([first]))
        XCTAssertNotEqual(second, first)
        try await Task.sleep(nanoseconds: 700_000_000)
        try await cluster.nodes[first]!.start()
        try await Task.sleep(nanoseconds: 500_000_000)
        let expected = await writers.stop()
        let leader = try await cluster.leader()
        let commit = try await cluster.commitIndex(of: leader)
        XCTAssertGreaterThan(expected.count, 30)
        for id in 1...3 {
            let titles = try await cluster.titles(on: id, appliedAtLeast: commit)
            let missing = expected.subtracting(titles)
            XCTAssertEqual(missing, [], "node \(id) lost acknowledged events")
        }
    }

    /// Over the real wire (protocol version 2 between two current nodes) the leader's answers
    /// carry the entries' terms: the follower a write came through commits it from the answer
    /// (the 2 ms commit announcement comes later) and shows it in a `local` read once answered.
    func testAFollowerLearnsItsForwardedWritesCommitFromTheLeadersAnswer() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        let leader = try await cluster.leader()
        let follower = leader % 3 + 1
        for i in 0..<5 {
            let posted = try await cluster.nodes[follower]!.admin.post("/api/v1/events", eventBody("through a follower \(i)", service: "f\(i)"))
            XCTAssertEqual(posted.status, 202, "\(posted)")
            let local = try await cluster.nodes[follower]!.admin.get("/api/v1/incidents?consistency=local")
            let titles = Set(local.json["incidents"]?.array?.compactMap { $0["title"]?.string } ?? [])
            XCTAssertTrue(titles.contains("through a follower \(i)"), "\(titles)")
        }
        let metrics = try await cluster.nodes[follower]!.admin.get("/metrics")
        let learned = metrics.text.split(separator: "\n").first { $0.hasPrefix("incidentd_commits_learned_from_answers_total") }
        let count = learned.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        XCTAssertGreaterThan(count, 0, "no commit learnt from the leader's answers: \(learned ?? "no such series")")
    }

    /// Across a slow link (50 ms each way, simulated), a follower keeps more batches of forwarded
    /// writes out than `forward_batches_in_flight` (2): as many as its quickest recent batch's
    /// round trip holds waits of `forward_wait_us` (2 ms by default), so its writes do not queue
    /// behind two batches for whole round trips. It counts those extra batches in `/metrics`.
    /// With `forward_wait_us` 0, every write after the first two waits for one of them to come
    /// back, and none is counted.
    func testAcrossASlowLinkForwardedWritesLeaveInExtraBatchesInsteadOfWaitingARoundTrip() async throws {
        // The default, then the setting turned off: the second also shows it reaches the batcher.
        for (arguments, expectExtra) in [([String](), true), (["--forward-wait-us", "0"], false)] {
            let cluster = try IncidentdCluster(
                cleanup: cleanup, count: 3, regions: ["us-east", "us-east", "ap-south"], extra: ["--preferred-leader-regions", "us-east"] + arguments,
                perNode: { ["--peer-send-delay-ms", $0 == 3 ? "us-east=50" : "ap-south=50"] })
            try await cluster.startAll()
            let settled = await eventually(20) {
                let seen = await cluster.leaderSeen(by: 3)
                return seen == 1 || seen == 2
            }
            XCTAssertTrue(settled, "\(arguments): a us-east member leads")
            let far = cluster.nodes[3]!.admin
            // The admin key is written after the first election and reaches node 3 a round trip later.
            let keyed = await eventually(10) { (try? await far.get("/api/v1/cluster?consistency=local"))?.status == 200 }
            XCTAssertTrue(keyed, "\(arguments): node 3 knows the admin key")
            // Two writes one after the other: node 3 learns how long a batch takes.
            for i in 0..<2 {
                let posted = try await far.post("/api/v1/events", eventBody("first across \(i)", service: "w\(i)"))
                XCTAssertEqual(posted.status, 202, "\(arguments): \(posted)")
            }
            func extraBatches() async throws -> Double {
                let metrics = try await far.get("/metrics")
                let line = metrics.text.split(separator: "\n").first { $0.hasPrefix("incidentd_forward_extra_batches_total") }
                return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
            }
            let before = try await extraBatches()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        try await Task.sleep(nanoseconds: UInt64(i) * 5_000_000)
                        return try await far.post("/api/v1/events", eventBody("across the ocean \(i)", service: "s\(i)")).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(statuses, Array(repeating: 202, count: 10), "\(arguments)")
            let extra = try await extraBatches()
            if expectExtra {
                XCTAssertGreaterThan(extra, before, "writes 3–10 found two batches out for 100 ms and more, yet no extra batch went")
            } else {
                XCTAssertEqual(extra, before, "--forward-wait-us 0: never more than two batches out")
            }
            for id in 1...3 { await cluster.nodes[id]!.stop() }
        }
    }

    func testWithoutAMajorityWritesAreRefused503WithRetryAfterAndLocalReadsStillWork() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3, extra: ["--leader-wait-ms", "600"])
        try await cluster.startAll()
        let leader = try await cluster.leader()
        let survivor = leader % 3 + 1
        _ = try await cluster.nodes[survivor]!.admin.post("/api/v1/events", eventBody("before the outage", service: "o1"))
        for id in 1...3 where id != survivor { await cluster.nodes[id]!.crash() }
        let started = Date()
        let refused = try await cluster.nodes[survivor]!.admin.post("/api/v1/events", eventBody("no majority", service: "o2"))
        XCTAssertEqual(refused.status, 503, "\(refused)")
        XCTAssertEqual(refused.errorCode, "unavailable")
        XCTAssertNotNil(refused.header("Retry-After"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "refused after a bounded wait")
        let local = try await cluster.nodes[survivor]!.admin.get("/api/v1/incidents?consistency=local")
        XCTAssertEqual(local.status, 200, "local reads are served without a leader")
        XCTAssertNotNil(local.header("X-Incidentd-Applied-Index"))
        XCTAssertEqual(local.json["incidents"]?.array?.first?["title"]?.string, "before the outage")
        let linearizable = try await cluster.nodes[survivor]!.admin.get("/api/v1/incidents")
        XCTAssertEqual(linearizable.status, 503, "a linearizable read needs a leader")
    }

    func testAPausedMinorityDoesNotStopTheClusterAndAPausedLeaderIsReplaced() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        let leader = try await cluster.leader()
        let follower = leader % 3 + 1
        let third = follower % 3 + 1
        // A paused follower: the other two go on.
        kill(cluster.nodes[follower]!.process!.pid, SIGSTOP)
        let during = try await cluster.nodes[third]!.admin.post("/api/v1/events", eventBody("minority paused", service: "p1"))
        XCTAssertEqual(during.status, 202, "\(during)")
        kill(cluster.nodes[follower]!.process!.pid, SIGCONT)

        // A paused leader: the others elect a new one; when it resumes it follows.
        kill(cluster.nodes[leader]!.process!.pid, SIGSTOP)
        let next = try await cluster.leader(among: [follower, third])
        XCTAssertNotEqual(next, leader)
        let afterPause = try await cluster.nodes[third]!.admin.post("/api/v1/events", eventBody("leader paused", service: "p2"))
        XCTAssertEqual(afterPause.status, 202, "\(afterPause)")
        kill(cluster.nodes[leader]!.process!.pid, SIGCONT)
        let settled = try await cluster.leader()
        XCTAssertEqual(settled, next, "the resumed old leader follows the new one")
        let commit = try await cluster.commitIndex(of: settled)
        let titles = try await cluster.titles(on: leader, appliedAtLeast: commit)
        XCTAssertTrue(titles.isSuperset(of: ["minority paused", "leader paused"]))
    }

    func testALearnerJoinsIsPromotedTakesLeadershipAndAnotherMemberIsRemoved() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        let leader = try await cluster.leader()
        for i in 0..<5 { _ = try await cluster.nodes[leader]!.admin.post("/api/v1/events", eventBody("before join \(i)", service: "j\(i)")) }
        let (joiner, peerPort) = try cluster.addJoiner(id: 4, region: "far-away")
        try await joiner.start()
        let via = leader % 3 + 1
        let added = try await cluster.nodes[via]!.admin.post(
            "/api/v1/cluster/members", #"{"id": 4, "address": "127.0.0.1:\#(peerPort)", "region": "far-away", "api_address": "\#(joiner.baseURL)"}"#)
        XCTAssertEqual(added.status, 201, "\(added)")
        let commit = try await cluster.commitIndex(of: leader)
        let learnerTitles = try await cluster.titles(on: 4, appliedAtLeast: commit)
        XCTAssertEqual(learnerTitles.count, 5, "the learner caught up and serves local reads")

        let promoted = try await cluster.nodes[leader]!.admin.post("/api/v1/cluster/members/4/promote")
        XCTAssertEqual(promoted.status, 200, "\(promoted)")
        let transfer = try await cluster.nodes[via]!.admin.post("/api/v1/cluster/leader/transfer", #"{"target": 4}"#)
        XCTAssertEqual(transfer.status, 202, "\(transfer)")
        let moved = await eventually(10) { await cluster.leaderSeen(by: 4) == 4 }
        XCTAssertTrue(moved, "leadership moved to the promoted member")

        let removed = try await cluster.nodes[4]!.admin.send(.DELETE, "/api/v1/cluster/members/\(via)")
        XCTAssertEqual(removed.status, 204, "\(removed)")
        let status = try await cluster.nodes[4]!.admin.get("/api/v1/cluster?consistency=local")
        let members = (status.json["members"]?.array ?? []).compactMap { $0["id"]?.int }.sorted()
        XCTAssertEqual(members, [1, 2, 3, 4].filter { $0 != via })
        let far = status.json["members"]?.array?.first { $0["id"]?.int == 4 }
        XCTAssertEqual(far?["region"]?.string, "far-away")
    }

    func testLeadershipReturnsToThePreferredRegionAfterAFailover() async throws {
        let cluster = try IncidentdCluster(
            cleanup: cleanup, count: 3, regions: ["us-east", "eu-west", "ap-south"], extra: ["--preferred-leader-regions", "eu-west"])
        try await cluster.startAll()
        let settled = await eventually(15) { await cluster.leaderSeen(by: 1) == 2 }
        XCTAssertTrue(settled, "the eu-west member leads")
        await cluster.nodes[2]!.crash()
        let interim = try await cluster.leader(among: [1, 3])
        XCTAssertNotEqual(interim, 2)
        try await cluster.nodes[2]!.start()
        let back = await eventually(20) {
            let one = await cluster.leaderSeen(by: 1)
            let three = await cluster.leaderSeen(by: 3)
            return one == 2 && three == 2
        }
        XCTAssertTrue(back, "leadership returns to eu-west once its member caught up")
    }

    func testAPeerOfAnotherClusterIsRefusedWithTheReasonLogged() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        _ = try await cluster.leader()
        // A node of another cluster dials node 2 (the lower id dials, so it calls itself 1).
        let port = try IncidentdProcess.freeLoopbackPort()
        let stranger = try IncidentdNode(
            cleanup: cleanup,
            extraArguments: [
                "--node-id", "1", "--cluster-id", "other-cluster", "--peer-listen", "127.0.0.1:\(port)",
                "--peers", "1=127.0.0.1:\(port)@x,2=127.0.0.1:\(cluster.peerPorts[2]!)@x",
            ])
        try await stranger.start()
        let refused = await eventually(10) { stranger.logs.lowercased().contains("cluster") && stranger.logs.lowercased().contains("refused") }
        XCTAssertTrue(refused, "the stranger logs why it was refused:\n\(stranger.logs.suffix(2_000))")
        let logged = await eventually(10) { cluster.nodes[2]!.logs.lowercased().contains("other-cluster") }
        XCTAssertTrue(logged, "node 2 logs the refused cluster id:\n\(cluster.nodes[2]!.logs.suffix(2_000))")
        let status = try await cluster.nodes[1]!.admin.get("/api/v1/cluster?consistency=local")
        XCTAssertEqual(status.json["members"]?.array?.count, 3)
    }

    func testWithMutualTLSAPeerWithoutACertificateFromTheClusterCAIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("itest-tls-\(UUID().uuidString.prefix(8))").path
        cleanup.removeAfterwards(directory)
        let ca = try DevCertificates.makeCA(commonName: "itest cluster CA")
        let caFiles = try ca.writePEM(to: directory)
        var files: [Int: PEMFiles] = [:]
        for id in 1...3 { files[id] = try ca.issueNodeCertificate(nodeName: "node-\(id)", hosts: ["127.0.0.1", "localhost"]).writePEM(to: directory) }
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3, extra: ["--tls-ca", caFiles.certificatePath, "--tls-require-client-cert"]) { id in
            ["--tls-cert", files[id]!.certificatePath, "--tls-key", files[id]!.privateKeyPath]
        }
        try await cluster.startAll()
        let leader = try await cluster.leader()
        let written = try await cluster.nodes[leader % 3 + 1]!.admin.post("/api/v1/events", eventBody("over mutual TLS", service: "tls"))
        XCTAssertEqual(written.status, 202, "forwarding works over mTLS: \(written)")

        // Another CA's certificate, then no TLS at all: both refused by node 2, which they dial.
        let rogueCA = try DevCertificates.makeCA(commonName: "rogue CA")
        let rogueDirectory = directory + "/rogue"
        let rogueCAFiles = try rogueCA.writePEM(to: rogueDirectory)
        let rogueFiles = try rogueCA.issueNodeCertificate(nodeName: "node-3", hosts: ["127.0.0.1"]).writePEM(to: rogueDirectory)
        // And a certificate from the cluster CA issued to node 7, used by a process claiming to be node 1.
        let impostor = try ca.issueNodeCertificate(nodeName: "node-7", hosts: ["127.0.0.1"]).writePEM(to: directory + "/impostor")
        for extra in [
            ["--tls-ca", rogueCAFiles.certificatePath, "--tls-cert", rogueFiles.certificatePath, "--tls-key", rogueFiles.privateKeyPath],
            [String](),
            ["--tls-ca", caFiles.certificatePath, "--tls-cert", impostor.certificatePath, "--tls-key", impostor.privateKeyPath, "--tls-require-client-cert"],
        ] {
            let port = try IncidentdProcess.freeLoopbackPort()
            let rogue = try IncidentdNode(
                cleanup: cleanup,
                extraArguments: [
                    "--node-id", "1", "--cluster-id", cluster.clusterID, "--peer-listen", "127.0.0.1:\(port)",
                    "--peers", "1=127.0.0.1:\(port)@x,2=127.0.0.1:\(cluster.peerPorts[2]!)@x",
                ] + extra)
            try await rogue.start()
            try await Task.sleep(nanoseconds: 1_500_000_000)
            let seen = await cluster.leaderSeen(by: 2)
            XCTAssertEqual(seen, leader, "the cluster is undisturbed")
            let readyAnswer = try await rogue.client(key: nil).get("/api/v1/ready")
            XCTAssertEqual(readyAnswer.status, 503, "the rogue node never joined anyone: \(readyAnswer)")
            await rogue.stop()
        }
        XCTAssertTrue(cluster.nodes[2]!.logs.contains("not node-1"), "node 2 logs the impostor's certificate name:\n\(cluster.nodes[2]!.logs.suffix(2_000))")
    }

    func testAnEscalationDueDuringAFailoverFiresExactlyOnce() async throws {
        let cluster = try IncidentdCluster(cleanup: cleanup, count: 3)
        try await cluster.startAll()
        let first = try await cluster.leader()
        let webhook = try await WebhookReceiver.start(cleanup: cleanup)
        try await OnCallConfiguration.apply(to: cluster.nodes[first]!, webhook: webhook, mail: nil)
        let via = first % 3 + 1
        let posted = try await cluster.nodes[via]!.admin.post("/api/v1/events", OnCallConfiguration.event(title: "chat-api p99 over SLO"))
        XCTAssertEqual(posted.status, 202, "\(posted)")
        let levelOne = await eventually(15) { webhook.requests(event: "incident.triggered").count == 1 }
        XCTAssertTrue(levelOne, "level 1 was not paged")
        // Let the delivery report commit (a page whose report is lost is delivered again, with
        // the same idempotency key: at-least-once towards receivers that deduplicate).
        try await Task.sleep(nanoseconds: 1_000_000_000)

        // The leader dies; level 2 falls due (every node's clock moves 6 minutes) before anyone leads.
        await cluster.nodes[first]!.crash()
        for id in 1...3 { try cluster.nodes[id]!.advanceClock(byMilliseconds: OnCallConfiguration.levelOneDelayMilliseconds + 60_000) }
        let second = try await cluster.leader(among: Set(1...3).subtracting([first]))
        let escalated = await eventually(20) { !webhook.requests(event: "incident.escalated").isEmpty }
        XCTAssertTrue(escalated, "level 2 was not paged after the failover:\n\(cluster.nodes[second]!.logs.suffix(2_000))")
        try await cluster.nodes[first]!.start()
        _ = try await cluster.leader()
        try await Task.sleep(nanoseconds: 2_000_000_000)
        XCTAssertEqual(webhook.requests(event: "incident.escalated").count, 1, "level 2 paged more than once")
        XCTAssertEqual(webhook.requests(event: "incident.triggered").count, 1, "level 1 paged again")
    }
}
