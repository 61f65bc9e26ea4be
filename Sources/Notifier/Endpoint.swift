/// The scheme, host and port a channel URL points at: the unit circuits are kept per.
///
/// A deliberately small parser (no Foundation): `scheme://[userinfo@]host[:port][/path…]`, with
/// `[v6]` host literals. Default ports: http 80, https 443, smtp 25, smtps 465.
struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    var scheme: String
    var host: String
    var port: Int

    /// `host:port`, the circuit breaker key.
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Whether `host` is an IP literal (TLS must not send it as SNI).
    var hostIsIPAddress: Bool {
        host.contains(":") || (!host.isEmpty && host.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E })
    }

    static let defaultPorts = ["http": 80, "https": 443, "smtp": 25, "smtps": 465]

    /// Parses `url`, accepting only the given schemes.
    static func parse(_ url: String, schemes: Set<String>) -> Result<Endpoint, DeliveryError> {
        guard let separator = url.range(of: "://") else { return .failure(.invalid("url has no scheme: \(url)")) }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard schemes.contains(scheme), let defaultPort = defaultPorts[scheme] else {
            return .failure(.invalid("unsupported url scheme \(scheme)"))
        }
        let rest = url[separator.upperBound...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .failure(.invalid("unterminated [ in url host")) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                return .failure(.invalid("unexpected text after ] in url host"))
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return .failure(.invalid("url has no host")) }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .failure(.invalid("url host has invalid characters")) }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                return .failure(.invalid("invalid port \(portText)"))
            }
            port = value
        }
        return .success(Endpoint(scheme: scheme, host: host.lowercased(), port: port))
    }
}
