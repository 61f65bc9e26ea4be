/// Lifecycle actions and the other edits responders make to an incident.
extension IncidentStateMachine {
    mutating func transition(_ id: IncidentID, _ action: LifecycleAction, comment: String, rootCause: String, by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        do {
            try TextLimits.check(comment, field: "comment", max: TextLimits.textBytes, allowEmpty: true)
            try TextLimits.check(rootCause, field: "root_cause", max: TextLimits.textBytes, allowEmpty: true)
        } catch { return .failure(.invalid(error)) }
        return number(of: id).flatMap { number in
            transition(number, action, comment: comment, rootCause: rootCause, by: actor, at: at, effects: &effects)
        }
    }

    /// Performs `action` or fails with `invalidTransition` (naming the status and allowed actions)
    /// without changing anything.
    mutating func transition(_ number: UInt64, _ action: LifecycleAction, comment: String, rootCause: String, by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        let status = incidents[number].status
        guard let target = action.target(from: status) else {
            return .failure(CommandError(
                .invalidTransition, "cannot \(action.name) an incident that is \(status.name)",
                status: status, allowed: LifecycleAction.allowed(from: status)))
        }
        setStatus(number, target)
        incidents[number].record(.statusChanged, at: at, by: actor, "status \(status.name) → \(target.name)", reason: comment)
        switch action {
        case .acknowledge:
            takeOwnership(number, by: actor, at: at, effects: &effects)
        case .startWork:
            takeOwnership(number, by: actor, at: at, effects: &effects)
        case .escalate:
            cancelTimer(number, .acknowledgeTimeout, effects: &effects)
            if let reason = incidents[number].suppressedBy {
                incidents[number].suppressedBy = nil
                incidents[number].record(.suppressed, at: at, by: actor, "suppression lifted by manual escalation", reason: reason)
            }
            escalate(number, reason: .manual, at: at, effects: &effects)
        case .deescalate:
            incidents[number].escalationLevel = max(0, incidents[number].escalationLevel - 1)
            takeOwnership(number, by: actor, at: at, effects: &effects)
        case .resolve:
            close(number, resolution: Resolution(rootCause: rootCause, notes: comment, resolvedBy: actor), notify: true, by: actor, at: at, effects: &effects)
        case .close:
            incidents[number].closedAt = at
        case .reopen:
            reopen(number, by: actor, at: at, effects: &effects)
        }
        return .success(.incident(incidents[number].id, created: false))
    }

    /// Acknowledge side of ack / start / de-escalate: stop paging, tell who was paged, and arm
    /// the acknowledge timeout if the policy has one.
    private mutating func takeOwnership(_ number: UInt64, by actor: Actor, at: Timestamp, effects: inout Effects) {
        cancelTimer(number, .escalation, effects: &effects)
        let firstAcknowledgement = incidents[number].acknowledgedAt == nil
        if firstAcknowledgement {
            incidents[number].acknowledgedAt = at
            incidents[number].acknowledgedBy = actor
            if at > incidents[number].sla.acknowledgeBy && !incidents[number].sla.acknowledgeBreached {
                markBreach(number, .slaAcknowledge, at: at)
            }
            cancelTimer(number, .slaAcknowledge, effects: &effects)
        }
        if incidents[number].assignee == nil, actor.kind == .user { incidents[number].assignee = actor.id }
        cancelPages(number, at: at, effects: &effects)
        if firstAcknowledgement || incidents[number].status == .acknowledged {
            notifyRecipients(number, kind: .acknowledged, at: at, effects: &effects)
        }
        if !incidents[number].isSuppressed, let timeout = policy(of: number)?.acknowledgeTimeoutMilliseconds {
            armTimer(number, .acknowledgeTimeout, dueAt: at.adding(milliseconds: timeout), effects: &effects)
        }
    }

    /// Resolution: timers stop, pages are cancelled, alerts are released for new incidents.
    mutating func close(_ number: UInt64, resolution: Resolution, notify: Bool, by actor: Actor, at: Timestamp, effects: inout Effects) {
        incidents[number].resolvedAt = at
        incidents[number].resolution = resolution
        if at > incidents[number].sla.resolveBy && !incidents[number].sla.resolveBreached {
            markBreach(number, .slaResolve, at: at)
        }
        for timer in incidents[number].timers { effects.timersCancelled.append(timer.id) }
        incidents[number].timers.removeAll()
        cancelPages(number, at: at, effects: &effects)
        if notify { notifyRecipients(number, kind: .resolved, at: at, effects: &effects) }
        for i in incidents[number].alerts.indices {
            incidents[number].alerts[i].resolved = true
            let fingerprint = incidents[number].alerts[i].fingerprint
            if openByFingerprint[fingerprint] == number { openByFingerprint[fingerprint] = nil }
        }
        if let key = incidents[number].groupKey, openByGroup[key] == number { openByGroup[key] = nil }
    }

    /// Reopening: the incident is unacknowledged work again, so escalation restarts at level 1.
    /// Its alerts are re-claimed only where no other open incident has taken them meanwhile.
    private mutating func reopen(_ number: UInt64, by actor: Actor, at: Timestamp, effects: inout Effects) {
        incidents[number].resolvedAt = nil
        incidents[number].closedAt = nil
        incidents[number].resolution = nil
        incidents[number].duplicateOf = nil
        let primary = incidents[number].fingerprint
        if openByFingerprint[primary] == nil { openByFingerprint[primary] = number }
        if let key = incidents[number].groupKey, openByGroup[key] == nil { openByGroup[key] = number }
        incidents[number].escalationLevel = 0
        incidents[number].escalationCycle = 0
        if !incidents[number].isSuppressed {
            if !incidents[number].sla.resolveBreached {
                armTimer(number, .slaResolve, dueAt: incidents[number].sla.resolveBy, effects: &effects)
            }
            startEscalation(number, kind: .triggered, at: at, effects: &effects)
        }
    }

    mutating func assign(_ id: IncidentID, user: String?, team: String?, by actor: Actor, at: Timestamp) -> Result<CommandResult, CommandError> {
        number(of: id).flatMap { number in
            if let user, !user.isEmpty, config.users[user] == nil {
                return .failure(CommandError(.invalid, "user '\(user)' does not exist", field: "user"))
            }
            if let team, !team.isEmpty, config.teams[team] == nil {
                return .failure(CommandError(.invalid, "team '\(team)' does not exist", field: "team"))
            }
            guard incidents[number].status != .closed else {
                return .failure(CommandError(.invalidTransition, "a closed incident cannot be reassigned", status: .closed, allowed: LifecycleAction.allowed(from: .closed)))
            }
            var changes: [String] = []
            if let user {
                incidents[number].assignee = user.isEmpty ? nil : user
                changes.append("assignee → \(user.isEmpty ? "none" : user)")
            }
            if let team {
                incidents[number].team = team.isEmpty ? nil : team
                changes.append("team → \(team.isEmpty ? "none" : team)")
            }
            guard !changes.isEmpty else { return .failure(CommandError(.invalid, "nothing to assign", field: "user")) }
            incidents[number].record(.assigned, at: at, by: actor, changes.joined(separator: ", "))
            return .success(.incident(id, created: false))
        }
    }

    mutating func addNote(_ id: IncidentID, text: String, by actor: Actor, at: Timestamp) -> Result<CommandResult, CommandError> {
        do { try TextLimits.check(text, field: "text", max: TextLimits.textBytes) } catch { return .failure(.invalid(error)) }
        return number(of: id).map { number in
            incidents[number].notes.append(Note(at: at, author: actor, text: text))
            incidents[number].record(.noteAdded, at: at, by: actor, "note added", reason: String(text.prefix(200)))
            return .incident(id, created: false)
        }
    }

    mutating func changeSeverity(_ id: IncidentID, to severity: Severity, reason: String, by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        do { try TextLimits.check(reason, field: "reason", max: TextLimits.textBytes, allowEmpty: true) } catch { return .failure(.invalid(error)) }
        return number(of: id).flatMap { number in
            let old = incidents[number].severity
            guard incidents[number].status != .closed else {
                return .failure(CommandError(.invalidTransition, "a closed incident's severity cannot change", status: .closed, allowed: LifecycleAction.allowed(from: .closed)))
            }
            guard old != severity else { return .success(.incident(id, created: false)) }
            applySeverity(number, severity, at: at, effects: &effects)
            incidents[number].record(.severityChanged, at: at, by: actor, "severity \(old) → \(severity)", reason: reason)
            return .success(.incident(id, created: false))
        }
    }

    /// Sets the severity and moves the SLA deadlines with it (re-arming unbreached ones).
    mutating func applySeverity(_ number: UInt64, _ severity: Severity, at: Timestamp, effects: inout Effects) {
        incidents[number].severity = severity
        let deadlines = config.sla.deadlines(createdAt: incidents[number].createdAt, severity: severity)
        incidents[number].sla.acknowledgeBy = deadlines.acknowledgeBy
        incidents[number].sla.resolveBy = deadlines.resolveBy
        if incidents[number].status.isOpen && !incidents[number].isSuppressed {
            armSLATimers(number, effects: &effects)
        }
    }

    mutating func updateIncident(_ id: IncidentID, title: String?, description: String?, by actor: Actor, at: Timestamp) -> Result<CommandResult, CommandError> {
        do {
            if let title { try TextLimits.check(title, field: "title", max: TextLimits.titleBytes) }
            if let description { try TextLimits.check(description, field: "description", max: TextLimits.textBytes, allowEmpty: true) }
        } catch { return .failure(.invalid(error)) }
        return number(of: id).flatMap { number in
            var changes: [String] = []
            if let title, title != incidents[number].title {
                incidents[number].title = title
                changes.append("title")
            }
            if let description, description != incidents[number].description {
                incidents[number].description = description
                changes.append("description")
            }
            if !changes.isEmpty { incidents[number].record(.updated, at: at, by: actor, "updated " + changes.joined(separator: ", ")) }
            return .success(.incident(id, created: false))
        }
    }

    /// Folds a duplicate into another open incident: the duplicate resolves silently (its pages
    /// are cancelled, no "resolved" message) and its firing alerts deduplicate into the target.
    mutating func merge(_ id: IncidentID, into targetID: IncidentID, by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        let source: UInt64, target: UInt64
        switch (number(of: id), number(of: targetID)) {
        case (.success(let s), .success(let t)): (source, target) = (s, t)
        case (.failure(let error), _), (_, .failure(let error)): return .failure(error)
        }
        guard source != target else { return .failure(CommandError(.invalid, "an incident cannot be merged into itself", field: "into")) }
        let status = incidents[source].status
        guard status.isOpen else {
            return .failure(CommandError(.invalidTransition, "cannot merge an incident that is \(status.name)", status: status, allowed: LifecycleAction.allowed(from: status)))
        }
        guard incidents[target].status.isOpen else {
            return .failure(CommandError(.conflict, "target incident \(targetID) is \(incidents[target].status.name)", field: "into"))
        }
        let movedAlerts = incidents[source].alerts.filter { !$0.resolved && openByFingerprint[$0.fingerprint] == source }
        setStatus(source, .resolved)
        incidents[source].duplicateOf = targetID
        incidents[source].addRelated(targetID)
        close(source, resolution: Resolution(rootCause: "duplicate of \(targetID)", resolvedBy: actor), notify: false, by: actor, at: at, effects: &effects)
        incidents[source].record(.merged, at: at, by: actor, "merged into \(targetID)", reason: "status \(status.name) → resolved")
        for alert in movedAlerts where openByFingerprint[alert.fingerprint] == nil {
            if incidents[target].alerts.count < Incident.Limits.maxTrackedAlerts {
                incidents[target].alerts.append(alert)
                openByFingerprint[alert.fingerprint] = target
            } else {
                incidents[target].untrackedAlertCount += 1
            }
        }
        incidents[target].occurrenceCount += incidents[source].occurrenceCount
        incidents[target].addRelated(id)
        if incidents[source].firstSeen < incidents[target].firstSeen { incidents[target].firstSeen = incidents[source].firstSeen }
        incidents[target].record(.merged, at: at, by: actor, "\(id) merged in (\(movedAlerts.count) alerts)")
        let severity = incidents[source].severity
        if severity.isWorse(than: incidents[target].severity) {
            let old = incidents[target].severity
            applySeverity(target, severity, at: at, effects: &effects)
            incidents[target].record(.severityChanged, at: at, by: actor, "severity \(old) → \(severity)", reason: "merged \(id)")
        }
        return .success(.incident(targetID, created: false))
    }
}
