import NIOCore
import RaftCore
import WireFormat

/// Writing, back-pressure, requests and pings of an established connection.
extension PeerConnection {
    // MARK: - Writing and back-pressure

    /// Writes without queueing or counting: handshake frames.
    func writeDirect(_ frame: WireFrame) {
        guard let context else { return }
        let encoded = frame.encoded(compressionThresholdBytes: .max)
        context.writeAndFlush(wrapOutboundOut(encoded.buffer(context.channel.allocator)), promise: nil)
    }

    /// Encodes and sends a control frame (pong, forward result); false when it had to be dropped.
    @discardableResult
    func send(_ frame: WireFrame) -> Bool {
        enqueue(frame.encoded(compressionThresholdBytes: board.limits.compressionThresholdBytes), messages: 0)
    }

    /// Writes `frame` when the socket is writable and nothing is queued before it; otherwise
    /// queues it within the per-peer limits. False (dropped) when not established or the queue is
    /// full. The caller flushes. With a send delay for the peer's region (`WireConfig.sendDelays`)
    /// the frame waits in the delay line first, within the same limits, and leaves flushed.
    func enqueue(_ frame: EncodedFrame, messages: Int) -> Bool {
        guard case .established(let link) = phase, closeReason == nil, let context else { return false }
        if sendDelayNanoseconds > 0 {
            guard hasRoom(for: frame) else { return false }
            delayed.append((monotonicNanoseconds() + sendDelayNanoseconds, frame, messages))
            queuedBytes += frame.totalBytes
            if delayTimer == nil { armDelayTimer(context) }
            return true
        }
        return writeOrQueue(frame, messages: messages, link: link, context: context)
    }

    /// Writes at once when the socket is writable and nothing waits, else queues in the outbox.
    private func writeOrQueue(_ frame: EncodedFrame, messages: Int, link: PeerLink, context: ChannelHandlerContext) -> Bool {
        if outbox.isEmpty && context.channel.isWritable {
            write(frame, link: link, context: context)
            return true
        }
        guard hasRoom(for: frame) else { return false }
        outbox.append((frame, messages))
        queuedBytes += frame.totalBytes
        return true
    }

    private func hasRoom(for frame: EncodedFrame) -> Bool {
        let limits = board.limits
        return outbox.count + delayed.count < limits.maxQueuedFramesPerPeer
            && queuedBytes + frame.totalBytes <= limits.maxQueuedBytesPerPeer
    }

    private func armDelayTimer(_ context: ChannelHandlerContext) {
        guard let first = delayed.first else { return }
        // One reading of the clock: time passes between two, and `due - later` could go below 0.
        let now = monotonicNanoseconds()
        let wait = first.due > now ? first.due - now : 0
        delayTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(wait))) {
            self.delayTimer = nil
            self.releaseDelayed()
        }
    }

    /// Sends the held-back frames whose time has come, in order, and waits for the next.
    private func releaseDelayed() {
        guard case .established(let link) = phase, closeReason == nil, let context else { return }
        let now = monotonicNanoseconds()
        var sent = false
        while let first = delayed.first, first.due <= now {
            delayed.removeFirst()
            queuedBytes -= first.frame.totalBytes
            // It held its room in the delay line, so the outbox has room for it.
            let kept = writeOrQueue(first.frame, messages: first.messages, link: link, context: context)
            assert(kept, "a frame released from the delay line found no room")
            sent = true
        }
        if sent { context.flush() }
        armDelayTimer(context)
    }

    func flush() {
        context?.flush()
    }

    private func write(_ frame: EncodedFrame, link: PeerLink, context: ChannelHandlerContext) {
        link.countSent(frame)
        context.write(wrapOutboundOut(frame.buffer(context.channel.allocator)), promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .established(let link) = phase {
            while context.channel.isWritable, let next = outbox.popFirst() {
                queuedBytes -= next.frame.totalBytes
                write(next.frame, link: link, context: context)
            }
            context.flush()
            board.publish(link)
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Requests we send

    func startRequest(kind: UInt8, payload: [UInt8], timeoutMilliseconds: Int, promise: EventLoopPromise<[UInt8]>) {
        let limits = board.limits
        guard isEstablished, closeReason == nil, let context else {
            return promise.fail(WireError(.disconnected, "not connected"))
        }
        guard pending.count < limits.maxPendingRequestsPerPeer else {
            return promise.fail(WireError(.overloaded, "\(pending.count) requests already pending"))
        }
        guard payload.count <= limits.maxFrameBytes - ForwardRequest.headerBytes else {
            return promise.fail(WireError(.overloaded, "request of \(payload.count) bytes exceeds the frame limit"))
        }
        let id = nextRequestID
        nextRequestID = nextRequestID == .max ? 1 : nextRequestID + 1
        let frame = WireFrame.forward(ForwardRequest(requestID: id, kind: kind, payload: payload))
        guard send(frame) else {
            return promise.fail(WireError(.overloaded, "send queue full"))
        }
        flush()
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(max(timeoutMilliseconds, 0)))) {
            if let entry = self.pending.removeValue(forKey: id) {
                entry.promise.fail(WireError(.timeout, "no answer within \(timeoutMilliseconds) ms"))
            }
        }
        pending[id] = (promise, timer)
    }

    func complete(_ result: ForwardResult) {
        // A result for an unknown id answers a request that already timed out: ignored.
        guard let entry = pending.removeValue(forKey: result.requestID) else { return }
        entry.timer.cancel()
        switch result.status {
        case .ok: entry.promise.succeed(result.payload)
        case .unsupported: entry.promise.fail(WireError(.refused, "the peer does not support this request kind"))
        case .overloaded: entry.promise.fail(WireError(.overloaded, "the peer is serving too many requests"))
        case .shuttingDown: entry.promise.fail(WireError(.shutDown, "the peer is shutting down"))
        }
    }

    func failPending(_ error: WireError) {
        let entries = pending
        pending.removeAll()
        for entry in entries.values {
            entry.timer.cancel()
            entry.promise.fail(error)
        }
    }

    // MARK: - Requests we serve

    func serve(_ request: ForwardRequest, from link: PeerLink) {
        let id = request.requestID
        guard let kind = WireRequestKind(rawValue: request.kind) else {
            answer(id, .unsupported)
            return
        }
        guard !board.isShuttingDown else { return answer(id, .shuttingDown) }
        guard serving.count < board.limits.maxPendingRequestsPerPeer, !serving.contains(id) else {
            return answer(id, .overloaded)
        }
        serving.insert(id)
        let loop = board.loop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let statusBoard = board.statusBoard
        board.delegate.wire(request: kind, payload: request.payload, from: link.id, protocolVersion: protocolVersion) { bytes in
            // After shutdown the loop may be gone; the requester has failed already.
            guard !statusBoard.isShutDown else { return }
            loop.execute { bound.value.finishServing(id, bytes) }
        }
    }

    private func finishServing(_ id: UInt64, _ bytes: [UInt8]) {
        // `remove` returning nil: a second reply, or the connection closed meanwhile.
        guard serving.remove(id) != nil else { return }
        guard bytes.count <= board.limits.maxFrameBytes - ForwardResult.headerBytes else {
            logger.error("reply of \(bytes.count) bytes exceeds the frame limit; answering overloaded")
            return answer(id, .overloaded)
        }
        answer(id, .ok, bytes)
    }

    private func answer(_ id: UInt64, _ status: ForwardResult.Status, _ payload: [UInt8] = []) {
        if !send(.forwardResult(ForwardResult(requestID: id, status: status, payload: payload))) {
            logger.debug("dropped a request answer: send queue full")
        }
        flush()
    }

    // MARK: - Liveness

    /// Called every ping interval: close when the peer went silent, otherwise ping it.
    func tick(now: UInt64) {
        guard isEstablished, closeReason == nil else { return }
        let idleMilliseconds = (now &- lastHeardNanoseconds) / 1_000_000
        if now > lastHeardNanoseconds, idleMilliseconds > UInt64(board.limits.idleTimeoutMilliseconds) {
            close(reason: "nothing heard for \(idleMilliseconds) ms")
            return
        }
        pingSequence &+= 1
        send(.ping(Ping(sequence: pingSequence, sentNanoseconds: now)))
        flush()
    }
}
