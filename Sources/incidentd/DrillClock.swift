import Foundation
import Locking
import Logging

/// The node's clock for clock-jump drills and process-level tests (`--clock-offset-file`):
/// wall clock + the whole number of milliseconds written in a file, so a drill can move a
/// running node's time (escalation delays are minutes long) or step it backwards.
///
/// The file is re-read at most every `refreshMilliseconds`; a missing or empty file means 0.
/// Content that is not an integer keeps the last good offset and logs a warning once per
/// distinct content. Writers should replace the file atomically (write a temporary file, then
/// rename), or a reader may see it half-written and keep the previous offset for one refresh.
///
/// Everything that reads time in the node uses this one clock: Raft entry stamps, escalation
/// timers and delivery retries (ClusterNode), event defaults and query windows (IncidentAPI), signatures and `sent_at`
/// (Notifier). Never set it in production: replicated state trusts the leader's stamps.
final class DrillClock: Sendable {
    /// How stale the cached offset may be, in milliseconds.
    static let refreshMilliseconds: UInt64 = 50

    private struct Cache {
        var offsetMilliseconds: Int64 = 0
        /// Uptime (ns) of the last read; nil before the first.
        var readAtNanoseconds: UInt64?
        /// The last unparsable content warned about (one warning per distinct content).
        var warnedContent: String?
    }

    let path: String
    private let logger: Logger
    private let cache = Lock(Cache())

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Milliseconds since the epoch: wall clock + the current offset.
    func now() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1_000) + offsetMilliseconds()
    }

    /// The offset in the file, re-read when the cached one is older than `refreshMilliseconds`.
    func offsetMilliseconds() -> Int64 {
        let uptime = DispatchTime.now().uptimeNanoseconds
        let fresh = cache.withLock { cache -> Int64? in
            guard let readAt = cache.readAtNanoseconds, uptime &- readAt < Self.refreshMilliseconds * 1_000_000 else { return nil }
            return cache.offsetMilliseconds
        }
        if let fresh { return fresh }
        // Read outside the lock: the consensus loop and HTTP handlers never wait on file I/O
        // for each other. Two concurrent refreshes read the same file; either result is fine.
        let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parsed: Int64? = trimmed.isEmpty ? 0 : Int64(trimmed)
        let (offset, warn) = cache.withLock { cache -> (Int64, Bool) in
            cache.readAtNanoseconds = uptime
            guard let parsed else {
                let warn = cache.warnedContent != trimmed
                cache.warnedContent = trimmed
                return (cache.offsetMilliseconds, warn)
            }
            cache.offsetMilliseconds = parsed
            cache.warnedContent = nil
            return (parsed, false)
        }
        if warn {
            logger.warning(
                "the clock offset file does not hold a whole number of milliseconds; keeping the last offset",
                metadata: ["path": "\(path)", "offset_ms": "\(offset)"])
        }
        return offset
    }
}
