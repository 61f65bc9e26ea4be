import Hummingbird
import IncidentCore

/// The configuration routes that are not plain CRUD: who is on call, channel tests, and the
/// SLA policy.
///
/// - `GET /api/v1/schedules/{id}/oncall?at=`: the user on call at `at` (default now), or null.
/// - `POST /api/v1/channels/{id}/test`: sends a test message through the channel with the
///   executable's tester; 200 with the result when it finishes within
///   `channelTestWaitMilliseconds`, else 202 (it goes on in the background); 501 when the node
///   has no tester.
/// - `GET|PUT /api/v1/policies/sla`: acknowledge/resolve targets per severity.
extension Endpoints {
    func addScheduleAndChannelRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/schedules/{id}/oncall") { request, context in
            _ = try await authorize(request, for: .read)
            let at = try QueryReader(request).instant("at") ?? now
            let id = context.parameter("id")
            let schedule = try await stored(OnCallSchedule.self, id)
            let userID = schedule.onCall(at: at)
            let user = try await read { context in userID.flatMap { context.state.machine.config.users[$0] } }
            return .json([
                "schedule_id": .string(id), "at": .string(at.rfc3339), "user_id": .string(userID),
                "user": user.map { .object($0.json(revealingSecrets: false)) } ?? .null,
            ])
        }
        routes.add(.post, "/api/v1/channels/{id}/test") { request, context in
            _ = try await authorize(request, for: .configure)
            let channel = try await stored(NotificationChannel.self, context.parameter("id"))
            guard let tester = settings.channelTester else {
                throw APIError(.notImplemented, .notImplemented, "this node has no notification delivery to test channels with")
            }
            let report = await Deadline.firstOf(milliseconds: settings.channelTestWaitMilliseconds) { await tester(channel) }
            var body: JSONObject = ["channel_id": .string(channel.id)]
            switch report {
            case .delivered?:
                body["result"] = "delivered"
            case .failed(let error, let retryable)?:
                body["result"] = "failed"
                body["error"] = .string(error)
                body["retryable"] = .bool(retryable)
            case .dispatched?, nil:
                body["result"] = "pending"
                body["message"] = "the test delivery is still running"
                return .json(.object(body), status: .accepted)
            }
            return .json(.object(body))
        }
        routes.add(.get, "/api/v1/policies/sla") { request, _ in
            _ = try await authorize(request, for: .read)
            return .json(try await read { $0.state.machine.config.sla }.json)
        }
        routes.add(.put, "/api/v1/policies/sla") { request, _ in
            let key = try await authorize(request, for: .configure)
            let body = try JSONReader(try await json(request))
            let current = try await read { $0.state.machine.config.sla }
            let policy = try SLAPolicy.decode(body, current: current)
            _ = try await submit(.setSLAPolicy(policy, actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            return .json(try await read { $0.state.machine.config.sla }.json)
        }
    }

}
