/// The notification outbox: queuing, cancelling and recording deliveries.
///
/// Rules: pages (triggered, escalated, reminder) go only to enabled channels that want the kind;
/// acknowledge and resolve cancel every live page of the incident in the same apply and queue
/// an acknowledged/resolved message to each earlier recipient whose channel wants it. Terminal
/// intents leave the outbox and are kept in the incident's bounded notification history.
extension IncidentStateMachine {
    mutating func enqueue(_ number: UInt64, channel: String, target: NotificationTarget, kind: NotificationKind, level: Int, at: Timestamp, effects: inout Effects) {
        enqueue(number, recipient: Recipient(channel: channel, target: target, address: ""), kind: kind, level: level, at: at, effects: &effects)
    }

    mutating func enqueue(_ number: UInt64, recipient: Recipient, kind: NotificationKind, level: Int, at: Timestamp, effects: inout Effects) {
        guard let channel = config.channels[recipient.channel], channel.enabled, channel.effectiveNotifyOn.contains(kind) else { return }
        let id = nextNotificationID
        nextNotificationID += 1
        outbox[id] = NotificationIntent(
            id: id, incident: incidents[number].id, channel: recipient.channel, target: recipient.target,
            address: recipient.address, kind: kind, level: level, createdAt: at, updatedAt: at)
        incidents[number].liveNotifications.append(id)
        if kind.isPage, !incidents[number].recipients.contains(recipient), incidents[number].recipients.count < Incident.Limits.maxRecipients {
            incidents[number].recipients.append(recipient)
        }
        effects.notificationsQueued.append(id)
    }

    /// Cancels every live page of the incident (pending or already dispatched).
    mutating func cancelPages(_ number: UInt64, at: Timestamp, effects: inout Effects) {
        var cancelled = 0
        for id in incidents[number].liveNotifications {
            guard var intent = outbox[id], intent.kind.isPage else { continue }
            intent.state = .cancelled
            intent.updatedAt = at
            finish(intent)
            effects.notificationsCancelled.append(id)
            cancelled += 1
        }
        if cancelled > 0 {
            incidents[number].record(.notificationsCancelled, at: at, by: .system, "cancelled \(cancelled) pending page(s)")
        }
    }

    /// Queues `kind` (acknowledged / resolved) to everyone paged so far, where the channel wants it.
    mutating func notifyRecipients(_ number: UInt64, kind: NotificationKind, at: Timestamp, effects: inout Effects) {
        for recipient in incidents[number].recipients {
            enqueue(number, recipient: recipient, kind: kind, level: incidents[number].escalationLevel, at: at, effects: &effects)
        }
    }

    mutating func recordDelivery(_ id: UInt64, _ report: DeliveryReport, by actor: Actor, at: Timestamp) -> Result<CommandResult, CommandError> {
        guard var intent = outbox[id] else { return .success(.deliveryRecorded(false)) }
        intent.updatedAt = at
        switch report {
        case .dispatched:
            guard intent.state == .pending else { return .success(.deliveryRecorded(false)) }
            intent.state = .dispatched
            intent.attempts += 1
            outbox[id] = intent
        case .delivered:
            intent.state = .delivered
            finish(intent)
        case .failed(let error, let retryable):
            intent.lastError = String(decoding: error.utf8.prefix(1024), as: UTF8.self)
            if retryable && intent.attempts < settings.maxDeliveryAttempts {
                intent.state = .pending
                outbox[id] = intent
            } else {
                intent.state = .failed
                finish(intent)
            }
        }
        return .success(.deliveryRecorded(true))
    }

    /// Moves a terminal intent out of the outbox into its incident's history and timeline.
    private mutating func finish(_ intent: NotificationIntent) {
        precondition(intent.state.isTerminal)
        outbox[intent.id] = nil
        let number = intent.incident.number
        guard incidents.contains(number) else { return }
        incidents[number].liveNotifications.removeAll { $0 == intent.id }
        incidents[number].notificationHistory.append(intent)
        let what = "\(intent.kind.name) via \(intent.channel) to \(intent.target)"
        switch intent.state {
        case .delivered:
            incidents[number].record(.notificationDelivered, at: intent.updatedAt, by: .system, "delivered \(what)", reason: "attempt \(intent.attempts)")
        case .failed:
            incidents[number].record(.notificationFailed, at: intent.updatedAt, by: .system, "failed \(what) after \(intent.attempts) attempt(s)", reason: intent.lastError)
        default:
            break
        }
    }

    /// Live intents waiting for a dispatcher, oldest first.
    public func pendingNotifications(limit: Int = .max) -> [NotificationIntent] {
        Array(outbox.values.filter { $0.state == .pending }.sorted { $0.id < $1.id }.prefix(limit))
    }

    /// Every live intent (pending or dispatched), oldest first.
    public func liveNotifications() -> [NotificationIntent] {
        outbox.values.sorted { $0.id < $1.id }
    }

    public func notification(_ id: UInt64) -> NotificationIntent? { outbox[id] }
}
