/// Read access for the API, the scheduler, the dispatcher and tests.
extension IncidentStateMachine {
    public func incident(_ id: IncidentID) -> Incident? {
        guard let incident = incidents.find(id.number), incident.id == id else { return nil }
        return incident
    }

    public func incident(number: UInt64) -> Incident? { incidents.find(number) }

    /// The open incident an event with `fingerprint` would deduplicate into.
    public func openIncident(fingerprint: Fingerprint) -> Incident? {
        openByFingerprint[fingerprint].flatMap { incidents.find($0) }
    }

    public var incidentCount: Int { incidents.count }
    public var openIncidentCount: Int { incidents.count - Int(count(.resolved) + count(.closed)) }
    public var outboxCount: Int { outbox.count }

    public func count(_ status: IncidentStatus) -> UInt64 { statusCounts[Int(status.rawValue)] }

    /// Newest first, starting below `before` (an incident number cursor; nil = from the newest),
    /// keeping those `include` accepts, at most `limit`. Pages stay stable as incidents are added.
    public func incidents(before: UInt64? = nil, limit: Int, where include: (Incident) -> Bool = { _ in true }) -> [Incident] {
        var result: [Incident] = []
        var number = min(before ?? nextIncidentNumber, nextIncidentNumber)
        var visited = 0
        while number > 1, result.count < limit, visited < incidents.count {
            number -= 1
            guard let incident = incidents.find(number) else { continue }
            visited += 1
            if include(incident) { result.append(incident) }
        }
        return result
    }

    /// The API key whose secret hashes to `secretHash`.
    public func apiKey(secretHash: String) -> APIKey? {
        config.apiKeyByHash[secretHash].flatMap { config.apiKeys[$0] }
    }

    /// Checks the structural invariants; tests call it after every command. Returns the first
    /// violation found, or nil.
    public func invariantViolation() -> String? {
        for (fingerprint, number) in openByFingerprint {
            guard let incident = incidents.find(number) else { return "fingerprint \(fingerprint) points at missing incident \(number)" }
            if !incident.status.isOpen { return "fingerprint \(fingerprint) points at \(incident.status) incident \(incident.id)" }
        }
        for (key, number) in openByGroup where !(incidents.find(number)?.status.isOpen ?? false) {
            return "group \(key) points at a non-open incident \(number)"
        }
        var counts = [UInt64](repeating: 0, count: IncidentStatus.allCases.count)
        for incident in incidents.unordered {
            counts[Int(incident.status.rawValue)] += 1
            if !incident.status.isOpen && !incident.timers.isEmpty { return "\(incident.id) is \(incident.status) with armed timers" }
            for timer in incident.timers where timer.id.generation > incident.timerGeneration { return "\(incident.id) timer from the future" }
            if Set(incident.timers.map(\.id.kind)).count != incident.timers.count { return "\(incident.id) has two timers of one kind" }
            let escalation = incident.timer(.escalation) != nil
            if escalation && !(incident.status == .new || incident.status == .escalated) { return "\(incident.id) escalation timer while \(incident.status)" }
            if incident.timer(.acknowledgeTimeout) != nil && !incident.status.isAcknowledged { return "\(incident.id) ack timeout while \(incident.status)" }
            if incident.isSuppressed && (escalation || incident.timer(.acknowledgeTimeout) != nil) { return "\(incident.id) suppressed but escalating" }
            for id in incident.liveNotifications where outbox[id]?.incident != incident.id { return "\(incident.id) lists notification \(id) not in outbox" }
        }
        if counts != statusCounts { return "status counts \(statusCounts) differ from actual \(counts)" }
        for intent in outbox.values {
            if intent.state.isTerminal { return "terminal notification \(intent.id) still in outbox" }
            if !(incidents.find(intent.incident.number)?.liveNotifications.contains(intent.id) ?? false) { return "orphan notification \(intent.id)" }
        }
        return nil
    }
}
