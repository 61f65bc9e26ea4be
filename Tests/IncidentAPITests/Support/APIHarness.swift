import ClusterNode
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IncidentCore
import Locking
import Logging
import Metrics
import XCTest

@testable import IncidentAPI

/// A real `IncidentNode` in a temporary data directory with the API router in front of it and
/// one API key per role. Requests go through HummingbirdTesting's `.router` framework, or (`.fastPath`)
/// over loopback TCP to the server `incidentd` runs, with the ingest fast path in its pipeline.
final class APIHarness: Sendable {
    enum Serving: Sendable {
        /// Straight into the router (HummingbirdTesting's `.router` framework).
        case router
        /// A live server as `incidentd`'s (`makeRouterAndServer`), on an ephemeral loopback port.
        case fastPath
        /// The same live server without the fast path (`ingestFastPath` off).
        case live
    }

    let path: String
    let node: IncidentNode
    let responder: RouterResponder<BasicRequestContext>
    let routes: [RouteDescriptor]
    let clock: TestClock
    /// The server's fast path (`.fastPath` only), for its counts.
    let fastPath: IngestFastPath?
    let serving: Serving
    static let serverName = "incidentd-test"

    static let secrets: [Role: String] = [
        .ingest: "imk_test_ingest_secret", .viewer: "imk_test_viewer_secret",
        .responder: "imk_test_responder_secret", .admin: "imk_test_admin_secret",
    ]

    static func start(
        serving: Serving = .router, fastPathMetrics: any MetricsFactory = MetricsSystem.factory,
        _ configure: @Sendable (inout APISettings) -> Void = { _ in }
    ) async throws -> APIHarness {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("incidentapi-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var config = NodeConfig(dataDirectory: path)
        config.tickIntervalMilliseconds = 20
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let node = try IncidentNode(config: config, logger: logger)
        for role in Role.allCases {
            try await provisionAPIKey(on: node, id: "key-\(role.name)", name: "\(role.name) key", role: role, secret: secrets[role]!)
        }
        let clock = TestClock()
        var settings = APISettings(version: "1.2.3-test", logger: logger)
        settings.clockMilliseconds = { clock.milliseconds }
        settings.monotonicSeconds = { clock.seconds }
        configure(&settings)
        let (router, routes, endpoints) = makeRouterAndRoutes(node: node, settings: settings)
        let fastPath = serving == .fastPath ? IngestFastPath(endpoints: endpoints, serverName: serverName, metricsFactory: fastPathMetrics) : nil
        return APIHarness(
            path: path, node: node, responder: router.buildResponder(), routes: routes, clock: clock, fastPath: fastPath, serving: serving)
    }

    private init(
        path: String, node: IncidentNode, responder: RouterResponder<BasicRequestContext>, routes: [RouteDescriptor], clock: TestClock,
        fastPath: IngestFastPath?, serving: Serving
    ) {
        self.path = path
        self.node = node
        self.responder = responder
        self.routes = routes
        self.clock = clock
        self.fastPath = fastPath
        self.serving = serving
    }

    func shutdown() async {
        await node.shutdown()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with a client talking to the router.
    func run(_ body: @Sendable (APIClient) async throws -> Void) async throws {
        if serving == .router {
            let app = Application(responder: responder)
            return try await app.test(.router) { client in try await body(APIClient(client: client)) }
        }
        let app = Application(
            responder: responder, server: .http1OnEventLoops(fastPath: fastPath),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: Self.serverName),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await app.test(.live) { client in try await body(APIClient(client: client)) }
    }
}

/// Runs a test body against a fresh harness and always shuts it down.
func withAPI(
    serving: APIHarness.Serving = .router, _ configure: @Sendable (inout APISettings) -> Void = { _ in },
    _ body: @Sendable (APIClient, APIHarness) async throws -> Void
) async throws {
    let harness = try await APIHarness.start(serving: serving, configure)
    do {
        try await harness.run { client in try await body(client, harness) }
    } catch {
        await harness.shutdown()
        throw error
    }
    await harness.shutdown()
}

/// Wall and monotonic time the tests move by hand. The wall clock runs with real time (the node
/// stamps commands with the real clock, and the API's defaults, such as the analytics window,
/// must agree with those stamps); the rate limiter's clock moves only by hand.
final class TestClock: Sendable {
    private let state = Lock((offsetMilliseconds: Int64(0), seconds: 1_000.0))
    var milliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1_000) + state.withLock { $0.offsetMilliseconds } }
    var seconds: Double { state.withLock { $0.seconds } }
    func advance(seconds delta: Double) {
        state.withLock {
            $0.seconds += delta
            $0.offsetMilliseconds += Int64(delta * 1_000)
        }
    }
}

/// An answer: status, headers and the body parsed as JSON (`.null` when empty or not JSON).
struct APIResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var bytes: [UInt8]
    var json: JSONValue { (try? JSONValue.parse(bytes)) ?? .null }
    var text: String { String(decoding: bytes, as: UTF8.self) }
    /// `error.code` of an error body.
    var errorCode: String? { json["error"]?["code"]?.string }
    var errorField: String? { json["error"]?["details"]?["field"]?.string }
}

/// Sends requests as a given role (nil: no key).
struct APIClient: Sendable {
    let client: any TestClientProtocol

    func send(
        _ method: HTTPRequest.Method, _ uri: String, as role: Role? = .admin, body: String? = nil, bytes: [UInt8]? = nil,
        headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = headers
        if let role { headers[.authorization] = "Bearer \(APIHarness.secrets[role]!)" }
        if body != nil || bytes != nil { headers[.contentType] = "application/json" }
        let buffer: ByteBuffer? = bytes.map { ByteBuffer(bytes: $0) } ?? body.map { ByteBuffer(string: $0) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: buffer) { response in
            APIResponse(status: response.status, headers: response.headers, bytes: Array(response.body.readableBytesView))
        }
    }

    func get(_ uri: String, as role: Role? = .admin) async throws -> APIResponse { try await send(.get, uri, as: role) }

    func post(_ uri: String, as role: Role? = .admin, _ body: String = "", headers: HTTPFields = [:]) async throws -> APIResponse {
        try await send(.post, uri, as: role, body: body, headers: headers)
    }

    /// Posts one native event and returns its incident id (fails the test on a non-202).
    func trigger(title: String, severity: String = "high", dedupKey: String? = nil, extra: String = "", file: StaticString = #filePath, line: UInt = #line)
        async throws -> String
    {
        let dedup = dedupKey.map { #","dedup_key":"\#($0)""# } ?? ""
        let response = try await post(
            "/api/v1/events", as: .ingest,
            #"{"source":"llm-sentinel","title":"\#(title)","severity":"\#(severity)","resource":{"id":"chat-api"}\#(dedup)\#(extra)}"#)
        XCTAssertEqual(response.status, .accepted, response.text, file: file, line: line)
        return try XCTUnwrap(response.json["incident_id"]?.string, file: file, line: line)
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }
    subscript(index: Int) -> JSONValue? {
        guard case .array(let values) = self, values.indices.contains(index) else { return nil }
        return values[index]
    }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var keys: [String] { if case .object(let o) = self { return o.keys } else { return [] } }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let apiKey = HTTPField.Name("X-API-Key")!
}

/// Runs a test body twice, each time against a fresh harness: through the router, then against
/// the live server `incidentd` runs, whose `IngestFastPath` answers what it can and passes on the
/// rest (`IngestFastPathTests` checks that it does answer).
func withAPIEachWay(
    _ configure: @Sendable (inout APISettings) -> Void = { _ in }, _ body: @Sendable (APIClient, APIHarness) async throws -> Void
) async throws {
    for serving in [APIHarness.Serving.router, .fastPath] {
        try await withAPI(serving: serving, configure, body)
    }
}
