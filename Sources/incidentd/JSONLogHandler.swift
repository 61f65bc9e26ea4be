import Foundation
import Logging

/// One JSON object per line on standard error: `{"ts","level","label","msg",...metadata}`, `ts`
/// in UTC with milliseconds (`2026-11-27T21:15:02.481Z`): several things a node logs happen
/// within one second, and ordering them against other nodes' lines or a client's timings needs
/// better than whole seconds.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    func log(event: LogEvent) {
        var object: [String: String] = [
            "ts": Date().formatted(Self.timestamp), "level": event.level.rawValue, "label": label, "msg": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
