import Hummingbird
import HummingbirdTesting
import Locking
import MetricsTestKit
import XCTest

@testable import IncidentAPI

/// Per-route request metrics under Hummingbird's names, recorded without wrapping the body (so a
/// buffered answer keeps Hummingbird's one-write path).
final class RequestMetricsTests: XCTestCase {
    func testRequestsDurationsErrorsAndActiveRequestsPerRoute() async throws {
        let metrics = TestMetrics()
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware<BasicRequestContext>(factory: metrics))
        router.post("/things/{id}") { _, _ -> Response in
            Response(status: .accepted, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
        router.get("/broken") { _, _ -> String in throw HTTPError(.conflict) }
        let app = Application(router: router)
        try await app.test(.router) { client in
            for _ in 0..<3 { try await client.execute(uri: "/things/7", method: .post) { XCTAssertEqual($0.status, .accepted) } }
            try await client.execute(uri: "/broken", method: .get) { XCTAssertEqual($0.status, .conflict) }
        }

        let accepted = [("http.route", "/things/{id}"), ("http.request.method", "POST"), ("http.response.status_code", "202")]
        XCTAssertEqual(try metrics.expectCounter("hb.requests", accepted).totalValue, 3)
        XCTAssertEqual(try metrics.expectTimer("http.server.request.duration", accepted).values.count, 3)
        let conflict = [("http.route", "/broken"), ("http.request.method", "GET"), ("http.response.status_code", "409")]
        XCTAssertEqual(try metrics.expectCounter("hb.requests", conflict).totalValue, 1)
        XCTAssertEqual(
            try metrics.expectCounter("hb.request.errors", [("http.route", "/broken"), ("http.request.method", "GET"), ("error.type", "409")]).totalValue, 1)
        XCTAssertEqual(try metrics.expectMeter("http.server.active_requests", [("http.request.method", "POST")]).lastValue, 0, "every request finished")
    }

    /// The body a handler returns is the body written: no post-write closure around it, so a
    /// buffered answer keeps Hummingbird's one-write path. Hummingbird's own middleware is the
    /// control: it wraps the body.
    func testABufferedBodyStaysABufferUnlikeWithHummingbirdsMiddleware() async throws {
        let ours = try await bodyKind(behind: RequestMetricsMiddleware<BasicRequestContext>(factory: TestMetrics()))
        XCTAssertEqual(ours, "byteBuffer")
        let hummingbirds = try await bodyKind(behind: MetricsMiddleware<BasicRequestContext>())
        XCTAssertEqual(hummingbirds, "closure")
    }

    /// How the body of a buffered answer is held once `middleware` has seen it.
    private func bodyKind(behind middleware: some RouterMiddleware<BasicRequestContext>) async throws -> String {
        let probe = BodyProbe()
        let router = Router()
        router.add(middleware: probe)
        router.add(middleware: middleware)
        router.get("/") { _, _ -> Response in Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "hello"))) }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { XCTAssertEqual(String(buffer: $0.body), "hello") }
        }
        return probe.kind.withLock { $0 }
    }
}

/// Records the case of `ResponseBody`'s storage (`byteBuffer`, `closure`, `empty`) it passes on.
private final class BodyProbe: RouterMiddleware, Sendable {
    let kind = Lock("")

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        let backing = Mirror(reflecting: response.body).children.first { $0.label == "_backing" }?.value
        kind.withLock { $0 = backing.flatMap { Mirror(reflecting: $0).children.first?.label } ?? "unknown" }
        return response
    }
}
