import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// `POST /api/v1/events` (single and batch), idempotency, and the Sentinel/Shield endpoints.
/// Each test runs twice: through the router, and against the live server with the ingest fast
/// path (`withAPIEachWay`).
final class EventTests: XCTestCase {
    func testAnEventOpensAnIncidentAndARepeatDeduplicates() async throws {
        try await withAPIEachWay { client, harness in
            let body = #"""
                {"event_id":"evt-1","source":"llm-sentinel","title":"p95 latency above threshold","severity":"high",
                 "category":"performance","resource":{"type":"service","id":"chat-api","name":"Chat API"},
                 "metrics":{"p95_latency_ms":2300},"tags":{"environment":"production","replicas":3}}
                """#
            let first = try await client.post("/api/v1/events", as: .ingest, body)
            XCTAssertEqual(first.status, .accepted, first.text)
            XCTAssertEqual(first.json["status"]?.string, "accepted")
            XCTAssertEqual(first.json["event_id"]?.string, "evt-1")
            XCTAssertEqual(first.json["outcome"]?.string, "created")
            let id = try XCTUnwrap(first.json["incident_id"]?.string)
            XCTAssertNotNil(IncidentID(id))
            XCTAssertEqual(first.json["links"]?["incident"]?.string, "/api/v1/incidents/\(id)")

            let repeated = try await client.post("/api/v1/events", as: .ingest, body)
            XCTAssertEqual(repeated.json["outcome"]?.string, "deduplicated")
            XCTAssertEqual(repeated.json["incident_id"]?.string, id)

            let incident = try await harness.node.read { $0.state.machine.incident(IncidentID(id)!) }
            XCTAssertEqual(incident?.occurrenceCount, 2)
            XCTAssertEqual(incident?.severity, .p1)
            XCTAssertEqual(incident?.environment, "production", "environment falls back to tags.environment")
            XCTAssertEqual(incident?.tags["replicas"], "3", "scalar tag values are kept as text")
        }
    }

    func testActionsAcknowledgeResolveAndIgnore() async throws {
        try await withAPIEachWay { client, _ in
            let id = try await client.trigger(title: "disk full", dedupKey: "disk-1")
            let ack = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","dedup_key":"disk-1","action":"acknowledge"}"#)
            XCTAssertEqual(ack.json["outcome"]?.string, "acknowledged")
            XCTAssertEqual(ack.json["incident_id"]?.string, id)
            let resolve = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","dedup_key":"disk-1","action":"resolve"}"#)
            XCTAssertEqual(resolve.json["outcome"]?.string, "resolved")
            let again = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","dedup_key":"disk-1","action":"resolve"}"#)
            XCTAssertEqual(again.json["outcome"]?.string, "ignored")
            XCTAssertEqual(again.json["incident_id"], .null)
            let badAction = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"t","action":"explode"}"#)
            XCTAssertEqual(badAction.status, .badRequest)
            XCTAssertEqual(badAction.errorField, "action")
        }
    }

    func testABatchAnswersInOrder() async throws {
        try await withAPIEachWay { client, _ in
            let body = #"""
                [{"source":"s","title":"a","dedup_key":"a"},{"source":"s","title":"b","dedup_key":"b"},{"source":"s","title":"a again","dedup_key":"a"}]
                """#
            let response = try await client.post("/api/v1/events", as: .ingest, body)
            XCTAssertEqual(response.status, .accepted, response.text)
            let results = try XCTUnwrap(response.json["results"]?.array)
            XCTAssertEqual(results.map { $0["outcome"]?.string }, ["created", "created", "deduplicated"])
            XCTAssertEqual(results[0]["incident_id"], results[2]["incident_id"])
            XCTAssertNotEqual(results[0]["incident_id"], results[1]["incident_id"])
        }
    }

    func testAnInvalidElementNamesItsIndexAndNothingIsApplied() async throws {
        try await withAPIEachWay { client, harness in
            let body = #"[{"source":"s","title":"fine"},{"source":"s","title":"also fine"},{"source":"s"}]"#
            let response = try await client.post("/api/v1/events", as: .ingest, body)
            XCTAssertEqual(response.status, .badRequest)
            XCTAssertEqual(response.errorField, "[2].title")
            XCTAssertEqual(response.json["error"]?["details"]?["index"]?.int, 2)
            let wrongType = try await client.post("/api/v1/events", as: .ingest, #"[{"source":"s","title":"ok"},{"source":7,"title":"x"}]"#)
            XCTAssertEqual(wrongType.errorField, "[1].source")
            let count = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(count, 0)
        }
    }

    func testBatchLimits() async throws {
        try await withAPIEachWay({ $0.maxEventsPerRequest = 3 }) { client, _ in
            let four = "[" + Array(repeating: #"{"source":"s","title":"t"}"#, count: 4).joined(separator: ",") + "]"
            let tooMany = try await client.post("/api/v1/events", as: .ingest, four)
            XCTAssertEqual(tooMany.status, .badRequest)
            let empty = try await client.post("/api/v1/events", as: .ingest, "[]")
            XCTAssertEqual(empty.status, .badRequest)
        }
    }

    func testAThousandEventsInOneRequest() async throws {
        try await withAPIEachWay { client, harness in
            let events = (0..<1_000).map { #"{"source":"s","title":"alert \#($0)"}"# }
            let response = try await client.post("/api/v1/events", as: .ingest, "[" + events.joined(separator: ",") + "]")
            XCTAssertEqual(response.status, .accepted)
            XCTAssertEqual(response.json["results"]?.array?.count, 1_000)
            let count = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(count, 1_000)
        }
    }

    func testAnIdempotencyKeyReplaysTheFirstAnswerWithoutApplyingTwice() async throws {
        try await withAPIEachWay { client, harness in
            let body = #"{"source":"s","title":"flaky upstream","dedup_key":"up-1"}"#
            let first = try await client.post("/api/v1/events", as: .ingest, body, headers: [.idempotencyKey: "retry-42"])
            let second = try await client.post("/api/v1/events", as: .ingest, body, headers: [.idempotencyKey: "retry-42"])
            XCTAssertEqual(first.json, second.json, "the retry gets the first answer")
            XCTAssertEqual(second.json["outcome"]?.string, "created")
            XCTAssertEqual(second.headers[HTTPField.Name("Idempotent-Replayed")!], "true")
            XCTAssertNil(first.headers[HTTPField.Name("Idempotent-Replayed")!])
            let id = try XCTUnwrap(IncidentID(first.json["incident_id"]?.string ?? ""))
            let count = try await harness.node.read { $0.state.machine.incident(id)?.occurrenceCount }
            XCTAssertEqual(count, 1)

            let third = try await client.post("/api/v1/events", as: .ingest, body, headers: [.idempotencyKey: "retry-43"])
            XCTAssertEqual(third.json["outcome"]?.string, "deduplicated", "another key is another request")
            // Keys are scoped per API key: the admin key's "retry-42" is a different request.
            let admin = try await client.post("/api/v1/events", as: .admin, body, headers: [.idempotencyKey: "retry-42"])
            XCTAssertEqual(admin.json["outcome"]?.string, "deduplicated")
        }
    }

    func testSentinelEventsUseTheSeedFormat() async throws {
        try await withAPIEachWay { client, harness in
            let body = #"""
                {"event_id":"4f0c5d2e-sentinel","source":"llm-sentinel","source_version":"1.4.2","timestamp":"2026-11-25T06:04:00Z",
                 "event_type":"anomaly","category":"performance","title":"Latency spike on gpt-4 endpoint",
                 "description":"p95 latency 2300 ms vs baseline 800 ms","severity":"critical",
                 "resource":{"type":"endpoint","id":"/v1/chat/completions","name":"chat completions","metadata":{"region":"eu-west-1"}},
                 "metrics":{"p95_latency_ms":2300,"threshold_ms":1500,"baseline_ms":800,"duration_sec":300,"affected_requests":1520},
                 "tags":{"environment":"production","tenant_id":"t-42","cluster":"gpu-a"},
                 "payload":{"anomaly_score":0.97,"detection_algorithm":"isolation_forest","confidence":0.93,"contributing_factors":["gpu saturation"]}}
                """#
            let response = try await client.post("/api/v1/events/sentinel", as: .ingest, body)
            XCTAssertEqual(response.status, .accepted, response.text)
            XCTAssertEqual(response.json["status"]?.string, "accepted")
            XCTAssertEqual(response.json["event_id"]?.string, "4f0c5d2e-sentinel")
            XCTAssertNotNil(response.json["message"]?.string)
            XCTAssertNotNil(response.json["links"]?["incident"]?.string)
            let id = try XCTUnwrap(IncidentID(response.json["incident_id"]?.string ?? ""))
            let incident = try await harness.node.read { $0.state.machine.incident(id) }
            XCTAssertEqual(incident?.severity, .p0)
            XCTAssertEqual(incident?.source, "llm-sentinel")
            XCTAssertEqual(incident?.firstSeen, TimeText.instant("2026-11-25T06:04:00Z"))

            let minimal = try await client.post("/api/v1/events/sentinel", as: .ingest, #"{"title":"drift detected","severity":"low"}"#)
            XCTAssertEqual(minimal.status, .accepted, "source and event type default for the Sentinel endpoint")
            let minimalID = try XCTUnwrap(IncidentID(minimal.json["incident_id"]?.string ?? ""))
            let defaults = try await harness.node.read { $0.state.machine.incident(minimalID) }
            XCTAssertEqual(defaults?.source, "llm-sentinel")
            XCTAssertEqual(defaults?.eventType, "anomaly")
        }
    }

    func testShieldViolationsAreSecurityIncidents() async throws {
        try await withAPIEachWay { client, harness in
            let body = #"""
                {"event_id":"shield-7","source":"llm-shield","source_version":"2.0","timestamp":"2026-11-25T07:00:00.250+01:00",
                 "event_type":"violation","category":"security","title":"Prompt injection attempt","description":"ignore previous instructions",
                 "severity":"critical","violation_type":"prompt_injection","resource":{"type":"tenant","id":"t-9"},
                 "tags":{"environment":"production"},"encrypted_payload":"c2VjcmV0IGJ5dGVz"}
                """#
            let response = try await client.post("/api/v1/events/shield", as: .ingest, body)
            XCTAssertEqual(response.status, .accepted, response.text)
            let id = try XCTUnwrap(IncidentID(response.json["incident_id"]?.string ?? ""))
            let incident = try await harness.node.read { $0.state.machine.incident(id) }
            XCTAssertEqual(incident?.category, .security)
            XCTAssertEqual(incident?.eventType, "violation")
            XCTAssertEqual(incident?.labels["violation_type"], "prompt_injection")
            XCTAssertEqual(incident?.firstSeen, TimeText.instant("2026-11-25T06:00:00Z")?.adding(milliseconds: 250), "offsets and fractions are honoured")
        }
    }

    func testValidationFromIncidentCoreNamesTheField() async throws {
        try await withAPIEachWay { client, _ in
            let longTitle = String(repeating: "x", count: 2_000)
            let response = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"\#(longTitle)"}"#)
            XCTAssertEqual(response.status, .badRequest)
            XCTAssertEqual(response.errorField, "title")
            let badTime = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"t","timestamp":"yesterday"}"#)
            XCTAssertEqual(badTime.errorField, "timestamp")
        }
    }
}
