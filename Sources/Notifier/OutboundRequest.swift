/// An HTTP POST a channel wants sent: built purely from the notification, sent by `HTTPSender`.
struct OutboundRequest: Sendable {
    var url: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// Headers the notifier sets itself; channel headers with these names are ignored so a
    /// configuration cannot break signing or idempotency.
    static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "idempotency-key", "x-incident-signature", "host", "transfer-encoding",
    ]

    /// A JSON POST with our standard headers followed by the channel's own (sorted by name).
    static func json(
        url: String, body: [UInt8], context: MessageContext, userAgent: String, extraHeaders: [(String, String)] = []
    ) -> Result<OutboundRequest, DeliveryError> {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("User-Agent", userAgent),
            ("Idempotency-Key", context.intent.idempotencyKey),
        ]
        headers += extraHeaders.map { (name: $0.0, value: $0.1) }
        var custom = context.notification.channel.headers.sorted { $0.key < $1.key }
        custom.removeAll { reservedHeaders.contains($0.key.lowercased()) }
        for (name, value) in custom {
            guard isToken(name) else { return .failure(.invalid("header name \"\(name)\" is not an HTTP token")) }
            guard !value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) else {
                return .failure(.invalid("header \(name) has a line break"))
            }
            if name.lowercased() == "user-agent" { headers.removeAll { $0.name == "User-Agent" } }
            headers.append((name: name, value: value))
        }
        return .success(OutboundRequest(url: url, headers: headers, body: body))
    }

    /// RFC 9110 token characters.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
