import Foundation

/// One target node, `http://host:port`, parsed from `--endpoints`.
///
/// Only loopback hosts are accepted: the generator is for measuring nodes on this machine, and a
/// typo must not aim tens of thousands of requests per second at somebody else's address.
struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }

    /// The `Host` header value.
    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `http://127.0.0.1:8080` (a trailing `/` is allowed; a path, query or `https` is not).
    init(parsing text: String) throws(BenchError) {
        guard let url = URL(string: text), url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw BenchError(.badArgument, "endpoint \"\(text)\" is not of the form http://HOST:PORT")
        }
        guard url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil else {
            throw BenchError(.badArgument, "endpoint \"\(text)\": give only http://HOST:PORT; the path is --path")
        }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard Self.isLoopback(bare) else {
            throw BenchError(.badArgument, "endpoint \"\(text)\": only loopback targets (127.0.0.0/8, localhost, ::1) are allowed")
        }
        let port = url.port ?? 80
        guard (1...65_535).contains(port) else { throw BenchError(.badArgument, "endpoint \"\(text)\": port out of range") }
        self.host = bare
        self.port = port
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { UInt8($0) != nil }
    }

    /// Parses the comma-separated `--endpoints` list; at least one, at most `maxCount`.
    static func list(_ text: String, maxCount: Int) throws(BenchError) -> [Endpoint] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw BenchError(.badArgument, "--endpoints names no endpoint") }
        guard parts.count <= maxCount else { throw BenchError(.badArgument, "--endpoints: at most \(maxCount) endpoints") }
        var endpoints: [Endpoint] = []
        for part in parts { endpoints.append(try Endpoint(parsing: part)) }
        return endpoints
    }
}

/// A problem with the command line or the run, with a code for scripts (exit status) and tests.
struct BenchError: Error, CustomStringConvertible {
    enum Code: String, Sendable {
        case badArgument = "bad_argument"
        case connectFailed = "connect_failed"
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code.rawValue): \(message)" }
}
