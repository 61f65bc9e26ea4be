import NIOCore

/// What one invocation does, checked before any connection is opened. Every quantity has a
/// limit so that a typo cannot start an unbounded run.
struct BenchPlan: Sendable {
    /// Closed loop: every connection sends its next request as soon as the previous answer
    /// arrives. Fixed rate (open loop): request `i` is due at `start + i / rate` whatever the
    /// answers do, and its latency counts from then, so a stalled server is not hidden by the
    /// generator slowing down with it (no coordinated omission).
    enum Pace: Sendable, Equatable {
        case closedLoop
        case fixedRate(perSecond: Double)
    }

    /// When the generator stops issuing requests.
    enum Stop: Sendable, Equatable {
        case afterSeconds(Double)
        case afterRequests(Int)
    }

    var target: BenchTarget = .incidentd
    var pace: Pace
    var stop: Stop
    var connections: Int
    var threads: Int
    var endpoints: [Endpoint]
    var path: String
    /// Sent as `X-API-Key` to incidentd; unused (and not required) for etcd.
    var apiKey: String
    /// incidentd's events; with `--target etcd` only its run tag and `batch == 1` matter.
    var bodies: EventBodies
    var timeoutNanoseconds: UInt64
    var maxReconnects: Int
    /// End-to-end mode: where the webhook receiver listens, and how long to wait for pages after
    /// the last answer. Every event then opens its own incident (`--distinct 0`, `--batch 1`).
    var webhookListen: Endpoint? = nil
    var webhookWaitSeconds = 30.0
    /// Write the key of every acknowledged event here (one per line) after the run: failover
    /// drills check that each one is in the cluster afterwards.
    var ackedFile: String? = nil
    var recordsAcknowledged: Bool { webhookListen != nil || ackedFile != nil }
    /// `--timeline-ms`, in nanoseconds (0: no timeline), and `--timeline-slow-ms` in microseconds.
    var timelineWindowNanos: UInt64 = 0
    var timelineSlowMicros: UInt64 = 20_000

    static let maxConnections = 4_096
    static let maxThreads = 16
    static let maxRatePerSecond = 1_000_000.0
    static let maxSeconds = 3_600.0
    static let maxRequests = 100_000_000
    static let maxDistinct = 100_000_000
    static let maxTimeoutMilliseconds = 120_000
    static let maxEndpoints = 64

    func validate() throws(BenchError) {
        func check(_ condition: Bool, _ message: String) throws(BenchError) {
            if !condition { throw BenchError(.badArgument, message) }
        }
        try check((1...Self.maxConnections).contains(connections), "--connections must be 1–\(Self.maxConnections)")
        try check((1...Self.maxThreads).contains(threads), "--threads must be 1–\(Self.maxThreads)")
        try check(threads <= connections, "--threads must not exceed --connections")
        try check((1...Self.maxEndpoints).contains(endpoints.count), "1–\(Self.maxEndpoints) endpoints")
        try check(path.hasPrefix("/") && Self.isVisibleASCII(path), "--path must start with / and be visible ASCII without spaces")
        switch target {
        case .incidentd:
            try check(!apiKey.isEmpty, "--api-key (or INCIDENT_BENCH_API_KEY) is required")
            try check(Self.isVisibleASCII(apiKey), "--api-key must be visible ASCII (it is sent as a header as it is)")
        case .etcd:
            try check(bodies.batch == 1, "--batch applies to --target incidentd only (one put per request)")
            try check(webhookListen == nil && ackedFile == nil, "--webhook-listen and --acked-file apply to --target incidentd only")
        }
        try check((1...EventBodies.maxBatch).contains(bodies.batch), "--batch must be 1–\(EventBodies.maxBatch)")
        try check((0...Self.maxDistinct).contains(bodies.distinct), "--distinct must be 0–\(Self.maxDistinct)")
        try check(timeoutNanoseconds >= 1_000_000 && timeoutNanoseconds <= UInt64(Self.maxTimeoutMilliseconds) * 1_000_000,
                  "--timeout-ms must be 1–\(Self.maxTimeoutMilliseconds)")
        try check((0...1_000_000).contains(maxReconnects), "--max-reconnects must be 0–1000000")
        if ackedFile != nil {
            try check(bodies.distinct == 0 && bodies.batch == 1, "--acked-file needs --distinct 0 and --batch 1 (one incident per acknowledged request)")
        }
        if webhookListen != nil {
            try check(bodies.distinct == 0 && bodies.batch == 1, "--webhook-listen needs --distinct 0 and --batch 1 (one incident, one page per request)")
            try check(webhookWaitSeconds > 0 && webhookWaitSeconds <= 600, "--webhook-wait must be in (0, 600] seconds")
        }
        if timelineWindowNanos > 0 {
            try check((1_000_000...60_000_000_000).contains(timelineWindowNanos), "--timeline-ms must be 1–60000")
            if case .afterSeconds(let seconds) = stop {
                try check(seconds * 1e9 / Double(timelineWindowNanos) <= Double(LoadTally.maxTimelineWindows),
                    "--timeline-ms too small for --duration: at most \(LoadTally.maxTimelineWindows) windows")
            }
            try check(timelineSlowMicros > 0, "--timeline-slow-ms must be positive")
        }
        if case .fixedRate(let rate) = pace {
            try check(rate > 0 && rate <= Self.maxRatePerSecond, "--rate must be in (0, \(Int(Self.maxRatePerSecond))]")
        }
        switch stop {
        case .afterSeconds(let seconds): try check(seconds > 0 && seconds <= Self.maxSeconds, "--duration must be in (0, \(Int(Self.maxSeconds))] seconds")
        case .afterRequests(let count): try check((1...Self.maxRequests).contains(count), "--requests must be 1–\(Self.maxRequests)")
        }
    }

    /// Only bytes 0x21–0x7E: what goes into the request head as it is must not break its lines.
    static func isVisibleASCII(_ text: String) -> Bool { text.utf8.allSatisfy { (0x21...0x7E).contains($0) } }

    /// The body of request `requestIndex` (global) for this plan's target, appended to `buffer`.
    func writeBody(request requestIndex: Int, into buffer: inout ByteBuffer) {
        switch target {
        case .incidentd: bodies.write(request: requestIndex, into: &buffer)
        case .etcd(let puts): puts.write(request: requestIndex, into: &buffer)
        }
    }

    /// Upper bound of one request body in bytes, for sizing buffers.
    var maxRequestBytes: Int {
        switch target {
        case .incidentd: bodies.maxRequestBytes
        case .etcd(let puts): puts.maxRequestBytes
        }
    }

    /// Driver `index`'s part of the run: its connections (endpoints assigned round-robin over
    /// all connections), an equal share of the rate and of the request count.
    func share(_ index: Int) -> DriverShare {
        precondition((0..<threads).contains(index))
        let mine = Array(stride(from: index, to: connections, by: threads))
        let endpointsOfMine = mine.map { endpoints[$0 % endpoints.count] }
        var rate: Double?
        if case .fixedRate(let total) = pace { rate = total / Double(threads) }
        var limit: Int?
        if case .afterRequests(let total) = stop { limit = total / threads + (index < total % threads ? 1 : 0) }
        return DriverShare(index: index, stride: threads, connections: endpointsOfMine, ratePerSecond: rate, requestLimit: limit)
    }
}

/// One driver's (event loop's) part of a plan. Its local request `k` is the run's request
/// `k * stride + index`, so the drivers together cover `0..<N` once each.
struct DriverShare: Sendable {
    var index: Int
    var stride: Int
    var connections: [Endpoint]
    var ratePerSecond: Double?
    var requestLimit: Int?

    func globalIndex(_ local: Int) -> Int { local * stride + index }
}
