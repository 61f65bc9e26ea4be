/// What an API key may do. Each role includes the rights listed for it only:
/// `ingest` posts events; `viewer` reads; `responder` reads and acts on incidents;
/// `admin` does everything, including configuration.
public enum Role: UInt8, CaseIterable, Sendable, Comparable, BinaryCodable {
    case ingest, viewer, responder, admin

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
    public var name: String { ["ingest", "viewer", "responder", "admin"][Int(rawValue)] }
    public init?(name: String) {
        guard let role = Role.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }

    public func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (.admin, _): return true
        case (.ingest, .ingest): return true
        case (.viewer, .read): return true
        case (.responder, .read), (.responder, .respond): return true
        default: return false
        }
    }
}

/// A right checked by the API layer before proposing a command.
public enum Permission: UInt8, CaseIterable, Sendable {
    case ingest, read, respond, configure
}

/// An API key. Only the SHA-256 hash of the secret is stored (hex, computed by the API layer):
/// a snapshot or a replica's disk never reveals a usable key.
public struct APIKey: ConfigEntity {
    public static let kind = ConfigKind.apiKey

    public var id: String
    public var name: String
    public var role: Role
    /// Lower-case hex SHA-256 of the secret.
    public var secretHash: String
    /// The user the key acts as on incident timelines, if it belongs to a person.
    public var owner: String?
    public var createdAt: Timestamp
    public var createdBy: Actor

    public init(id: String = "", name: String, role: Role, secretHash: String, owner: String? = nil, createdAt: Timestamp = .epoch, createdBy: Actor = .system) {
        self.id = id
        self.name = name
        self.role = role
        self.secretHash = secretHash
        self.owner = owner
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        guard secretHash.utf8.count == 64, secretHash.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw ValidationError(field: "secret_hash", reason: "must be 64 lower-case hex digits (SHA-256)")
        }
    }

    public var references: [ConfigReference] { owner.map { [ConfigReference(.user, $0, field: "owner")] } ?? [] }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(role)
        writer.write(secretHash)
        writer.write(owner)
        writer.write(createdAt)
        writer.write(createdBy)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), role: try reader.read(), secretHash: try reader.read(),
            owner: try reader.read(), createdAt: try reader.read(), createdBy: try reader.read())
    }
}
