import Hummingbird
import IncidentCore

/// `/api/v1/api-keys`: admin only, including reads.
///
/// The secret is generated here and answered once, by `POST` (201) and by
/// `POST /api/v1/api-keys/{id}/rotate`; only its SHA-256 is replicated. `PUT`/`PATCH` change
/// `name`, `role` and `owner` and keep the secret. A create replayed with the same
/// `Idempotency-Key` answers 200 with the key but without a secret, which is not stored anywhere.
extension Endpoints {
    static let roleNames = Role.allCases.map(\.name)

    func addAPIKeyRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/api-keys") { request, _ in
            _ = try await authorize(request, for: .configure)
            let keys = try await read { $0.state.machine.config.apiKeys.ordered }
            return .json(["items": .array(keys.map(Self.keyJSON))])
        }
        routes.add(.post, "/api/v1/api-keys") { request, _ in
            let key = try await authorize(request, for: .configure)
            let body = try JSONReader(try await json(request))
            let (id, name) = try body.identity()
            guard let role = try body.named("role", Role.init(name:), expected: Self.roleNames) else { throw APIError.invalid("role", "is required") }
            let secret = APIKeySecret.generate()
            let item = APIKey(id: id, name: name, role: role, secretHash: APIKeySecret.hash(secret), owner: try body.string("owner"))
            let (result, duplicate) = try await submit(.createConfig(.apiKey(item), actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            guard case .configChanged(_, let storedID) = result else { throw APIError(.internalServerError, .internal, "unexpected answer") }
            var headers = HTTPFields()
            headers[.location] = "/api/v1/api-keys/\(storedID)"
            var answer = Self.keyJSON(try await stored(APIKey.self, storedID))
            if duplicate {
                headers[Self.replayedHeader] = "true"
                return .json(answer, status: .ok, headers: headers)
            }
            answer = answer.adding("secret", .string(secret))
            return .json(answer, status: .created, headers: headers)
        }
        routes.add(.get, "/api/v1/api-keys/{id}") { request, context in
            _ = try await authorize(request, for: .configure)
            return .json(Self.keyJSON(try await stored(APIKey.self, context.parameter("id"))))
        }
        for method in [HTTPRequest.Method.put, .patch] {
            routes.add(method, "/api/v1/api-keys/{id}") { request, context in
                let key = try await authorize(request, for: .configure)
                let id = context.parameter("id")
                var item = try await stored(APIKey.self, id)
                let body = try JSONReader(try await json(request))
                if let bodyID = try body.string("id"), bodyID != id { throw APIError.invalid("id", "does not match the id in the path ('\(id)')") }
                if method == .put || body.has("name") { item.name = try body.requiredString("name") }
                if method == .put || body.has("role") {
                    guard let role = try body.named("role", Role.init(name:), expected: Self.roleNames) else { throw APIError.invalid("role", "is required") }
                    item.role = role
                }
                if method == .put || body.object["owner"] != nil { item.owner = try body.string("owner") }
                _ = try await submit(.updateConfig(.apiKey(item), actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
                return .json(Self.keyJSON(try await stored(APIKey.self, id)))
            }
        }
        routes.add(.delete, "/api/v1/api-keys/{id}") { request, context in
            let key = try await authorize(request, for: .configure)
            let id = context.parameter("id")
            _ = try await stored(APIKey.self, id)
            _ = try await submit(.deleteConfig(kind: .apiKey, id: id, actor: Self.actor(key)))
            return Response(status: .noContent)
        }
        routes.add(.post, "/api/v1/api-keys/{id}/rotate") { request, context in
            let key = try await authorize(request, for: .configure)
            var item = try await stored(APIKey.self, context.parameter("id"))
            let secret = APIKeySecret.generate()
            item.secretHash = APIKeySecret.hash(secret)
            _ = try await submit(.updateConfig(.apiKey(item), actor: Self.actor(key)))
            return .json(Self.keyJSON(try await stored(APIKey.self, item.id)).adding("secret", .string(secret)))
        }
    }

    /// A key as answered: never its secret or hash.
    static func keyJSON(_ key: APIKey) -> JSONValue {
        [
            "id": .string(key.id), "name": .string(key.name), "role": .string(key.role.name), "owner": .string(key.owner),
            "created_at": .string(key.createdAt.rfc3339), "created_by": .string(key.createdBy.description),
        ]
    }
}

extension JSONValue {
    /// This object with one more field.
    func adding(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object[key] = value
        return .object(object)
    }
}
