import ArgumentParser
import XCTest

@testable import IncidentControl

/// The command line as pure functions: what each command line parses to, the request it
/// builds, and how flags, environment and defaults combine. No network.
final class ArgumentParsingTests: XCTestCase {
    private func parse<C: ParsableCommand>(_ arguments: [String], as type: C.Type, file: StaticString = #filePath, line: UInt = #line) throws -> C {
        let parsed = try Incidentctl.parseAsRoot(Incidentctl.globalOptionsMovedAfterCommand(arguments))
        return try XCTUnwrap(parsed as? C, "parsed as \(Swift.type(of: parsed))", file: file, line: line)
    }

    func testMemberAddSendsIdAddressRegionAndZoneToTheMembersEndpoint() throws {
        let command = try parse(["member", "add", "--id", "4", "--address", "10.0.0.4:7400", "--region", "eu-west", "--zone", "b"], as: MemberAdd.self)
        let request = command.request
        XCTAssertEqual(request.method, .POST)
        XCTAssertEqual(request.target, "/api/v1/cluster/members")
        XCTAssertEqual(request.json, ["id": 4, "address": "10.0.0.4:7400", "region": "eu-west", "zone": "b"])
        XCTAssertNotNil(request.idempotencyKey, "a write carries an Idempotency-Key so a retry cannot apply it twice")

        let withoutZone = try parse(["member", "add", "--id", "5", "--address", "[::1]:7400", "--region", "us-east"], as: MemberAdd.self)
        XCTAssertEqual(withoutZone.request.json, ["id": 5, "address": "[::1]:7400", "region": "us-east"], "no zone given, none sent")
    }

    func testMemberAddRefusesABadIdOrAddress() {
        for arguments in [
            ["member", "add", "--id", "0", "--address", "a:1", "--region", "r"],
            ["member", "add", "--id", "-3", "--address", "a:1", "--region", "r"],
            ["member", "add", "--id", "1", "--address", "no-port", "--region", "r"],
            ["member", "add", "--id", "1", "--address", "a:70000", "--region", "r"],
            ["member", "add", "--id", "1", "--address", "a:1"],
        ] {
            XCTAssertThrowsError(try Incidentctl.parseAsRoot(arguments), "\(arguments)")
        }
    }

    func testMembershipAndLeadershipCommandsBuildTheirPaths() throws {
        XCTAssertEqual(try parse(["member", "promote", "4"], as: MemberPromote.self).request.target, "/api/v1/cluster/members/4/promote")
        XCTAssertEqual(try parse(["member", "promote", "4"], as: MemberPromote.self).request.method, .POST)
        XCTAssertEqual(try parse(["member", "remove", "7"], as: MemberRemove.self).request.method, .DELETE)
        XCTAssertEqual(try parse(["member", "remove", "7"], as: MemberRemove.self).request.target, "/api/v1/cluster/members/7")
        let transfer = try parse(["leader", "transfer", "--to", "3"], as: LeaderTransfer.self).request
        XCTAssertEqual(transfer.method, .POST)
        XCTAssertEqual(transfer.target, "/api/v1/cluster/leader/transfer")
        XCTAssertEqual(transfer.json, ["target": 3])
        XCTAssertEqual(try parse(["snapshot", "save", "/tmp/s.snap"], as: SnapshotSave.self).file, "/tmp/s.snap")
        XCTAssertEqual(SnapshotSave.request.target, "/api/v1/cluster/snapshot")
    }

    func testIncidentsListPutsTheFiltersInTheQuery() throws {
        let list = try parse(["incidents", "list", "--status", "new,acknowledged", "--severity", "P1", "--team", "ml ops", "--limit", "5"], as: IncidentsList.self)
        XCTAssertEqual(list.request(cursor: nil).target, "/api/v1/incidents?status=new,acknowledged&severity=P1&team=ml%20ops&limit=5")
        XCTAssertEqual(list.request(cursor: "42").target, "/api/v1/incidents?status=new,acknowledged&severity=P1&team=ml%20ops&limit=5&cursor=42")
        XCTAssertEqual(try parse(["incidents", "list"], as: IncidentsList.self).request(cursor: nil).target, "/api/v1/incidents")
        XCTAssertTrue(try parse(["incidents", "list", "--all"], as: IncidentsList.self).all)
        XCTAssertThrowsError(try Incidentctl.parseAsRoot(["incidents", "list", "--limit", "0"]))
    }

    func testIncidentActionsEscapeTheIdAndSendTheNote() throws {
        XCTAssertEqual(try parse(["incidents", "ack", "INC-20261125-000001"], as: IncidentsAck.self).request.target, "/api/v1/incidents/INC-20261125-000001/acknowledge")
        XCTAssertEqual(try parse(["incidents", "ack", "../api-keys?x"], as: IncidentsAck.self).request.target, "/api/v1/incidents/..%2Fapi-keys%3Fx/acknowledge", "an id cannot add a path segment or a query")
        let resolve = try parse(["incidents", "resolve", "INC-20261125-000001", "--note", "rolled back", "--root-cause", "bad deploy"], as: IncidentsResolve.self)
        XCTAssertEqual(resolve.request.target, "/api/v1/incidents/INC-20261125-000001/resolve")
        XCTAssertEqual(resolve.request.json, ["comment": "rolled back", "root_cause": "bad deploy"])
        XCTAssertNil(try parse(["incidents", "resolve", "INC-20261125-000001"], as: IncidentsResolve.self).request.body)
        let show = try parse(["incidents", "show", "INC-20261125-000009"], as: IncidentsShow.self).requests
        XCTAssertEqual(show.detail.target, "/api/v1/incidents/INC-20261125-000009")
        XCTAssertEqual(show.timeline.target, "/api/v1/incidents/INC-20261125-000009/timeline")
    }

    func testEventsSendBuildsTheEventFromFlagsOrPutsThemOnTopOfTheFile() throws {
        let send = try parse(
            ["events", "send", "--title", "p95 high", "--source", "llm-sentinel", "--severity", "P1", "--service", "chat-api", "--dedup-key", "k1"],
            as: EventsSend.self)
        XCTAssertEqual(
            JSONValue(parsing: try send.body(fileBytes: nil)),
            [
                "title": "p95 high", "source": "llm-sentinel", "severity": "P1", "dedup_key": "k1",
                "resource": ["type": "service", "id": "chat-api", "name": "chat-api"],
            ])
        let file = Array(#"{"source": "detector", "title": "old", "metrics": {"p95": 2300}}"#.utf8)
        let fileOnly = try parse(["events", "send", "--file", "event.json"], as: EventsSend.self)
        XCTAssertEqual(try fileOnly.body(fileBytes: file), file, "without flags the file is sent as it is")
        let override = try parse(["events", "send", "--file", "-", "--title", "new"], as: EventsSend.self)
        XCTAssertEqual(JSONValue(parsing: try override.body(fileBytes: file)), ["source": "detector", "title": "new", "metrics": ["p95": 2300]])
        let batch = Array(#"[{"source": "a"}, {"source": "b"}]"#.utf8)
        XCTAssertEqual(JSONValue(parsing: try override.body(fileBytes: batch)), [["source": "a", "title": "new"], ["source": "b", "title": "new"]])
        XCTAssertThrowsError(try override.body(fileBytes: Array("not json".utf8)))
        XCTAssertThrowsError(try Incidentctl.parseAsRoot(["events", "send", "--title", "no source"]), "--source is required without --file")
    }

    func testFlagsWinOverTheEnvironmentWhichWinsOverDefaults() throws {
        let defaults = try GlobalOptions.parse([]).settings(environment: [:])
        XCTAssertEqual(defaults.endpoints, ["http://127.0.0.1:8080"])
        XCTAssertNil(defaults.apiKey)
        XCTAssertEqual(defaults.requestTimeoutMilliseconds, 5_000)
        XCTAssertEqual(defaults.output, .table)

        let environment = ["INCIDENTCTL_ENDPOINTS": "http://127.0.0.1:9001,127.0.0.1:9002/", "INCIDENTCTL_API_KEY": "env-key", "INCIDENTCTL_TIMEOUT_MS": "750"]
        let fromEnvironment = try GlobalOptions.parse([]).settings(environment: environment)
        XCTAssertEqual(fromEnvironment.endpoints, ["http://127.0.0.1:9001", "http://127.0.0.1:9002"])
        XCTAssertEqual(fromEnvironment.apiKey, "env-key")
        XCTAssertEqual(fromEnvironment.requestTimeoutMilliseconds, 750)

        let flags = try GlobalOptions.parse(["--endpoints", "https://127.0.0.1:9443", "--api-key", "flag-key", "--timeout-ms", "100", "--output", "json", "-v"])
            .settings(environment: environment)
        XCTAssertEqual(flags.endpoints, ["https://127.0.0.1:9443"])
        XCTAssertEqual(flags.apiKey, "flag-key")
        XCTAssertEqual(flags.requestTimeoutMilliseconds, 100)
        XCTAssertEqual(flags.output, .json)
        XCTAssertTrue(flags.verbose)

        for bad in ["ftp://127.0.0.1:1", "http://", ",", "http://127.0.0.1:8080/api"] {
            XCTAssertThrowsError(try ClientSettings.parseEndpoints(bad), bad)
        }
        XCTAssertThrowsError(try GlobalOptions.parse(["--timeout-ms", "0"]).settings(environment: [:]))
        XCTAssertThrowsError(try GlobalOptions.parse([]).settings(environment: ["INCIDENTCTL_TIMEOUT_MS": "soon"]))
    }

    func testGlobalOptionsMayComeBeforeTheCommand() {
        XCTAssertEqual(
            Incidentctl.globalOptionsMovedAfterCommand(["--endpoints", "a:1", "-v", "--output=json", "member", "list"]),
            ["member", "list", "--endpoints", "a:1", "-v", "--output=json"])
        XCTAssertEqual(
            Incidentctl.globalOptionsMovedAfterCommand(["--api-key", "k", "incidents", "show", "--", "-odd-id"]),
            ["incidents", "show", "--api-key", "k", "--", "-odd-id"])
        XCTAssertEqual(Incidentctl.globalOptionsMovedAfterCommand(["member", "list", "-v"]), ["member", "list", "-v"])
    }

    func testUsageErrorsExitWith64AndHelpWith0() async {
        let usage = await incidentctl(["member", "add", "--id", "1"])
        XCTAssertEqual(usage.status, 64, "\(usage)")
        XCTAssertTrue(usage.error.contains("--address"), "\(usage)")
        let help = await incidentctl(["--help"])
        XCTAssertEqual(help.status, 0)
        for command in ["cluster", "member", "leader", "snapshot", "incidents", "events"] {
            XCTAssertTrue(help.output.contains(command), "\(command) missing from:\n\(help.output)")
        }
        let group = await incidentctl(["member"])
        XCTAssertEqual(group.status, 0)
        XCTAssertTrue(group.output.contains("promote"), "\(group)")
        let badEndpoint = await incidentctl(["member", "list", "--endpoints", "ftp://x"])
        XCTAssertEqual(badEndpoint.status, 64, "\(badEndpoint)")
        XCTAssertTrue(badEndpoint.error.hasPrefix("error: usage: "), "\(badEndpoint)")
    }
}
