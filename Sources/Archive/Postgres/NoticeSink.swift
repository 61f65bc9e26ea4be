import CLibPQ
import Logging

/// Routes the server's NOTICE and WARNING messages to the logger instead of libpq's default,
/// which prints them on standard error.
final class NoticeSink {
    let logger: Logger
    let url: String

    init(logger: Logger, url: String) {
        self.logger = logger
        self.url = url
    }

    /// The sink must outlive `connection` (PostgresConnection holds both; PQfinish runs first).
    func install(on connection: OpaquePointer) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = PQsetNoticeProcessor(
            connection,
            { context, message in
                guard let context, let message else { return }
                let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
                var text = String(cString: message)
                while text.last?.isNewline == true { text.removeLast() }
                // NOTICEs are chatter ("relation already exists, skipping"); WARNINGs are not.
                let level: Logger.Level = text.hasPrefix("WARNING") ? .warning : .debug
                sink.logger.log(level: level, "PostgreSQL: \(text)", metadata: ["url": "\(sink.url)"])
            }, context)
    }
}
