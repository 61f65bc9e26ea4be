/// Escalation: paging levels, arming and firing timers.
///
/// Timer rules: an unacknowledged open incident (status new or escalated) with a policy has one
/// armed `escalation` timer, due when its current level's delay has passed; an acknowledged one
/// (acknowledged / in progress) has an `acknowledgeTimeout` timer if the policy sets one; SLA
/// timers run until the acknowledge / resolve happens. Resolving cancels every timer. Every
/// arming gets a new generation, so stale and repeated fires are no-ops.
extension IncidentStateMachine {
    enum EscalationReason { case timer, manual, acknowledgeTimeout }

    func policy(of number: UInt64) -> EscalationPolicy? {
        incidents[number].escalationPolicy.flatMap { config.escalationPolicies[$0] }
    }

    /// Pages level 1 and arms the timer towards level 2.
    mutating func startEscalation(_ number: UInt64, kind: NotificationKind, at: Timestamp, effects: inout Effects) {
        guard let policy = policy(of: number) else { return }
        incidents[number].escalationLevel = 0
        incidents[number].escalationCycle = 0
        page(number, level: 0, of: policy, kind: kind, at: at, effects: &effects)
        armTimer(number, .escalation, dueAt: at.adding(milliseconds: policy.levels[0].delayMilliseconds), effects: &effects)
    }

    /// Moves to the next level (or repeats the policy), pages it and arms the next timer.
    mutating func escalate(_ number: UInt64, reason: EscalationReason, at: Timestamp, effects: inout Effects) {
        guard let policy = policy(of: number) else {
            let name = incidents[number].escalationPolicy
            incidents[number].record(.escalated, at: at, by: .system, "no escalation policy to follow", reason: name.map { "policy \($0) does not exist" } ?? "incident has no policy")
            return
        }
        var level = incidents[number].escalationLevel + 1
        var kind = NotificationKind.escalated
        if level >= policy.levels.count {
            if incidents[number].escalationCycle < policy.repeatCount {
                incidents[number].escalationCycle += 1
                level = 0
                kind = .reminder
            } else if reason == .timer {
                incidents[number].escalationLevel = min(incidents[number].escalationLevel, policy.levels.count - 1)
                incidents[number].record(.escalationExhausted, at: at, by: .system, "escalation policy \(policy.id) exhausted", reason: "no acknowledgement after \(policy.repeatCount + 1) rounds")
                return
            } else {
                level = policy.levels.count - 1  // manual or ack-timeout escalation re-pages the last level
            }
        }
        incidents[number].escalationLevel = level
        let why: String =
            switch reason {
            case .timer: "not acknowledged within \(policy.levels[max(0, level - 1)].delayMilliseconds / 1000) s"
            case .manual: "escalated by a responder"
            case .acknowledgeTimeout: "acknowledged but not resolved in time"
            }
        incidents[number].record(.escalated, at: at, by: .system, "escalation level \(level + 1) of \(policy.id)" + (kind == .reminder ? " (repeat \(incidents[number].escalationCycle))" : ""), reason: why)
        page(number, level: level, of: policy, kind: kind, at: at, effects: &effects)
        armTimer(number, .escalation, dueAt: at.adding(milliseconds: policy.levels[level].delayMilliseconds), effects: &effects)
    }

    /// Queues one notification per distinct (channel, recipient) of the level's targets.
    private mutating func page(_ number: UInt64, level: Int, of policy: EscalationPolicy, kind: NotificationKind, at: Timestamp, effects: inout Effects) {
        var seen = Set<Recipient>()
        var reached: [String] = []
        func person(_ user: String, _ channels: [String], _ machine: inout IncidentStateMachine) {
            for channelID in channels {
                guard let channel = machine.config.channels[channelID] else { continue }
                let address = machine.config.users[user]?.address(on: channel) ?? user
                let recipient = Recipient(channel: channelID, target: .user(user), address: address)
                if seen.insert(recipient).inserted {
                    machine.enqueue(number, recipient: recipient, kind: kind, level: level, at: at, effects: &effects)
                }
            }
            reached.append("user:\(user)")
        }
        let step = policy.levels[level]
        for target in step.targets {
            switch target {
            case .user(let user):
                person(user, step.channels, &self)
            case .schedule(let schedule):
                if let user = config.schedules[schedule]?.onCall(at: at) {
                    person(user, step.channels, &self)
                } else {
                    incidents[number].record(.escalated, at: at, by: .system, "nobody on call in schedule \(schedule)", reason: "level \(level + 1)")
                }
            case .team(let team):
                for channel in config.teams[team]?.channels ?? [] {
                    let recipient = Recipient(channel: channel, target: .channel, address: "")
                    if seen.insert(recipient).inserted { enqueue(number, recipient: recipient, kind: kind, level: level, at: at, effects: &effects) }
                }
                reached.append("team:\(team)")
            case .channel(let channel):
                let recipient = Recipient(channel: channel, target: .channel, address: "")
                if seen.insert(recipient).inserted { enqueue(number, recipient: recipient, kind: kind, level: level, at: at, effects: &effects) }
                reached.append("channel:\(channel)")
            }
        }
        if !reached.isEmpty {
            incidents[number].record(.notificationQueued, at: at, by: .system, "paged level \(level + 1): " + reached.joined(separator: ", "), reason: kind.name)
        }
    }

    // MARK: - Timers

    mutating func armTimer(_ number: UInt64, _ kind: TimerKind, dueAt: Timestamp, effects: inout Effects) {
        cancelTimer(number, kind, effects: &effects)
        incidents[number].timerGeneration &+= 1
        let timer = ArmedTimer(id: TimerID(incident: number, kind: kind, generation: incidents[number].timerGeneration), dueAt: dueAt)
        incidents[number].timers.append(timer)
        effects.timersArmed.append(timer)
    }

    mutating func cancelTimer(_ number: UInt64, _ kind: TimerKind, effects: inout Effects) {
        guard let i = incidents[number].timers.firstIndex(where: { $0.id.kind == kind }) else { return }
        effects.timersCancelled.append(incidents[number].timers[i].id)
        incidents[number].timers.remove(at: i)
    }

    /// (Re-)arms the SLA timers whose deadlines have not been met or breached yet.
    mutating func armSLATimers(_ number: UInt64, effects: inout Effects) {
        let incident = incidents[number]
        if incident.acknowledgedAt == nil && !incident.sla.acknowledgeBreached {
            armTimer(number, .slaAcknowledge, dueAt: incident.sla.acknowledgeBy, effects: &effects)
        }
        if !incident.sla.resolveBreached {
            armTimer(number, .slaResolve, dueAt: incident.sla.resolveBy, effects: &effects)
        }
    }

    mutating func markBreach(_ number: UInt64, _ kind: TimerKind, at: Timestamp) {
        let deadline: Timestamp
        if kind == .slaAcknowledge {
            incidents[number].sla.acknowledgeBreached = true
            deadline = incidents[number].sla.acknowledgeBy
        } else {
            incidents[number].sla.resolveBreached = true
            deadline = incidents[number].sla.resolveBy
        }
        let what = kind == .slaAcknowledge ? "acknowledge" : "resolve"
        incidents[number].record(.slaBreached, at: at, by: .system, "SLA \(what) deadline breached", reason: "deadline \(deadline)")
    }

    mutating func fireTimer(_ id: TimerID, by actor: Actor, at: Timestamp, effects: inout Effects) -> Result<CommandResult, CommandError> {
        guard let incident = incidents.find(id.incident), let armed = incident.timer(id.kind), armed.id == id, at >= armed.dueAt else {
            return .success(.timerFired(false))
        }
        let number = id.incident
        incidents[number].timers.removeAll { $0.id == id }
        switch id.kind {
        case .escalation:
            precondition(incident.status == .new || incident.status == .escalated, "escalation timer armed on a \(incident.status) incident")
            escalate(number, reason: .timer, at: at, effects: &effects)
        case .acknowledgeTimeout:
            precondition(incident.status.isAcknowledged, "acknowledge timeout armed on a \(incident.status) incident")
            setStatus(number, .escalated)
            incidents[number].record(.acknowledgeTimeout, at: at, by: actor, "status \(incident.status.name) → escalated", reason: "acknowledged but not resolved in time")
            escalate(number, reason: .acknowledgeTimeout, at: at, effects: &effects)
        case .slaAcknowledge:
            markBreach(number, .slaAcknowledge, at: at)
        case .slaResolve:
            markBreach(number, .slaResolve, at: at)
        }
        return .success(.timerFired(true))
    }

    // MARK: - Queries

    /// Every armed timer, by due time then id (the scheduler builds its heap from this).
    public func armedTimers() -> [ArmedTimer] {
        var all: [ArmedTimer] = []
        for incident in incidents.unordered where !incident.timers.isEmpty { all += incident.timers }
        return all.sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
    }

    /// Timers due at or before `instant`, by due time then id.
    public func dueTimers(at instant: Timestamp) -> [ArmedTimer] {
        armedTimers().filter { $0.dueAt <= instant }
    }
}
