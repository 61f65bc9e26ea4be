/// The client side of one SMTP transaction as a pure state machine: it is fed server replies
/// and answers with what to do next (RFC 5321, RFC 3207 STARTTLS, RFC 4954/4616 AUTH PLAIN).
///
/// greeting 220 → EHLO → [STARTTLS 220 → TLS → EHLO] → [AUTH PLAIN 235] → MAIL FROM 250 →
/// RCPT TO 250/251 (each recipient; rejected ones are skipped while one is accepted) → DATA 354 →
/// message 250 → QUIT. 4yz replies fail retryably, 5yz permanently. The NIO shell
/// (`SMTPClientHandler`) performs the actions and applies the reply timeout.
struct SMTPSession: Sendable {
    struct Settings: Sendable {
        var heloName: String
        /// `(username, password)` for AUTH PLAIN, nil to send unauthenticated.
        var credentials: (username: String, password: String)?
        /// Upgrade with STARTTLS when the server offers it (`smtp://` URLs).
        var startTLSWhenOffered: Bool
        /// The connection is already TLS (`smtps://`).
        var tlsActive: Bool
        /// AUTH PLAIN may go over a connection without TLS (loopback server or explicit opt-in).
        var plaintextAuthenticationAllowed: Bool
    }

    enum Action: Sendable, Equatable {
        /// Send one command line (the shell appends CRLF) and wait for the reply.
        case send(String)
        /// Send the dot-stuffed message with its terminating `.` line and wait for the reply.
        case sendMessage([UInt8])
        /// Put TLS in front of the connection, then call `tlsEstablished()`.
        case startTLS
        /// The message is accepted: send QUIT, report success, close.
        case delivered
        /// Report `error`; send QUIT first when `quit` (the connection still speaks SMTP).
        case failed(DeliveryError, quit: Bool)
        /// Nothing to do (a reply after the outcome, such as QUIT's 221).
        case none
    }

    private enum State: Sendable, Equatable {
        case greeting, ehlo, startTLS, tlsHandshake, auth, mailFrom, recipient(Int), data, message, finished
    }

    private var settings: Settings
    private let message: EmailMessage
    private var state: State = .greeting
    private var accepted = 0
    private var lastRejection: SMTPReply?

    init(settings: Settings, message: EmailMessage) {
        precondition(!message.recipients.isEmpty)
        self.settings = settings
        self.message = message
    }

    var isFinished: Bool { state == .finished }

    mutating func receive(_ reply: SMTPReply) -> Action {
        switch state {
        case .greeting:
            guard reply.code == 220 else { return fail(reply, "greeting") }
            state = .ehlo
            return .send("EHLO \(settings.heloName)")
        case .ehlo:
            guard reply.code == 250 else { return fail(reply, "EHLO") }
            return afterEHLO(reply)
        case .startTLS:
            guard reply.code == 220 else { return fail(reply, "STARTTLS") }
            state = .tlsHandshake
            return .startTLS
        case .tlsHandshake:
            return finish(DeliveryError(.smtpProtocol, "reply \(reply.code) during the TLS handshake", retryable: true), quit: false)
        case .auth:
            guard reply.code == 235 else { return fail(reply, "AUTH PLAIN") }
            return mailFrom()
        case .mailFrom:
            guard reply.code == 250 else { return fail(reply, "MAIL FROM") }
            state = .recipient(0)
            return .send("RCPT TO:<\(message.recipients[0])>")
        case .recipient(let index):
            if reply.code == 250 || reply.code == 251 { accepted += 1 } else { lastRejection = reply }
            if index + 1 < message.recipients.count {
                state = .recipient(index + 1)
                return .send("RCPT TO:<\(message.recipients[index + 1])>")
            }
            guard accepted > 0 else { return fail(lastRejection ?? reply, "RCPT TO") }
            state = .data
            return .send("DATA")
        case .data:
            guard reply.code == 354 else { return fail(reply, "DATA") }
            state = .message
            return .sendMessage(Self.dotStuffed(message.data))
        case .message:
            guard reply.code == 250 else { return fail(reply, "message") }
            state = .finished
            return .delivered
        case .finished:
            return .none
        }
    }

    mutating func tlsEstablished() -> Action {
        precondition(state == .tlsHandshake)
        settings.tlsActive = true
        state = .ehlo
        return .send("EHLO \(settings.heloName)")
    }

    private mutating func afterEHLO(_ reply: SMTPReply) -> Action {
        if !settings.tlsActive && settings.startTLSWhenOffered && reply.advertises("STARTTLS") {
            state = .startTLS
            return .send("STARTTLS")
        }
        if let limit = reply.sizeLimit, message.data.count > limit {
            return finish(DeliveryError(.messageTooLarge, "\(message.data.count) bytes, server takes \(limit)", retryable: false), quit: true)
        }
        guard let credentials = settings.credentials else { return mailFrom() }
        guard reply.advertisesAuth("PLAIN") else {
            return finish(.invalid("server does not offer AUTH PLAIN"), quit: true)
        }
        guard settings.tlsActive || settings.plaintextAuthenticationAllowed else {
            return finish(.invalid("refusing AUTH PLAIN without TLS (smtp.allowPlaintextAuthentication)"), quit: true)
        }
        state = .auth
        let token = Array("\0\(credentials.username)\0\(credentials.password)".utf8)
        return .send("AUTH PLAIN \(MIMEEncoding.base64(token))")
    }

    private mutating func mailFrom() -> Action {
        state = .mailFrom
        return .send("MAIL FROM:<\(message.sender)>")
    }

    private mutating func fail(_ reply: SMTPReply, _ step: String) -> Action {
        let detail = "\(step): \(reply.code) \(shortened(reply.text, toCharacters: 200))"
        return finish(DeliveryError(.smtpRejected, detail, retryable: reply.isTransient), quit: reply.code != 421)
    }

    private mutating func finish(_ error: DeliveryError, quit: Bool) -> Action {
        state = .finished
        return .failed(error, quit: quit)
    }

    /// CRLF line ends, a `.` doubled at the start of every line (RFC 5321 §4.5.2), the final
    /// line terminated, then the `.` line that ends the data.
    static func dotStuffed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 64 + 5)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in data {
            if byte == 0x0A && previous != 0x0D { out.append(0x0D) }
            if atLineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            atLineStart = byte == 0x0A
            previous = byte
        }
        if !atLineStart { out += [0x0D, 0x0A] }
        out += Array(".\r\n".utf8)
        return out
    }
}
