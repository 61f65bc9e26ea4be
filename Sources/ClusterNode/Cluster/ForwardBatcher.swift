import Locking
import RaftCore

/// Carries a follower's forwarded writes to the leader in batches: a write that arrives while
/// `maxBatchesInFlight` batches to its leader are out waits, with every other such write, for the next one. At
/// low load every write goes alone at once; under load one Forward frame and one answer carry
/// hundreds (the leader proposes them in one turn anyway), which saves a round of encoding,
/// framing and system calls per write. Each write keeps its own answer and its own request id;
/// when a batch fails, each of its writes fails and is retried on its own by `IncidentNode`.
final class ForwardBatcher: Sendable {
    private struct Waiting: Sendable {
        var request: [UInt8]
        var reply: @Sendable (Result<[UInt8], NodeError>) -> Void
    }

    /// Per leader: writes waiting and batches out. Kept apart so that batches stuck on a leader
    /// that stopped answering (until their timeout) never hold back writes for its successor.
    private struct Lane: Sendable {
        var waiting: [Waiting] = []
        var batchesInFlight = 0
    }

    private let lanes = Lock<[NodeID: Lane]>([:])
    private let transport: any ClusterTransport
    private let timeoutMilliseconds: Int
    let maxBatchesInFlight: Int

    init(transport: any ClusterTransport, timeoutMilliseconds: Int, maxBatchesInFlight: Int = 2) {
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxBatchesInFlight = maxBatchesInFlight
    }

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
            lanes[leader, default: Lane()].waiting.append(Waiting(request: request, reply: reply))
            guard lanes[leader]!.batchesInFlight < maxBatchesInFlight else { return false }
            lanes[leader]!.batchesInFlight += 1
            return true
        }
        if start { drain(leader) }
    }

    /// Sends the next batch to `leader`, and the next one when its answer arrives, until nothing
    /// waits for it. No task: the batch leaves from the caller's thread (a write's HTTP thread
    /// or, for the next batch, the thread the answer arrived on).
    private func drain(_ leader: NodeID) {
        let batch = lanes.withLock { lanes -> [Waiting]? in
            guard var lane = lanes[leader] else { return nil }
            guard !lane.waiting.isEmpty else {
                lane.batchesInFlight -= 1
                lanes[leader] = lane.batchesInFlight == 0 ? nil : lane
                return nil
            }
            let count = min(lane.waiting.count, Forwarded.maxBatchCount)
            let batch = Array(lane.waiting.prefix(count))
            lane.waiting.removeFirst(count)
            lanes[leader] = lane
            return batch
        }
        guard let batch else { return }
        send(batch, to: leader) { self.drain(leader) }
    }

    private func send(_ items: [Waiting], to leader: NodeID, then next: @escaping @Sendable () -> Void) {
        if items.count == 1 {
            let item = items[0]
            transport.forward(item.request, to: leader, timeoutMilliseconds: timeoutMilliseconds) { result in
                item.reply(result)
                next()
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
            next()
        }
    }
}
