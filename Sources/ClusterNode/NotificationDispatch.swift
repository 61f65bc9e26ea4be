import DequeModule
import IncidentCore

/// Delivers one notification attempt (the Notifier module implements it). Called off the
/// consensus loop; the answer comes back as a `recordDelivery` command.
public protocol NotificationDelivery: Sendable {
    func deliver(_ request: DeliveryRequest) async -> DeliveryReport
}

/// Everything needed to deliver one outbox intent, copied out of replicated state.
public struct DeliveryRequest: Sendable {
    public var intent: NotificationIntent
    public var channel: NotificationChannel
    public var incident: Incident
}

/// The leader's dispatcher bookkeeping: which intents wait to be delivered, which are in flight
/// and which wait for a retry. Intents live in replicated state; this only orders the work.
struct DeliveryQueue: Sendable {
    private(set) var ready: Deque<UInt64> = []
    private(set) var inFlight: Set<UInt64> = []
    /// Retryable failures wait until their time: (due ms on the loop's monotonic clock, id).
    private var retries: [(at: Int64, id: UInt64)] = []

    var depth: Int { ready.count + inFlight.count + retries.count }

    mutating func rebuild(from machine: IncidentStateMachine) {
        // After a restart or failover, dispatched-but-unreported intents are delivered again:
        // receivers deduplicate by the unchanged idempotency key.
        ready = Deque(machine.liveNotifications().filter { !$0.state.isTerminal }.map(\.id))
        inFlight = []
        retries = []
    }

    /// Queues every live intent not already queued, in flight or waiting for a retry (a node
    /// that just gained a dispatch lease takes over what the previous holder left).
    mutating func refill(from machine: IncidentStateMachine) {
        var known = inFlight.union(ready)
        known.formUnion(retries.map(\.id))
        for intent in machine.liveNotifications() where !intent.state.isTerminal && !known.contains(intent.id) {
            ready.append(intent.id)
            known.insert(intent.id)
        }
    }

    /// Forgets the queued and retry-waiting ids (attempts in flight still finish): a node that
    /// holds no dispatch scope has nothing to start, and `refill` rebuilds the queue from state
    /// when it gains one. Keeps followers from scanning, or piling up, other holders' work.
    mutating func dropQueued() {
        ready = []
        retries = []
    }

    mutating func update(with effects: Effects) {
        ready.append(contentsOf: effects.notificationsQueued)
        if !effects.notificationsCancelled.isEmpty {
            let cancelled = Set(effects.notificationsCancelled)
            ready.removeAll { cancelled.contains($0) }
            retries.removeAll { cancelled.contains($0.id) }
        }
    }

    mutating func retry(_ id: UInt64, at dueMilliseconds: Int64) { retries.append((dueMilliseconds, id)) }

    mutating func finished(_ id: UInt64) { inFlight.remove(id) }

    /// Ids to start now, at most `limit` in flight, among those `mine` accepts (the rest stay
    /// queued: another node's dispatch lease covers them, and this node may hold it later).
    mutating func takeStartable(now: Int64, limit: Int, mine: (UInt64) -> Bool = { _ in true }) -> [UInt64] {
        if !retries.isEmpty {
            let due = retries.filter { $0.at <= now }
            retries.removeAll { $0.at <= now }
            ready.append(contentsOf: due.map(\.id))
        }
        var started: [UInt64] = []
        var kept: Deque<UInt64> = []
        while let id = ready.popFirst() {
            if inFlight.contains(id) { continue }
            if inFlight.count >= limit || !mine(id) {
                kept.append(id)
                continue
            }
            inFlight.insert(id)
            started.append(id)
        }
        ready = kept
        return started
    }

    var nextRetryMilliseconds: Int64? { retries.map(\.at).min() }
}
