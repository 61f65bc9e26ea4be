/// The leader's view of one follower's log (etcd's Progress).
struct Progress: Sendable {
    /// How the leader currently sends to this follower.
    enum State: Sendable, Equatable {
        /// Where the follower's log matches is unknown: one append at a time, backing off on reject.
        case probe
        /// The follower accepts appends: pipeline them, bounded by `inflights`.
        case replicate
        /// The follower needs a snapshot; appends wait until it is installed.
        case snapshot(SnapshotTransfer)
    }

    /// Highest index known replicated on the follower.
    var match: LogIndex = 0
    /// Next index to send.
    var next: LogIndex
    var state: State = .probe
    /// In probe state: an append was sent and we wait for an answer or a heartbeat response.
    var probeSent = false
    /// The highest commit index sent to the follower (appends and heartbeats), to tell whether
    /// it may have missed the leader's current one.
    var sentCommit: LogIndex = 0
    /// Heard from within the last election timeout: set on every answer, cleared by the leader's
    /// tick once `silentTicks` reaches the election timeout.
    var recentActive = false {
        didSet { if recentActive { silentTicks = 0 } }
    }
    /// Leader ticks since this follower last answered (or since this leader started tracking it).
    var silentTicks = 0
    var isLearner: Bool
    var inflights: Inflights

    init(next: LogIndex, isLearner: Bool, maxInflightMessages: Int, maxInflightBytes: Int) {
        self.next = next
        self.isLearner = isLearner
        inflights = Inflights(capacity: maxInflightMessages, maxBytes: maxInflightBytes)
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if case .snapshot(let transfer) = state {
            // Resume after the snapshot we sent, if it got there.
            next = max(match + 1, transfer.metadata.index + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        inflights.reset()
    }

    mutating func becomeSnapshot(_ transfer: SnapshotTransfer) {
        state = .snapshot(transfer)
        probeSent = false
        inflights.reset()
    }

    /// An append up to `index` succeeded. Returns whether `match` moved.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Records that entries up to `last` were sent optimistically.
    mutating func sentEntries(last: LogIndex, bytes: Int) {
        switch state {
        case .replicate:
            next = last + 1
            inflights.add(index: last, bytes: bytes)
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("appends are not sent to a follower receiving a snapshot")
        }
    }

    /// An append at `rejected` was refused; `hint` is where the follower's log may match.
    /// Returns false for a stale rejection.
    mutating func maybeDecrease(rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            // Only the rejection of something above `match` is news.
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        // Probe: only the rejection of the probe we sent (next - 1) counts.
        guard next - 1 == rejected else { return false }
        next = max(min(rejected, hint + 1), match + 1)
        probeSent = false
        return true
    }
}

/// A snapshot being sent to one follower in chunks.
struct SnapshotTransfer: Sendable, Equatable {
    var metadata: SnapshotMetadata
    var totalBytes: Int
    /// Bytes the follower confirmed.
    var acknowledged: Int = 0
    /// Bytes sent so far (≥ acknowledged).
    var sent: Int = 0
    /// The chunk marked `done` went out (and no resend was asked for since).
    var lastChunkSent = false
    /// Ticks since the follower last confirmed progress (a stalled transfer is resent).
    var idleTicks: Int = 0
    /// Where the last resend after a reported gap started (one resend per gap).
    var resentFrom: Int?
}

/// A bounded window of append messages in flight to one follower (by last index and bytes).
struct Inflights: Sendable, Equatable {
    let capacity: Int
    let maxBytes: Int
    private var items: [(index: LogIndex, bytes: Int)] = []
    private var head = 0
    private(set) var bytes = 0

    init(capacity: Int, maxBytes: Int) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    static func == (a: Inflights, b: Inflights) -> Bool {
        a.capacity == b.capacity && a.maxBytes == b.maxBytes && a.count == b.count && a.bytes == b.bytes
    }

    var count: Int { items.count - head }
    var isFull: Bool { count >= capacity || (maxBytes > 0 && bytes >= maxBytes) }

    mutating func add(index: LogIndex, bytes: Int) {
        items.append((index, bytes))
        self.bytes += bytes
    }

    /// Frees every message whose last index is ≤ `index` (acknowledged).
    mutating func free(through index: LogIndex) {
        while head < items.count, items[head].index <= index {
            bytes -= items[head].bytes
            head += 1
        }
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    /// Frees the oldest message. A heartbeat answer proves the follower is reachable; freeing
    /// one slot lets an append through even when every message in the window was lost.
    mutating func freeFirst() {
        guard head < items.count else { return }
        free(through: items[head].index)
    }

    mutating func reset() {
        items.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
    }
}
