import HTTPTypes
import Hummingbird
import IncidentCore
import XCTest

@testable import IncidentAPI

/// Health, readiness, cluster status, the error envelope, body limits, malformed input and
/// rate limiting: the behaviour every endpoint shares.
/// Each test runs twice: through the router, and against the live server with the ingest fast
/// path (`withAPIEachWay`).
final class FoundationTests: XCTestCase {
    func testHealthNeedsNoKeyAndReadyReportsVersionUptimeAndComponents() async throws {
        try await withAPIEachWay { client, harness in
            let health = try await client.get("/api/v1/health", as: nil)
            XCTAssertEqual(health.status, .ok)
            XCTAssertEqual(health.json["status"]?.string, "ok")

            let ready = try await client.get("/api/v1/ready", as: nil)
            XCTAssertEqual(ready.status, .ok, ready.text)
            XCTAssertEqual(ready.json["status"]?.string, "ready")
            XCTAssertEqual(ready.json["version"]?.string, "1.2.3-test")
            XCTAssertNotNil(ready.json["uptime_seconds"]?.int)
            XCTAssertEqual(ready.json["components"]?["consensus"]?["role"]?.string, "leader")
            XCTAssertEqual(ready.json["components"]?["consensus"]?["status"]?.string, "ok")
            XCTAssertNotNil(ready.json["components"]?["storage"]?["applied_index"]?.int)
        }
    }

    func testReadyIs503WithRetryAfterOnceTheNodeStops() async throws {
        let harness = try await APIHarness.start()
        await harness.node.shutdown()
        try await harness.run { client in
            let ready = try await client.get("/api/v1/ready", as: nil)
            XCTAssertEqual(ready.status, .serviceUnavailable)
            XCTAssertEqual(ready.json["status"]?.string, "not_ready")
            XCTAssertEqual(ready.headers[.retryAfter], "1")
            // The key cannot even be looked up: 503 (retry), not 401 (the key may well be valid).
            let write = try await client.post("/api/v1/events", as: .ingest, #"{"source":"x","title":"y"}"#)
            XCTAssertEqual(write.status, .serviceUnavailable)
            XCTAssertEqual(write.errorCode, "unavailable")
            XCTAssertEqual(write.headers[.retryAfter], "1")
        }
        await harness.shutdown()
    }

    func testClusterReportsMembersLeaderTermIndexesAndLogSizes() async throws {
        try await withAPIEachWay { client, _ in
            let cluster = try await client.get("/api/v1/cluster", as: .viewer)
            XCTAssertEqual(cluster.status, .ok, cluster.text)
            let json = cluster.json
            XCTAssertEqual(json["node_id"]?.int, 1)
            XCTAssertEqual(json["leader"]?.int, 1)
            XCTAssertEqual(json["role"]?.string, "leader")
            XCTAssertGreaterThanOrEqual(json["term"]?.int ?? 0, 1)
            XCTAssertGreaterThanOrEqual(json["applied_index"]?.int ?? 0, 4, "four keys were provisioned")
            XCTAssertEqual(json["members"]?[0]?["id"]?.int, 1)
            XCTAssertEqual(json["members"]?[0]?["kind"]?.string, "voter")
            XCTAssertEqual(json["members"]?[0]?["leader"]?.bool, true)
            XCTAssertGreaterThan(json["log"]?["bytes"]?.int ?? 0, 0)
            XCTAssertNotNil(json["snapshot"]?["bytes"]?.int)
        }
    }

    func testErrorsUseTheEnvelopeEverywhere() async throws {
        try await withAPIEachWay { client, _ in
            let unknownRoute = try await client.get("/api/v1/nope")
            XCTAssertEqual(unknownRoute.status, .notFound)
            XCTAssertEqual(unknownRoute.errorCode, "not_found")
            XCTAssertEqual(Set(unknownRoute.json["error"]?.keys ?? []), ["code", "message", "details"])

            let noKey = try await client.get("/api/v1/incidents", as: nil)
            XCTAssertEqual(noKey.status, .unauthorized)
            XCTAssertEqual(noKey.errorCode, "unauthorized")

            let wrongKey = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: "Bearer imk_nope"])
            XCTAssertEqual(wrongKey.status, .unauthorized)

            let viaHeader = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.apiKey: APIHarness.secrets[.viewer]!])
            XCTAssertEqual(viaHeader.status, .ok, "X-API-Key authenticates as well as Bearer")
            let viewer = APIHarness.secrets[.viewer]!
            for accepted in ["bearer \(viewer)", "BEARER   \(viewer)  ", "Bearer \t\(viewer)"] {
                let answer = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: accepted])
                XCTAssertEqual(answer.status, .ok, accepted)
            }
            for refused in ["Bearer", "Bearer ", "Bearer    ", "Basic \(viewer)", "Bearer\(viewer)", "Bearer x\(viewer)", "\(viewer)"] {
                let answer = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: refused])
                XCTAssertEqual(answer.status, .unauthorized, refused)
            }
            let paddedHeader = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.apiKey: "  \(viewer) "])
            XCTAssertEqual(paddedHeader.status, .ok)

            let forbidden = try await client.post("/api/v1/events", as: .viewer, #"{"source":"s","title":"t"}"#)
            XCTAssertEqual(forbidden.status, .forbidden)
            XCTAssertEqual(forbidden.errorCode, "forbidden")
            XCTAssertEqual(forbidden.json["error"]?["details"]?["role"]?.string, "viewer")
        }
    }

    func testMalformedAndMistypedBodiesAre400NamingTheField() async throws {
        try await withAPIEachWay { client, harness in
            let truncated = try await client.post("/api/v1/events", as: .ingest, #"{"source":"llm-sentinel","title":"GPU"#)
            XCTAssertEqual(truncated.status, .badRequest)
            XCTAssertEqual(truncated.errorCode, "malformed_json")

            let empty = try await client.post("/api/v1/events", as: .ingest, "")
            XCTAssertEqual(empty.errorCode, "malformed_json")

            let wrongType = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":42}"#)
            XCTAssertEqual(wrongType.status, .badRequest)
            XCTAssertEqual(wrongType.errorCode, "invalid_request")
            XCTAssertEqual(wrongType.errorField, "title")

            let nested = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"t","resource":{"id":["x"]}}"#)
            XCTAssertEqual(nested.errorField, "resource.id")

            let badMetric = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"t","metrics":{"p95":"slow"}}"#)
            XCTAssertEqual(badMetric.errorField, "metrics.p95")

            let notObject = try await client.post("/api/v1/events", as: .ingest, #""just a string""#)
            XCTAssertEqual(notObject.status, .badRequest)

            let open = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(open, 0, "nothing was applied")
        }
    }

    func testUnknownFieldsAreIgnored() async throws {
        try await withAPIEachWay { client, _ in
            let response = try await client.post(
                "/api/v1/events", as: .ingest, #"{"source":"s","title":"t","future_field":{"nested":[1,2]},"another":true}"#)
            XCTAssertEqual(response.status, .accepted, response.text)
        }
    }

    func testBodiesOverTheLimitAre413() async throws {
        try await withAPIEachWay { client, harness in
            let big = "{\"source\":\"s\",\"title\":\"t\",\"description\":\"" + String(repeating: "x", count: 2 << 20) + "\"}"
            let response = try await client.post("/api/v1/events", as: .ingest, big)
            XCTAssertEqual(response.status, .contentTooLarge)
            XCTAssertEqual(response.errorCode, "payload_too_large")
            XCTAssertEqual(response.json["error"]?["details"]?["limit_bytes"]?.int, 1 << 20)
            let count = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(count, 0)
        }
    }

    func testDeeplyNestedJSONIsRefusedWithoutCrashing() async throws {
        try await withAPIEachWay { client, _ in
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            let response = try await client.post("/api/v1/events", as: .ingest, deep)
            XCTAssertEqual(response.status, .badRequest)
            let nestedPayload = #"{"source":"s","title":"t","payload":"# + String(repeating: "[", count: 400) + String(repeating: "]", count: 400) + "}"
            let accepted = try await client.post("/api/v1/events", as: .ingest, nestedPayload)
            XCTAssertEqual(accepted.status, .accepted, "moderate nesting in an opaque payload is fine")
        }
    }

    func testEachKeyHasItsOwnTokenBucketAnd429CarriesRetryAfter() async throws {
        try await withAPIEachWay({ settings in
            settings.rateLimitBurst = 3
            settings.rateLimitRequestsPerSecond = 0.5
        }) { client, harness in
            for _ in 0..<3 {
                let allowed = try await client.get("/api/v1/incidents", as: .viewer)
                XCTAssertEqual(allowed.status, .ok)
            }
            let limited = try await client.get("/api/v1/incidents", as: .viewer)
            XCTAssertEqual(limited.status, .tooManyRequests)
            XCTAssertEqual(limited.errorCode, "rate_limited")
            XCTAssertEqual(limited.headers[.retryAfter], "2", "one token at 0.5/s takes 2 s")
            let otherKey = try await client.get("/api/v1/incidents", as: .responder)
            XCTAssertEqual(otherKey.status, .ok, "other keys are unaffected")
            harness.clock.advance(seconds: 2)
            let refilled = try await client.get("/api/v1/incidents", as: .viewer)
            XCTAssertEqual(refilled.status, .ok, "the bucket refilled")
        }
    }

    func testOpenAPIDocumentIsServedAsConfigured() async throws {
        let document = Array(#"{"openapi":"3.1.0"}"#.utf8)
        try await withAPIEachWay({ $0.openAPIDocument = document }) { client, _ in
            let response = try await client.get("/api/v1/openapi.json", as: nil)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.bytes, document)
        }
        try await withAPIEachWay { client, _ in
            let missing = try await client.get("/api/v1/openapi.json", as: nil)
            XCTAssertEqual(missing.status, .notFound)
        }
    }

    func testMetricsAreRenderedByTheExecutablesClosure() async throws {
        try await withAPIEachWay({ $0.metricsRenderer = { "incidentd_up 1\n" } }) { client, _ in
            let response = try await client.get("/metrics", as: nil)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.text, "incidentd_up 1\n")
            XCTAssertEqual(response.headers[.contentType], "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}
