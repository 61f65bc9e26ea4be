import IncidentCore

/// The outcome of one delivery attempt (or of an in-process retry loop).
///
/// `failed.error` is `DeliveryError.description` (`<code>: <detail>`), ready for the intent's
/// `lastError` and the incident timeline; `retryable` says whether another attempt may succeed.
public enum DeliveryResult: Sendable, Equatable {
    case delivered
    case failed(error: String, retryable: Bool)

    public init(_ error: DeliveryError) {
        self = .failed(error: error.description, retryable: error.isRetryable)
    }

    /// What the dispatcher proposes through `Command.recordDelivery`.
    public var report: DeliveryReport {
        switch self {
        case .delivered: return .delivered
        case .failed(let error, let retryable): return .failed(error: error, retryable: retryable)
        }
    }

    public var isDelivered: Bool { self == .delivered }
}

/// Why a delivery failed: a stable `code`, a human detail and whether retrying makes sense.
///
/// Retryable: timeouts, connection and TLS failures, HTTP 408/429/5xx, SMTP 4xx replies, an open
/// circuit, local overload. Not retryable: other HTTP 4xx and 3xx (redirects are not followed),
/// SMTP 5xx replies, invalid channel configuration.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-matchable failure class (also a metrics/log dimension).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The channel cannot work as configured (bad URL, missing routing key, no recipients).
        public static let invalidConfiguration = Code("invalid_configuration")
        /// No reply within the configured timeout.
        public static let timeout = Code("timeout")
        /// Could not connect, or the connection broke (including TLS failures).
        public static let connectionFailed = Code("connection_failed")
        /// The receiver answered with a non-success HTTP status.
        public static let httpStatus = Code("http_status")
        /// The endpoint's circuit is open after repeated failures; nothing was sent.
        public static let circuitOpen = Code("circuit_open")
        /// `maxConcurrentDeliveries` are already in flight; nothing was sent.
        public static let overloaded = Code("overloaded")
        /// The mail server refused a command (the reply code is in the detail).
        public static let smtpRejected = Code("smtp_rejected")
        /// The mail server spoke something other than SMTP.
        public static let smtpProtocol = Code("smtp_protocol")
        /// The message is larger than `smtp.maxMessageBytes` or the server's `SIZE`.
        public static let messageTooLarge = Code("message_too_large")
        /// The notifier was shut down.
        public static let shutdown = Code("shutdown")
    }

    public var code: Code
    public var detail: String
    public var isRetryable: Bool
    /// A receiver's request to wait (HTTP `Retry-After`) or the rest of an open circuit's time.
    public var retryAfterMilliseconds: Int64?

    public init(_ code: Code, _ detail: String, retryable: Bool, retryAfterMilliseconds: Int64? = nil) {
        self.code = code
        self.detail = detail
        self.isRetryable = retryable
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    public var description: String { detail.isEmpty ? code.name : "\(code.name): \(detail)" }

    static func invalid(_ detail: String) -> DeliveryError {
        DeliveryError(.invalidConfiguration, detail, retryable: false)
    }
}
