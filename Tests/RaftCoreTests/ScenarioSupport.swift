import ClusterTesting
import RaftCore
import XCTest

/// What the members said while a scenario ran: every message delivered, in order.
struct Transcript {
    var delivered: [Message] = []

    /// Delivered messages from `from` to `to` whose body satisfies `matches`.
    func messages(from: NodeID? = nil, to: NodeID? = nil, where matches: (Message.Body) -> Bool = { _ in true }) -> [Message] {
        delivered.filter { ($0.from == from || from == nil) && ($0.to == to || to == nil) && matches($0.body) }
    }
}

extension TestCluster {
    /// Delivers one message as `deliver(_:)` does, recording it.
    mutating func deliver(_ message: Message, _ transcript: inout Transcript) {
        guard !cutLinks.contains(Link(message.from, message.to)), nodes[message.to]?.isUp == true else { return }
        transcript.delivered.append(message)
        with(message.to) { $0.step(message) }
    }

    /// Delivers everything in flight, and what that causes, until only messages matching `hold`
    /// remain in `inFlight` (like `stabilize()`, recording into `transcript`).
    mutating func settle(_ transcript: inout Transcript, holding hold: (Message) -> Bool = { _ in false }) {
        for id in ids { collect(id) }
        var delivered = 0
        while true {
            let deliverable = inFlight.filter { !hold($0) }
            guard !deliverable.isEmpty else {
                if completeSyncs() { continue }
                return
            }
            inFlight.removeAll { !hold($0) }
            for message in deliverable {
                deliver(message, &transcript)
                delivered += 1
                precondition(delivered < 100_000, "the cluster did not quiesce")
            }
        }
    }

    /// One tick on every live member, then everything settles.
    mutating func tickAndSettle(_ transcript: inout Transcript, times: Int = 1, holding hold: (Message) -> Bool = { _ in false }) {
        for _ in 0..<times {
            for id in ids { tick(id) }
            settle(&transcript, holding: hold)
        }
    }

    /// Ticks every member and settles until `condition` holds; returns the ticks it took, or nil
    /// when it still does not hold after `maxTicks`.
    @discardableResult
    mutating func tickUntil(maxTicks: Int = 200, _ transcript: inout Transcript, _ condition: (TestCluster) -> Bool) -> Int? {
        for ticks in 0...maxTicks {
            if condition(self) { return ticks }
            if ticks < maxTicks { tickAndSettle(&transcript) }
        }
        return nil
    }

    /// `tickUntil` without a transcript.
    @discardableResult
    mutating func tickUntil(maxTicks: Int = 200, _ condition: (TestCluster) -> Bool) -> Int? {
        var transcript = Transcript()
        return tickUntil(maxTicks: maxTicks, &transcript, condition)
    }

    /// Proposes every value in `values` at `id`, one entry each; fails the test on a refusal.
    mutating func proposeAll(_ values: some Sequence<UInt64>, at id: NodeID, file: StaticString = #filePath, line: UInt = #line) {
        for value in values {
            if case .failure(let error) = propose(value, at: id) {
                XCTFail("proposal of \(value) at \(id) refused: \(error)", file: file, line: line)
            }
        }
    }

    /// Proposes a membership change at `id`.
    @discardableResult
    mutating func proposeConfChange(_ change: ConfChange, at id: NodeID) -> Result<LogIndex, ProposalError> {
        var result: Result<LogIndex, ProposalError> = .failure(ProposalError(code: .notLeader, leaderHint: 0, message: "down"))
        with(id) { raft in
            do throws(ProposalError) { result = .success(try raft.proposeConfChange(change)) } catch { result = .failure(error) }
        }
        return result
    }

    /// Asks `id` for a linearizable read point for `context`.
    mutating func requestRead(_ context: String, at id: NodeID) {
        with(id) { $0.readIndex(context: Array(context.utf8)) }
    }

    /// The read answers `id` received so far: served read points by context, and failed contexts.
    mutating func takeReads(_ id: NodeID) -> (served: [String: LogIndex], failed: Set<String>) {
        let (served, failed) = takeReadStates(id)
        return (
            Dictionary(served.map { (String(decoding: $0.context, as: UTF8.self), $0.index) }, uniquingKeysWith: { first, _ in first }),
            Set(failed.map { String(decoding: $0, as: UTF8.self) }))
    }

    /// The only live leader; fails the test when there is none or several.
    func soleLeader(file: StaticString = #filePath, line: UInt = #line) -> NodeID {
        XCTAssertEqual(leaders.count, 1, "leaders: \(leaders)", file: file, line: line)
        return leaders.first ?? 0
    }

    /// Whether every live member applied the same values as `id`, with the same digest.
    func replicasMatch(_ id: NodeID) -> Bool {
        ids.filter { node($0).isUp }.allSatisfy { node($0).app.values == node(id).app.values && node($0).app.digest == node(id).app.digest }
    }

    /// The term of each entry `from...through` on `id` (nil where it does not hold one).
    func terms(_ id: NodeID, from: LogIndex = 1, through: LogIndex) -> [Term?] {
        (from...max(from, through)).map { raft(id).term(at: $0) }
    }
}

extension Message.Body {
    var isAppend: Bool { if case .append = self { return true } else { return false } }
    var appendEntries: [Entry] { if case .append(_, _, let entries, _) = self { return entries } else { return [] } }
    var isRejectedAppend: Bool { if case .appendResponse(_, true, _, _) = self { return true } else { return false } }
    var isTimeoutNow: Bool { if case .timeoutNow = self { return true } else { return false } }
    var isSnapshotChunk: Bool { if case .snapshotChunk = self { return true } else { return false } }
    var heartbeatContext: [UInt8]? { if case .heartbeat(_, let context) = self { return context } else { return nil } }
    var isVoteRequest: Bool { if case .vote = self { return true } else { return false } }
    var isPreVoteRequest: Bool { if case .preVote = self { return true } else { return false } }
    /// nil when this is not a (pre-)vote response; otherwise whether it grants.
    var grantsVote: Bool? {
        switch self {
        case .voteResponse(let reject), .preVoteResponse(let reject): return !reject
        default: return nil
        }
    }
}

extension TestCluster.Options {
    /// Options whose member configuration is adjusted by `configure`.
    static func configured(_ configure: @escaping @Sendable (inout RaftConfig) -> Void) -> TestCluster.Options {
        var options = TestCluster.Options()
        options.configure = configure
        return options
    }
}
