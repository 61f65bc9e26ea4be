import Foundation
import Histogram

/// The figures of one run, printed as text or (`--json`) as one JSON object.
struct BenchReport: Codable, Sendable {
    struct Latency: Codable, Sendable {
        var p50Ms: Double
        var p90Ms: Double
        var p99Ms: Double
        var p999Ms: Double
        var maxMs: Double
        var meanMs: Double

        init(_ histogram: Histogram<UInt64>) {
            func ms(_ microseconds: UInt64) -> Double { Double(microseconds) / 1_000 }
            p50Ms = ms(histogram.valueAtPercentile(50))
            p90Ms = ms(histogram.valueAtPercentile(90))
            p99Ms = ms(histogram.valueAtPercentile(99))
            p999Ms = ms(histogram.valueAtPercentile(99.9))
            maxMs = ms(histogram.max)
            meanMs = histogram.mean.rounded() / 1_000
        }
    }

    /// `incidentd` or `etcd`.
    var target: String
    /// What a valid answer's body contained besides the success status.
    var marker: String
    /// etcd only: bytes of every put's value before base64.
    var valueBytes: Int?
    var mode: String
    var targetRatePerSecond: Double?
    var connections: Int
    var threads: Int
    var batch: Int
    var distinct: Int
    var runTag: String
    var endpoints: [String]
    var sent: Int
    var valid: Int
    var failures: Int
    var wrongStatus: [String: Int]
    var missingMarker: Int
    var transportErrors: Int
    var timeouts: Int
    var unsent: Int
    var reconnects: Int
    var maxBacklog: Int
    var elapsedSeconds: Double
    var requestsPerSecond: Double
    var eventsPerSecond: Double
    /// Open loop: from the intended send time; closed loop: from the write.
    var latency: Latency
    /// From the write to the answer.
    var serviceTime: Latency
    var clientCPUSeconds: Double
    /// End-to-end mode only: from each acknowledged event's intended send time to the first
    /// webhook page for its incident at the local receiver.
    var webhook: Webhook?
    /// With `--timeline-ms`: the valid answers by window of their intended send time.
    var timeline: Timeline?

    struct Timeline: Codable, Sendable {
        var windowMs: Double
        var slowMs: Double
        /// Wall clock at the start of window 0, milliseconds since 1970 (to line up with logs).
        var startUnixMs: Double
        var windows: [Window]

        struct Window: Codable, Sendable {
            var answers: Int
            var slow: Int
            var maxMs: Double
        }
    }

    struct Webhook: Codable, Sendable {
        var acknowledged: Int
        var paged: Int
        /// Acknowledged events whose incident was not paged within `--webhook-wait`.
        var missing: Int
        /// Pages beyond the first for one incident.
        var duplicates: Int
        /// Requests at the receiver that were not pages of this run.
        var unmatched: Int
        var latency: Latency
    }

    init(plan: BenchPlan, tally: LoadTally, clientCPUSeconds: Double) {
        target = plan.target.kind.rawValue
        marker = plan.target.marker
        if case .etcd(let puts) = plan.target { valueBytes = puts.valueBytes }
        switch plan.pace {
        case .closedLoop: mode = "closed_loop"
        case .fixedRate(let rate):
            mode = "fixed_rate"
            targetRatePerSecond = rate
        }
        connections = plan.connections
        threads = plan.threads
        batch = plan.bodies.batch
        distinct = plan.bodies.distinct
        runTag = plan.bodies.runTag
        endpoints = plan.endpoints.map { $0.description + plan.path }
        sent = tally.sent
        valid = tally.valid
        failures = tally.failures
        wrongStatus = Dictionary(uniqueKeysWithValues: tally.wrongStatus.map { (String($0.key), $0.value) })
        missingMarker = tally.missingMarker
        transportErrors = tally.transportErrors
        timeouts = tally.timeouts
        unsent = tally.unsent
        reconnects = tally.reconnects
        maxBacklog = tally.maxBacklog
        elapsedSeconds = tally.lastAnswerNanos > tally.startNanos ? Double(tally.lastAnswerNanos - tally.startNanos) / 1e9 : 0
        requestsPerSecond = elapsedSeconds > 0 ? Double(tally.valid) / elapsedSeconds : 0
        eventsPerSecond = requestsPerSecond * Double(plan.bodies.batch)
        latency = Latency(tally.latency)
        serviceTime = Latency(tally.service)
        self.clientCPUSeconds = clientCPUSeconds
        if tally.timelineWindowNanos > 0 {
            timeline = Timeline(
                windowMs: Double(tally.timelineWindowNanos) / 1e6, slowMs: Double(tally.timelineSlowMicros) / 1_000, startUnixMs: tally.startUnixMillis.rounded(),
                windows: tally.timeline.map { Timeline.Window(answers: $0.answers, slow: $0.slow, maxMs: Double($0.maxMicros) / 1_000) })
        }
    }

    /// Adds the end-to-end figures; missing and duplicate pages count as failures.
    mutating func addWebhook(acknowledged: [Int: UInt64], arrivals: WebhookSink.Arrivals) {
        var histogram = LoadTally.makeHistogram()
        var paged = 0
        for (key, intended) in acknowledged {
            guard let arrived = arrivals.first[key] else { continue }
            paged += 1
            _ = histogram.record(min((arrived &- intended) / 1_000, LoadTally.highestTrackableMicroseconds))
        }
        let missing = acknowledged.count - paged
        webhook = Webhook(
            acknowledged: acknowledged.count, paged: paged, missing: missing, duplicates: arrivals.duplicates,
            unmatched: arrivals.unmatched, latency: Latency(histogram))
        failures += missing + arrivals.duplicates
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        let rate = targetRatePerSecond.map { "fixed rate \(Self.grouped($0)) requests/s" } ?? "closed loop"
        var failureParts = wrongStatus.sorted { $0.key < $1.key }.map { "status \($0.key): \($0.value)" }
        for (name, count) in [("without \(marker)", missingMarker), ("transport", transportErrors), ("timeout", timeouts), ("unsent", unsent)] where count > 0 {
            failureParts.append("\(name): \(count)")
        }
        let failureText = failureParts.isEmpty ? "" : " (\(failureParts.joined(separator: ", ")))"
        let from = mode == "fixed_rate" ? "from the intended send time" : "from the write"
        let bodyText = valueBytes.map { "one put of \($0) value bytes" } ?? "batch \(batch), distinct \(distinct)"
        var lines = [
            "incident-bench → \(target): \(rate), \(connections) connections, \(threads) thread(s), \(bodyText), run tag \(runTag)",
            "endpoints: \(endpoints.joined(separator: ", "))",
            "requests: sent \(Self.grouped(sent)), valid \(Self.grouped(valid)), failures \(Self.grouped(failures))\(failureText), reconnects \(reconnects)",
            String(format: "throughput: %@ requests/s (%@ events/s) over %.3f s", Self.grouped(requestsPerSecond), Self.grouped(eventsPerSecond), elapsedSeconds),
            "latency ms (\(from)): \(Self.line(latency))",
        ]
        if mode == "fixed_rate" {
            lines.append("service time ms (from the write): \(Self.line(serviceTime))")
            lines.append("most requests waiting for a free connection: \(maxBacklog)")
        }
        if let webhook {
            lines.append(
                "webhook pages: \(Self.grouped(webhook.paged)) of \(Self.grouped(webhook.acknowledged)) acknowledged events, missing \(webhook.missing), duplicates \(webhook.duplicates), unmatched \(webhook.unmatched)")
            lines.append("event → webhook ms (from the intended send time): \(Self.line(webhook.latency))")
        }
        if let timeline {
            let slow = timeline.windows.enumerated().filter { $0.element.slow > 0 }
            lines.append(String(format: "windows of %.0f ms with answers over %.1f ms: %d of %d", timeline.windowMs, timeline.slowMs, slow.count, timeline.windows.count))
            for (index, window) in slow {
                lines.append(String(format: "  from %8.0f ms: %d of %d slow, max %.3f ms", Double(index) * timeline.windowMs, window.slow, window.answers, window.maxMs))
            }
        }
        lines.append(String(format: "client CPU: %.2f s (%.0f%% of one core)", clientCPUSeconds, elapsedSeconds > 0 ? 100 * clientCPUSeconds / elapsedSeconds : 0))
        return lines.joined(separator: "\n")
    }

    private static func line(_ l: Latency) -> String {
        String(format: "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f", l.p50Ms, l.p90Ms, l.p99Ms, l.p999Ms, l.maxMs, l.meanMs)
    }

    static func grouped(_ value: Double) -> String { grouped(Int(value.rounded())) }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }
}
