import Logging

/// swift-log's `StreamLogHandler` text lines on standard error, with this handler's metadata kept
/// as a dictionary and formatted only when a line is written. `StreamLogHandler` formats its
/// metadata again on every change, and Hummingbird gives each request a logger with its own
/// request id: that formatting ran once per request and showed in the ingest profile (about 1 %
/// of the HTTP threads' time) although almost no request logs anything.
struct TextLogHandler: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        stream = StreamLogHandler.standardError(label: label)
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { $1 } }
        stream.log(event: event)
    }
}
