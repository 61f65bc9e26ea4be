/// Why a command failed, with the exit status the process ends with.
///
/// Printed as `error: <code>: <message>`. `code` is the API's own error code when the server
/// answered with its error envelope (`{"error": {"code", "message", "details"}}`), else one of
/// ours below. Scripts branch on the exit status and the code, never on the message.
public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the exit status means (docs/INCIDENTCTL.md, "Exit status").
    public enum ExitStatus: Int32, Sendable {
        /// The server refused the request, answered something unexpected, or a local file
        /// could not be read or written.
        case failure = 1
        /// No endpoint could be reached (every one refused, timed out or failed to connect).
        case unreachable = 3
        /// The command line was wrong (ArgumentParser's `EX_USAGE`).
        case usage = 64
    }

    public var code: String
    public var message: String
    public var exitStatus: ExitStatus
    /// The HTTP status of the answer this error came from, when there was one.
    public var httpStatus: Int?
    /// The envelope's `details` when not empty (`allowed` transitions, the `field` at fault).
    public var details: JSONValue?

    public init(code: String, message: String, exitStatus: ExitStatus = .failure, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.exitStatus = exitStatus
        self.httpStatus = httpStatus
    }

    public var description: String { "error: \(code): \(message)" }

    // MARK: - Our own codes

    /// No endpoint answered; `failures` names each endpoint with what went wrong.
    static func unreachable(_ failures: [(endpoint: String, reason: String)]) -> ControlError {
        let list = failures.map { "\($0.endpoint) (\($0.reason))" }.joined(separator: ", ")
        return ControlError(code: "unreachable", message: "no endpoint answered: \(list)", exitStatus: .unreachable)
    }

    /// The answer was not what the API promises (not JSON, no error envelope, a missing field).
    static func unexpectedResponse(_ message: String, httpStatus: Int? = nil) -> ControlError {
        ControlError(code: "unexpected_response", message: message, httpStatus: httpStatus)
    }

    /// A local file could not be read or written.
    static func file(_ path: String, _ reason: String) -> ControlError {
        ControlError(code: "file", message: "\(path): \(reason)")
    }

    static func usage(_ message: String) -> ControlError {
        ControlError(code: "usage", message: message, exitStatus: .usage)
    }
}
