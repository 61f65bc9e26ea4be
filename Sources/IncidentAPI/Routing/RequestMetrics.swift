import CoreMetrics
import Dispatch
import HTTPTypes
import Hummingbird
import Locking

/// Request counts, durations and errors per route, under the names and dimensions of
/// Hummingbird's `MetricsMiddleware` (`hb.requests`, `http.server.request.duration`,
/// `hb.request.errors`, `http.server.active_requests`), so dashboards built on those keep
/// working.
///
/// Recorded when the handler's response is ready, not after its body was written: Hummingbird's
/// middleware wraps every body in a post-write closure, which takes every response off
/// Hummingbird's one-write path for a body that is a single buffer. Head, body and end then
/// went out as three writes through the async channel, the head and the body in separate system
/// calls, for each of our (small, buffered) JSON answers. The duration therefore excludes
/// writing the response, which for those answers is one non-blocking `writev`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache: RouteMetrics

    /// `factory`: the metrics backend (tests pass their own).
    init(factory: any MetricsFactory = MetricsSystem.factory) { cache = RouteMetrics(factory: factory) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let active = cache.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let metrics = cache.route(context.endpointPath ?? "Unknown", request.method, response.status)
            metrics.requests.increment()
            metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let metrics = cache.route(context.endpointPath ?? "NotFound", request.method, status)
            metrics.requests.increment()
            metrics.errors.increment()
            throw error
        }
    }
}

/// The metric handles per method and per route, method and status, made once each.
final class RouteMetrics: Sendable {
    struct Key: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: Int
    }

    struct Route: Sendable {
        let requests: Counter
        let duration: CoreMetrics.Timer
        let errors: Counter

        init(_ key: Key, factory: any MetricsFactory) {
            let dimensions = [
                ("http.route", key.route), ("http.request.method", key.method.rawValue), ("http.response.status_code", String(key.status)),
            ]
            requests = Counter(label: "hb.requests", dimensions: dimensions, factory: factory)
            duration = CoreMetrics.Timer(
                label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
            errors = Counter(
                label: "hb.request.errors",
                dimensions: [("http.route", key.route), ("http.request.method", key.method.rawValue), ("error.type", String(key.status))],
                factory: factory)
        }
    }

    private let factory: any MetricsFactory
    private let routes = Lock<[Key: Route]>([:])
    private let methods = Lock<[HTTPRequest.Method: Meter]>([:])

    init(factory: any MetricsFactory) { self.factory = factory }

    func route(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Route {
        let key = Key(route: route, method: method, status: status.code)
        return routes.withLock { routes in
            if let known = routes[key] { return known }
            let made = Route(key, factory: factory)
            routes[key] = made
            return made
        }
    }

    func active(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { methods in
            if let known = methods[method] { return known }
            let made = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)], factory: factory)
            methods[method] = made
            return made
        }
    }
}
