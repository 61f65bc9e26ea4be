import XCTest

@testable import IncidentControl

/// Tables and views as pure functions of the API's JSON: what an operator reads.
final class TableRenderingTests: XCTestCase {
    func testATableHasBordersCentredHeadersAndRightAlignedNumbers() {
        let table = Table(headers: ["endpoint", "id", "role"], rows: [["http://127.0.0.1:8080", "1", "leader"], ["http://127.0.0.1:8081", "12", "follower"]])
        XCTAssertEqual(
            table.rendered(),
            """
            +-----------------------+----+----------+
            |       ENDPOINT        | ID |   ROLE   |
            +-----------------------+----+----------+
            | http://127.0.0.1:8080 |  1 | leader   |
            | http://127.0.0.1:8081 | 12 | follower |
            +-----------------------+----+----------+

            """)
    }

    func testAnEmptyTableShowsItsHeadersAndShortRowsAreFilled() {
        XCTAssertEqual(Table(headers: ["id"]).rendered(), "+----+\n| ID |\n+----+\n")
        XCTAssertEqual(Table(headers: ["a", "b"], rows: [["x\ny"]]).rendered(), "+-----+---+\n|  A  | B |\n+-----+---+\n| x y | - |\n+-----+---+\n")
    }

    /// GET /api/v1/cluster as incidentd answers today (one voter).
    static let todaysCluster: JSONValue = [
        "node_id": 1, "role": "leader", "leader": 1, "term": 2, "commit_index": 40, "applied_index": 40,
        "members": [["id": 1, "kind": "voter", "leader": true, "self": true]],
        "log": ["first_index": 1, "last_index": 40, "bytes": 9000, "appends": 40], "snapshot": ["index": 0, "bytes": 0],
    ]

    func testClusterStatusReadsTodaysAnswerAndShowsMissingFieldsAsDashes() {
        let rows = ClusterViews.statusRows([ClusterProbe(endpoint: "http://127.0.0.1:8080", result: .success(Self.todaysCluster))])
        XCTAssertEqual(
            rows,
            [ClusterStatusRow(endpoint: "http://127.0.0.1:8080", id: 1, role: "leader", term: 2, commitIndex: 40, appliedIndex: 40, lag: 0, health: "healthy")])
        XCTAssertEqual(
            ClusterViews.statusTable(rows).rendered(),
            """
            +-----------------------+----+--------+--------+------+--------------+---------------+-----+---------+
            |       ENDPOINT        | ID | REGION |  ROLE  | TERM | COMMIT INDEX | APPLIED INDEX | LAG | HEALTH  |
            +-----------------------+----+--------+--------+------+--------------+---------------+-----+---------+
            | http://127.0.0.1:8080 |  1 | -      | leader |    2 |           40 |            40 |   0 | healthy |
            +-----------------------+----+--------+--------+------+--------------+---------------+-----+---------+

            """)
    }

    /// Three members with the fields the cluster endpoints will add; node 3 is a learner.
    static func view(node: Int64, role: String, commit: Int64, applied: Int64) -> JSONValue {
        [
            "node_id": .int(node), "role": .string(role), "leader": 1, "term": 7, "commit_index": .int(commit), "applied_index": .int(applied),
            "members": [
                ["id": 1, "kind": "voter", "role": "leader", "region": "eu-west", "zone": "a", "address": "10.0.0.1:7400", "health": "healthy", "match_index": 120, "applied_index": 120, "lag": 0],
                ["id": 2, "kind": "voter", "region": "us-east", "address": "10.0.0.2:7400", "health": "healthy", "match_index": 118, "lag": 2],
                ["id": 3, "kind": "learner", "region": "ap-south", "address": "10.0.0.3:7400", "health": "catching_up", "match_index": 90, "lag": 30],
            ],
        ]
    }

    func testClusterStatusTakesMemberDetailsFromTheLeaderAndListsMembersNoEndpointAnswered() {
        let probes = [
            ClusterProbe(endpoint: "http://127.0.0.1:8081", result: .success(Self.view(node: 2, role: "follower", commit: 119, applied: 118))),
            ClusterProbe(endpoint: "http://127.0.0.1:8080", result: .success(Self.view(node: 1, role: "leader", commit: 120, applied: 120))),
            ClusterProbe(endpoint: "http://127.0.0.1:8089", result: .failure(ControlError(code: "unreachable", message: "connection refused", exitStatus: .unreachable))),
        ]
        XCTAssertEqual(
            ClusterViews.statusRows(probes),
            [
                ClusterStatusRow(endpoint: "http://127.0.0.1:8081", id: 2, region: "us-east", role: "follower", term: 7, commitIndex: 119, appliedIndex: 118, lag: 2, health: "healthy"),
                ClusterStatusRow(endpoint: "http://127.0.0.1:8080", id: 1, region: "eu-west", role: "leader", term: 7, commitIndex: 120, appliedIndex: 120, lag: 0, health: "healthy"),
                ClusterStatusRow(endpoint: "http://127.0.0.1:8089", health: "unreachable"),
                ClusterStatusRow(id: 3, region: "ap-south", role: "learner", appliedIndex: 90, lag: 30, health: "catching_up"),
            ])
    }

    func testLagIsComputedFromTheLeadersCommitWhenNoMemberReportsIt() {
        var follower = Self.todaysCluster
        if case .object(var fields) = follower {
            fields["node_id"] = 2
            fields["role"] = "follower"
            fields["applied_index"] = 35
            fields["members"] = [["id": 1, "kind": "voter", "leader": true], ["id": 2, "kind": "voter", "leader": false, "self": true]]
            follower = .object(fields)
        }
        let rows = ClusterViews.statusRows([
            ClusterProbe(endpoint: "http://127.0.0.1:8080", result: .success(Self.todaysCluster)),
            ClusterProbe(endpoint: "http://127.0.0.1:8081", result: .success(follower)),
        ])
        XCTAssertEqual(rows.map(\.lag), [0, 5])
        XCTAssertEqual(rows.map(\.role), ["leader", "follower"])
    }

    func testAnErrorOtherThanUnreachableIsShownByItsCode() {
        let rows = ClusterViews.statusRows([
            ClusterProbe(endpoint: "http://127.0.0.1:8080", result: .failure(ControlError(code: "unauthorized", message: "the API key is not valid")))
        ])
        XCTAssertEqual(rows, [ClusterStatusRow(endpoint: "http://127.0.0.1:8080", health: "unauthorized")])
        XCTAssertEqual(ClusterViews.statusJSON(rows), [[
            "endpoint": "http://127.0.0.1:8080", "id": .null, "region": .null, "role": .null, "term": .null, "commit_index": .null,
            "applied_index": .null, "lag": .null, "health": "unauthorized",
        ]])
    }

    func testMemberListShowsRolesAddressesAndReplication() {
        XCTAssertEqual(
            ClusterViews.memberTable(Self.view(node: 1, role: "leader", commit: 120, applied: 120)).rows,
            [
                ["1", "leader", "10.0.0.1:7400", "eu-west", "a", "120", "120", "0", "healthy"],
                ["2", "follower", "10.0.0.2:7400", "us-east", "-", "118", "-", "2", "healthy"],
                ["3", "learner", "10.0.0.3:7400", "ap-south", "-", "90", "-", "30", "catching_up"],
            ])
        XCTAssertEqual(ClusterViews.memberTable(Self.todaysCluster).rows, [["1", "leader", "-", "-", "-", "-", "-", "-", "-"]])
    }

    func testIncidentListAndEventResults() {
        let incident: JSONValue = [
            "id": "INC-20261125-000001", "severity": "P1", "status": "new", "team": "", "alert_count": 2,
            "created_at": "2026-11-25T06:04:00.000Z", "title": .string(String(repeating: "x", count: 70)),
        ]
        XCTAssertEqual(
            IncidentViews.listTable([incident]).rows,
            [["INC-20261125-000001", "P1", "new", "-", "2", "2026-11-25T06:04:00.000Z", String(repeating: "x", count: 59) + "…"]])
        let single: JSONValue = ["outcome": "created", "incident_id": "INC-20261125-000001", "event_id": "evt_1", "message": "incident opened"]
        XCTAssertEqual(IncidentViews.eventResultsTable(single).rows, [["created", "INC-20261125-000001", "evt_1", "incident opened"]])
        let batch: JSONValue = ["results": [single, ["outcome": "ignored", "incident_id": .null, "event_id": "evt_2", "message": "nothing to do"]]]
        XCTAssertEqual(IncidentViews.eventResultsTable(batch).rows.map { $0[1] }, ["INC-20261125-000001", "-"])
    }

    func testTheErrorEnvelopeBecomesCodeAndMessage() {
        let envelope = ControlResponse(
            status: 409, body: Array(#"{"error": {"code": "invalid_transition", "message": "cannot acknowledge", "details": {"status": "resolved"}}}"#.utf8))
        XCTAssertEqual(envelope.error.description, "error: invalid_transition: cannot acknowledge")
        XCTAssertEqual(envelope.error.details, ["status": "resolved"])
        XCTAssertEqual(envelope.error.exitStatus, .failure)
        let proxy = ControlResponse(status: 502, body: Array("<html>\nBad Gateway</html>".utf8), endpoint: "http://127.0.0.1:1")
        XCTAssertEqual(proxy.error.description, "error: http_502: <html> Bad Gateway</html>")
        XCTAssertEqual(ControlResponse.retryAfterSeconds("2"), 2)
        XCTAssertEqual(ControlResponse.retryAfterSeconds("Wed, 21 Oct 2026 07:28:00 GMT"), 1)
        XCTAssertNil(ControlResponse.retryAfterSeconds(nil))
    }
}
