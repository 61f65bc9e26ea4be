import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// Every route × every role: no key is 401, a role without the route's right is 403, a role with
/// it gets past authorisation. The table must classify every registered route, so a new route
/// cannot ship without a decision about who may call it.
/// Each test runs twice: through the router, and against the live server with the ingest fast
/// path (`withAPIEachWay`).
final class AuthMatrixTests: XCTestCase {
    enum Access: Equatable {
        case open
        case requires(Permission)
    }

    /// Who may call each route; nil for a route this table does not know.
    static func access(_ route: RouteDescriptor) -> Access? {
        let (method, path) = (route.method, route.path)
        switch path {
        case "/api/v1/health", "/api/v1/ready", "/api/v1/openapi.json", "/metrics": return .open
        case "/v2/enqueue": return .requires(.ingest)  // the routing key, checked separately below
        case "/api/v1/events", "/api/v1/events/sentinel", "/api/v1/events/shield", "/api/v1/integrations/alertmanager", "/api/v2/alerts":
            return .requires(.ingest)
        case "/api/v1/cluster", "/api/v1/analytics/metrics", "/api/v1/schedules/{id}/oncall", "/api/v1/analytics/history",
            "/api/v1/analytics/top-sources", "/api/v1/analytics/incidents":
            return .requires(.read)
        default: break
        }
        if path.hasPrefix("/api/v1/cluster/") { return .requires(.configure) }
        if path.hasPrefix("/api/v1/incidents") { return .requires(method == "GET" ? .read : .respond) }
        if path.hasPrefix("/api/v1/api-keys") || path == "/api/v1/channels/{id}/test" { return .requires(.configure) }
        let configPrefixes = [
            "/api/v1/policies/", "/api/v1/schedules", "/api/v1/routing-rules", "/api/v1/classification-rules",
            "/api/v1/grouping-rules", "/api/v1/channels", "/api/v1/maintenance-windows", "/api/v1/users", "/api/v1/teams",
        ]
        if configPrefixes.contains(where: { path.hasPrefix($0) }) { return .requires(method == "GET" ? .read : .configure) }
        return nil
    }

    func testEveryRouteIsClassified() async throws {
        let harness = try await APIHarness.start()
        let unclassified = harness.routes.filter { Self.access($0) == nil }
        XCTAssertEqual(unclassified, [], "classify these routes in AuthMatrixTests")
        XCTAssertGreaterThan(harness.routes.count, 60)
        await harness.shutdown()
    }

    func testEachRoleGetsExactlyItsRights() async throws {
        try await withAPIEachWay({ $0.rateLimitBurst = 10_000 }) { client, harness in
            let incident = try await client.trigger(title: "matrix")
            for route in harness.routes where route.path != "/v2/enqueue" {
                guard let access = Self.access(route) else { continue }
                let path = route.path.replacingOccurrences(of: "{id}", with: route.path.hasPrefix("/api/v1/incidents") ? incident : "nope")
                let method = HTTPRequest.Method(route.method)!
                let anonymous = try await client.send(method, path, as: nil, body: "{}")
                if case .requires(let required) = access {
                    XCTAssertEqual(anonymous.status, .unauthorized, "\(route) without a key")
                    for role in Role.allCases {
                        let response = try await client.send(method, path, as: role, body: "{}")
                        if role.allows(required) {
                            XCTAssertFalse([.unauthorized, .forbidden].contains(response.status), "\(role.name) on \(route): \(response.text)")
                        } else {
                            XCTAssertEqual(response.status, .forbidden, "\(role.name) on \(route)")
                            XCTAssertEqual(response.errorCode, "forbidden")
                        }
                    }
                } else {
                    XCTAssertFalse([.unauthorized, .forbidden].contains(anonymous.status), "\(route) is public")
                }
            }
        }
    }

    func testPagerDutyRoutingKeysNeedTheIngestRight() async throws {
        try await withAPIEachWay { client, _ in
            for role in Role.allCases {
                let body = PagerDutyTests.documentedTrigger(routingKey: APIHarness.secrets[role]!, dedupKey: "matrix-\(role.name)")
                let response = try await client.post("/v2/enqueue", as: nil, body)
                XCTAssertEqual(response.status, role.allows(.ingest) ? .accepted : .forbidden, role.name)
            }
        }
    }
}
