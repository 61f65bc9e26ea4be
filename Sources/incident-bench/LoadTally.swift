import Histogram

/// What one driver counted and timed; the drivers' tallies are merged into the report.
///
/// Latencies are in microseconds and cover valid answers only: an error answered quickly must
/// not make the percentiles look better.
struct LoadTally: Sendable {
    /// Highest latency the histograms track exactly; a larger one is clamped (and shows as max).
    static let highestTrackableMicroseconds: UInt64 = 600_000_000
    /// Most `--timeline-ms` windows a run keeps.
    static let maxTimelineWindows = 100_000

    var sent = 0
    var valid = 0
    /// Answers with a status other than the target's success status (202 incidentd, 200 etcd), by status code.
    var wrongStatus: [UInt: Int] = [:]
    /// Success-status answers whose body lacked the target's marker ("accepted", "header").
    var missingMarker = 0
    /// Requests in flight on a connection that closed or failed.
    var transportErrors = 0
    /// Requests not answered within `--timeout-ms` (their connection is closed).
    var timeouts = 0
    /// Open loop: requests due before the end that never got a connection before the cutoff.
    var unsent = 0
    /// Connections opened again after one closed during the run.
    var reconnects = 0
    /// Open loop: most requests that were due but waiting for a free connection at one time
    /// (after merging: the sum of each driver's maximum, an upper bound).
    var maxBacklog = 0
    /// Monotonic nanoseconds of the run's start and of the last answer seen.
    var startNanos: UInt64 = 0
    /// The wall clock at `startNanos`, in milliseconds since 1970 (set after merging).
    var startUnixMillis = 0.0
    var lastAnswerNanos: UInt64 = 0
    /// From the intended send time (open loop) or the write (closed loop) to the answer.
    var latency = LoadTally.makeHistogram()
    /// From the write to the answer: the server's share, without time spent queued in the client.
    var service = LoadTally.makeHistogram()
    /// End-to-end mode: event key → intended send time (monotonic ns) of each validly answered event.
    var acknowledged: [Int: UInt64] = [:]
    /// With `--timeline-ms`: the valid answers by window of their intended send time (open loop)
    /// or write (closed loop), so that a burst of slow answers can be placed in time.
    var timeline: [TimelineWindow] = []
    /// The windows' length in nanoseconds (0: no timeline) and the latency that counts as slow.
    var timelineWindowNanos: UInt64 = 0
    var timelineSlowMicros: UInt64 = 0

    struct TimelineWindow: Sendable, Equatable {
        var answers = 0
        /// Answers slower than `--timeline-slow-ms`.
        var slow = 0
        var maxMicros: UInt64 = 0

        mutating func merge(_ other: TimelineWindow) {
            answers += other.answers
            slow += other.slow
            maxMicros = max(maxMicros, other.maxMicros)
        }
    }

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: highestTrackableMicroseconds, numberOfSignificantValueDigits: .three)
    }

    /// Invalid answers, lost and unsent requests: what `--max-failures` bounds.
    var failures: Int { wrongStatus.values.reduce(0, +) + missingMarker + transportErrors + timeouts + unsent }

    /// `fromNanos` (monotonic) is when the latency counts from: it places the answer in the timeline.
    mutating func recordValid(latencyNanos: UInt64, serviceNanos: UInt64, fromNanos: UInt64) {
        valid += 1
        let micros = min(latencyNanos / 1_000, Self.highestTrackableMicroseconds)
        _ = latency.record(micros)
        _ = service.record(min(serviceNanos / 1_000, Self.highestTrackableMicroseconds))
        if timelineWindowNanos > 0 {
            let index = Int((fromNanos &- min(fromNanos, startNanos)) / timelineWindowNanos)
            // A run stopped by request count has no known end: its windows past the cap are not kept.
            guard index < Self.maxTimelineWindows else { return }
            if index >= timeline.count { timeline.append(contentsOf: repeatElement(TimelineWindow(), count: index + 1 - timeline.count)) }
            timeline[index].answers += 1
            if micros > timelineSlowMicros { timeline[index].slow += 1 }
            timeline[index].maxMicros = max(timeline[index].maxMicros, micros)
        }
    }

    mutating func merge(_ other: LoadTally) {
        sent += other.sent
        valid += other.valid
        wrongStatus.merge(other.wrongStatus, uniquingKeysWith: +)
        missingMarker += other.missingMarker
        transportErrors += other.transportErrors
        timeouts += other.timeouts
        unsent += other.unsent
        reconnects += other.reconnects
        maxBacklog += other.maxBacklog
        startNanos = startNanos == 0 ? other.startNanos : min(startNanos, other.startNanos)
        lastAnswerNanos = max(lastAnswerNanos, other.lastAnswerNanos)
        latency.add(other.latency)
        service.add(other.service)
        acknowledged.merge(other.acknowledged) { first, _ in first }
        timelineWindowNanos = max(timelineWindowNanos, other.timelineWindowNanos)
        timelineSlowMicros = max(timelineSlowMicros, other.timelineSlowMicros)
        if other.timeline.count > timeline.count {
            timeline.append(contentsOf: repeatElement(TimelineWindow(), count: other.timeline.count - timeline.count))
        }
        for (index, window) in other.timeline.enumerated() { timeline[index].merge(window) }
    }
}
