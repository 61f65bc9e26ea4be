/// A ClusterWire failure. Match on `code`; `message` is for people and logs.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; stable across versions, safe to switch on.
    public enum Code: Sendable, Equatable {
        /// `WireConfig`/`WireLimits` failed validation, or TLS material could not be loaded.
        case invalidConfig
        /// The listen address could not be bound.
        case bindFailed
        /// The node id is not a configured peer.
        case unknownPeer
        /// No connection to the peer, or it dropped while the request was pending.
        case disconnected
        /// The request's deadline passed.
        case timeout
        /// Too many pending requests or queued bytes for the peer, or the peer answered so.
        case overloaded
        /// The peer refused: it does not know the request kind (or refused the handshake).
        case refused
        /// `shutdown()` was called (locally or the peer is shutting down).
        case shutDown
        /// The peer sent bytes that are not valid protocol.
        case malformed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public init(code: Code, message: String) {
        self.init(code, message)
    }

    public var description: String { "\(code): \(message)" }
}
