import HeapModule
import IncidentCore

/// The leader's view of armed escalation timers: a min-heap by due time, rebuilt from state
/// whenever this node becomes leader or restores a snapshot, and kept current from each
/// command's `Effects`. Due timers become `fireTimer` proposals; a fire that is stale by the time
/// it applies is a no-op in IncidentCore, so a lost or repeated proposal is harmless.
struct EscalationScheduler: Sendable {
    private struct Due: Comparable, Sendable {
        var at: Timestamp
        var id: TimerID
        static func < (a: Due, b: Due) -> Bool { (a.at, a.id) < (b.at, b.id) }
    }

    private var heap = Heap<Due>()
    /// Timers cancelled since they were pushed (lazy deletion).
    private var cancelled: Set<TimerID> = []

    var pendingCount: Int { heap.count - cancelled.count }

    mutating func rebuild(from machine: IncidentStateMachine) {
        heap = Heap(machine.armedTimers().map { Due(at: $0.dueAt, id: $0.id) })
        cancelled = []
    }

    mutating func update(with effects: Effects) {
        for id in effects.timersCancelled { cancelled.insert(id) }
        for timer in effects.timersArmed {
            cancelled.remove(timer.id)
            heap.insert(Due(at: timer.dueAt, id: timer.id))
        }
    }

    /// Removes and returns the timers due at `now`, earliest first.
    mutating func takeDue(at now: Timestamp) -> [TimerID] {
        var due: [TimerID] = []
        while let top = heap.min, top.at <= now {
            _ = heap.removeMin()
            if cancelled.remove(top.id) == nil { due.append(top.id) }
        }
        return due
    }

    /// Milliseconds until the next timer is due (for the loop's sleep), if any.
    func millisecondsUntilNext(from now: Timestamp) -> Int64? {
        heap.min.map { max(0, $0.at.millisecondsSinceEpoch - now.millisecondsSinceEpoch) }
    }
}
