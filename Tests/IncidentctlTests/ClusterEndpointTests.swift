import Foundation
import IncidentControl
import IncidentdTesting
import XCTest

/// The cluster endpoints incidentd does not serve yet, against a local stub server: the exact
/// method, path, headers and body incidentctl sends, and how it prints the answers.
final class ClusterEndpointTests: XCTestCase {
    /// `incidentctl arguments` against `url` with the stub's key.
    private static func ctl(_ url: String, _ arguments: [String]) async -> Outcome {
        await incidentctl(arguments + ["--endpoints", url, "--api-key", "stub-key"])
    }

    func testMemberAddPostsTheNewLearnerWithAnIdempotencyKey() async throws {
        try await StubServer.run(answering: { _, _ in .json(["id": 4, "kind": "learner"], status: .created) }) { server, url in
            let outcome = await Self.ctl(url, ["member", "add", "--id", "4", "--address", "10.0.0.4:7400", "--region", "eu-west", "--zone", "b"])
            XCTAssertEqual(outcome.status, 0, "\(outcome)")
            XCTAssertEqual(outcome.output, "member 4 added as a learner at 10.0.0.4:7400 (eu-west/b); promote it once it has caught up\n")
            let request = try XCTUnwrap(server.received.first)
            XCTAssertEqual(server.received.count, 1)
            XCTAssertEqual(request.method, "POST")
            XCTAssertEqual(request.target, "/api/v1/cluster/members")
            XCTAssertEqual(request.json, ["id": 4, "address": "10.0.0.4:7400", "region": "eu-west", "zone": "b"])
            XCTAssertEqual(request.header("Authorization"), "Bearer stub-key")
            XCTAssertEqual(request.header("Content-Type"), "application/json")
            XCTAssertNotNil(request.header("Idempotency-Key"))
        }
    }

    func testPromoteRemoveAndLeaderTransferHitTheirEndpoints() async throws {
        try await StubServer.run(answering: { _, _ in .json(["ok": true]) }) { server, url in
            let promote = await Self.ctl(url, ["member", "promote", "4"])
            let remove = await Self.ctl(url, ["member", "remove", "2"])
            let transfer = await Self.ctl(url, ["leader", "transfer", "--to", "3"])
            let json = await Self.ctl(url, ["leader", "transfer", "--to", "3", "--output", "json"])
            for outcome in [promote, remove, transfer, json] { XCTAssertEqual(outcome.status, 0, "\(outcome)") }
            XCTAssertEqual(promote.output, "member 4 promoted to voter\n")
            XCTAssertEqual(remove.output, "member 2 removed\n")
            XCTAssertEqual(transfer.output, "leadership transfer to member 3 requested\n")
            XCTAssertEqual(JSONValue(parsing: Array(json.output.utf8)), ["ok": true], "--output json prints the answer")
            let sent = server.received
            XCTAssertEqual(sent.map(\.method), ["POST", "DELETE", "POST", "POST"])
            XCTAssertEqual(
                sent.map(\.target),
                ["/api/v1/cluster/members/4/promote", "/api/v1/cluster/members/2", "/api/v1/cluster/leader/transfer", "/api/v1/cluster/leader/transfer"])
            XCTAssertEqual(sent[0].body, [], "promote has no body")
            XCTAssertEqual(sent[2].json, ["target": 3])
        }
    }

    func testSnapshotSaveWritesTheBodyAtomicallyAndPrintsIndexAndTerm() async throws {
        let snapshot = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("incidentctl-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/cluster.snap"
        try Data("an older snapshot".utf8).write(to: URL(fileURLWithPath: file))

        try await StubServer.run(answering: { request, _ in
            guard request.target == "/api/v1/cluster/snapshot" else { return .error(.notFound, code: "not_found", message: "no route") }
            return StubServer.Answer(
                status: .ok, headers: [("Content-Type", "application/octet-stream"), ("X-Snapshot-Index", "1200"), ("X-Snapshot-Term", "7")],
                body: snapshot)
        }) { server, url in
            let outcome = await Self.ctl(url, ["snapshot", "save", file])
            XCTAssertEqual(outcome.status, 0, "\(outcome)")
            XCTAssertEqual(outcome.output, "saved snapshot at index 1200 (term 7) to \(file): 300000 bytes\n")
            XCTAssertEqual(server.received.first?.method, "GET")
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: file))), snapshot)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["cluster.snap"], "no temporary file is left")
        }

        try await StubServer.run(answering: { _, _ in .error(.serviceUnavailable, code: "unavailable", message: "no snapshot yet") }) { _, url in
            let failed = await Self.ctl(url, ["snapshot", "save", file])
            XCTAssertEqual(failed.status, 1, "\(failed)")
            XCTAssertEqual(failed.error, "error: unavailable: no snapshot yet\n")
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: file))), snapshot, "a failed save leaves the file as it was")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["cluster.snap"])
        }
    }

    func testClusterStatusAsksEveryEndpointAndListsTheRestOfTheMembers() async throws {
        let leader = TableRenderingTests.view(node: 1, role: "leader", commit: 120, applied: 120)
        let follower = TableRenderingTests.view(node: 2, role: "follower", commit: 119, applied: 118)
        try await StubServer.run(answering: { _, _ in .json(leader) }) { _, leaderURL in
            try await StubServer.run(answering: { _, _ in .json(follower) }) { _, followerURL in
                let outcome = await incidentctl(["cluster", "status", "--endpoints", "\(leaderURL),\(followerURL)"])
                XCTAssertEqual(outcome.status, 0, "\(outcome)")
                let lines = outcome.output.split(separator: "\n").map(String.init)
                XCTAssertEqual(lines.count, 7, outcome.output)
                XCTAssertTrue(lines[3].hasPrefix("| \(leaderURL) |  1 | eu-west  | leader   |"), lines[3])
                XCTAssertTrue(lines[4].hasPrefix("| \(followerURL) |  2 | us-east  | follower |"), lines[4])
                XCTAssertTrue(lines[5].contains("|  3 | ap-south | learner  |"), lines[5])
                XCTAssertTrue(lines[5].hasSuffix("| catching_up |"), lines[5])

                let json = await incidentctl(["cluster", "status", "--endpoints", "\(leaderURL),\(followerURL)", "--output", "json"])
                let rows = try XCTUnwrap(JSONValue(parsing: Array(json.output.utf8))?.array, json.output)
                XCTAssertEqual(rows.map { $0["id"]?.int }, [1, 2, 3])
                XCTAssertEqual(rows.map { $0["lag"]?.int }, [0, 2, 30])
            }
        }
    }

    func testAnUnreachableEndpointIsSkippedAndItsNextOneAnswers() async throws {
        let closed = "http://127.0.0.1:\(try IncidentdProcess.freeLoopbackPort())"
        try await StubServer.run(answering: { _, _ in .json(TableRenderingTests.todaysCluster, headers: [("X-Incidentd-Node", "1"), ("X-Incidentd-Leader", "1")]) }) { server, url in
            let outcome = await incidentctl(["member", "list", "--endpoints", "\(closed),\(url)", "-v"])
            XCTAssertEqual(outcome.status, 0, "\(outcome)")
            XCTAssertEqual(server.received.count, 1)
            XCTAssertTrue(outcome.error.contains("< \(closed): connection refused"), outcome.error)
            XCTAssertTrue(outcome.error.contains("< 200 OK from \(url) (node 1, leader 1)"), "--verbose shows the node headers: \(outcome.error)")
            XCTAssertTrue(outcome.output.contains("| leader |"), outcome.output)
        }
        let started = ContinuousClock.now
        let none = await incidentctl(["member", "list", "--endpoints", "\(closed),\(closed)", "--timeout-ms", "5000"])
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "a refused connection fails at once, not after the timeout")
        XCTAssertEqual(none.status, 3, "\(none)")
        XCTAssertEqual(none.error, "error: unreachable: no endpoint answered: \(closed) (connection refused), \(closed) (connection refused)\n")
    }

    func testAnEndpointSlowerThanTheTimeoutIsAbandonedForTheNext() async throws {
        var slow = StubServer.Answer.json(["members": []])
        slow.delayMilliseconds = 3_000
        let hung = slow
        try await StubServer.run(answering: { _, _ in hung }) { _, slowURL in
            try await StubServer.run(answering: { _, _ in .json(TableRenderingTests.todaysCluster) }) { _, url in
                let outcome = await incidentctl(["member", "list", "--endpoints", "\(slowURL),\(url)", "--timeout-ms", "300", "-v"])
                XCTAssertEqual(outcome.status, 0, "\(outcome)")
                XCTAssertTrue(outcome.error.contains("< \(slowURL): timed out"), outcome.error)
                XCTAssertTrue(outcome.output.contains("| leader |"), outcome.output)
            }
        }
    }

    func testA503WithRetryAfterIsRetriedOnTheNextEndpointABoundedNumberOfTimes() async throws {
        let unavailable = StubServer.Answer.error(.serviceUnavailable, code: "unavailable", message: "not the leader", headers: [("Retry-After", "0")])
        try await StubServer.run(answering: { _, _ in unavailable }) { refusing, refusingURL in
            try await StubServer.run(answering: { _, _ in .json(["ok": true]) }) { answering, answeringURL in
                let outcome = await incidentctl(["member", "promote", "4", "--endpoints", "\(refusingURL),\(answeringURL)"])
                XCTAssertEqual(outcome.status, 0, "\(outcome)")
                XCTAssertEqual(refusing.received.count, 1)
                XCTAssertEqual(answering.received.count, 1)
                XCTAssertEqual(
                    refusing.received[0].header("Idempotency-Key"), answering.received[0].header("Idempotency-Key"),
                    "the retry is the same write")
            }
            let exhausted = await incidentctl(["member", "promote", "4", "--endpoints", refusingURL])
            XCTAssertEqual(exhausted.status, 1, "\(exhausted)")
            XCTAssertEqual(exhausted.error, "error: unavailable: not the leader\n")
            XCTAssertEqual(refusing.received.count, 1 + 4, "the first attempt and 3 retries")
        }
    }

    func testAnEndpointThatDoesNotServeTheRouteYetIsReportedAsTheAPIsError() async throws {
        try await StubServer.run(answering: { request, _ in .error(.notFound, code: "not_found", message: "no route for \(request.target)") }) { _, url in
            let outcome = await Self.ctl(url, ["member", "remove", "9"])
            XCTAssertEqual(outcome.status, 1)
            XCTAssertEqual(outcome.error, "error: not_found: no route for /api/v1/cluster/members/9\n")
        }
    }
}
