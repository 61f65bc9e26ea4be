import ArgumentParser

/// A command that talks to `incidentd`. `Incidentctl.invoke` parses the command line, builds
/// the client from `global` and calls `execute`; commands never exit the process themselves.
public protocol ControlCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func execute(_ session: Session) async throws(ControlError)
}

/// What a running command has: the client (settings included) and the console.
public struct Session: Sendable {
    public let client: ControlClient
    public let console: Console

    public init(client: ControlClient, console: Console) {
        self.client = client
        self.console = console
    }

    public var settings: ClientSettings { client.settings }
    public var output: OutputFormat { client.settings.output }

    /// Prints `value` as indented JSON.
    func printJSON(_ value: JSONValue) { console.print(value.prettyText) }

    /// Prints a table (no trailing blank line).
    func printTable(_ table: Table) { console.write(table.rendered(), .output) }

    /// The answer to a write: its JSON with `--output json`, else `sentence`.
    func report(_ response: ControlResponse, _ sentence: String) {
        switch output {
        case .json: printJSON(JSONValue(parsing: response.body) ?? [:])
        case .table: console.print(sentence)
        }
    }
}
