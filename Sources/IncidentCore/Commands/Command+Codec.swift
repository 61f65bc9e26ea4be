/// The log encoding of commands: a format version byte, a tag byte, then the fields.
///
/// Tags are append-only: a new command gets a new tag, and a changed layout gets a new format
/// version with the old one still decoded, so a log written by an older build stays readable.
extension Command: BinaryCodable {
    public static let formatVersion: UInt8 = 1

    private enum Tag: UInt8 {
        case ingest = 1, openIncident, transition, assign, addNote, changeSeverity, updateIncident, merge
        case fireTimer, recordDelivery, createConfig, updateConfig, deleteConfig, setSLAPolicy, purgeClosed
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(Self.formatVersion)
        switch self {
        case .ingest(let events, let actor):
            writer.write(Tag.ingest.rawValue)
            writer.write(events)
            writer.write(actor)
        case .openIncident(let manual, let actor):
            writer.write(Tag.openIncident.rawValue)
            writer.write(manual)
            writer.write(actor)
        case .transition(let id, let action, let comment, let rootCause, let actor):
            writer.write(Tag.transition.rawValue)
            writer.write(id)
            writer.write(action)
            writer.write(comment)
            writer.write(rootCause)
            writer.write(actor)
        case .assign(let id, let user, let team, let actor):
            writer.write(Tag.assign.rawValue)
            writer.write(id)
            writer.write(user)
            writer.write(team)
            writer.write(actor)
        case .addNote(let id, let text, let actor):
            writer.write(Tag.addNote.rawValue)
            writer.write(id)
            writer.write(text)
            writer.write(actor)
        case .changeSeverity(let id, let severity, let reason, let actor):
            writer.write(Tag.changeSeverity.rawValue)
            writer.write(id)
            writer.write(severity)
            writer.write(reason)
            writer.write(actor)
        case .updateIncident(let id, let title, let description, let actor):
            writer.write(Tag.updateIncident.rawValue)
            writer.write(id)
            writer.write(title)
            writer.write(description)
            writer.write(actor)
        case .merge(let id, let into, let actor):
            writer.write(Tag.merge.rawValue)
            writer.write(id)
            writer.write(into)
            writer.write(actor)
        case .fireTimer(let timer, let actor):
            writer.write(Tag.fireTimer.rawValue)
            writer.write(timer)
            writer.write(actor)
        case .recordDelivery(let id, let report, let actor):
            writer.write(Tag.recordDelivery.rawValue)
            writer.write(varint: id)
            writer.write(report)
            writer.write(actor)
        case .createConfig(let item, let actor):
            writer.write(Tag.createConfig.rawValue)
            writer.write(item)
            writer.write(actor)
        case .updateConfig(let item, let actor):
            writer.write(Tag.updateConfig.rawValue)
            writer.write(item)
            writer.write(actor)
        case .deleteConfig(let kind, let id, let actor):
            writer.write(Tag.deleteConfig.rawValue)
            writer.write(kind)
            writer.write(id)
            writer.write(actor)
        case .setSLAPolicy(let policy, let actor):
            writer.write(Tag.setSLAPolicy.rawValue)
            writer.write(policy)
            writer.write(actor)
        case .purgeClosedIncidents(let before, let limit, let actor):
            writer.write(Tag.purgeClosed.rawValue)
            writer.write(before)
            writer.write(limit)
            writer.write(actor)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let versionOffset = reader.offset
        let version = try reader.readByte()
        guard version == Self.formatVersion else {
            throw DecodingError(.unsupportedVersion, at: versionOffset, "command format \(version)")
        }
        let tagOffset = reader.offset
        guard let tag = Tag(rawValue: try reader.readByte()) else { throw DecodingError(.invalidTag, at: tagOffset, "command") }
        switch tag {
        case .ingest: self = .ingest(events: try reader.read(), actor: try reader.read())
        case .openIncident: self = .openIncident(try reader.read(), actor: try reader.read())
        case .transition:
            self = .transition(incident: try reader.read(), action: try reader.read(), comment: try reader.read(), rootCause: try reader.read(), actor: try reader.read())
        case .assign: self = .assign(incident: try reader.read(), user: try reader.read(), team: try reader.read(), actor: try reader.read())
        case .addNote: self = .addNote(incident: try reader.read(), text: try reader.read(), actor: try reader.read())
        case .changeSeverity:
            self = .changeSeverity(incident: try reader.read(), severity: try reader.read(), reason: try reader.read(), actor: try reader.read())
        case .updateIncident:
            self = .updateIncident(incident: try reader.read(), title: try reader.read(), description: try reader.read(), actor: try reader.read())
        case .merge: self = .merge(incident: try reader.read(), into: try reader.read(), actor: try reader.read())
        case .fireTimer: self = .fireTimer(try reader.read(), actor: try reader.read())
        case .recordDelivery: self = .recordDelivery(notification: try reader.read(), report: try reader.read(), actor: try reader.read())
        case .createConfig: self = .createConfig(try reader.read(), actor: try reader.read())
        case .updateConfig: self = .updateConfig(try reader.read(), actor: try reader.read())
        case .deleteConfig: self = .deleteConfig(kind: try reader.read(), id: try reader.read(), actor: try reader.read())
        case .setSLAPolicy: self = .setSLAPolicy(try reader.read(), actor: try reader.read())
        case .purgeClosed: self = .purgeClosedIncidents(closedBefore: try reader.read(), limit: try reader.read(), actor: try reader.read())
        }
    }
}
