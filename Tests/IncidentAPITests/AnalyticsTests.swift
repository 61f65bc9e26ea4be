import IncidentCore
import XCTest

@testable import IncidentAPI

/// `GET /api/v1/analytics/metrics`: counts and response times from live state.
final class AnalyticsTests: XCTestCase {
    func testCountsAndResponseTimesBySeverityAndTeam() async throws {
        try await withAPI { client, harness in
            _ = try await harness.node.submit(.createConfig(.team(Team(id: "ml", name: "ML")), actor: .system))
            let critical = try await client.trigger(title: "GPU down", severity: "critical")
            _ = try await client.trigger(title: "slow tokens", severity: "low")
            _ = try await client.post("/api/v1/incidents", as: .responder, #"{"title":"manual","severity":"P0","team":"ml"}"#)
            _ = try await client.post("/api/v1/incidents/\(critical)/acknowledge", as: .responder)
            _ = try await client.post("/api/v1/incidents/\(critical)/resolve", as: .responder)

            let response = try await client.get("/api/v1/analytics/metrics", as: .viewer)
            XCTAssertEqual(response.status, .ok, response.text)
            let json = response.json
            XCTAssertEqual(json["overall"]?["count"]?.int, 3)
            XCTAssertEqual(json["overall"]?["open"]?.int, 2)
            XCTAssertEqual(json["overall"]?["mtta"]?["count"]?.int, 1)
            XCTAssertNotNil(json["overall"]?["mtta"]?["p95_ms"]?.int)
            XCTAssertEqual(json["overall"]?["mttr"]?["count"]?.int, 1)
            XCTAssertEqual(json["overall"]?["mttd"]?["count"]?.int, 3)
            XCTAssertEqual(json["overall"]?["mttr"]?["mean_ms"], json["overall"]?["mttr"]?["p50_ms"], "one sample")
            XCTAssertEqual(json["by_severity"]?["P0"]?["count"]?.int, 2)
            XCTAssertEqual(json["by_severity"]?["P3"]?["count"]?.int, 1)
            XCTAssertNil(json["by_severity"]?["P2"])
            XCTAssertEqual(json["by_team"]?["ml"]?["count"]?.int, 1)
            XCTAssertEqual(json["by_team"]?["unassigned"]?["count"]?.int, 2)
            XCTAssertEqual(json["by_status"]?["resolved"]?.int, 1)
            XCTAssertEqual(json["by_status"]?["new"]?.int, 2)

            let empty = try await client.get("/api/v1/analytics/metrics?since=2000-01-01T00:00:00Z&until=2000-02-01T00:00:00Z", as: .viewer)
            XCTAssertEqual(empty.json["overall"]?["count"]?.int, 0)
            XCTAssertEqual(empty.json["overall"]?["mtta"]?["mean_ms"], .null)
            XCTAssertEqual(empty.json["since"]?.string, "2000-01-01T00:00:00.000Z")

            let backwards = try await client.get("/api/v1/analytics/metrics?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", as: .viewer)
            XCTAssertEqual(backwards.status, .badRequest)
            XCTAssertEqual(backwards.errorField, "since")
        }
    }
}
