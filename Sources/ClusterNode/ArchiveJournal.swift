import DequeModule
import IncidentCore
import RaftCore

/// What the PostgreSQL archiver has yet to write, kept in replicated state.
///
/// Once archival is switched on (`ArchiveCommand.enable`), applying an entry also records what
/// the archive needs from it and only it can tell: the events with the incident each went to and
/// its outcome, the incidents it changed, delivery reports and configuration changes. Every
/// replica records the same, so the journal is part of snapshots: an archiver that takes over
/// after a failover finds, on its own node, every change since the archive's watermark, exactly
/// as applied (the current rows of changed incidents are read from state when a batch is built).
///
/// `ArchiveCommand.progress` (proposed by the archiver after each committed batch) trims it. The
/// journal is bounded by `limitBytes` (an estimate from entry sizes, equal on every replica):
/// beyond it the oldest records are dropped and the dropped range is remembered as a gap, which
/// the archiver records in PostgreSQL after re-syncing every incident row from state.
public struct ArchiveJournal: Sendable, Equatable {
    /// Journal records start after this index (0: archival is off).
    public private(set) var enabledAt: LogIndex = 0
    public private(set) var limitBytes: Int = 0
    /// The highest index the archive confirmed through `progress` (the archive's own watermark
    /// may be ahead: the command that reports it applies later).
    public private(set) var watermark: LogIndex = 0
    /// Records after `watermark`, in log order.
    public private(set) var records: Deque<ArchiveRecord> = []
    public private(set) var bytes = 0
    /// Indexes whose records were dropped over the limit (0: none since the watermark).
    public private(set) var gapThrough: LogIndex = 0
    /// The node that may archive (advertised by nodes started with an archive URL).
    public private(set) var archivers: Set<NodeID> = []

    public var isEnabled: Bool { enabledAt > 0 }

    /// The journal without its records (cheap to copy off the consensus loop).
    public struct Summary: Sendable, Equatable {
        public var enabled: Bool
        public var watermark: LogIndex
        public var records: Int
        public var bytes: Int
        public var limitBytes: Int
        public var gapThrough: LogIndex
        public var archivers: [NodeID]
    }

    public var summary: Summary {
        Summary(
            enabled: isEnabled, watermark: watermark, records: records.count, bytes: bytes, limitBytes: limitBytes, gapThrough: gapThrough,
            archivers: archivers.sorted())
    }

    public init() {}

    mutating func apply(_ command: ArchiveCommand, at index: LogIndex) {
        switch command {
        case .enable(let limit):
            if enabledAt == 0 { enabledAt = index }
            limitBytes = max(limit, 1)
            trimToLimit()
        case .setArchiver(let node, let available):
            if available { archivers.insert(node) } else { archivers.remove(node) }
        case .progress(let through):
            guard through > watermark else { return }
            watermark = through
            while let first = records.first, first.index <= through {
                bytes -= first.cost
                records.removeFirst()
            }
            if gapThrough <= through { gapThrough = 0 }
        }
    }

    mutating func record(_ record: ArchiveRecord) {
        guard isEnabled, record.index > enabledAt else { return }
        records.append(record)
        bytes += record.cost
        trimToLimit()
    }

    private mutating func trimToLimit() {
        while bytes > limitBytes, let first = records.first {
            gapThrough = max(gapThrough, first.index)
            bytes -= first.cost
            records.removeFirst()
        }
    }

    /// Records with an index in `after+1 ... through`, at most `limit` of them.
    public func records(after: LogIndex, through: LogIndex, limit: Int) -> ArraySlice<ArchiveRecord> {
        // Records are in index order: find the first after `after` by binary search.
        var low = 0
        var high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].index <= after { low = mid + 1 } else { high = mid }
        }
        var end = low
        while end < records.count, end - low < limit, records[end].index <= through { end += 1 }
        return ArraySlice(records[low..<end])
    }

    // MARK: - Snapshot

    func encode(to writer: inout BinaryWriter) {
        writer.write(varint: enabledAt)
        writer.write(varint: UInt64(limitBytes))
        writer.write(varint: watermark)
        writer.write(varint: gapThrough)
        writer.write(varint: UInt64(archivers.count))
        for node in archivers.sorted() { writer.write(varint: node) }
        writer.write(varint: UInt64(records.count))
        for record in records { record.encode(to: &writer) }
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        enabledAt = try reader.readVarint()
        let start = reader.offset
        limitBytes = Int(try reader.narrow(try reader.readVarint(), to: Int32.self, at: start))
        watermark = try reader.readVarint()
        gapThrough = try reader.readVarint()
        for _ in 0..<(try reader.readCount(minimumElementSize: 1)) { archivers.insert(try reader.readVarint()) }
        for _ in 0..<(try reader.readCount(minimumElementSize: 4)) {
            let record = try ArchiveRecord(from: &reader)
            records.append(record)
            bytes += record.cost
        }
    }
}

/// What one applied entry means for the archive.
public struct ArchiveRecord: Sendable, Equatable {
    public struct ArchivedEvent: Sendable, Equatable {
        public var event: Event
        public var incident: IncidentID?
        public var disposition: EventDisposition
    }

    public struct Delivery: Sendable, Equatable {
        public var notification: UInt64
        public var incident: IncidentID
        public var channel: String
        public var kind: NotificationKind
        public var level: Int
        public var report: DeliveryReport
    }

    public enum ConfigAction: UInt8, Sendable, Equatable, BinaryCodable {
        case create, update, delete, slaPolicy
        public var name: String { ["create", "update", "delete", "sla_policy"][Int(rawValue)] }
    }

    public struct ConfigChange: Sendable, Equatable {
        public var action: ConfigAction
        public var kind: ConfigKind?
        public var id: String
        /// The item as written (nil for a delete or an SLA policy change).
        public var item: ConfigItem?
    }

    public var index: LogIndex
    public var at: Timestamp
    public var actor: Actor
    public var events: [ArchivedEvent] = []
    /// Incidents the entry changed (their current rows and timelines are archived).
    public var incidents: [IncidentID] = []
    public var delivery: Delivery?
    public var config: ConfigChange?
    /// The journal's size estimate for this record: the entry's size, equal on every replica.
    var cost: Int

    var isEmpty: Bool { events.isEmpty && incidents.isEmpty && delivery == nil && config == nil }

    func encode(to writer: inout BinaryWriter) {
        writer.write(varint: index)
        writer.write(at)
        writer.write(actor)
        writer.write(varint: UInt64(cost))
        writer.write(varint: UInt64(events.count))
        for event in events {
            event.event.encode(to: &writer)
            writer.write(event.incident)
            writer.write(event.disposition)
        }
        incidents.encode(to: &writer)
        if let delivery {
            writer.write(UInt8(1))
            writer.write(varint: delivery.notification)
            writer.write(delivery.incident)
            writer.write(string: delivery.channel)
            writer.write(delivery.kind)
            writer.write(varint: UInt64(max(0, delivery.level)))
            writer.write(delivery.report)
        } else {
            writer.write(UInt8(0))
        }
        if let config {
            writer.write(UInt8(1))
            writer.write(config.action)
            writer.write(config.kind)
            writer.write(string: config.id)
            writer.write(config.item)
        } else {
            writer.write(UInt8(0))
        }
    }

    init(index: LogIndex, at: Timestamp, actor: Actor, cost: Int) {
        self.index = index
        self.at = at
        self.actor = actor
        self.cost = cost
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        index = try reader.readVarint()
        at = try reader.read()
        actor = try reader.read()
        let costStart = reader.offset
        cost = Int(try reader.narrow(try reader.readVarint(), to: Int32.self, at: costStart))
        for _ in 0..<(try reader.readCount(minimumElementSize: 8)) {
            events.append(ArchivedEvent(event: try reader.read(), incident: try reader.read(), disposition: try reader.read()))
        }
        incidents = try reader.read()
        let deliveryTag = reader.offset
        switch try reader.readByte() {
        case 0: break
        case 1:
            let notification = try reader.readVarint()
            let incident: IncidentID = try reader.read()
            let channel = try reader.readString()
            let kind: NotificationKind = try reader.read()
            let levelStart = reader.offset
            let level = Int(try reader.narrow(try reader.readVarint(), to: Int32.self, at: levelStart))
            delivery = Delivery(notification: notification, incident: incident, channel: channel, kind: kind, level: level, report: try reader.read())
        default: throw DecodingError(.invalidTag, at: deliveryTag, "archive record delivery")
        }
        let configTag = reader.offset
        switch try reader.readByte() {
        case 0: break
        case 1:
            config = ConfigChange(action: try reader.read(), kind: try reader.read(), id: try reader.readString(), item: try reader.read())
        default: throw DecodingError(.invalidTag, at: configTag, "archive record config")
        }
    }
}

/// Replicated changes to the archive journal (carried as cluster commands).
public enum ArchiveCommand: Sendable, Equatable {
    /// Switches the journal on (first time: records start after this entry) and sets its bound.
    case enable(limitBytes: Int)
    /// A node can (or no longer can) archive: it has an archive URL.
    case setArchiver(NodeID, available: Bool)
    /// The archive committed everything through this index.
    case progress(LogIndex)

    func encode(to writer: inout BinaryWriter) {
        switch self {
        case .enable(let limit):
            writer.write(UInt8(0))
            writer.write(varint: UInt64(max(0, limit)))
        case .setArchiver(let node, let available):
            writer.write(UInt8(1))
            writer.write(varint: node)
            writer.write(bool: available)
        case .progress(let index):
            writer.write(UInt8(2))
            writer.write(varint: index)
        }
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        let offset = reader.offset
        switch try reader.readByte() {
        case 0:
            let start = reader.offset
            self = .enable(limitBytes: Int(try reader.narrow(try reader.readVarint(), to: Int32.self, at: start)))
        case 1: self = .setArchiver(try reader.readVarint(), available: try reader.read())
        case 2: self = .progress(try reader.readVarint())
        case let tag: throw DecodingError(.invalidTag, at: offset, "archive command \(tag)")
        }
    }
}

extension ArchiveRecord {
    /// What `command` (applied at `index` with `outcome`) means for the archive. `intentBefore`
    /// is the notification a delivery report is about, as it was before the report applied (a
    /// terminal report may remove it from the outbox).
    static func of(
        _ command: Command, outcome: Outcome, index: LogIndex, at: Timestamp, cost: Int, intentBefore: NotificationIntent?,
        after: IncidentStateMachine
    ) -> ArchiveRecord? {
        guard case .success(let applied) = outcome else { return nil }
        var record = ArchiveRecord(index: index, at: at, actor: command.actor, cost: cost)
        switch (command, applied.result) {
        case (.ingest(let events, _), .ingested(let results)) where events.count == results.count:
            var touched: [IncidentID] = []
            for (event, result) in zip(events, results) {
                record.events.append(ArchivedEvent(event: event, incident: result.incident, disposition: result.disposition))
                if let incident = result.incident, !touched.contains(incident) { touched.append(incident) }
            }
            record.incidents = touched
        case (_, .incident(let id, _)):
            record.incidents = [id]
            if case .merge(_, let into, _) = command, into != id { record.incidents.append(into) }
        case (.fireTimer(let timer, _), .timerFired(true)):
            if let incident = after.incident(number: timer.incident) { record.incidents = [incident.id] }
        case (.recordDelivery(let id, let report, _), .deliveryRecorded(true)):
            if let intent = after.notification(id) ?? intentBefore {
                record.incidents = [intent.incident]
                record.delivery = Delivery(
                    notification: id, incident: intent.incident, channel: intent.channel, kind: intent.kind, level: intent.level, report: report)
            }
        case (.createConfig(let item, _), .configChanged):
            record.config = ConfigChange(action: .create, kind: item.kind, id: item.id, item: item)
        case (.updateConfig(let item, _), .configChanged):
            record.config = ConfigChange(action: .update, kind: item.kind, id: item.id, item: item)
        case (.deleteConfig(let kind, let id, _), .configChanged):
            record.config = ConfigChange(action: .delete, kind: kind, id: id, item: nil)
        case (.setSLAPolicy, .slaPolicyUpdated):
            record.config = ConfigChange(action: .slaPolicy, kind: nil, id: "sla", item: nil)
        default:
            return nil
        }
        return record.isEmpty ? nil : record
    }
}
