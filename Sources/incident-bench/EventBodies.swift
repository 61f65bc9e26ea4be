import NIOCore

/// The request bodies: native events (`POST /api/v1/events`) whose title and resource vary so
/// that a chosen share of them opens incidents and the rest deduplicate.
///
/// Event `i` of a run gets key `i % distinct` (`distinct == 0`: key `i`, every event new). Keys
/// carry the run's tag, so the first `distinct` events of each run open incidents and every later
/// one repeats an open incident (a dedup). With `batch > 1` a body is a JSON array of `batch`
/// consecutive events (the loading path; the server applies the array as one command).
struct EventBodies: Sendable {
    /// Distinct title/resource keys per run; 0 means every event has its own.
    var distinct: Int
    /// Events per request: 1 sends one JSON object, more send an array.
    var batch: Int
    /// Marks this run's keys, e.g. `a3f09c`; only `[a-z0-9-]`.
    var runTag: String

    static let maxBatch = 1_000

    /// The key of event `eventIndex` (a global index over the whole run).
    func key(_ eventIndex: Int) -> Int { distinct == 0 ? eventIndex : eventIndex % distinct }

    /// The body of request `requestIndex` (global), appended to `buffer`.
    func write(request requestIndex: Int, into buffer: inout ByteBuffer) {
        if batch == 1 {
            writeEvent(requestIndex, into: &buffer)
            return
        }
        buffer.writeStaticString("[")
        let first = requestIndex * batch
        for eventIndex in first..<(first + batch) {
            if eventIndex != first { buffer.writeStaticString(",") }
            writeEvent(eventIndex, into: &buffer)
        }
        buffer.writeStaticString("]")
    }

    /// One event, about 330 bytes: the fields a detector sends, a metric that changes with
    /// every event (so no two bodies are equal) and the key in the title and resource.
    private func writeEvent(_ eventIndex: Int, into buffer: inout ByteBuffer) {
        let key = key(eventIndex)
        buffer.writeStaticString(#"{"source":"incident-bench","event_type":"anomaly","category":"performance","title":"p95 latency above threshold on bench-"#)
        buffer.writeString(runTag)
        buffer.writeStaticString("-")
        buffer.writeString(String(key))
        buffer.writeStaticString(#"","severity":"high","resource":{"type":"service","id":"bench-"#)
        buffer.writeString(runTag)
        buffer.writeStaticString("-")
        buffer.writeString(String(key))
        buffer.writeStaticString(#"","name":"bench service"},"metrics":{"p95_latency_ms":"#)
        buffer.writeString(String(1_000 + eventIndex % 9_000))
        buffer.writeStaticString(#"},"tags":{"environment":"bench"}}"#)
    }

    /// The key in an incident title this run's events produced, nil for any other title.
    func key(fromTitle title: String) -> Int? {
        let prefix = Self.titlePrefix + runTag + "-"
        guard title.hasPrefix(prefix) else { return nil }
        return Int(title.dropFirst(prefix.count))
    }

    static let titlePrefix = "p95 latency above threshold on bench-"

    /// Upper bound of one request body in bytes, for sizing buffers and checking `--max-body`.
    var maxRequestBytes: Int { batch * (400 + 2 * runTag.utf8.count) + 2 }
}
