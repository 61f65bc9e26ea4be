import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// `POST /v2/enqueue` with payloads shaped like PagerDuty's Events API v2 documentation, and
/// PagerDuty's exact answers.
final class PagerDutyTests: XCTestCase {
    /// The trigger example of PagerDuty's documentation, with our ingest key as routing key.
    static func documentedTrigger(routingKey: String = APIHarness.secrets[.ingest]!, dedupKey: String = "samplekeyhere") -> String {
        #"""
        {
          "payload": {
            "summary": "Example alert on host1.example.com",
            "timestamp": "2015-07-17T08:42:58.315+0000",
            "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
            "severity": "info",
            "component": "postgres",
            "group": "prod-datapipe",
            "class": "deploy",
            "custom_details": {"ping time": "1500ms", "load avg": 0.75}
          },
          "routing_key": "\#(routingKey)",
          "dedup_key": "\#(dedupKey)",
          "images": [{"src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png", "href": "https://example.com/", "alt": "Example text"}],
          "links": [{"href": "https://example.com/", "text": "Link text"}],
          "event_action": "trigger",
          "client": "Sample Monitoring Service",
          "client_url": "https://monitoring.example.com"
        }
        """#
    }

    func testTheDocumentedTriggerOpensAnIncidentWithPagerDutysAnswer() async throws {
        try await withAPI { client, harness in
            let response = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger())
            XCTAssertEqual(response.status, .accepted, response.text)
            XCTAssertEqual(response.json, ["status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"])
            XCTAssertEqual(Set(response.json.keys), ["status", "message", "dedup_key"])

            let incident = try await harness.node.read { $0.state.machine.openIncident(fingerprint: .key("samplekeyhere")) }
            let opened = try XCTUnwrap(incident)
            XCTAssertEqual(opened.title, "Example alert on host1.example.com")
            XCTAssertEqual(opened.severity, .p4, "PagerDuty info is P4")
            XCTAssertEqual(opened.source, "pagerduty")
            XCTAssertEqual(opened.resource.id, "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003")
            XCTAssertEqual(opened.labels, ["component": "postgres", "group": "prod-datapipe", "class": "deploy"])
            XCTAssertEqual(opened.firstSeen, TimeText.instant("2015-07-17T08:42:58.315Z"))
        }
    }

    func testAcknowledgeAndResolveFollowTheDedupKey() async throws {
        try await withAPI { client, harness in
            _ = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger(dedupKey: "db-latency"))
            let key = APIHarness.secrets[.ingest]!
            let ack = try await client.post("/v2/enqueue", as: nil, #"{"routing_key":"\#(key)","dedup_key":"db-latency","event_action":"acknowledge"}"#)
            XCTAssertEqual(ack.status, .accepted, ack.text)
            XCTAssertEqual(ack.json["dedup_key"]?.string, "db-latency")
            let status = try await harness.node.read { $0.state.machine.openIncident(fingerprint: .key("db-latency"))?.status }
            XCTAssertEqual(status, .acknowledged)

            let resolve = try await client.post("/v2/enqueue", as: nil, #"{"routing_key":"\#(key)","dedup_key":"db-latency","event_action":"resolve"}"#)
            XCTAssertEqual(resolve.status, .accepted)
            let open = try await harness.node.read { $0.state.machine.openIncident(fingerprint: .key("db-latency")) }
            XCTAssertNil(open, "resolved")
        }
    }

    func testATriggerWithoutDedupKeyGetsANewOne() async throws {
        try await withAPI { client, harness in
            let key = APIHarness.secrets[.ingest]!
            let body = #"{"routing_key":"\#(key)","event_action":"trigger","payload":{"summary":"CPU high","source":"web-1","severity":"critical"}}"#
            let first = try await client.post("/v2/enqueue", as: nil, body)
            let second = try await client.post("/v2/enqueue", as: nil, body)
            let firstKey = try XCTUnwrap(first.json["dedup_key"]?.string)
            let secondKey = try XCTUnwrap(second.json["dedup_key"]?.string)
            XCTAssertNotEqual(firstKey, secondKey)
            let count = try await harness.node.read { $0.state.machine.openIncidentCount }
            XCTAssertEqual(count, 2)
            let severity = try await harness.node.read { $0.state.machine.openIncident(fingerprint: .key(firstKey))?.severity }
            XCTAssertEqual(severity, .p0)
        }
    }

    func testInvalidEventsGetPagerDutysErrorShape() async throws {
        try await withAPI { client, harness in
            let key = APIHarness.secrets[.ingest]!
            let missing = try await client.post("/v2/enqueue", as: nil, #"{"routing_key":"\#(key)","event_action":"trigger","payload":{"severity":"loud"}}"#)
            XCTAssertEqual(missing.status, .badRequest)
            XCTAssertEqual(missing.json["status"]?.string, "invalid event")
            XCTAssertEqual(missing.json["message"]?.string, "Event object is invalid")
            XCTAssertEqual(
                missing.json["errors"]?.array?.compactMap(\.string),
                [
                    "'payload.summary' is missing or blank", "'payload.source' is missing or blank",
                    "'payload.severity' must be one of critical, error, warning, info",
                ])
            XCTAssertEqual(Set(missing.json.keys), ["status", "message", "errors"])

            let noAction = try await client.post("/v2/enqueue", as: nil, #"{"routing_key":"\#(key)","dedup_key":"x"}"#)
            XCTAssertEqual(noAction.json["errors"]?[0]?.string, "'event_action' must be one of trigger, acknowledge, resolve")

            let resolveWithoutKey = try await client.post("/v2/enqueue", as: nil, #"{"routing_key":"\#(key)","event_action":"resolve"}"#)
            XCTAssertEqual(resolveWithoutKey.json["errors"]?[0]?.string, "'dedup_key' is required for resolve events")

            let unknownKey = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger(routingKey: "R0UT1NGKEY0000000000000000000000"))
            XCTAssertEqual(unknownKey.status, .badRequest)
            XCTAssertEqual(unknownKey.json["errors"]?[0]?.string, "Invalid routing key")

            let notJSON = try await client.post("/v2/enqueue", as: nil, "{")
            XCTAssertEqual(notJSON.status, .badRequest)
            XCTAssertEqual(notJSON.json["status"]?.string, "invalid event")

            let count = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(count, 0)
        }
    }

    func testTheRoutingKeyMustHaveTheIngestRightAndIsNeverStored() async throws {
        try await withAPI { client, harness in
            let viewer = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger(routingKey: APIHarness.secrets[.viewer]!))
            XCTAssertEqual(viewer.status, .forbidden)
            let admin = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger(routingKey: APIHarness.secrets[.admin]!))
            XCTAssertEqual(admin.status, .accepted)
            let incident = try await harness.node.read { $0.state.machine.openIncident(fingerprint: .key("samplekeyhere")) }
            XCTAssertNotNil(incident)
            // The snapshot holds everything the node keeps; the routing key (a secret) is not in it.
            let snapshot = try await harness.node.read { $0.state.machine.snapshot() }
            let secret = Array(APIHarness.secrets[.admin]!.utf8)
            XCTAssertFalse(snapshot.indices.contains { i in snapshot[i...].starts(with: secret) })
        }
    }

    func testOversizedEventsAndThrottlingUsePagerDutysShapes() async throws {
        try await withAPI({ settings in
            settings.maxPagerDutyBodyBytes = 4_096
            settings.rateLimitBurst = 1
            settings.rateLimitRequestsPerSecond = 0.1
        }) { client, _ in
            let key = APIHarness.secrets[.ingest]!
            let big = #"{"routing_key":"\#(key)","event_action":"trigger","payload":{"summary":"\#(String(repeating: "x", count: 5_000))","source":"a","severity":"info"}}"#
            let tooLarge = try await client.post("/v2/enqueue", as: nil, big)
            XCTAssertEqual(tooLarge.status, .contentTooLarge)
            XCTAssertEqual(tooLarge.json["status"]?.string, "invalid event")

            let accepted = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger())
            XCTAssertEqual(accepted.status, .accepted)
            let throttled = try await client.post("/v2/enqueue", as: nil, Self.documentedTrigger())
            XCTAssertEqual(throttled.status, .tooManyRequests)
            XCTAssertEqual(throttled.bytes, [], "PagerDuty answers 429 with an empty body")
            XCTAssertEqual(throttled.headers[.retryAfter], "10")
        }
    }
}
