/// The replicated incident state and its single mutation entry point.
///
/// `apply(_:at:index:)` is a pure function of the state and its arguments: no clock, no
/// randomness, no I/O, no dependence on dictionary iteration order. Replicas that apply the same
/// commands at the same log positions hold byte-identical `snapshot()`s (the property tests check
/// this). A rejected command changes nothing: every command validates fully before it mutates.
public struct IncidentStateMachine: Sendable {
    /// Runtime limits of the state machine.
    public struct Settings: Sendable, Equatable, BinaryCodable {
        /// Severity for events whose raw severity is missing or unrecognised.
        public var defaultSeverity: Severity = .p3
        /// Delivery attempts before a notification is marked failed.
        public var maxDeliveryAttempts: UInt32 = 8
        /// Events accepted in one ingest command.
        public var maxEventsPerCommand: Int = 1_000

        public init() {}

        public func encode(to writer: inout BinaryWriter) {
            writer.write(defaultSeverity)
            writer.write(maxDeliveryAttempts)
            writer.write(maxEventsPerCommand)
        }

        public init(from reader: inout BinaryReader) throws(DecodingError) {
            defaultSeverity = try reader.read()
            maxDeliveryAttempts = try reader.read()
            maxEventsPerCommand = try reader.read()
        }
    }

    /// The last log index applied; commands at or below it are refused as already applied.
    public internal(set) var appliedIndex: UInt64 = 0
    /// The time of the last applied command.
    public internal(set) var appliedAt: Timestamp = .epoch
    public internal(set) var settings = Settings()
    public internal(set) var config = Configuration()

    /// Every incident not yet purged, by number.
    var incidents = IncidentTable()
    /// The open incident each alert fingerprint deduplicates into. Invariant: one fingerprint maps
    /// to at most one open incident, and every entry points at an open incident.
    var openByFingerprint: [Fingerprint: UInt64] = [:]
    /// The open incident collecting alerts for each grouping key.
    var openByGroup: [String: UInt64] = [:]
    /// Live (non-terminal) notification intents by id.
    var outbox: [UInt64: NotificationIntent] = [:]
    var nextIncidentNumber: UInt64 = 1
    var nextNotificationID: UInt64 = 1
    var nextConfigSequence: UInt64 = 1
    /// Number of incidents per status, kept current for cheap counts.
    var statusCounts = [UInt64](repeating: 0, count: IncidentStatus.allCases.count)

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Applies `command`, stamped by the leader at `at`, found at log position `index`.
    public mutating func apply(_ command: Command, at: Timestamp, index: UInt64) -> Outcome {
        guard index > appliedIndex else {
            return .failure(CommandError(.alreadyApplied, "log index \(index) was already applied (at \(appliedIndex))"))
        }
        var effects = Effects()
        let result = dispatch(command, at: at, effects: &effects)
        // The index advances even for rejected commands: they are part of the log too.
        appliedIndex = index
        if at > appliedAt { appliedAt = at }
        return result.map { Applied(result: $0, effects: effects) }
    }

    private mutating func dispatch(_ command: Command, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        switch command {
        case .ingest(let events, let actor):
            return ingest(events, by: actor, at: at, effects: &effects)
        case .openIncident(let manual, let actor):
            return openIncident(manual, by: actor, at: at, effects: &effects)
        case .transition(let id, let action, let comment, let rootCause, let actor):
            return transition(id, action, comment: comment, rootCause: rootCause, by: actor, at: at, effects: &effects)
        case .assign(let id, let user, let team, let actor):
            return assign(id, user: user, team: team, by: actor, at: at)
        case .addNote(let id, let text, let actor):
            return addNote(id, text: text, by: actor, at: at)
        case .changeSeverity(let id, let severity, let reason, let actor):
            return changeSeverity(id, to: severity, reason: reason, by: actor, at: at, effects: &effects)
        case .updateIncident(let id, let title, let description, let actor):
            return updateIncident(id, title: title, description: description, by: actor, at: at)
        case .merge(let id, let target, let actor):
            return merge(id, into: target, by: actor, at: at, effects: &effects)
        case .fireTimer(let timer, let actor):
            return fireTimer(timer, by: actor, at: at, effects: &effects)
        case .recordDelivery(let id, let report, let actor):
            return recordDelivery(id, report, by: actor, at: at)
        case .createConfig(let item, let actor):
            return createConfig(item, by: actor, at: at)
        case .updateConfig(let item, let actor):
            return updateConfig(item, by: actor)
        case .deleteConfig(let kind, let id, _):
            return deleteConfig(kind, id)
        case .setSLAPolicy(let policy, _):
            do { try policy.validate() } catch { return .failure(.invalid(error)) }
            config.sla = policy
            return .success(.slaPolicyUpdated)
        case .purgeClosedIncidents(let before, let limit, _):
            return .success(.purged(count: purgeClosed(before: before, limit: limit)))
        }
    }

    // MARK: - Shared mutation helpers

    /// Stores a changed incident, keeping status counts current.
    mutating func setStatus(_ number: UInt64, _ status: IncidentStatus) {
        let old = incidents[number].status
        statusCounts[Int(old.rawValue)] -= 1
        statusCounts[Int(status.rawValue)] += 1
        incidents[number].status = status
    }

    func number(of id: IncidentID) -> Result<UInt64, CommandError> {
        guard let incident = incidents.find(id.number), incident.id == id else { return .failure(.incidentNotFound(id)) }
        return .success(id.number)
    }

    private mutating func purgeClosed(before: Timestamp, limit: Int) -> Int {
        let candidates = incidents.unordered
            .filter { $0.status == .closed && ($0.closedAt ?? .epoch) < before && $0.liveNotifications.isEmpty }
            .map(\.id.number).sorted().prefix(max(0, limit))
        for number in candidates {
            statusCounts[Int(IncidentStatus.closed.rawValue)] -= 1
            incidents.remove(number)
        }
        return candidates.count
    }
}
