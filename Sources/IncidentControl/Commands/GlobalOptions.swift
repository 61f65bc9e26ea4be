import ArgumentParser

/// The options every command takes. Flags win over the environment, which wins over defaults.
public struct GlobalOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Comma-separated incidentd URLs, tried in order when one is unreachable (env INCIDENTCTL_ENDPOINTS; default http://127.0.0.1:8080).")
    public var endpoints: String?

    @Option(name: .customLong("api-key"), help: "API key, sent as 'Authorization: Bearer <key>' (env INCIDENTCTL_API_KEY).")
    public var apiKey: String?

    @Option(name: .customLong("timeout-ms"), help: "Time allowed for one attempt on one endpoint, in milliseconds (env INCIDENTCTL_TIMEOUT_MS; default 5000).")
    public var timeoutMilliseconds: Int?

    @Option(name: .long, help: "table or json (default table).")
    public var output: OutputFormat = .table

    @Flag(name: [.short, .long], help: "Print each attempt with the answering node and leader (X-Incidentd-Node, X-Incidentd-Leader) on standard error.")
    public var verbose = false

    public init() {}

    /// The settings these options give in `environment` (flags first, then `INCIDENTCTL_*`).
    public func settings(environment: [String: String]) throws(ControlError) -> ClientSettings {
        var settings = ClientSettings()
        if let list = endpoints ?? environment["INCIDENTCTL_ENDPOINTS"] { settings.endpoints = try ClientSettings.parseEndpoints(list) }
        if let key = apiKey ?? environment["INCIDENTCTL_API_KEY"], !key.isEmpty { settings.apiKey = key }
        if let timeout = timeoutMilliseconds {
            settings.requestTimeoutMilliseconds = timeout
        } else if let text = environment["INCIDENTCTL_TIMEOUT_MS"] {
            guard let timeout = Int(text) else { throw .usage("INCIDENTCTL_TIMEOUT_MS must be a number of milliseconds, got '\(text)'") }
            settings.requestTimeoutMilliseconds = timeout
        }
        settings.output = output
        settings.verbose = verbose
        try settings.validate()
        return settings
    }
}

extension OutputFormat: ExpressibleByArgument {}
