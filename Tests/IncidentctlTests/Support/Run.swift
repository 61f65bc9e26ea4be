import IncidentControl
import Locking

/// What one `incidentctl` invocation printed and how it exited.
struct Outcome: Sendable, CustomStringConvertible {
    var status: Int32
    var output: String
    var error: String

    var description: String { "exit \(status)\n--- stdout\n\(output)--- stderr\n\(error)" }
}

/// Runs `incidentctl arguments` in this process (the executable does nothing else) with a
/// console that captures both streams and reads `input` as standard input. The environment
/// holds only what is passed, so a developer's INCIDENTCTL_* settings cannot leak in.
func incidentctl(_ arguments: [String], environment: [String: String] = [:], input: [UInt8] = []) async -> Outcome {
    let output = Lock("")
    let error = Lock("")
    let console = Console(
        write: { text, stream in
            switch stream {
            case .output: output.withLock { $0 += text }
            case .error: error.withLock { $0 += text }
            }
        },
        readInput: { input })
    let status = await Incidentctl.invoke(arguments, environment: environment, console: console)
    return Outcome(status: status, output: output.withLock { $0 }, error: error.withLock { $0 })
}
