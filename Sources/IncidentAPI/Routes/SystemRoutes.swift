import ClusterNode
import Foundation
import Hummingbird
import IncidentCore
import RaftCore

/// Liveness, readiness, Prometheus metrics and the OpenAPI document.
///
/// `health`, `ready`, `openapi.json` and `/metrics` need no key: load balancers, orchestrators
/// and scrapers call them.
extension Endpoints {
    func addSystemRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/health") { _, _ in
            .json(["status": "ok"])
        }
        routes.add(.get, "/api/v1/ready") { _, _ in
            try await ready()
        }
        routes.add(.get, "/metrics") { _, _ in
            guard let render = settings.metricsRenderer else { throw APIError.notFound("metrics are not enabled on this node") }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: render())))
        }
        routes.add(.get, "/api/v1/openapi.json") { _, _ in
            guard let document = settings.openAPIDocument else { throw APIError.notFound("the OpenAPI document is not loaded on this node") }
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
    }

    /// 200 when the node answers reads and knows a leader, else 503 with the reason.
    private func ready() async throws -> Response {
        let uptime = max(0, Date().timeIntervalSince(settings.startedAt))
        var body: JSONObject = [
            "version": .string(settings.version), "uptime_seconds": .int(Int64(uptime)),
            "started_at": .string(Timestamp(millisecondsSinceEpoch: Int64(settings.startedAt.timeIntervalSince1970 * 1_000)).rfc3339),
        ]
        let node = self.node
        let answer = await Deadline.firstOf(milliseconds: settings.readyTimeoutMilliseconds) { () async -> Result<NodeStatus, NodeError> in
            do throws(NodeError) { return .success(try await node.status()) } catch { return .failure(error) }
        }
        let status: NodeStatus
        switch answer {
        case .success(let value)?:
            status = value
        case .failure(let error)?:
            return notReady(body, reason: error.code.rawValue)
        case nil:
            return notReady(body, reason: "timeout")
        }
        let hasLeader = status.leader != 0
        body["status"] = hasLeader ? "ready" : "not_ready"
        body["components"] = [
            "consensus": [
                "status": hasLeader ? "ok" : "no_leader", "role": .string(Self.roleName(status.role)),
                "leader": .int(status.leader), "term": .int(status.term),
            ],
            "storage": [
                "status": "ok", "applied_index": .int(status.appliedIndex), "commit_index": .int(status.commitIndex),
                "log_bytes": .int(status.logBytes),
            ],
            "scheduler": ["status": "ok", "pending_timers": .int(status.pendingTimers)],
            "notifications": ["status": "ok", "outbox_depth": .int(status.outboxDepth)],
        ]
        return .json(.object(body), status: hasLeader ? .ok : .serviceUnavailable)
    }

    /// 503 naming why the consensus loop did not answer (stopped, or busy past the deadline).
    private func notReady(_ body: JSONObject, reason: String) -> Response {
        var body = body
        body["status"] = "not_ready"
        body["components"] = ["consensus": ["status": "down", "reason": .string(reason)]]
        var headers = HTTPFields()
        headers[.retryAfter] = String(settings.unavailableRetryAfterSeconds)
        return .json(.object(body), status: .serviceUnavailable, headers: headers)
    }

    static func roleName(_ role: Raft.Role) -> String {
        switch role {
        case .follower: return "follower"
        case .candidate: return "candidate"
        case .preCandidate: return "pre_candidate"
        case .leader: return "leader"
        }
    }
}
