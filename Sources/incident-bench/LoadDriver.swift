import NIOCore
import NIOPosix

/// Drives one event loop's connections through the plan: decides which request goes next and
/// when, times the answers, and finishes when nothing is left to send or wait for.
///
/// Confined to its event loop (reach it through `NIOLoopBound`); the connections call back into
/// it on the same loop, so no locks.
final class LoadDriver {
    /// A connection and the request it is waiting for, if any.
    private struct Slot {
        var endpoint: Endpoint
        var connection: BenchConnection?
        var channel: (any Channel)?
        var request: InFlight?
        /// Closed, with a reopen scheduled or under way.
        var reopening = false
    }

    private struct InFlight {
        var intendedNanos: UInt64
        var sentNanos: UInt64
        /// The run's request index (with batch 1, the event's index and key).
        var request: Int
    }

    private enum Phase { case idle, running, finished }

    /// How often in-flight requests are checked against the timeout.
    static let sweepIntervalMilliseconds: Int64 = 20
    /// Wait before opening a connection again after one closed.
    static let reconnectDelayMilliseconds: Int64 = 20
    /// Attempts to open each connection before the run starts (the server may be starting).
    static let initialConnectAttempts = 50

    private let loop: any EventLoop
    private let plan: BenchPlan
    private let share: DriverShare
    private let allocator = ByteBufferAllocator()
    /// What a valid answer's body contains, as bytes for the connections' search.
    private let marker: [UInt8]
    /// Each slot's request head up to the `Content-Length` value: the request line, `Host` and
    /// the fixed headers, already as bytes.
    private var heads: [[UInt8]] = []
    /// Where each request's body is written before its length is known.
    private var scratch: ByteBuffer
    private var slots: [Slot]
    private var idle: [Int] = []
    private var nextLocal = 0
    private var phase = Phase.idle
    private var tally = LoadTally()
    private var reconnectsLeft: Int
    private var endNanos: UInt64 = 0
    /// Open loop: the answer-less cutoff after which due requests are no longer sent.
    private var cutoffNanos: UInt64 = 0
    private var periodNanos: Double = 0
    /// Open loop: how many requests this driver is to send in all.
    private var planned = Int.max
    private var wake: Scheduled<Void>?
    private var sweep: RepeatedTask?
    private var done: EventLoopPromise<LoadTally>?

    init(plan: BenchPlan, share: DriverShare, loop: any EventLoop) {
        self.loop = loop
        self.plan = plan
        self.share = share
        self.slots = share.connections.map { Slot(endpoint: $0) }
        self.reconnectsLeft = plan.maxReconnects
        self.marker = Array(plan.target.marker.utf8)
        self.scratch = allocator.buffer(capacity: plan.maxRequestBytes)
        var fixed = "Content-Type: application/json\r\n"
        if plan.target.sendsAPIKey { fixed += "X-API-Key: \(plan.apiKey)\r\n" }
        fixed += "Connection: keep-alive\r\n"
        self.heads = slots.map { slot in
            Array("POST \(plan.path) HTTP/1.1\r\nHost: \(slot.endpoint.authority)\r\n\(fixed)Content-Length: ".utf8)
        }
    }

    // MARK: - Connecting

    /// Opens every connection, retrying each a bounded number of times.
    func connectAll() -> EventLoopFuture<Void> {
        let futures = slots.indices.map { connect(slot: $0, attemptsLeft: Self.initialConnectAttempts) }
        return EventLoopFuture.andAllSucceed(futures, on: loop)
    }

    private func connect(slot: Int, attemptsLeft: Int) -> EventLoopFuture<Void> {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let endpoint = slots[slot].endpoint
        let loop = self.loop
        let marker = self.marker
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = BenchConnection(driver: bound.value, slot: slot, marker: marker)
                    try channel.pipeline.syncOperations.addHandler(connection)
                    bound.value.slots[slot].connection = connection
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .map { channel in bound.value.slots[slot].channel = channel }
            .flatMapError { (error: any Error) -> EventLoopFuture<Void> in
                guard attemptsLeft > 1 else {
                    return loop.makeFailedFuture(BenchError(.connectFailed, "cannot connect to \(endpoint): \(error)"))
                }
                return loop.assumeIsolated()
                    .flatScheduleTask(deadline: .now() + .milliseconds(100)) { bound.value.connect(slot: slot, attemptsLeft: attemptsLeft - 1) }
                    .futureResult
            }
            .nonisolated()
    }

    /// A connection closed. A lost request counts as a transport error; the slot is reopened
    /// while there is work left and the reconnect budget lasts.
    func closed(slot: Int, lostRequest: Bool) {
        slots[slot].channel = nil
        slots[slot].connection = nil
        guard phase == .running else { return }
        if slots[slot].request != nil {
            slots[slot].request = nil
            tally.transportErrors += 1
        }
        idle.removeAll { $0 == slot }
        guard reconnectsLeft > 0, hasWorkLeft(now: NIODeadline.now().uptimeNanoseconds) else {
            finishIfDone()
            return
        }
        reconnectsLeft -= 1
        tally.reconnects += 1
        slots[slot].reopening = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.assumeIsolated().scheduleTask(in: .milliseconds(Self.reconnectDelayMilliseconds)) {
            bound.value.reopen(slot: slot)
        }
    }

    private func reopen(slot: Int) {
        guard phase == .running else { return }
        connect(slot: slot, attemptsLeft: 1).assumeIsolated().whenComplete { result in
            self.slots[slot].reopening = false
            guard self.phase == .running else {
                self.slots[slot].channel?.close(promise: nil)
                return
            }
            switch result {
            case .success:
                self.idle.append(slot)
                self.pump()
            case .failure:
                self.closed(slot: slot, lostRequest: false)
            }
        }
    }

    // MARK: - Running

    /// Starts sending at `startNanos` (monotonic) and completes with the tally when done.
    func run(startNanos: UInt64) -> EventLoopFuture<LoadTally> {
        precondition(phase == .idle)
        let promise = loop.makePromise(of: LoadTally.self)
        done = promise
        phase = .running
        tally.startNanos = startNanos
        tally.timelineWindowNanos = plan.timelineWindowNanos
        tally.timelineSlowMicros = plan.timelineSlowMicros
        idle = slots.indices.reversed().filter { slots[$0].connection != nil }
        if let rate = share.ratePerSecond {
            periodNanos = 1e9 / rate
            switch plan.stop {
            case .afterSeconds(let seconds): planned = Int((seconds * rate).rounded(.up))
            case .afterRequests: planned = share.requestLimit ?? 0
            }
            endNanos = startNanos + UInt64(Double(planned) * periodNanos)
            cutoffNanos = endNanos + plan.timeoutNanoseconds
        } else if case .afterSeconds(let seconds) = plan.stop {
            endNanos = startNanos + UInt64(seconds * 1e9)
        } else {
            // A request count has no end time of its own; this bounds the run all the same.
            endNanos = startNanos + UInt64(BenchPlan.maxSeconds * 1e9)
        }
        let bound = NIOLoopBound(self, eventLoop: loop)
        sweep = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(Self.sweepIntervalMilliseconds), delay: .milliseconds(Self.sweepIntervalMilliseconds)
        ) { _ in bound.value.sweepTimeouts() }
        let delay = Int64(startNanos) - Int64(NIODeadline.now().uptimeNanoseconds)
        loop.assumeIsolated().scheduleTask(in: .nanoseconds(max(0, delay))) { self.pump() }
        return promise.futureResult
    }

    /// An answer arrived on `slot`: tally it, then hand the connection the next request — unless
    /// the server said it closes the connection, whose close then reopens it.
    func answered(slot: Int, status: UInt, hasMarker: Bool, connectionStays: Bool = true) {
        guard phase == .running, let request = slots[slot].request else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        slots[slot].request = nil
        tally.lastAnswerNanos = now
        if status != plan.target.successStatus {
            tally.wrongStatus[status, default: 0] += 1
        } else if !hasMarker {
            tally.missingMarker += 1
        } else {
            tally.recordValid(latencyNanos: now &- request.intendedNanos, serviceNanos: now &- request.sentNanos, fromNanos: request.intendedNanos)
            if plan.recordsAcknowledged { tally.acknowledged[plan.bodies.key(request.request)] = request.intendedNanos }
        }
        if connectionStays { idle.append(slot) }
        pump()
    }

    /// Sends every request that is due on the free connections; in the open loop, arms a
    /// wake-up for the next one that is not due yet.
    private func pump() {
        guard phase == .running else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        while let slot = idle.last {
            guard slots[slot].connection != nil else {
                idle.removeLast()
                continue
            }
            guard let intended = nextDue(now: now) else { break }
            idle.removeLast()
            send(slot: slot, local: nextLocal, intendedNanos: intended, now: now)
            nextLocal += 1
        }
        if share.ratePerSecond != nil { trackBacklogAndWake(now: now) }
        finishIfDone()
    }

    /// The intended send time of the next request if it may be sent now.
    private func nextDue(now: UInt64) -> UInt64? {
        guard share.ratePerSecond != nil else {
            if let limit = share.requestLimit, nextLocal >= limit { return nil }
            return now < endNanos ? now : nil
        }
        guard nextLocal < planned, now < cutoffNanos else { return nil }
        let intended = intendedNanos(nextLocal)
        return intended <= now ? intended : nil
    }

    private func intendedNanos(_ local: Int) -> UInt64 { tally.startNanos + UInt64(Double(local) * periodNanos) }

    private func trackBacklogAndWake(now: UInt64) {
        guard nextLocal < planned, now < cutoffNanos else { return }
        if idle.isEmpty {
            let due = min(planned, Int(Double(now &- tally.startNanos) / periodNanos) + 1)
            tally.maxBacklog = max(tally.maxBacklog, due - nextLocal)
        } else if wake == nil {
            let at = intendedNanos(nextLocal)
            wake = loop.assumeIsolated().scheduleTask(deadline: NIODeadline.uptimeNanoseconds(at)) {
                self.wake = nil
                self.pump()
            }
        }
    }

    private func send(slot: Int, local: Int, intendedNanos: UInt64, now: UInt64) {
        guard let connection = slots[slot].connection else { preconditionFailure("pump sends on open connections only") }
        let global = share.globalIndex(local)
        scratch.clear()
        plan.writeBody(request: global, into: &scratch)
        var request = allocator.buffer(capacity: heads[slot].count + 24 + scratch.readableBytes)
        request.writeBytes(heads[slot])
        request.writeString(String(scratch.readableBytes))
        request.writeStaticString("\r\n\r\n")
        request.writeImmutableBuffer(scratch)
        slots[slot].request = InFlight(intendedNanos: intendedNanos, sentNanos: now, request: global)
        tally.sent += 1
        connection.send(request)
    }

    // MARK: - Timeouts and the end

    private func hasWorkLeft(now: UInt64) -> Bool {
        if share.ratePerSecond != nil { return nextLocal < planned && now < cutoffNanos }
        if let limit = share.requestLimit, nextLocal >= limit { return false }
        return now < endNanos
    }

    private func sweepTimeouts() {
        guard phase == .running else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        for index in slots.indices {
            guard let request = slots[index].request, now &- request.sentNanos > plan.timeoutNanoseconds else { continue }
            slots[index].request = nil
            tally.timeouts += 1
            slots[index].channel?.close(promise: nil)
        }
        finishIfDone()
    }

    private func finishIfDone() {
        guard phase == .running else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        guard now >= tally.startNanos, !slots.contains(where: { $0.request != nil }) else { return }
        // Every connection closed for good (reconnect budget spent): nothing more can be sent.
        let stranded = slots.allSatisfy { $0.channel == nil && !$0.reopening }
        guard stranded || !hasWorkLeft(now: now) else { return }
        if share.ratePerSecond != nil {
            tally.unsent = planned - nextLocal
        } else if let limit = share.requestLimit {
            tally.unsent = limit - nextLocal
        }
        phase = .finished
        wake?.cancel()
        sweep?.cancel()
        for slot in slots { slot.channel?.close(promise: nil) }
        done?.succeed(tally)
    }
}
