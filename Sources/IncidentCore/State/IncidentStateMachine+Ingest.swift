/// Event ingestion: deduplication, grouping, classification, maintenance, routing, creation.
extension IncidentStateMachine {
    mutating func ingest(_ events: [Event], by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        guard !events.isEmpty else { return .failure(CommandError(.invalid, "no events", field: "events")) }
        guard events.count <= settings.maxEventsPerCommand else {
            return .failure(CommandError(.limitExceeded, "more than \(settings.maxEventsPerCommand) events in one command", field: "events"))
        }
        // Validate everything first: a batch is applied whole or not at all.
        // Index loops: iterating `for event in events` would copy every event out of the array.
        // (The calls below still get a copy each from the compiler — a retain of each of the
        // event's strings and maps — and reading through a buffer pointer did not avoid it.)
        for i in events.indices {
            do { try events[i].validate() } catch { return .failure(.invalid(error, under: "events[\(i)]")) }
        }
        var results: [EventResult] = []
        results.reserveCapacity(events.count)
        for i in events.indices { results.append(applyEvent(events[i], by: actor, at: at, effects: &effects)) }
        return .success(.ingested(results))
    }

    mutating func openIncident(_ manual: ManualIncident, by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        var event = Event(
            source: "manual", timestamp: at, eventType: "manual", category: manual.category, title: manual.title,
            description: manual.description, rawSeverity: manual.severity.description, labels: manual.labels,
            environment: manual.environment, dedupKey: manual.dedupKey)
        do { try event.validate() } catch { return .failure(.invalid(error)) }
        if let team = manual.team, config.teams[team] == nil {
            return .failure(CommandError(.invalid, "team '\(team)' does not exist", field: "team"))
        }
        if let policy = manual.escalationPolicy, config.escalationPolicies[policy] == nil {
            return .failure(CommandError(.invalid, "escalation policy '\(policy)' does not exist", field: "escalation_policy"))
        }
        // Without a dedup key a manual incident never deduplicates: give it a unique fingerprint.
        let fingerprint = manual.dedupKey.isEmpty ? Fingerprint.manual(nextIncidentNumber) : Fingerprint(of: event)
        if let existing = openByFingerprint[fingerprint] {
            event.timestamp = at
            deduplicate(into: existing, event, fingerprint: fingerprint, severity: manual.severity, by: actor, at: at, effects: &effects)
            return .success(.incident(incidents[existing].id, created: false))
        }
        let classification = Classification(severity: manual.severity, category: manual.category, team: manual.team, rules: [])
        let subject = MatchSubject(event: event, severity: manual.severity, category: manual.category)
        let number = create(
            event, subject: subject, fingerprint: fingerprint, classification: classification, policyOverride: manual.escalationPolicy,
            groupKey: nil, by: actor, at: at, effects: &effects)
        return .success(.incident(incidents[number].id, created: true))
    }

    /// One event of an ingest command.
    private mutating func applyEvent(_ event: Event, by actor: Actor, at: Timestamp, effects: inout Effects) -> EventResult {
        let fingerprint = Fingerprint(of: event)
        func result(_ number: UInt64?, _ disposition: EventDisposition) -> EventResult {
            EventResult(eventID: event.eventID, incident: number.map { incidents[$0].id }, fingerprint: fingerprint, disposition: disposition)
        }
        if let number = openByFingerprint[fingerprint] {
            switch event.action {
            case .trigger:
                let severity = classifiedSeverity(event)
                deduplicate(into: number, event, fingerprint: fingerprint, severity: severity, by: actor, at: at, effects: &effects)
                return result(number, .deduplicated)
            case .acknowledge:
                if LifecycleAction.acknowledge.target(from: incidents[number].status) != nil {
                    _ = transition(number, .acknowledge, comment: "acknowledged by source \(event.source)", rootCause: "", by: actor, at: at, effects: &effects)
                }
                return result(number, .acknowledged)
            case .resolve:
                resolveAlert(fingerprint, of: number, event: event, by: actor, at: at, effects: &effects)
                return result(number, incidents[number].status == .resolved ? .resolved : .deduplicated)
            }
        }
        guard event.action == .trigger else { return result(nil, .ignored) }

        var subject = MatchSubject(event: event, severity: normalizedSeverity(event), category: event.category)
        let classification = classify(subject)
        subject.severity = classification.severity
        subject.category = classification.category
        var groupKey: String?
        for rule in config.groupingRules.ordered {
            guard let key = rule.groupKey(for: subject) else { continue }
            groupKey = key
            if let number = openByGroup[key], at.milliseconds(since: incidents[number].createdAt) <= rule.windowMilliseconds {
                attachAlert(event, fingerprint: fingerprint, severity: classification.severity, to: number, rule: rule.id, by: actor, at: at, effects: &effects)
                return result(number, .grouped)
            }
            break
        }
        let number = create(event, subject: subject, fingerprint: fingerprint, classification: classification, policyOverride: nil, groupKey: groupKey, by: actor, at: at, effects: &effects)
        return result(number, incidents[number].isSuppressed ? .suppressed : .created)
    }

    /// The result of running the classification rules over an event.
    struct Classification {
        var severity: Severity
        var category: EventCategory
        var team: String?
        var rules: [String]
    }

    func normalizedSeverity(_ event: Event) -> Severity {
        Severity(normalizing: event.rawSeverity) ?? settings.defaultSeverity
    }

    /// The severity a repeat of an alert reports once classified (the dedup path).
    func classifiedSeverity(_ event: Event) -> Severity {
        let severity = normalizedSeverity(event)
        if config.classificationRules.count == 0 { return severity }
        return classify(MatchSubject(event: event, severity: severity, category: event.category)).severity
    }

    /// Applies classification rules in order to an event with its normalised severity (first match
    /// wins unless it says `continue`; values set earlier are not overwritten).
    func classify(_ subject: MatchSubject) -> Classification {
        var result = Classification(severity: subject.severity, category: subject.category, team: nil, rules: [])
        let rules = config.classificationRules.ordered
        if rules.isEmpty { return result }
        var severitySet = false
        var categorySet = false
        for rule in rules where rule.enabled && rule.match.matches(subject) {
            result.rules.append(rule.id)
            if !severitySet, let severity = rule.setSeverity { result.severity = severity; severitySet = true }
            if !categorySet, let category = rule.setCategory { result.category = category; categorySet = true }
            if result.team == nil, let team = rule.setTeam { result.team = team }
            if !rule.continue { break }
        }
        return result
    }

    /// A repeat of a known alert: count it; a worse severity raises the incident's.
    mutating func deduplicate(into number: UInt64, _ event: Event, fingerprint: Fingerprint, severity: Severity, by actor: Actor, at: Timestamp, effects: inout Effects) {
        // One in-place access to the incident: this is the hottest path of the system. The
        // closure captures the time stamp, not the event: capturing the event copied it (a
        // retain of each of its strings and maps) on every repeat.
        let seen = event.timestamp
        let raise: Severity? = incidents.update(number) { incident in
            incident.occurrenceCount += 1
            incident.updatedAt = at
            if seen > incident.lastSeen { incident.lastSeen = seen }
            if let i = incident.alerts.firstIndex(where: { $0.fingerprint == fingerprint }) {
                incident.alerts[i].count += 1
                if seen > incident.alerts[i].lastSeen { incident.alerts[i].lastSeen = seen }
                if incident.alerts[i].resolved {
                    incident.alerts[i].resolved = false
                    incident.record(.alertGrouped, at: at, by: actor, "alert \(fingerprint) firing again")
                }
            }
            return severity.isWorse(than: incident.severity) ? incident.severity : nil
        }
        if let old = raise {
            applySeverity(number, severity, at: at, effects: &effects)
            incidents[number].record(.severityChanged, at: at, by: actor, "severity \(old) → \(severity)", reason: "a repeat event reported \(severity)")
        }
    }

    /// A new fingerprint joins an open incident through a grouping rule.
    private mutating func attachAlert(_ event: Event, fingerprint: Fingerprint, severity: Severity, to number: UInt64, rule: String, by actor: Actor, at: Timestamp, effects: inout Effects) {
        if incidents[number].alerts.count < Incident.Limits.maxTrackedAlerts {
            incidents[number].alerts.append(AlertRecord(fingerprint: fingerprint, title: event.title, firstSeen: event.timestamp, lastSeen: event.timestamp))
            openByFingerprint[fingerprint] = number
        } else {
            incidents[number].untrackedAlertCount += 1
        }
        incidents[number].occurrenceCount += 1
        if event.timestamp > incidents[number].lastSeen { incidents[number].lastSeen = event.timestamp }
        incidents[number].record(.alertGrouped, at: at, by: actor, "alert \(fingerprint) grouped: \(event.title)", reason: "grouping rule \(rule)")
        if severity.isWorse(than: incidents[number].severity) {
            let old = incidents[number].severity
            applySeverity(number, severity, at: at, effects: &effects)
            incidents[number].record(.severityChanged, at: at, by: actor, "severity \(old) → \(severity)", reason: "grouped alert reported \(severity)")
        }
    }

    /// A source resolved one alert; the incident resolves when no tracked alert still fires.
    private mutating func resolveAlert(_ fingerprint: Fingerprint, of number: UInt64, event: Event, by actor: Actor, at: Timestamp, effects: inout Effects) {
        if let i = incidents[number].alerts.firstIndex(where: { $0.fingerprint == fingerprint }), !incidents[number].alerts[i].resolved {
            incidents[number].alerts[i].resolved = true
            if incidents[number].alerts.count > 1 {
                incidents[number].record(.alertResolved, at: at, by: actor, "alert \(fingerprint) resolved")
            }
        }
        if !incidents[number].hasFiringAlerts {
            _ = transition(number, .resolve, comment: "resolved by source \(event.source)", rootCause: "", by: actor, at: at, effects: &effects)
        }
    }

    /// Opens an incident: routing, maintenance, SLA deadlines, indexes, first pages.
    mutating func create(
        _ event: Event, subject: MatchSubject, fingerprint: Fingerprint, classification: Classification, policyOverride: String?, groupKey: String?,
        by actor: Actor, at: Timestamp, effects: inout Effects
    ) -> UInt64 {
        let number = nextIncidentNumber
        nextIncidentNumber += 1
        let id = IncidentID(number: number, createdAt: at)
        let routing = route(subject, at: at)
        var incident = Incident(
            id: id, event: event, fingerprint: fingerprint, severity: classification.severity, category: classification.category,
            at: at, sla: config.sla.deadlines(createdAt: at, severity: classification.severity))
        incident.team = classification.team ?? routing.team
        incident.escalationPolicy = policyOverride ?? routing.policy ?? incident.team.flatMap { config.teams[$0]?.escalationPolicy }
        incident.groupKey = groupKey
        if let window = config.maintenanceWindows.ordered.first(where: { $0.schedule.isActive(at: at) && $0.match.matches(subject) }) {
            incident.suppressedBy = "maintenance:\(window.id)"
        } else if let rule = routing.suppressedBy {
            incident.suppressedBy = "routing:\(rule)"
        }
        var why = (classification.rules.map { "classification:\($0)" } + routing.rules.map { "routing:\($0)" }).joined(separator: ", ")
        if why.isEmpty { why = "no rule matched" }
        incident.record(.created, at: at, by: actor, "opened \(incident.severity) from \(event.source) \(event.eventType)" + (event.eventID.map { " event \($0)" } ?? ""), reason: why)
        if let suppressedBy = incident.suppressedBy {
            incident.record(.suppressed, at: at, by: .system, "pages suppressed", reason: suppressedBy)
        }
        incidents.insert(incident)
        statusCounts[Int(IncidentStatus.new.rawValue)] += 1
        openByFingerprint[fingerprint] = number
        if let groupKey { openByGroup[groupKey] = number }
        if !incident.isSuppressed {
            armSLATimers(number, effects: &effects)
            for channel in routing.channels {
                enqueue(number, channel: channel, target: .channel, kind: .triggered, level: 0, at: at, effects: &effects)
            }
            startEscalation(number, kind: .triggered, at: at, effects: &effects)
        }
        return number
    }
}
