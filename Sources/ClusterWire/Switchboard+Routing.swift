import NIOCore
import RaftCore
import WireFormat

/// Frames for one peer, encoded on the caller's thread by `ClusterWire.send`.
struct OutgoingFrames: Sendable {
    var peer: NodeID
    var frames: [(frame: EncodedFrame, messages: Int)]
    /// Messages too large for any frame: dropped and counted.
    var oversized: Int
}

/// Routing, requests, membership changes, liveness and shutdown.
extension Switchboard {
    func route(_ outgoing: [OutgoingFrames]) {
        for batch in outgoing {
            let messages = batch.frames.reduce(0) { $0 + $1.messages }
            guard let link = links[batch.peer] else {
                statusBoard.countUnroutable(messages + batch.oversized)
                logger.debug("dropped messages for a node that is not a peer", metadata: ["to": "\(batch.peer)"])
                continue
            }
            if batch.oversized > 0 {
                link.countDropped(frames: batch.oversized, messages: batch.oversized)
                logger.warning("dropped Raft messages larger than maxFrameBytes", metadata: ["peer": "\(link.id)", "count": "\(batch.oversized)"])
            }
            guard let connection = link.connection else {
                link.countDropped(frames: batch.frames.count, messages: messages)
                publish(link)
                continue
            }
            for item in batch.frames where !connection.enqueue(item.frame, messages: item.messages) {
                link.countDropped(frames: 1, messages: item.messages)
            }
            connection.flush()
            publish(link)
        }
    }

    func startRequest(kind: UInt8, payload: [UInt8], to peer: NodeID, timeoutMilliseconds: Int, promise: EventLoopPromise<[UInt8]>) {
        guard !isShuttingDown else { return promise.fail(WireError(.shutDown, "the wire is shut down")) }
        guard let link = links[peer] else { return promise.fail(WireError(.unknownPeer, "node \(peer) is not a peer")) }
        guard let connection = link.connection else {
            return promise.fail(WireError(.disconnected, "not connected to node \(peer)" + (link.status.lastError.map { ": \($0)" } ?? "")))
        }
        connection.startRequest(kind: kind, payload: payload, timeoutMilliseconds: timeoutMilliseconds, promise: promise)
    }

    /// Membership changed: drop links that left (closing their connections), add new ones and
    /// dial those we dial, redial peers whose address changed. Our own id is ignored, and so are
    /// entries with id 0, an empty host or an invalid port (logged as errors).
    func replacePeers(_ peers: [NodeID: PeerAddress]) {
        var wanted = peers
        wanted.removeValue(forKey: localID)
        for (id, address) in wanted {
            do {
                guard id != 0 else { throw WireError(.invalidConfig, "peer id 0") }
                try WireConfig.validate(address, what: "address of peer \(id)", allowPortZero: false)
            } catch {
                logger.error("ignoring an invalid peer", metadata: ["peer": "\(id)", "reason": "\(error)"])
                wanted.removeValue(forKey: id)
            }
        }
        hasConfiguredPeers = !wanted.isEmpty
        for (id, link) in links where wanted[id] == nil && !(link.isLearned && !hasConfiguredPeers) {
            remove(link)
        }
        for (id, address) in wanted.sorted(by: { $0.key < $1.key }) {
            if let link = links[id] {
                link.isLearned = false
                guard link.status.address != address else { continue }
                link.status.address = address
                publish(link)
                if link.dialsOut {
                    link.connection?.close(reason: "peer address changed to \(address)", isError: false)
                    link.dialing?.close(reason: "peer address changed to \(address)", isError: false)
                }
            } else {
                let link = PeerLink(id: id, address: address, localID: localID, limits: limits)
                links[id] = link
                publish(link)
                dial(link)
            }
        }
    }

    private func remove(_ link: PeerLink) {
        link.isRemoved = true
        link.reconnectTask?.cancel()
        link.reconnectTask = nil
        links.removeValue(forKey: link.id)
        link.dialing?.close(reason: "node \(link.id) is no longer a peer", isError: false)
        if let connection = link.connection {
            link.connection = nil
            connection.close(reason: "node \(link.id) is no longer a peer", isError: false)
            delegate.wire(peer: link.id, connected: false)
        }
        statusBoard.remove(link.id)
    }

    // MARK: - Liveness

    func schedulePings() {
        let interval = Int64(limits.pingIntervalMilliseconds)
        pingTimer = loop.assumeIsolated().scheduleTask(in: .milliseconds(interval)) {
            self.pingTimer = nil
            guard !self.isShuttingDown else { return }
            let now = monotonicNanoseconds()
            for link in self.links.values { link.connection?.tick(now: now) }
            self.schedulePings()
        }
    }

    // MARK: - Shutdown

    /// Stops listening and dialing, fails pending requests with `.shutDown`, closes every
    /// connection; the future completes once all channels are closed.
    func shutdown() -> EventLoopFuture<Void> {
        isShuttingDown = true
        pingTimer?.cancel()
        pingTimer = nil
        var closing: [EventLoopFuture<Void>] = []
        if let serverChannel {
            closing.append(serverChannel.closeFuture)
            serverChannel.close(promise: nil)
        }
        for link in links.values {
            link.reconnectTask?.cancel()
            link.reconnectTask = nil
        }
        for connection in connections.values {
            connection.failPending(WireError(.shutDown, "the wire is shutting down"))
            if let channel = connection.context?.channel { closing.append(channel.closeFuture) }
            connection.close(reason: "shutting down", isError: false)
        }
        return EventLoopFuture.andAllComplete(closing, on: loop)
    }
}
