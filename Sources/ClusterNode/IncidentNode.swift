import Foundation
import IncidentCore
import Locking
import Logging
import RaftCore
import Synchronization

/// One `incidentd` node: a Raft member whose replicated state is the incident state machine.
///
/// `submit` is answered after the command is durable on a majority and applied (RPO 0 for
/// acknowledged writes). Any member accepts writes: a follower forwards them to the leader over
/// the transport, and a write caught in a leader change is retried on the next leader with the
/// same request id, so it applies at most once. `read` runs a closure against the applied state
/// on the consensus loop, linearizable by default.
public final class IncidentNode: Sendable {
    private let loop: ConsensusLoop
    public let config: NodeConfig
    private let finished = DispatchSemaphore(value: 0)
    /// The counter of the retry ids this process makes (`nextRetryID`), after the prefix
    /// `OwnWrites.idPrefix`.
    private let retryCounter = Atomic<UInt64>(0)
    /// Forwarded writes travel to the leader in batches (nil without a transport).
    let batcher: ForwardBatcher?

    /// Opens (or founds) the node in `config.dataDirectory` and starts its consensus loop.
    /// Throws `NodeError` naming the file and offset when the data directory is corrupt.
    public init(
        config: NodeConfig, logger: Logger, delivery: (any NotificationDelivery)? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) },
        transport: (any ClusterTransport)? = nil
    ) throws(NodeError) {
        try config.validate()
        self.config = config
        let loop = try ConsensusLoop(config: config, logger: logger, clock: clock, delivery: delivery, transport: transport)
        self.loop = loop
        batcher = transport.map {
            ForwardBatcher(
                transport: $0, timeoutMilliseconds: config.forwardTimeoutMilliseconds,
                maxBatchesInFlight: config.forwardBatchesInFlight, maxWaitMicroseconds: config.forwardWaitMicroseconds)
        }
        let weakNode = WeakNode()
        loop.forwardInternal = { command in
            Task { _ = try? await weakNode.node?.submit(command) }
        }
        let finished = self.finished
        weakNode.set(self)
        if let host = transport?.loopHost {
            loop.start(on: host) { finished.signal() }
        } else {
            let thread = Thread {
                loop.run()
                finished.signal()
            }
            thread.name = "incidentd-consensus"
            thread.start()
        }
        if !config.advertisedPeerAddress.isEmpty { advertiseSelf(weakNode) }
    }

    /// Keeps this node's directory entry (addresses, region, zone) as configured: once a leader
    /// is known and the entry differs, writes it (through the leader, like any cluster change).
    private func advertiseSelf(_ weakNode: WeakNode) {
        let me = MemberInfo(
            id: config.nodeID, peerAddress: config.advertisedPeerAddress, apiAddress: config.advertisedAPIAddress,
            region: config.region, zone: config.zone)
        Task {
            while let node = weakNode.node {
                let seen = try? await node.read(.local) { context in
                    (entry: context.state.members[me.id], isMember: context.status.voters.contains(me.id) || context.status.learners.contains(me.id))
                }
                if seen?.entry == me { return }
                let isMember = seen?.isMember ?? false
                if isMember, node.leader != 0 {
                    do throws(NodeError) { _ = try await node.cluster(.setMember(me)) } catch {
                        if error.code == .unavailable && error.message.contains("shutting down") { return }
                    }
                }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
    }

    /// The leader as this node knows it (0: none known), without a trip to the loop.
    public var leader: NodeID { loop.publishedLeader.load(ordering: .acquiring) }
    /// The highest log index applied here, without a trip to the loop.
    public var appliedIndex: LogIndex { loop.publishedApplied.load(ordering: .acquiring) }
    /// Milliseconds since this node last heard from a leader (0 on the leader itself); how stale
    /// a local read may be. Nil before it ever heard from one.
    public var millisecondsSinceLeaderContact: Int64? {
        let contact = loop.publishedLeaderContact.load(ordering: .relaxed)
        return contact == 0 ? nil : max(0, ConsensusLoop.monotonicMilliseconds() - contact)
    }

    /// Whether the cluster was founded with more than one voter (then writes may need retries).
    private var replicated: Bool { config.initialMembers.count > 1 || config.join }

    // MARK: - Writes

    /// Proposes `command` and waits until it is applied, on whichever member leads. `requestID`
    /// (e.g. an API key's `Idempotency-Key`) makes retries return the first answer without
    /// applying twice; without one, a replicated node makes up its own for its internal retries.
    public func submit(_ command: Command, requestID: String = "") async throws(NodeError) -> Submission {
        let (id, own) = writeID(for: requestID)
        defer { if own { loop.ownWrites.finish(id) } }
        return try await submitRouted(command, id: id, own: own)
    }

    /// `submit` for a caller that is not a task (the HTTP ingest path on an event loop):
    /// `completion` gets the same answer, on the thread it became known on. The first attempt
    /// needs no task — proposed here when this node leads, else handed to the forward batcher;
    /// only a write that has to wait for a leader or be retried continues in a task, through the
    /// same retries as `submit` (its wait for a leader starts then).
    public func submit(_ command: Command, requestID: String = "", completion: @escaping @Sendable (Result<Submission, NodeError>) -> Void) {
        let (id, own) = writeID(for: requestID)
        let loop = self.loop
        let finish: @Sendable (Result<Submission, NodeError>) -> Void = { result in
            if own { loop.ownWrites.finish(id) }
            completion(result)
        }
        let retryable = !id.isEmpty
        let settle: @Sendable (Result<Submission, NodeError>) -> Void = { result in
            guard case .failure(let error) = result,
                Self.worthRetrying(error, retryable: retryable) || (own && error.code == .appliedEarlier)
            else { return finish(result) }
            Task {
                do throws(NodeError) { finish(.success(try await self.submitRouted(command, id: id, own: own))) } catch { finish(.failure(error)) }
            }
        }
        let leader = self.leader
        if leader == config.nodeID || (leader == 0 && !replicated) {
            submitHere([Write(command: command, requestID: id)]) { settle($0[0]) }
        } else if leader != 0, loop.transport != nil, let batcher {
            let (payload, commandStart) = Forwarded.encodeCommand(command, requestID: id)
            if own { loop.ownWrites.forwarding(id, command, encoded: payload[commandStart...]) }
            batcher.forward(payload, to: leader) { reply in
                let result = reply.flatMap { bytes in
                    Result { () throws(NodeError) -> Submission in try Self.submission(in: try Self.forwardedAnswer(bytes, from: leader)) }
                }
                guard case .success(let submission) = result else { return settle(result) }
                self.catchUp(to: submission) { settle(result) }
            }
        } else {
            settle(.failure(NodeError(.notLeader, "no leader is known; retry", leaderHint: 0)))
        }
    }

    /// The id a write is proposed under (`requestID`, or one this node makes up when it has none
    /// and may need to retry), registered with `ownWrites` when it is the node's own.
    private func writeID(for requestID: String) -> (id: String, own: Bool) {
        let id = requestID.isEmpty && replicated ? nextRetryID() : requestID
        let own = RequestIDs.isTransient(id)
        if own { loop.ownWrites.register(id) }
        return (id, own)
    }

    private func submitRouted(_ command: Command, id: String, own: Bool) async throws(NodeError) -> Submission {
        let ownWrites = loop.ownWrites
        let payload = LazyBox { () -> [UInt8] in
            let (bytes, commandStart) = Forwarded.encodeCommand(command, requestID: id)
            if own { ownWrites.forwarding(id, command, encoded: bytes[commandStart...]) }
            return bytes
        }
        let answer: Forwarded.Answer
        do {
            answer = try await routed(retryable: !id.isEmpty, batched: true) { () async throws(NodeError) -> Forwarded.Answer in
                .applied(try await self.submitHere(command, requestID: id))
            } forward: { payload.value }
        } catch {
            guard own, error.code == .appliedEarlier else { throw error }
            return try await earlierAnswer(to: id, appliedAt: error.earlierIndex)
        }
        return try Self.submission(in: answer)
    }

    /// Runs `answer` once this node applied the write the leader answered as `submission`: the
    /// client that wrote through this node then reads its write here (`local` reads included),
    /// and the entry's term in the answer lets this node commit it at once (`Raft.learnCommitted`)
    /// when the leader has not said so yet. Bounded by `ConsensusLoop.catchUpWaitMilliseconds`.
    private func catchUp(to submission: Submission, then answer: @escaping @Sendable () -> Void) {
        guard submission.index > appliedIndex else { return answer() }
        if !loop.inbox.catchUp(Inbox.CatchUp(index: submission.index, term: submission.term, done: answer)) { answer() }
    }

    private static func submission(in answer: Forwarded.Answer) throws(NodeError) -> Submission {
        guard case .applied(let submission) = answer else { throw NodeError(.uncertain, "unexpected answer to a write") }
        return submission
    }

    /// The leader's encoded answer to a forwarded request; a refusal is thrown.
    private static func forwardedAnswer(_ bytes: [UInt8], from leader: NodeID) throws(NodeError) -> Forwarded.Answer {
        let answer: Forwarded.Answer
        do { answer = try Forwarded.decodeAnswer(bytes) } catch {
            throw NodeError(.uncertain, "the leader's answer could not be read: \(error)", leaderHint: leader)
        }
        if case .refused(let error) = answer { throw error }
        return answer
    }

    /// Whether a failed write may be tried again: always when nothing was proposed, and when it
    /// may have been applied only if it carries a request id (which makes the retry idempotent).
    private static func worthRetrying(_ error: NodeError, retryable: Bool) -> Bool {
        switch error.code {
        case .notLeader: return true
        case .uncertain, .unavailable: return retryable
        default: return false
        }
    }

    /// The answer to one of this node's writes that a retry found applied already: this node
    /// recorded it when it applied the entry, or will once it gets there.
    private func earlierAnswer(to id: String, appliedAt index: LogIndex) async throws(NodeError) -> Submission {
        if appliedIndex < index {
            // Woken by the loop once it applied `index` (`CatchUps`), or after the wait.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wait = Inbox.CatchUp(index: index, term: 0, waitMilliseconds: config.leaderWaitMilliseconds) { continuation.resume() }
                if !loop.inbox.catchUp(wait) { continuation.resume() }
            }
        }
        if let answer = loop.ownWrites.earlierAnswer(for: id) { return answer }
        throw NodeError(
            .uncertain, appliedIndex < index
                ? "the write was applied at index \(index), which this node has not reached within \(config.leaderWaitMilliseconds) ms"
                : "the write was applied at index \(index), but this node installed a snapshot past it and has no answer for it")
    }

    /// Runs `request` here when this node leads, else forwards it to the leader; retries (while
    /// `retryable`) through leader changes and unreachable leaders until `leaderWaitMilliseconds`
    /// have passed without success.
    private func routed(
        retryable: Bool, batched: Bool = false, local: @escaping @Sendable () async throws(NodeError) -> Forwarded.Answer,
        forward payload: @escaping @Sendable () -> [UInt8]
    ) async throws(NodeError) -> Forwarded.Answer {
        let deadline = ConsensusLoop.monotonicMilliseconds() + Int64(config.leaderWaitMilliseconds)
        var lastError = NodeError(.notLeader, "no leader is known; retry", leaderHint: 0)
        while true {
            let leader = self.leader
            do throws(NodeError) {
                if leader == config.nodeID || (leader == 0 && !replicated) {
                    return try await local()
                } else if leader != 0, let transport = loop.transport {
                    let bytes: [UInt8]
                    if batched, let batcher {
                        bytes = try await batcher.forward(payload(), to: leader)
                    } else {
                        bytes = try await transport.forward(payload(), to: leader, timeoutMilliseconds: config.forwardTimeoutMilliseconds)
                    }
                    let answer = try Self.forwardedAnswer(bytes, from: leader)
                    if case .applied(let submission) = answer {
                        await withCheckedContinuation { continuation in catchUp(to: submission) { continuation.resume() } }
                    }
                    return answer
                }
            } catch {
                lastError = error
                guard Self.worthRetrying(error, retryable: retryable) else { throw error }
            }
            guard ConsensusLoop.monotonicMilliseconds() < deadline else {
                throw NodeError(lastError.code == .uncertain ? .uncertain : .notLeader, "no leader answered within \(config.leaderWaitMilliseconds) ms: \(lastError.message)", leaderHint: self.leader)
            }
            try? await Task.sleep(nanoseconds: UInt64(min(50, max(5, config.tickIntervalMilliseconds / 2))) * 1_000_000)
        }
    }

    /// Proposes on this node's loop (which must lead).
    private func submitHere(_ command: Command, requestID: String) async throws(NodeError) -> Submission {
        try await submitHere([Write(command: command, requestID: requestID)])[0].get()
    }

    private func nextRetryID() -> String {
        Self.retryID(prefix: loop.ownWrites.idPrefix, counter: retryCounter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// `prefix` and `counter` in base 36, as `String(counter, radix: 36)` writes it, without its
    /// generic path (this runs for every write without an idempotency key).
    static func retryID(prefix: String, counter n: UInt64) -> String {
        var digits: (UInt64, UInt64) = (0, 0)  // 13 digits at most, written from the end
        let count = withUnsafeMutableBytes(of: &digits) { buffer in
            var rest = n
            var at = buffer.count
            repeat {
                let digit = UInt8(rest % 36)
                at -= 1
                buffer[at] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") - 10 + digit
                rest /= 36
            } while rest > 0
            return buffer.count - at
        }
        return withUnsafeBytes(of: digits) { buffer in
            prefix + String(decoding: UnsafeRawBufferPointer(rebasing: buffer[(buffer.count - count)...]), as: UTF8.self)
        }
    }

    // MARK: - Reads

    /// Runs `body` against the applied state. `.linearizable` (the default) sees every write
    /// acknowledged anywhere before the read began; `.local` is this node's state as it is.
    public func read<T: Sendable>(
        _ consistency: ReadConsistency = .linearizable, _ body: @escaping @Sendable (borrowing LoopContext) -> T
    ) async throws(NodeError) -> T {
        let result: Result<T, NodeError> = await withCheckedContinuation { continuation in
            let read = Inbox.Read(
                consistency: consistency, run: { context in continuation.resume(returning: .success(body(context))) },
                fail: { error in continuation.resume(returning: .failure(error)) })
            if !loop.inbox.read(read) { continuation.resume(returning: .failure(NodeError(.unavailable, "the node is shutting down"))) }
        }
        return try result.get()
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (borrowing LoopContext) -> T) async throws(NodeError) -> T {
        try await read(.linearizable, body)
    }

    public func status() async throws(NodeError) -> NodeStatus {
        try await read(.local) { $0.status }
    }

    /// Moves whenever an applied change may alter API access (see `ReplicatedState.accessRevision`);
    /// readable from any thread without a trip to the consensus loop.
    public var accessRevision: UInt64 { loop.publishedAccessRevision.load(ordering: .acquiring) }

    // MARK: - The cluster

    /// Adds `member` as a learner: its directory entry first (so every node can dial it), then
    /// the configuration change. Returns the index of the change.
    @discardableResult
    public func addLearner(_ member: MemberInfo) async throws(NodeError) -> LogIndex {
        _ = try await cluster(.setMember(member))
        return try await cluster(.changeMembership(ConfChange([.addLearner(member.id)])))
    }

    /// Makes a learner a voter (refused unless it has caught up with the leader's log).
    @discardableResult
    public func promote(_ id: NodeID) async throws(NodeError) -> LogIndex {
        try await cluster(.changeMembership(ConfChange([.addVoter(id)])))
    }

    /// Removes a member from the configuration, then forgets its directory entry.
    @discardableResult
    public func remove(_ id: NodeID) async throws(NodeError) -> LogIndex {
        let index = try await cluster(.changeMembership(ConfChange([.remove(id)])))
        _ = try? await cluster(.forgetMember(id))
        return index
    }

    /// Archive journal switches and progress (see `ArchiveJournal`), through the leader.
    @discardableResult
    public func archive(_ command: ArchiveCommand) async throws(NodeError) -> LogIndex {
        try await cluster(.archive(command))
    }

    /// Asks the leader to hand leadership to `target`; returns at once (watch `leader`).
    public func transferLeadership(to target: NodeID) async throws(NodeError) {
        _ = try await cluster(.transferLeadership(to: target))
    }

    private func cluster(_ operation: Inbox.ClusterOperation) async throws(NodeError) -> LogIndex {
        let answer = try await routed(retryable: false) { () async throws(NodeError) -> Forwarded.Answer in
            .done(try await self.clusterHere(operation))
        } forward: { Forwarded.encode(.cluster(operation)) }
        guard case .done(let index) = answer else { throw NodeError(.uncertain, "unexpected answer to a cluster operation") }
        return index
    }

    private func clusterHere(_ operation: Inbox.ClusterOperation) async throws(NodeError) -> LogIndex {
        let result: Result<LogIndex, NodeError> = await withCheckedContinuation { continuation in
            let request = Inbox.ClusterRequest(operation: operation) { continuation.resume(returning: $0) }
            if !loop.inbox.cluster(request) { continuation.resume(returning: .failure(NodeError(.unavailable, "the node is shutting down"))) }
        }
        return try result.get()
    }

    /// A consistent copy of the whole replicated state at this node's applied index, encoded as a
    /// snapshot (the format `restore` reads), for backups (`GET /api/v1/cluster/snapshot`). The
    /// loop only hands over a copy-on-write copy; encoding happens here, off the loop.
    public func backup() async throws(NodeError) -> NodeBackup {
        let (state, index, term) = try await read(.local) { ($0.state, $0.status.appliedIndex, $0.appliedTerm) }
        return NodeBackup(data: state.snapshot(), index: index, term: term)
    }

    // MARK: - From peers

    /// Raft messages a peer sent this node (the transport calls this; never blocks).
    public func receive(_ messages: [Message]) { loop.inbox.receive(messages) }

    /// A write or cluster operation a follower forwarded: carried out here if this node leads,
    /// else refused with `notLeader` and the leader hint (the follower retries there). Never
    /// forwarded again, so a request cannot circle between nodes.
    /// `answersWithTerms`: a write's answer carries its entry's term, which only a requester on
    /// wire protocol version `forwardTermsSinceProtocolVersion` or later reads.
    public func serveForwarded(_ payload: [UInt8], answersWithTerms: Bool = true) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            serveForwarded(payload, answersWithTerms: answersWithTerms) { continuation.resume(returning: $0) }
        }
    }

    /// The first wire protocol version whose nodes read a forwarded write's term in its answer.
    public static var forwardTermsSinceProtocolVersion: UInt16 { Forwarded.termsSinceProtocolVersion }

    /// `serveForwarded` without a task: `reply` gets the answer once. Writes (a batch, or one
    /// on its own) are queued on the loop at once and answered from the loop when the last is;
    /// with the loop on the transport's thread, they never change threads here. Cluster
    /// operations take a task.
    public func serveForwarded(_ payload: [UInt8], answersWithTerms: Bool, reply: @escaping @Sendable ([UInt8]) -> Void) {
        let elements: [[UInt8]]?
        do { elements = try Forwarded.batchElements(payload) } catch {
            return reply(Forwarded.encode(.refused(NodeError(.invalidConfig, "malformed forwarded batch: \(error)"))))
        }
        if let elements {
            return serveBatch(elements, withTerms: answersWithTerms) { reply(Forwarded.encodeBatchAnswer($0)) }
        }
        let request: Forwarded.Request
        let commandBytes: ArraySlice<UInt8>?
        do { (request, commandBytes) = try Forwarded.decodeRequestKeepingCommandBytes(payload) } catch {
            return reply(Forwarded.encode(.refused(NodeError(.invalidConfig, "malformed forwarded request: \(error)"))))
        }
        switch request {
        case .command(let command, let requestID):
            // A write on its own (light load): answered from the loop like a batch's.
            submitHere([Write(command: command, requestID: requestID, encoded: commandBytes)]) {
                reply(Self.encodeAnswer($0[0], withTerm: answersWithTerms))
            }
        case .cluster(let operation):
            Task {
                do throws(NodeError) { reply(Forwarded.encode(.done(try await self.clusterHere(operation)))) } catch {
                    reply(Forwarded.encode(.refused(error)))
                }
            }
        }
    }

    /// A forwarded write's answer on the wire.
    private static func encodeAnswer(_ result: Result<Submission, NodeError>, withTerm: Bool) -> [UInt8] {
        switch result {
        case .success(let submission): Forwarded.encode(.applied(submission), withTerm: withTerm)
        case .failure(let error): Forwarded.encode(.refused(error))
        }
    }

    /// The writes of a forwarded batch, queued on the loop together (they share its next turn)
    /// and answered together, in the batch's order.
    private func serveBatch(_ elements: [[UInt8]], withTerms: Bool, answered: @escaping @Sendable ([[UInt8]]) -> Void) {
        var answers = [[UInt8]](repeating: [], count: elements.count)
        var positions: [Int] = []
        var commands: [Write] = []
        for (position, element) in elements.enumerated() {
            switch Result(catching: { () throws(DecodingError) in try Forwarded.decodeRequestKeepingCommandBytes(element) }) {
            case .success((.command(let command, let requestID), let commandBytes)):
                positions.append(position)
                commands.append(Write(command: command, requestID: requestID, encoded: commandBytes))
            case .success((.cluster, _)):
                answers[position] = Forwarded.encode(.refused(NodeError(.invalidConfig, "a forwarded batch carries writes only")))
            case .failure(let error):
                answers[position] = Forwarded.encode(.refused(NodeError(.invalidConfig, "malformed forwarded request: \(error)")))
            }
        }
        guard !commands.isEmpty else { return answered(answers) }
        let decoded = answers
        let positionsOfCommands = positions
        submitHere(commands) { results in
            var answers = decoded
            for (offset, position) in positionsOfCommands.enumerated() {
                answers[position] = Self.encodeAnswer(results[offset], withTerm: withTerms)
            }
            answered(answers)
        }
    }

    /// A write to propose here: its command, request id and, for a forwarded one, the command's
    /// bytes as they came (`Inbox.Proposal.encodedCommand`).
    private struct Write {
        var command: Command
        var requestID: String
        var encoded: ArraySlice<UInt8>? = nil
    }

    /// Proposes several commands on this node's loop (which must lead) and waits for all answers.
    private func submitHere(_ commands: [Write]) async -> [Result<Submission, NodeError>] {
        await withCheckedContinuation { continuation in
            submitHere(commands) { continuation.resume(returning: $0) }
        }
    }

    /// Proposes several commands on this node's loop; `answered` gets every answer, in order,
    /// once the last one is known.
    private func submitHere(_ commands: [Write], answered: @escaping @Sendable ([Result<Submission, NodeError>]) -> Void) {
        let collector = AnswerCollector(count: commands.count, completion: answered)
        let proposals = commands.enumerated().map { offset, write in
            Inbox.Proposal(command: write.command, requestID: write.requestID, reply: { collector.set(offset, $0) }, encodedCommand: write.encoded)
        }
        let accepted = loop.inbox.submit(contentsOf: proposals)
        for offset in accepted..<commands.count {
            collector.set(offset, .failure(NodeError(.overloaded, "the node has \(config.proposalQueueDepth) writes queued; retry")))
        }
    }

    /// The answer `serveForwarded` gives for `error`, for a transport that must refuse a request
    /// before the node exists.
    public static func refusal(_ error: NodeError) -> [UInt8] { Forwarded.encode(.refused(error)) }

    /// Stops the consensus loop (pending requests fail with `unavailable`) and closes the log.
    public func shutdown() async {
        loop.inbox.stop()
        let finished = self.finished
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                finished.wait()
                finished.signal()
                continuation.resume()
            }
        }
    }
}

/// The node as the loop's callbacks see it: without keeping it alive.
private final class WeakNode: Sendable {
    private let reference = Lock<Reference>(Reference())
    private struct Reference: Sendable {
        weak var node: IncidentNode?
    }
    func set(_ node: IncidentNode) { reference.withLock { $0.node = node } }
    var node: IncidentNode? { reference.withLock { $0.node } }
}

/// A snapshot of the replicated state for safekeeping: the bytes and the log position they hold.
public struct NodeBackup: Sendable {
    public var data: [UInt8]
    public var index: LogIndex
    public var term: Term
}

/// Computes a value at most once, on first use (the forwarded payload is encoded only when a
/// write actually has to be forwarded).
private final class LazyBox<T: Sendable>: Sendable {
    private let make: @Sendable () -> T
    private let stored = Lock<T?>(nil)
    init(_ make: @escaping @Sendable () -> T) { self.make = make }
    var value: T {
        stored.withLock { stored in
            if let value = stored { return value }
            let value = make()
            stored = value
            return value
        }
    }
}

/// Gathers the answers to a batch of proposals (set from the consensus loop, in any order) and
/// resumes its waiter once, when the last one arrives.
private final class AnswerCollector: Sendable {
    private struct State {
        var answers: [Result<Submission, NodeError>?]
        var missing: Int
    }
    private let state: Lock<State>
    private let completion: @Sendable ([Result<Submission, NodeError>]) -> Void

    init(count: Int, completion: @escaping @Sendable ([Result<Submission, NodeError>]) -> Void) {
        state = Lock(State(answers: Array(repeating: nil, count: count), missing: count))
        self.completion = completion
    }

    func set(_ offset: Int, _ answer: Result<Submission, NodeError>) {
        let done: [Result<Submission, NodeError>]? = state.withLock { s in
            guard s.answers[offset] == nil else { return nil }
            s.answers[offset] = answer
            s.missing -= 1
            return s.missing == 0 ? s.answers.compactMap { $0 } : nil
        }
        if let done { completion(done) }
    }
}
