/// The stored items of one configuration kind, with their evaluation order kept precomputed
/// (configuration changes are rare; events are evaluated against it constantly).
public struct ConfigTable<Entity: ConfigEntity>: Sendable, Equatable {
    public private(set) var items: [String: Entity] = [:]
    /// Items in evaluation order: by `position` for rules, then by id.
    public private(set) var ordered: [Entity] = []

    public init() {}

    public subscript(id: String) -> Entity? { items[id] }
    public var count: Int { items.count }

    mutating func put(_ item: Entity) {
        items[item.id] = item
        reorder()
    }

    mutating func remove(_ id: String) {
        items[id] = nil
        reorder()
    }

    private mutating func reorder() {
        ordered = items.values.sorted { a, b in
            let (pa, pb) = (a.evaluationPosition, b.evaluationPosition)
            return pa != pb ? pa < pb : a.id < b.id
        }
    }

    public static func == (lhs: ConfigTable, rhs: ConfigTable) -> Bool { lhs.ordered == rhs.ordered }
}

extension ConfigEntity {
    var evaluationPosition: Int { (self as? any OrderedRule)?.position ?? 0 }
}

extension ConfigTable: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) { ordered.encode(to: &writer) }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        let list = try [Entity](from: &reader)
        self.init()
        for item in list {
            guard items[item.id] == nil else { throw DecodingError(.invalidValue, at: start, "duplicate \(Entity.kind) id") }
            items[item.id] = item
        }
        reorder()
        guard ordered == list else { throw DecodingError(.invalidValue, at: start, "\(Entity.kind) items out of order") }
    }
}

/// All configuration: rules, schedules, policies, channels, windows, the directory and API keys.
public struct Configuration: Sendable, Equatable {
    /// No kind may hold more items than this, so configuration cannot grow state without bound.
    public static let maxItemsPerKind = 10_000

    public internal(set) var classificationRules = ConfigTable<ClassificationRule>()
    public internal(set) var routingRules = ConfigTable<RoutingRule>()
    public internal(set) var groupingRules = ConfigTable<GroupingRule>()
    public internal(set) var schedules = ConfigTable<OnCallSchedule>()
    public internal(set) var escalationPolicies = ConfigTable<EscalationPolicy>()
    public internal(set) var channels = ConfigTable<NotificationChannel>()
    public internal(set) var maintenanceWindows = ConfigTable<MaintenanceWindow>()
    public internal(set) var teams = ConfigTable<Team>()
    public internal(set) var users = ConfigTable<User>()
    public internal(set) var apiKeys = ConfigTable<APIKey>()
    public internal(set) var sla = SLAPolicy.default
    /// API key id by secret hash, for authentication.
    public private(set) var apiKeyByHash: [String: String] = [:]

    public init() {}

    /// The item of `kind` with `id`, type-erased.
    public func item(_ kind: ConfigKind, _ id: String) -> (any ConfigEntity)? {
        switch kind {
        case .classificationRule: return classificationRules[id]
        case .routingRule: return routingRules[id]
        case .groupingRule: return groupingRules[id]
        case .schedule: return schedules[id]
        case .escalationPolicy: return escalationPolicies[id]
        case .channel: return channels[id]
        case .maintenanceWindow: return maintenanceWindows[id]
        case .team: return teams[id]
        case .user: return users[id]
        case .apiKey: return apiKeys[id]
        }
    }

    public func count(_ kind: ConfigKind) -> Int {
        switch kind {
        case .classificationRule: return classificationRules.count
        case .routingRule: return routingRules.count
        case .groupingRule: return groupingRules.count
        case .schedule: return schedules.count
        case .escalationPolicy: return escalationPolicies.count
        case .channel: return channels.count
        case .maintenanceWindow: return maintenanceWindows.count
        case .team: return teams.count
        case .user: return users.count
        case .apiKey: return apiKeys.count
        }
    }

    /// Every item of every kind, in kind then evaluation order.
    public var allItems: [any ConfigEntity] {
        var all: [any ConfigEntity] = []
        all += classificationRules.ordered as [any ConfigEntity]
        all += routingRules.ordered as [any ConfigEntity]
        all += groupingRules.ordered as [any ConfigEntity]
        all += schedules.ordered as [any ConfigEntity]
        all += escalationPolicies.ordered as [any ConfigEntity]
        all += channels.ordered as [any ConfigEntity]
        all += maintenanceWindows.ordered as [any ConfigEntity]
        all += teams.ordered as [any ConfigEntity]
        all += users.ordered as [any ConfigEntity]
        all += apiKeys.ordered as [any ConfigEntity]
        return all
    }

    mutating func put(_ item: ConfigItem) {
        switch item {
        case .classificationRule(let x): classificationRules.put(x)
        case .routingRule(let x): routingRules.put(x)
        case .groupingRule(let x): groupingRules.put(x)
        case .schedule(let x): schedules.put(x)
        case .escalationPolicy(let x): escalationPolicies.put(x)
        case .channel(let x): channels.put(x)
        case .maintenanceWindow(let x): maintenanceWindows.put(x)
        case .team(let x): teams.put(x)
        case .user(let x): users.put(x)
        case .apiKey(let x):
            if let old = apiKeys[x.id] { apiKeyByHash[old.secretHash] = nil }
            apiKeys.put(x)
            apiKeyByHash[x.secretHash] = x.id
        }
    }

    mutating func remove(_ kind: ConfigKind, _ id: String) {
        switch kind {
        case .classificationRule: classificationRules.remove(id)
        case .routingRule: routingRules.remove(id)
        case .groupingRule: groupingRules.remove(id)
        case .schedule: schedules.remove(id)
        case .escalationPolicy: escalationPolicies.remove(id)
        case .channel: channels.remove(id)
        case .maintenanceWindow: maintenanceWindows.remove(id)
        case .team: teams.remove(id)
        case .user: users.remove(id)
        case .apiKey:
            if let old = apiKeys[id] { apiKeyByHash[old.secretHash] = nil }
            apiKeys.remove(id)
        }
    }

    /// Items that reference `kind`/`id`, as `kind:id (field)` strings, sorted.
    func referrers(of kind: ConfigKind, _ id: String) -> [String] {
        var found: [String] = []
        for item in allItems {
            for ref in item.references where ref.kind == kind && ref.id == id {
                found.append("\(item.kindOfSelf.name):\(item.id) (\(ref.field))")
            }
        }
        return found
    }
}

extension Configuration: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(classificationRules)
        writer.write(routingRules)
        writer.write(groupingRules)
        writer.write(schedules)
        writer.write(escalationPolicies)
        writer.write(channels)
        writer.write(maintenanceWindows)
        writer.write(teams)
        writer.write(users)
        writer.write(apiKeys)
        writer.write(sla)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init()
        classificationRules = try reader.read()
        routingRules = try reader.read()
        groupingRules = try reader.read()
        schedules = try reader.read()
        escalationPolicies = try reader.read()
        channels = try reader.read()
        maintenanceWindows = try reader.read()
        teams = try reader.read()
        users = try reader.read()
        apiKeys = try reader.read()
        sla = try reader.read()
        for key in apiKeys.ordered { apiKeyByHash[key.secretHash] = key.id }
    }
}
