import ClusterNode
import HTTPTypes
import Hummingbird

/// How fresh this request's reads must be, from `?consistency=linearizable|local` (default
/// linearizable). A task-local, so every read a handler makes — including the read-back after a
/// write — follows the request's choice without threading it through every helper.
enum ReadScope {
    @TaskLocal static var consistency: ReadConsistency = .linearizable
}

/// Tells clients where they are in the cluster: every answer carries `X-Incidentd-Node` (the
/// node that answered) and `X-Incidentd-Leader` (the leader it knows, when it knows one); local
/// reads add `X-Incidentd-Applied-Index` and `X-Incidentd-Staleness-Ms` (milliseconds since the
/// node last heard from a leader). Outermost middleware, so error answers carry them too.
struct ClusterHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var nodeHeader: HTTPField.Name { ClusterHeaderNames.node }
    static var leaderHeader: HTTPField.Name { ClusterHeaderNames.leader }
    static var appliedHeader: HTTPField.Name { ClusterHeaderNames.applied }
    static var stalenessHeader: HTTPField.Name { ClusterHeaderNames.staleness }

    let node: IncidentNode
    let nodeID: String

    init(node: IncidentNode) {
        self.node = node
        nodeID = String(node.config.nodeID)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        var consistency = ReadConsistency.linearizable
        switch request.uri.queryParameters.get("consistency") {
        case nil, "linearizable": break
        case "local": consistency = .local
        default:
            response = try APIError.invalid("consistency", "must be 'linearizable' or 'local'").response(from: request, context: context)
            return decorate(response, consistency: .linearizable)
        }
        response = try await ReadScope.$consistency.withValue(consistency) { try await next(request, context) }
        return decorate(response, consistency: consistency)
    }

    private func decorate(_ response: Response, consistency: ReadConsistency) -> Response {
        var response = response
        Self.add(to: &response.headers, node: node, nodeID: nodeID, consistency: consistency)
        return response
    }

    /// Adds the headers to an answer of `node` (the ingest fast path's answers get them here too).
    static func add(to headers: inout HTTPFields, node: IncidentNode, nodeID: String, consistency: ReadConsistency) {
        headers[nodeHeader] = nodeID
        let leader = node.leader
        if leader != 0 { headers[leaderHeader] = String(leader) }
        if consistency == .local {
            headers[appliedHeader] = String(node.appliedIndex)
            if let staleness = node.millisecondsSinceLeaderContact { headers[stalenessHeader] = String(staleness) }
        }
    }
}

/// The cluster headers' names, made (and validated) once: a generic type cannot store them.
enum ClusterHeaderNames {
    static let node = HTTPField.Name("X-Incidentd-Node")!
    static let leader = HTTPField.Name("X-Incidentd-Leader")!
    static let applied = HTTPField.Name("X-Incidentd-Applied-Index")!
    static let staleness = HTTPField.Name("X-Incidentd-Staleness-Ms")!
}
