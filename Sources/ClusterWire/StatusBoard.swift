import Locking
import RaftCore

/// What the event loop publishes for synchronous readers (`peerStatuses()`, `listeningPort`)
/// and what callers on other threads must see without hopping to the loop (shut down or not).
final class StatusBoard: Sendable {
    struct State {
        var listeningPort = 0
        var statuses: [NodeID: PeerStatus] = [:]
        var isShutDown = false
        var unroutableMessages: UInt64 = 0
    }

    private let state = Lock(State())

    func update(_ status: PeerStatus) {
        state.withLock { $0.statuses[status.nodeID] = status }
    }

    func remove(_ id: NodeID) {
        _ = state.withLock { $0.statuses.removeValue(forKey: id) }
    }

    var statuses: [PeerStatus] {
        state.withLock { $0.statuses.values.sorted { $0.nodeID < $1.nodeID } }
    }

    var listeningPort: Int {
        get { state.withLock { $0.listeningPort } }
        set { state.withLock { $0.listeningPort = newValue } }
    }

    func countUnroutable(_ count: Int) {
        state.withLock { $0.unroutableMessages &+= UInt64(count) }
    }

    var unroutableMessages: UInt64 { state.withLock { $0.unroutableMessages } }

    var isShutDown: Bool { state.withLock { $0.isShutDown } }

    /// Marks the wire shut down; false when it already was.
    func markShutDown() -> Bool {
        state.withLock { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
    }
}
