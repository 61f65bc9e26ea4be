import ArgumentParser

/// `incidentctl`, the operator CLI of `incidentd` (docs/INCIDENTCTL.md).
public struct Incidentctl: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "incidentctl",
        abstract: "Operate an incidentd cluster over its REST API.",
        discussion: """
            Every command takes --endpoints (env INCIDENTCTL_ENDPOINTS), --api-key (env \
            INCIDENTCTL_API_KEY), --timeout-ms and --output table|json. Exit status: 0 done, \
            1 refused by the server or a local file error, 3 no endpoint reachable, 64 usage.
            """,
        version: version,
        subcommands: [
            ClusterCommand.self, MemberCommand.self, LeaderCommand.self, SnapshotCommand.self, IncidentsCommand.self,
            EventsCommand.self, CertsCommand.self,
        ]
    )

    public init() {}

    /// Runs one command line (without the program name) and returns the exit status. The
    /// executable passes the process's arguments, environment and console; tests their own.
    public static func invoke(_ arguments: [String], environment: [String: String], console: Console) async -> Int32 {
        let command: any ControlCommand
        do {
            var parsed = try parseAsRoot(globalOptionsMovedAfterCommand(arguments))
            guard let control = parsed as? any ControlCommand else {
                // `help`, `--help`, or a group without its subcommand (`incidentctl member`):
                // their `run` throws the help request.
                try parsed.run()
                return 0
            }
            command = control
        } catch {
            let status = exitCode(for: error)
            let message = fullMessage(for: error)
            if status == .success { console.print(message) } else { console.printError(message) }
            return status.rawValue
        }
        let settings: ClientSettings
        do { settings = try command.global.settings(environment: environment) } catch {
            console.printError(error.description)
            return error.exitStatus.rawValue
        }
        let client = ControlClient(settings: settings, console: console)
        var status: Int32 = 0
        do { try await command.execute(Session(client: client, console: console)) } catch {
            console.printError(error.description)
            if settings.verbose, let details = error.details { console.printError("  details: \(details.compactText)") }
            status = error.exitStatus.rawValue
        }
        await client.shutdown()
        return status
    }

    /// ArgumentParser reads a subcommand's options only after the subcommand's name; operators
    /// type them first too (`incidentctl --endpoints ... member list`, as with etcdctl). The
    /// global options before the first subcommand name are moved to the end (before a `--`).
    public static func globalOptionsMovedAfterCommand(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = ["--endpoints", "--api-key", "--timeout-ms", "--output"]
        let flags: Set<String> = ["-v", "--verbose"]
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if flags.contains(argument) || (withValue.contains(name) && argument.contains("=")) {
                leading.append(argument)
                index += 1
            } else if withValue.contains(argument), index + 1 < arguments.count {
                leading += arguments[index...(index + 1)]
                index += 2
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        let end = rest.firstIndex(of: "--") ?? rest.endIndex
        rest.insert(contentsOf: leading, at: end)
        return rest
    }
}
