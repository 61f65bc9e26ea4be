import RaftCore
import Synchronization

/// Carries a follower's forwarded writes to the leader in batches: a write that arrives while
/// `maxBatchesInFlight` batches are out waits, with every other such write, for the next one. At
/// low load every write goes alone at once; under load one Forward frame and one answer carry
/// hundreds (the leader proposes them in one turn anyway), which saves a round of encoding,
/// framing and system calls per write. Each write keeps its own answer and its own request id;
/// when a batch fails, each of its writes fails and is retried on its own by `IncidentNode`.
final class ForwardBatcher: Sendable {
    private struct Waiting: Sendable {
        var request: [UInt8]
        var leader: NodeID
        var reply: @Sendable (Result<[UInt8], NodeError>) -> Void
    }

    private struct Queue: Sendable {
        var waiting: [Waiting] = []
        var batchesInFlight = 0
    }

    private let queue = Mutex(Queue())
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
            let start = queue.withLock { queue -> Bool in
                queue.waiting.append(Waiting(request: request, leader: leader) { continuation.resume(returning: $0) })
                guard queue.batchesInFlight < maxBatchesInFlight else { return false }
                queue.batchesInFlight += 1
                return true
            }
            if start { Task { await self.drain() } }
        }
        return try result.get()
    }

    /// Sends batches until nothing waits.
    private func drain() async {
        while true {
            let batch = queue.withLock { queue -> [Waiting]? in
                guard !queue.waiting.isEmpty else {
                    queue.batchesInFlight -= 1
                    return nil
                }
                let count = min(queue.waiting.count, Forwarded.maxBatchCount)
                let batch = Array(queue.waiting.prefix(count))
                queue.waiting.removeFirst(count)
                return batch
            }
            guard let batch else { return }
            // Normally one leader; after a leader change, writes may name different ones.
            var byLeader: [NodeID: [Waiting]] = [:]
            for item in batch { byLeader[item.leader, default: []].append(item) }
            for (leader, items) in byLeader { await send(items, to: leader) }
        }
    }

    private func send(_ items: [Waiting], to leader: NodeID) async {
        if items.count == 1 {
            let item = items[0]
            do { item.reply(.success(try await transport.forward(item.request, to: leader, timeoutMilliseconds: timeoutMilliseconds))) } catch {
                item.reply(.failure(error))
            }
            return
        }
        do {
            let bytes = try await transport.forward(Forwarded.encodeBatch(items.map(\.request)), to: leader, timeoutMilliseconds: timeoutMilliseconds)
            if let answers = try Forwarded.batchAnswers(bytes), answers.count == items.count {
                for (item, answer) in zip(items, answers) { item.reply(.success(answer)) }
            } else {
                // The whole batch was refused (e.g. not the leader): every write gets the refusal.
                for item in items { item.reply(.success(bytes)) }
            }
        } catch let error as NodeError {
            for item in items { item.reply(.failure(error)) }
        } catch {
            for item in items { item.reply(.failure(NodeError(.uncertain, "the leader's batch answer could not be read: \(error)", leaderHint: leader))) }
        }
    }
}
