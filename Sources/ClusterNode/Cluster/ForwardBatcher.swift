import RaftCore
import Synchronization

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

    private let lanes = Mutex<[NodeID: Lane]>([:])
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
            let start = lanes.withLock { lanes -> Bool in
                lanes[leader, default: Lane()].waiting.append(Waiting(request: request) { continuation.resume(returning: $0) })
                guard lanes[leader]!.batchesInFlight < maxBatchesInFlight else { return false }
                lanes[leader]!.batchesInFlight += 1
                return true
            }
            if start { Task { await self.drain(leader) } }
        }
        return try result.get()
    }

    /// Sends batches to `leader` until nothing waits for it.
    private func drain(_ leader: NodeID) async {
        while true {
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
            await send(batch, to: leader)
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
