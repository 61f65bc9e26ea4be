@testable import RaftCore

/// The interaction environment behind the golden scripts (etcd's `rafttest.InteractionEnv`):
/// real `Raft` members, a message queue nothing is delivered from until a script says so, and
/// an output buffer every step writes its deterministic description to.
///
/// Members are driven exactly like a production driver drives them — `process-ready` persists
/// the Ready, queues its messages, applies its committed entries and calls `advance` — but each
/// of those steps happens only when the script asks, so a scenario can interleave them freely.
final class GoldenEnvironment {
    /// Members by id; ids are handed out 1, 2, 3… by `add-nodes`.
    var nodes: [NodeID: GoldenNode] = [:]
    /// Sent and not yet delivered or dropped, in send order.
    var messages: [Message] = []
    /// Directed links that lose every message (`cut`, `isolate`; `heal` clears them).
    var cutLinks: Set<GoldenLink> = []
    var output = GoldenOutput()

    /// A script mistake (unknown command, bad argument): fails the test rather than printing.
    struct ScriptError: Error, CustomStringConvertible {
        var description: String
    }

    var ids: [NodeID] { nodes.keys.sorted() }

    func node(_ id: NodeID) throws(ScriptError) -> GoldenNode {
        guard let node = nodes[id] else { throw ScriptError(description: "no node \(id)") }
        return node
    }

    /// Runs `body` on member `id`'s Raft and prints the role, term and configuration changes it
    /// caused, like etcd's INFO lines. Returns nil (after printing why) when the member is down.
    @discardableResult
    func mutate<T>(_ id: NodeID, _ body: (inout Raft) -> T) throws(ScriptError) -> T? {
        guard try node(id).isUp else {
            output.emit("error: node \(id) is down")
            return nil
        }
        let before = nodes[id]!.raft
        let result = body(&nodes[id]!.raft)
        let after = nodes[id]!.raft
        if after.role != before.role || after.term != before.term {
            output.emit("INFO \(id) became \(Self.roleWord(after.role)) at term \(after.term)")
        }
        if after.confState != before.confState {
            output.emit("INFO \(id) switched to configuration \(GoldenFormat.conf(after.confState))")
        }
        return result
    }

    static func roleWord(_ role: Raft.Role) -> String {
        switch role {
        case .follower: return "follower"
        case .preCandidate: return "pre-candidate"
        case .candidate: return "candidate"
        case .leader: return "leader"
        }
    }

    // MARK: - Ready handling

    /// Persists, sends, applies and acknowledges one Ready of member `id`, printing it.
    func processReady(_ id: NodeID) throws(ScriptError) {
        guard try node(id).isUp else {
            output.emit("error: node \(id) is down")
            return
        }
        let ready = nodes[id]!.raft.ready()
        for line in GoldenFormat.ready(ready) { output.emit(line) }
        messages.append(contentsOf: ready.earlyMessages)
        nodes[id]!.storage.persist(ready)
        if let snap = ready.snapshot { nodes[id]!.values = GoldenNode.values(decoding: snap.data) }
        messages.append(contentsOf: ready.messages)
        for entry in ready.committedEntries { nodes[id]!.apply(entry) }
        try mutate(id) { $0.advance(ready) }
    }

    // MARK: - Network

    /// Delivers (or, with `drop`, discards) every queued message addressed to `id`, in order.
    /// Messages on a cut link or to a member that is down are lost. Returns how many were handled.
    @discardableResult
    func deliver(to id: NodeID, drop: Bool = false) throws(ScriptError) -> Int {
        let mine = messages.filter { $0.to == id }
        messages.removeAll { $0.to == id }
        for message in mine {
            let text = GoldenFormat.message(message)
            if drop {
                output.emit("dropped: \(text)")
            } else if cutLinks.contains(GoldenLink(message.from, message.to)) {
                output.emit("dropped (link cut): \(text)")
            } else if nodes[id]?.isUp != true {
                output.emit("dropped (node down): \(text)")
            } else {
                output.emit(text)
                try mutate(id) { $0.step(message) }
            }
        }
        return mine.count
    }

    /// Handles Readies and delivers messages among `ids` (all members when empty) until
    /// nothing is left to do (etcd's `stabilize`).
    func stabilize(_ only: [NodeID]) throws(ScriptError) {
        let members = only.isEmpty ? ids : only
        for _ in 0..<10_000 {
            var done = true
            for id in members where nodes[id]?.isUp == true && nodes[id]!.raft.hasReady {
                output.emit("> \(id) handling Ready")
                try indented { () throws(ScriptError) in try processReady(id) }
                done = false
            }
            for id in members where messages.contains(where: { $0.to == id }) {
                output.emit("> \(id) receiving messages")
                try indented { () throws(ScriptError) in try deliver(to: id) }
                done = false
            }
            if done { return }
        }
        throw ScriptError(description: "stabilize did not reach a fixed point")
    }

    /// Runs `body` with its output indented one level (etcd's `withIndent`).
    func indented(_ body: () throws(ScriptError) -> Void) throws(ScriptError) {
        output.indent += 1
        defer { output.indent -= 1 }
        try body()
    }
}

/// A directed link between two members.
struct GoldenLink: Hashable {
    var from: NodeID
    var to: NodeID
    init(_ from: NodeID, _ to: NodeID) {
        self.from = from
        self.to = to
    }
}

/// The text a block produces. `quiet` (from `log-level none`) suppresses everything but errors.
struct GoldenOutput {
    private(set) var lines: [String] = []
    var quiet = false
    var indent = 0

    mutating func emit(_ line: String) {
        guard !quiet || line.hasPrefix("error") else { return }
        lines.append(String(repeating: "  ", count: indent) + line)
    }

    mutating func reset() { lines = [] }
}
