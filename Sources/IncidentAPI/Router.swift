import ClusterNode
import Hummingbird
import HummingbirdCore
import IncidentCore

/// The node's HTTP API: a Hummingbird router and the HTTP server to serve it with. Every route
/// answers JSON (errors as `{"error": {"code", "message", "details"}}`), except `GET /metrics`
/// (Prometheus text) and the PagerDuty and Alertmanager compatibility endpoints, which answer in
/// the shapes their senders expect.
///
/// The server is HTTP/1.1 with handlers on the event loops (`http1OnEventLoops`) and, unless
/// `settings.ingestFastPath` is off, event ingestion answered in the channel pipeline
/// (`IngestFastPath`). `serverName` is the `Server` header, as the
/// application is configured with it.
///
/// ```swift
/// let (router, server) = makeRouterAndServer(node: node, settings: settings, serverName: "incidentd")
/// let app = Application(router: router, server: server, configuration: .init(serverName: "incidentd"))
/// ```
public func makeRouterAndServer(node: IncidentNode, settings: APISettings, serverName: String?) -> (router: Router<BasicRequestContext>, server: HTTPServerBuilder) {
    let made = makeRouterAndRoutes(node: node, settings: settings)
    let fastPath = settings.ingestFastPath ? IngestFastPath(endpoints: made.endpoints, serverName: serverName) : nil
    return (made.router, .http1OnEventLoops(fastPath: fastPath))
}

/// The router, the list of routes it serves (the OpenAPI coverage test reads the list) and the
/// endpoints behind them.
func makeRouterAndRoutes(node: IncidentNode, settings: APISettings) -> (router: Router<BasicRequestContext>, routes: [RouteDescriptor], endpoints: Endpoints) {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ClusterHeadersMiddleware<BasicRequestContext>(node: node))
    // Request counts and latency histograms per route (Prometheus through swift-metrics).
    router.add(middleware: RequestMetricsMiddleware<BasicRequestContext>())
    router.add(middleware: ErrorMiddleware<BasicRequestContext>(logger: settings.logger))
    let routes = RouteList(router: router)
    let endpoints = Endpoints(node: node, settings: settings)
    endpoints.addSystemRoutes(to: routes)
    endpoints.addEventRoutes(to: routes)
    endpoints.addPagerDutyRoutes(to: routes)
    endpoints.addAlertmanagerRoutes(to: routes)
    endpoints.addIncidentRoutes(to: routes)
    endpoints.addConfigRoutes(to: routes)
    endpoints.addAnalyticsRoutes(to: routes)
    endpoints.addHistoryRoutes(to: routes)
    endpoints.addClusterRoutes(to: routes)
    return (router, routes.routes, endpoints)
}

/// One registered route: method and path in OpenAPI form (`/api/v1/incidents/{id}`).
struct RouteDescriptor: Hashable, Sendable, CustomStringConvertible {
    var method: String
    var path: String
    var description: String { "\(method) \(path)" }
}

/// Registers routes on the router and remembers them. Used only while the router is built.
final class RouteList {
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    let router: Router<BasicRequestContext>
    private(set) var routes: [RouteDescriptor] = []

    init(router: Router<BasicRequestContext>) { self.router = router }

    /// Adds `handler` for `method` on `path` (`{name}` segments are parameters).
    func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        router.on(RouterPath(stringLiteral: path), method: method, use: handler)
        routes.append(RouteDescriptor(method: method.rawValue, path: path))
    }
}

extension BasicRequestContext {
    /// A path parameter; routes only exist with their parameters, so a missing one is a bug.
    func parameter(_ name: String) -> String { parameters.get(name) ?? "" }
}
