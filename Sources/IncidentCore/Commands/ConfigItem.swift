/// Any configuration item, as carried by create/update commands.
public enum ConfigItem: Sendable, Equatable {
    case classificationRule(ClassificationRule)
    case routingRule(RoutingRule)
    case groupingRule(GroupingRule)
    case schedule(OnCallSchedule)
    case escalationPolicy(EscalationPolicy)
    case channel(NotificationChannel)
    case maintenanceWindow(MaintenanceWindow)
    case team(Team)
    case user(User)
    case apiKey(APIKey)

    public var kind: ConfigKind { entity.kindOfSelf }

    public var id: String { entity.id }

    /// The wrapped item, type-erased.
    public var entity: any ConfigEntity {
        switch self {
        case .classificationRule(let item): return item
        case .routingRule(let item): return item
        case .groupingRule(let item): return item
        case .schedule(let item): return item
        case .escalationPolicy(let item): return item
        case .channel(let item): return item
        case .maintenanceWindow(let item): return item
        case .team(let item): return item
        case .user(let item): return item
        case .apiKey(let item): return item
        }
    }

    /// Wraps a type-erased entity back (the kind decides the case).
    init(_ entity: any ConfigEntity) {
        switch entity {
        case let item as ClassificationRule: self = .classificationRule(item)
        case let item as RoutingRule: self = .routingRule(item)
        case let item as GroupingRule: self = .groupingRule(item)
        case let item as OnCallSchedule: self = .schedule(item)
        case let item as EscalationPolicy: self = .escalationPolicy(item)
        case let item as NotificationChannel: self = .channel(item)
        case let item as MaintenanceWindow: self = .maintenanceWindow(item)
        case let item as Team: self = .team(item)
        case let item as User: self = .user(item)
        case let item as APIKey: self = .apiKey(item)
        default: preconditionFailure("unknown config entity \(type(of: entity))")
        }
    }
}

extension ConfigEntity {
    var kindOfSelf: ConfigKind { Self.kind }
}

extension ConfigItem: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(kind)
        entity.encode(to: &writer)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        switch try reader.read(ConfigKind.self) {
        case .classificationRule: self = .classificationRule(try reader.read())
        case .routingRule: self = .routingRule(try reader.read())
        case .groupingRule: self = .groupingRule(try reader.read())
        case .schedule: self = .schedule(try reader.read())
        case .escalationPolicy: self = .escalationPolicy(try reader.read())
        case .channel: self = .channel(try reader.read())
        case .maintenanceWindow: self = .maintenanceWindow(try reader.read())
        case .team: self = .team(try reader.read())
        case .user: self = .user(try reader.read())
        case .apiKey: self = .apiKey(try reader.read())
        }
    }
}
