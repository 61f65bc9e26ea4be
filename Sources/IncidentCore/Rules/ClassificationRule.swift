/// Overrides what a source said about an event: its severity and category, and which team owns it.
///
/// Rules are evaluated in order (`position`, then id). The first matching rule wins unless it
/// sets `continue`, in which case later matching rules may fill in what it left unset
/// (a value set by an earlier rule is never overwritten).
public struct ClassificationRule: OrderedRule {
    public static let kind = ConfigKind.classificationRule

    public var id: String
    public var name: String
    public var position: Int
    public var enabled: Bool
    public var match: EventMatcher
    public var setSeverity: Severity?
    public var setCategory: EventCategory?
    public var setTeam: String?
    public var `continue`: Bool

    public init(
        id: String = "", name: String, position: Int = 0, enabled: Bool = true, match: EventMatcher = EventMatcher(),
        setSeverity: Severity? = nil, setCategory: EventCategory? = nil, setTeam: String? = nil, continue: Bool = false
    ) {
        self.id = id
        self.name = name
        self.position = position
        self.enabled = enabled
        self.match = match
        self.setSeverity = setSeverity
        self.setCategory = setCategory
        self.setTeam = setTeam
        self.continue = `continue`
    }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        do { try match.validate() } catch { throw error.nested(under: "match") }
        if setSeverity == nil && setCategory == nil && setTeam == nil {
            throw ValidationError(field: "set", reason: "a classification rule must set severity, category or team")
        }
    }

    public var references: [ConfigReference] { setTeam.map { [ConfigReference(.team, $0, field: "set_team")] } ?? [] }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(position)
        writer.write(bool: enabled)
        writer.write(match)
        writer.write(setSeverity)
        writer.write(setCategory)
        writer.write(setTeam)
        writer.write(bool: `continue`)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), position: try reader.read(), enabled: try reader.read(),
            match: try reader.read(), setSeverity: try reader.read(), setCategory: try reader.read(),
            setTeam: try reader.read(), continue: try reader.read())
    }
}
