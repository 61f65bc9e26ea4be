import Foundation
import IncidentControl
import IncidentdTesting
import XCTest

/// incidentctl against the real `incidentd` binary (started on loopback with a temporary data
/// directory and a known admin key, as the integration tests start it) for the endpoints it
/// serves today: an operator's round trip from an event to a resolved incident.
final class IncidentdEndToEndTests: XCTestCase {
    private let cleanup = TestCleanup()
    private var node: IncidentdNode!

    override func setUp() async throws {
        try await super.setUp()
        node = try await IncidentdNode.started(cleanup: cleanup)
    }

    override func tearDown() async throws {
        await cleanup.run()
        try await super.tearDown()
    }

    /// `incidentctl arguments` against the node, with the admin key from the environment.
    private func ctl(_ arguments: [String], input: [UInt8] = []) async -> Outcome {
        await incidentctl(
            arguments, environment: ["INCIDENTCTL_ENDPOINTS": node.baseURL, "INCIDENTCTL_API_KEY": IncidentdNode.adminKey], input: input)
    }

    func testAnEventBecomesAnIncidentThatIsListedShownAcknowledgedAndResolved() async throws {
        let sent = await ctl(["events", "send", "--title", "p95 latency above threshold", "--source", "llm-sentinel", "--severity", "P1", "--service", "chat-api", "--output", "json"])
        XCTAssertEqual(sent.status, 0, "\(sent)\n\(node.logs)")
        let answer = try XCTUnwrap(JSONValue(parsing: Array(sent.output.utf8)), sent.output)
        XCTAssertEqual(answer["outcome"], "created")
        let id = try XCTUnwrap(answer["incident_id"]?.string)

        let repeated = await ctl(["events", "send", "--title", "p95 latency above threshold", "--source", "llm-sentinel", "--service", "chat-api"])
        XCTAssertEqual(repeated.status, 0, "\(repeated)")
        XCTAssertTrue(repeated.output.contains("| deduplicated | \(id) |"), repeated.output)

        let list = await ctl(["incidents", "list", "--status", "new", "--severity", "P1"])
        XCTAssertEqual(list.status, 0, "\(list)")
        XCTAssertTrue(list.output.contains("| \(id) | P1       | new    |"), list.output)

        let ack = await ctl(["incidents", "ack", id])
        XCTAssertEqual(ack.status, 0, "\(ack)")
        XCTAssertEqual(ack.output, "\(id) acknowledged (status acknowledged)\n")

        let resolve = await ctl(["incidents", "resolve", id, "--note", "rolled back", "--root-cause", "a bad deploy"])
        XCTAssertEqual(resolve.status, 0, "\(resolve)")
        XCTAssertEqual(resolve.output, "\(id) resolved (status resolved)\n")

        let show = await ctl(["incidents", "show", id])
        XCTAssertEqual(show.status, 0, "\(show)")
        for expected in ["Status:           resolved", "Root cause:       a bad deploy", "Occurrences:      2", "status new → acknowledged", "| rolled back"] {
            XCTAssertTrue(show.output.contains(expected), "\(expected) missing from:\n\(show.output)")
        }
        let open = await ctl(["incidents", "list", "--status", "open", "--output", "json"])
        XCTAssertEqual(JSONValue(parsing: Array(open.output.utf8))?["incidents"], [], open.output)
    }

    func testListAllFollowsTheCursorAndABatchComesFromStandardInput() async throws {
        let batch = (1...5).map { #"{"source": "batch", "title": "event \#($0)"}"# }.joined(separator: ",")
        let sent = await ctl(["events", "send", "--file", "-", "--severity", "P3"], input: Array("[\(batch)]".utf8))
        XCTAssertEqual(sent.status, 0, "\(sent)")
        XCTAssertEqual(sent.output.components(separatedBy: "| created ").count - 1, 5, sent.output)

        let page = await ctl(["incidents", "list", "--limit", "2"])
        XCTAssertEqual(page.status, 0, "\(page)")
        XCTAssertTrue(page.error.contains("continue with --cursor"), "a partial page says how to go on: \(page)")
        let all = await ctl(["incidents", "list", "--limit", "2", "--all", "--output", "json"])
        XCTAssertEqual(all.status, 0, "\(all)")
        let incidents = try XCTUnwrap(JSONValue(parsing: Array(all.output.utf8))?["incidents"]?.array, all.output)
        XCTAssertEqual(incidents.compactMap { $0["title"]?.string }, (1...5).reversed().map { "event \($0)" }, "newest first, every page")
        XCTAssertEqual(incidents.compactMap { $0["severity"]?.string }, Array(repeating: "P3", count: 5), "the flag applies to every event of the file")
    }

    func testClusterStatusAndMemberListReadTodaysClusterAnswer() async throws {
        let status = await ctl(["cluster", "status"])
        XCTAssertEqual(status.status, 0, "\(status)")
        let row = try XCTUnwrap(status.output.split(separator: "\n").dropFirst(3).first.map(String.init), status.output)
        XCTAssertTrue(row.hasPrefix("| \(node.baseURL) |  1 | default | leader |"), row)
        XCTAssertTrue(row.hasSuffix("| healthy |"), row)

        let members = await ctl(["member", "list", "--output", "json"])
        XCTAssertEqual(members.status, 0, "\(members)")
        XCTAssertEqual(JSONValue(parsing: Array(members.output.utf8))?.array?.first?["kind"], "voter", members.output)
    }

    func testTheAPIsErrorsAreCodeAndMessageWithExitStatus1() async throws {
        let missing = await ctl(["incidents", "show", "INC-20200101-000042"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.error, "error: not_found: incident INC-20200101-000042 not found\n")

        let badFilter = await ctl(["incidents", "list", "--status", "sleeping"])
        XCTAssertEqual(badFilter.status, 1)
        XCTAssertTrue(badFilter.error.hasPrefix("error: invalid_request: status: unknown status 'sleeping'"), badFilter.error)

        let wrongKey = await incidentctl(["member", "list", "--endpoints", node.baseURL, "--api-key", "not-a-key"])
        XCTAssertEqual(wrongKey.status, 1)
        XCTAssertEqual(wrongKey.error, "error: unauthorized: the API key is not valid\n")

        let noKeyStatus = await incidentctl(["cluster", "status", "--endpoints", node.baseURL])
        XCTAssertEqual(noKeyStatus.status, 1, "every endpoint refusing is the refusal, not 'unreachable': \(noKeyStatus)")
        XCTAssertTrue(noKeyStatus.output.contains("| unauthorized |"), noKeyStatus.output)
    }

    func testTheExecutableExitsWithTheDocumentedStatus() async throws {
        let logs = node.root
        let closed = "http://127.0.0.1:\(try IncidentdProcess.freeLoopbackPort())"
        let cases: [(arguments: [String], status: Int32, stderr: String)] = [
            (["--endpoints", "\(closed),\(node.baseURL)", "--api-key", IncidentdNode.adminKey, "member", "list"], 0, ""),
            (["--endpoints", node.baseURL, "--api-key", IncidentdNode.adminKey, "incidents", "ack", "INC-20200101-000001"], 1, "error: not_found: "),
            (["--endpoints", closed, "incidents", "list"], 3, "error: unreachable: no endpoint answered: \(closed) (connection refused)"),
            (["member", "add", "--id", "x"], 64, "Error: "),
        ]
        for (index, (arguments, status, stderr)) in cases.enumerated() {
            let run = try IncidentdProcess(executable: "incidentctl", arguments: arguments, environment: [:], logDirectory: logs, runName: "ctl\(index)")
            cleanup.stopAfterwards(run)
            let exited = await run.waitForExit(seconds: 30)
            XCTAssertTrue(exited, "\(arguments) did not exit")
            XCTAssertEqual(run.exitStatus, status, "\(arguments): \(run.standardError)")
            XCTAssertTrue(run.standardError.hasPrefix(stderr), "\(arguments): \(run.standardError)")
        }
    }
}
