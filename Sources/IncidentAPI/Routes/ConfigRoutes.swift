import Hummingbird
import IncidentCore

/// One kind of configuration exposed as a REST collection: `GET`/`POST` on the collection,
/// `GET`/`PUT`/`PATCH`/`DELETE` on `/{id}`.
struct ConfigCollection<Entity: ConfigJSONCodable>: Sendable {
    let path: String
    let items: @Sendable (Configuration) -> [Entity]
    let wrap: @Sendable (Entity) -> ConfigItem
}

/// Configuration CRUD. Reading needs the read right, changing it the configure right (admin).
///
/// - `POST` creates (201 with `Location`); without `id` the node assigns `<prefix>-<n>`.
/// - `PUT` replaces the item (an `id` in the body must match the path).
/// - `PATCH` merges the body's top-level fields onto the stored item, then validates the result.
/// - `DELETE` answers 204; an item others still reference is 409 `in_use` with
///   `details.references`.
///
/// Validation is IncidentCore's (`details.field` names the JSON field, e.g. `match.title` for a
/// bad regex, `levels[0].delay`); references to missing items are 400 naming the field.
extension Endpoints {
    func addConfigRoutes(to routes: RouteList) {
        addCollection(ConfigCollection(path: "/api/v1/policies/escalation", items: { $0.escalationPolicies.ordered }, wrap: ConfigItem.escalationPolicy), to: routes)
        addCollection(ConfigCollection(path: "/api/v1/schedules", items: { $0.schedules.ordered }, wrap: ConfigItem.schedule), to: routes)
        addCollection(ConfigCollection(path: "/api/v1/routing-rules", items: { $0.routingRules.ordered }, wrap: ConfigItem.routingRule), to: routes)
        addCollection(
            ConfigCollection(path: "/api/v1/classification-rules", items: { $0.classificationRules.ordered }, wrap: ConfigItem.classificationRule),
            to: routes)
        addCollection(ConfigCollection(path: "/api/v1/grouping-rules", items: { $0.groupingRules.ordered }, wrap: ConfigItem.groupingRule), to: routes)
        addCollection(ConfigCollection(path: "/api/v1/channels", items: { $0.channels.ordered }, wrap: ConfigItem.channel), to: routes)
        addCollection(
            ConfigCollection(path: "/api/v1/maintenance-windows", items: { $0.maintenanceWindows.ordered }, wrap: ConfigItem.maintenanceWindow),
            to: routes)
        addCollection(ConfigCollection(path: "/api/v1/users", items: { $0.users.ordered }, wrap: ConfigItem.user), to: routes)
        addCollection(ConfigCollection(path: "/api/v1/teams", items: { $0.teams.ordered }, wrap: ConfigItem.team), to: routes)
        addAPIKeyRoutes(to: routes)
        addScheduleAndChannelRoutes(to: routes)
    }

    private func addCollection<E: ConfigJSONCodable>(_ collection: ConfigCollection<E>, to routes: RouteList) {
        let itemPath = collection.path + "/{id}"
        routes.add(.get, collection.path) { request, _ in
            _ = try await authorize(request, for: .read)
            let items = try await read { collection.items($0.state.machine.config) }
            return .json(["items": .array(items.map { .object($0.json(revealingSecrets: false)) })])
        }
        routes.add(.post, collection.path) { request, _ in
            let key = try await authorize(request, for: .configure)
            let item = try E.decode(try JSONReader(try await json(request)), existing: nil)
            let (result, duplicate) = try await submit(.createConfig(collection.wrap(item), actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            guard case .configChanged(_, let id) = result else { throw APIError(.internalServerError, .internal, "unexpected answer") }
            var headers = HTTPFields()
            headers[.location] = "\(collection.path)/\(id)"
            if duplicate { headers[Self.replayedHeader] = "true" }
            return .json(.object(try await stored(E.self, id).json(revealingSecrets: false)), status: .created, headers: headers)
        }
        routes.add(.get, itemPath) { request, context in
            _ = try await authorize(request, for: .read)
            return .json(.object(try await stored(E.self, context.parameter("id")).json(revealingSecrets: false)))
        }
        routes.add(.put, itemPath) { request, context in
            let key = try await authorize(request, for: .configure)
            let body = try JSONReader(try await json(request))
            return try await replace(collection, id: context.parameter("id"), with: body, key: key, request: request, merging: false)
        }
        routes.add(.patch, itemPath) { request, context in
            let key = try await authorize(request, for: .configure)
            let body = try JSONReader(try await json(request))
            return try await replace(collection, id: context.parameter("id"), with: body, key: key, request: request, merging: true)
        }
        routes.add(.delete, itemPath) { request, context in
            let key = try await authorize(request, for: .configure)
            let id = context.parameter("id")
            _ = try await stored(E.self, id)
            _ = try await submit(.deleteConfig(kind: E.kind, id: id, actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
            return Response(status: .noContent)
        }
    }

    /// PUT and PATCH: read the stored item (404), build the new one, submit the update.
    private func replace<E: ConfigJSONCodable>(
        _ collection: ConfigCollection<E>, id: String, with body: JSONReader, key: APIKey, request: Request, merging: Bool
    ) async throws(APIError) -> Response {
        let existing = try await stored(E.self, id)
        if let bodyID = try body.string("id"), bodyID != id { throw APIError.invalid("id", "does not match the id in the path ('\(id)')") }
        var fields = merging ? existing.json(revealingSecrets: true) : JSONObject()
        for (name, value) in body.object.fields { fields[name] = value }
        fields["id"] = .string(id)
        let item = try E.decode(try JSONReader(.object(fields)), existing: existing)
        _ = try await submit(.updateConfig(collection.wrap(item), actor: Self.actor(key)), requestID: try Self.requestID(request, key: key))
        return .json(.object(try await stored(E.self, id).json(revealingSecrets: false)))
    }

    /// The stored item of `E`'s kind with `id`, or 404.
    func stored<E: ConfigEntity>(_ type: E.Type, _ id: String) async throws(APIError) -> E {
        guard let item = try await read({ $0.state.machine.config.item(E.kind, id) as? E }) else {
            throw APIError.notFound("\(E.kind.name) '\(id)' not found")
        }
        return item
    }
}
