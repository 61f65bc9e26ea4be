import Foundation

/// Everything the client needs, resolved from flags, then environment, then defaults. Every
/// limit is here, with its unit in the name.
public struct ClientSettings: Sendable, Equatable {
    /// Base URLs of `incidentd` nodes (`http://127.0.0.1:8080`, no trailing slash), tried in
    /// order when one is unreachable. Default: `http://127.0.0.1:8080`.
    public var endpoints: [String]
    /// Sent as `Authorization: Bearer <key>`; nil sends none (health and readiness need none).
    public var apiKey: String?
    /// How long one attempt on one endpoint may take, connecting included. Default 5,000 ms.
    /// Too short and a busy leader looks unreachable; too long and a dead endpoint stalls the
    /// command that long before the next one is tried.
    public var requestTimeoutMilliseconds: Int
    /// How many `503` answers carrying `Retry-After` are retried (on the next endpoint) before
    /// the last one is reported. Default 3.
    public var maxUnavailableRetries: Int
    /// The longest wait a `Retry-After` can impose before a retry. Default 5,000 ms.
    public var maxRetryWaitMilliseconds: Int
    /// Larger JSON answers are refused (a snapshot is streamed and has its own limit). Default 32 MiB.
    public var maxResponseBytes: Int
    /// `snapshot save` stops and removes its temporary file past this size. Default 64 GiB.
    public var maxSnapshotBytes: Int64
    /// `incidents list --all` follows at most this many `next_cursor`s. Default 1,000.
    public var maxPages: Int
    public var output: OutputFormat
    /// Print every attempt, its answer and the `X-Incidentd-Node`/`X-Incidentd-Leader` headers
    /// on standard error.
    public var verbose: Bool

    public static let defaultEndpoint = "http://127.0.0.1:8080"

    public init(
        endpoints: [String] = [Self.defaultEndpoint], apiKey: String? = nil, requestTimeoutMilliseconds: Int = 5_000,
        maxUnavailableRetries: Int = 3, maxRetryWaitMilliseconds: Int = 5_000, maxResponseBytes: Int = 32 << 20,
        maxSnapshotBytes: Int64 = 64 << 30, maxPages: Int = 1_000, output: OutputFormat = .table, verbose: Bool = false
    ) {
        self.endpoints = endpoints
        self.apiKey = apiKey
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.maxUnavailableRetries = maxUnavailableRetries
        self.maxRetryWaitMilliseconds = maxRetryWaitMilliseconds
        self.maxResponseBytes = maxResponseBytes
        self.maxSnapshotBytes = maxSnapshotBytes
        self.maxPages = maxPages
        self.output = output
        self.verbose = verbose
    }

    /// Refuses settings that cannot work (no endpoint, a timeout of zero, negative limits).
    public func validate() throws(ControlError) {
        guard !endpoints.isEmpty else { throw .usage("--endpoints names no endpoint") }
        guard (1...600_000).contains(requestTimeoutMilliseconds) else { throw .usage("--timeout-ms must be 1 to 600000") }
        guard maxUnavailableRetries >= 0, maxRetryWaitMilliseconds >= 0, maxResponseBytes > 0, maxSnapshotBytes > 0, maxPages > 0 else {
            throw .usage("limits must not be negative")
        }
    }

    /// `http://a:8080, b:8080/` → `["http://a:8080", "http://b:8080"]`: a missing scheme is
    /// `http://`, a trailing slash is dropped, anything but http(s) with a host is refused.
    public static func parseEndpoints(_ list: String) throws(ControlError) -> [String] {
        var endpoints: [String] = []
        for item in list.split(separator: ",") {
            var text = item.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if !text.contains("://") { text = "http://" + text }
            while text.hasSuffix("/") { text.removeLast() }
            guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = url.host, !host.isEmpty, url.path.isEmpty, url.query == nil
            else {
                throw .usage("'\(item)' is not an endpoint; use http://host:port")
            }
            endpoints.append(text)
        }
        guard !endpoints.isEmpty else { throw .usage("--endpoints names no endpoint") }
        return endpoints
    }
}

/// How results are printed.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// Aligned tables and short sentences, for people.
    case table
    /// The answer's JSON (indented, keys sorted), for scripts.
    case json
}
