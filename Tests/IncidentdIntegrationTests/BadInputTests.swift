import Foundation
import IncidentdTesting
import XCTest

/// Malformed and hostile requests through the real server: each gets a 4xx that says what is
/// wrong (a code to branch on, the field to fix), nothing of a refused request is applied, and
/// the node goes on serving.
final class BadInputTests: IncidentdTestCase {
    func testMalformedRequestsAreRefusedWithTheReasonAndTheNodeKeepsServing() async throws {
        let node = try await startedNode()
        let admin = node.admin

        // Truncated JSON.
        let truncated = try await admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "model lat"#)
        XCTAssertEqual(truncated.status, 400, "\(truncated)")
        XCTAssertEqual(truncated.errorCode, "malformed_json")
        XCTAssertEqual(truncated.json["error"]?.keys, ["code", "message", "details"])

        // Not JSON at all, and an empty body.
        let garbage = try await admin.send(.POST, "/api/v1/events", body: [0xFF, 0xFE, 0x00, 0x7B])
        XCTAssertEqual(garbage.status, 400, "\(garbage)")
        XCTAssertEqual(garbage.errorCode, "malformed_json")
        let empty = try await admin.send(.POST, "/api/v1/events", body: [])
        XCTAssertEqual(empty.status, 400, "\(empty)")
        XCTAssertEqual(empty.errorCode, "malformed_json")

        // Wrong types name the field, nested and inside a batch.
        let number = try await admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": 42}"#)
        XCTAssertEqual(number.status, 400, "\(number)")
        XCTAssertEqual(number.errorCode, "invalid_request")
        XCTAssertEqual(number.json["error"]?["details"]?["field"], "title")
        let nested = try await admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "t", "resource": {"id": ["chat-api"]}}"#)
        XCTAssertEqual(nested.status, 400, "\(nested)")
        XCTAssertEqual(nested.json["error"]?["details"]?["field"], "resource.id")
        let batch = try await admin.post(
            "/api/v1/events", #"[{"source": "llm-sentinel", "title": "fine"}, {"source": "llm-sentinel", "title": "bad", "severity": true}]"#)
        XCTAssertEqual(batch.status, 400, "\(batch)")
        XCTAssertEqual(batch.json["error"]?["details"]?["field"], "[1].severity")
        XCTAssertEqual(batch.json["error"]?["details"]?["index"], 1)
        let wrongTopLevel = try await admin.post("/api/v1/events", #""just a string""#)
        XCTAssertEqual(wrongTopLevel.status, 400, "\(wrongTopLevel)")
        XCTAssertEqual(wrongTopLevel.errorCode, "invalid_request")
        let noneApplied = try await admin.get("/api/v1/incidents")
        XCTAssertEqual(noneApplied.json["incidents"]?.array?.count, 0, "a refused batch applied something: \(noneApplied)")

        // 2 MiB: refused with 413 before it is parsed, with a Content-Length and chunked.
        var huge = Array(#"{"source": "llm-sentinel", "title": "big", "description": ""#.utf8)
        huge += [UInt8](repeating: UInt8(ascii: "x"), count: 2 << 20)
        huge += Array(#""}"#.utf8)
        for chunked in [false, true] {
            let tooLarge = try await admin.send(.POST, "/api/v1/events", body: huge, chunked: chunked)
            XCTAssertEqual(tooLarge.status, 413, "chunked: \(chunked): \(tooLarge)")
            XCTAssertEqual(tooLarge.errorCode, "payload_too_large", "chunked: \(chunked)")
            XCTAssertEqual(tooLarge.json["error"]?["details"]?["limit_bytes"], .number(Double(1 << 20)))
        }

        // An invalid regex in a classification rule: 400 naming the field, nothing stored.
        let badRegex = try await admin.post(
            "/api/v1/classification-rules", #"{"id": "gpu", "name": "GPU errors", "match": {"title": "(CUDA|cuDNN"}, "set_severity": "P1"}"#)
        XCTAssertEqual(badRegex.status, 400, "\(badRegex)")
        XCTAssertEqual(badRegex.errorCode, "invalid_request")
        XCTAssertEqual(badRegex.json["error"]?["details"]?["field"], "match.title")
        let rules = try await admin.get("/api/v1/classification-rules")
        XCTAssertEqual(rules.json["items"], [], "\(rules)")
        let goodRegex = try await admin.post(
            "/api/v1/classification-rules", #"{"id": "gpu", "name": "GPU errors", "match": {"title": "(CUDA|cuDNN) error"}, "set_severity": "P1"}"#)
        XCTAssertEqual(goodRegex.status, 201, "\(goodRegex)")

        // Still serving: health, reads and writes.
        let health = try await admin.get("/api/v1/health")
        XCTAssertEqual(health.status, 200)
        let event = try await admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "CUDA error on gpu-7", "severity": "low"}"#)
        XCTAssertEqual(event.status, 202, "\(event)")
        XCTAssertEqual(event.json["outcome"], "created")
        let id = try XCTUnwrap(event.json["incident_id"]?.string)
        let classified = try await admin.get("/api/v1/incidents/\(id)")
        XCTAssertEqual(classified.json["severity"], "P1", "the rule stored after the refusal applies")
        XCTAssertTrue(node.process?.isRunning ?? false)
    }

    func testRequestsWithoutAValidKeyAreRefusedAndApplyNothing() async throws {
        let node = try await startedNode()
        let body = #"{"source": "llm-sentinel", "title": "unauthenticated"}"#
        let missing = try await node.client(key: nil).post("/api/v1/events", body)
        XCTAssertEqual(missing.status, 401, "\(missing)")
        XCTAssertEqual(missing.errorCode, "unauthorized")
        let wrong = try await node.client(key: "not-a-key").post("/api/v1/events", body)
        XCTAssertEqual(wrong.status, 401)
        let created = try await node.admin.post("/api/v1/api-keys", #"{"name": "dashboards", "role": "viewer"}"#)
        let viewer = node.client(key: try XCTUnwrap(created.json["secret"]?.string, "\(created)"))
        let forbidden = try await viewer.post("/api/v1/events", body)
        XCTAssertEqual(forbidden.status, 403, "\(forbidden)")
        XCTAssertEqual(forbidden.errorCode, "forbidden")
        let list = try await viewer.get("/api/v1/incidents")
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual(list.json["incidents"], [], "a refused write applied something")
    }
}
