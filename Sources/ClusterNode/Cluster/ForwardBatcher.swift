import CoreMetrics
import Dispatch
import Locking
import RaftCore

/// Carries a follower's forwarded writes to the leader in batches: a write that arrives while
/// all the batches it may have out to its leader are out waits, with every other such write, for
/// the next one to come back. At low load every write goes alone at once; under load one Forward
/// frame and one answer carry hundreds (the leader proposes them in one turn anyway), which saves
/// a round of encoding, framing and system calls per write. Each write keeps its own answer and
/// its own request id; when a batch fails, each of its writes fails and is retried on its own by
/// `IncidentNode`.
///
/// **How many batches may be out** is `maxBatchesInFlight`, or more when batches take long even
/// at their quickest. A batch is out for the round trip to the leader plus the leader's commit
/// (its round trip to a majority): a few milliseconds on a LAN, but across a WAN a write waiting
/// for one would pay up to that again. So the follower keeps as many batches out as the shortest
/// recent batch round trip holds waits of `maxWaitMicroseconds` — a bandwidth-delay product, in
/// batches —, at most `maxBatchesWithExtras`; then a batch comes back about every
/// `maxWaitMicroseconds`. The shortest round trip, like TCP BBR's minimum RTT, is a property of
/// the path rather than of the load: the minimum over the batches answered in the last one to
/// two seconds (`roundTripWindowNanoseconds`; a failed batch times nothing). Every answered
/// batch takes what waits then, and its slot stays free when nothing does.
final class ForwardBatcher: Sendable {
    private struct Waiting: Sendable {
        var request: [UInt8]
        var reply: @Sendable (Result<[UInt8], NodeError>) -> Void
    }

    /// Per leader: writes waiting, batches out and the shortest recent round trip. Kept apart so
    /// that batches stuck on a leader that stopped answering (until their timeout) never hold
    /// back writes for its successor.
    private struct Lane: Sendable {
        var waiting: [Waiting] = []
        var batchesInFlight = 0
        /// How many batches may be out now.
        var limit: Int
        /// The shortest batch round trip (ns) in this window and in the one before it.
        var shortest = UInt64.max
        var shortestBefore = UInt64.max
        var windowStart: UInt64 = 0
    }

    /// Batches out to one leader at most, however long they take.
    static let maxBatchesWithExtras = 64
    /// The shortest round trip is the minimum over this window and the one before it.
    static let roundTripWindowNanoseconds: UInt64 = 1_000_000_000

    private let lanes = Lock<[NodeID: Lane]>([:])
    private let transport: any ClusterTransport
    private let timeoutMilliseconds: Int
    let maxBatchesInFlight: Int
    let maxWaitMicroseconds: Int
    private let now: @Sendable () -> UInt64
    private let extraBatches = Counter(label: "incidentd_forward_extra_batches_total")

    init(
        transport: any ClusterTransport, timeoutMilliseconds: Int, maxBatchesInFlight: Int = 2, maxWaitMicroseconds: Int = 0,
        now: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxBatchesInFlight = maxBatchesInFlight
        self.maxWaitMicroseconds = maxWaitMicroseconds
        self.now = now
    }

    /// How many batches may be out when they take at least `roundTripNanoseconds`.
    func limit(roundTripNanoseconds: UInt64) -> Int {
        guard maxWaitMicroseconds > 0, roundTripNanoseconds != .max else { return maxBatchesInFlight }
        let wait = UInt64(maxWaitMicroseconds) * 1_000
        let waits = roundTripNanoseconds / wait + (roundTripNanoseconds % wait == 0 ? 0 : 1)
        return max(maxBatchesInFlight, Int(min(waits, UInt64(Self.maxBatchesWithExtras))))
    }

    /// The lane's limit now (nil before its first write), for tests.
    func limit(to leader: NodeID) -> Int? { lanes.withLock { $0[leader]?.limit } }

    /// Sends one encoded `Forwarded` command request to `leader`; returns its encoded answer.
    func forward(_ request: [UInt8], to leader: NodeID) async throws(NodeError) -> [UInt8] {
        let result: Result<[UInt8], NodeError> = await withCheckedContinuation { continuation in
            forward(request, to: leader) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Sends one encoded `Forwarded` command request to `leader`; `reply` gets its encoded answer
    /// (on the thread it arrived on).
    func forward(_ request: [UInt8], to leader: NodeID, reply: @escaping @Sendable (Result<[UInt8], NodeError>) -> Void) {
        let start = lanes.withLock { lanes -> Bool in
            lanes[leader, default: Lane(limit: maxBatchesInFlight)].waiting.append(Waiting(request: request, reply: reply))
            guard lanes[leader]!.batchesInFlight < lanes[leader]!.limit else { return false }
            lanes[leader]!.batchesInFlight += 1
            return true
        }
        if start { drain(leader, new: true) }
    }

    /// Sends the next batch to `leader` in a slot taken for it (`new`) or freed by an answer, and
    /// the next one when its answer arrives, until nothing waits for it. No task: the batch
    /// leaves from the caller's thread (a write's HTTP thread or the thread the answer arrived
    /// on). `roundTrip`: how long the answered batch took (ns), when measured.
    private func drain(_ leader: NodeID, new: Bool, roundTrip: UInt64? = nil) {
        let measuring = maxWaitMicroseconds > 0
        let time = measuring ? now() : 0
        var extra = false
        let batch = lanes.withLock { lanes -> [Waiting]? in
            // Taken out and put back, so that its array stays uniquely referenced.
            guard var lane = lanes.removeValue(forKey: leader) else { return nil }
            defer { lanes[leader] = lane }
            if measuring, let roundTrip {
                if time &- lane.windowStart >= Self.roundTripWindowNanoseconds {
                    lane.shortestBefore = lane.shortest
                    lane.shortest = roundTrip
                    lane.windowStart = time
                } else {
                    lane.shortest = min(lane.shortest, roundTrip)
                }
                lane.limit = limit(roundTripNanoseconds: min(lane.shortest, lane.shortestBefore))
            }
            guard !lane.waiting.isEmpty else {
                lane.batchesInFlight -= 1
                return nil
            }
            extra = new && lane.batchesInFlight > maxBatchesInFlight
            let count = min(lane.waiting.count, Forwarded.maxBatchCount)
            let batch = Array(lane.waiting.prefix(count))
            lane.waiting.removeFirst(count)
            return batch
        }
        guard let batch else { return }
        if extra { extraBatches.increment() }
        // Only answers time the path: a batch that failed (cut off, timed out) says nothing of it.
        send(batch, to: leader) { [now] answered in self.drain(leader, new: false, roundTrip: measuring && answered ? now() &- time : nil) }
    }

    private static func answered(_ result: Result<[UInt8], NodeError>) -> Bool {
        if case .success = result { true } else { false }
    }

    /// Sends `items` as one request; `next` runs after their replies, told whether an answer came.
    private func send(_ items: [Waiting], to leader: NodeID, then next: @escaping @Sendable (_ answered: Bool) -> Void) {
        if items.count == 1 {
            let item = items[0]
            transport.forward(item.request, to: leader, timeoutMilliseconds: timeoutMilliseconds) { result in
                item.reply(result)
                next(Self.answered(result))
            }
            return
        }
        transport.forward(Forwarded.encodeBatch(items.map(\.request)), to: leader, timeoutMilliseconds: timeoutMilliseconds) { result in
            switch result {
            case .success(let bytes):
                do {
                    if let answers = try Forwarded.batchAnswers(bytes), answers.count == items.count {
                        for (item, answer) in zip(items, answers) { item.reply(.success(answer)) }
                    } else {
                        // The whole batch was refused (e.g. not the leader): every write gets the refusal.
                        for item in items { item.reply(.success(bytes)) }
                    }
                } catch {
                    for item in items {
                        item.reply(.failure(NodeError(.uncertain, "the leader's batch answer could not be read: \(error)", leaderHint: leader)))
                    }
                }
            case .failure(let error):
                for item in items { item.reply(.failure(error)) }
            }
            next(Self.answered(result))
        }
    }
}
