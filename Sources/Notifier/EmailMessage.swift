import Crypto
import IncidentCore

/// The email for a notification: envelope addresses and a MIME `multipart/alternative` message
/// (plain text and HTML, both UTF-8 quoted-printable) with CRLF line ends, not yet dot-stuffed.
///
/// Headers: From, To, Subject (`[P1] Triggered: <title>`, RFC 2047-encoded when not ASCII), Date
/// (RFC 5322, UTC), Message-ID (`<idempotency key@sender domain>`, so a resent message is
/// recognisably the same), MIME-Version, Auto-Submitted, X-Incident-ID.
struct EmailMessage: Sendable {
    var sender: String
    var recipients: [String]
    var data: [UInt8]

    /// Subjects are cut to this many characters (a title may be 1 KiB; header lines have limits).
    static let subjectLimit = 200

    static func build(_ context: MessageContext) -> Result<EmailMessage, DeliveryError> {
        let channel = context.notification.channel
        guard let sender = mailbox(channel.emailFrom) else { return .failure(.invalid("email_from is not an address")) }
        let recipients = context.notification.emailRecipients
        guard !recipients.isEmpty else { return .failure(.invalid("no email recipients")) }
        var envelope: [String] = []
        for recipient in recipients {
            guard let address = mailbox(recipient) else { return .failure(.invalid("recipient is not an address")) }
            envelope.append(address)
        }
        let domain = sender.split(separator: "@").last.map(String.init) ?? "incidentd.local"
        let boundary = "=_incidentd_" + hex(SHA256.hash(data: Array(context.intent.idempotencyKey.utf8)).prefix(12))
        var lines = [
            "From: \(mailboxHeader(channel.emailFrom, address: sender))",
            "To: \(zip(recipients, envelope).map { mailboxHeader($0, address: $1) }.joined(separator: ",\r\n "))",
            "Subject: \(MIMEEncoding.headerText(shortened(context.headline, toCharacters: subjectLimit)))",
            "Date: \(MIMEEncoding.rfc5322Date(context.sentAt))",
            "Message-ID: <\(messageIDLocalPart(context.intent.idempotencyKey))@\(domain)>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "X-Incident-ID: \(MIMEEncoding.headerText(context.incident.id))",
            "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"",
            "",
            "This is a multi-part message in MIME format.",
            "",
        ]
        for (type, body) in [("text/plain", plainText(context)), ("text/html", html(context))] {
            lines += [
                "--\(boundary)",
                "Content-Type: \(type); charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                MIMEEncoding.quotedPrintable(body),
            ]
        }
        lines.append("--\(boundary)--")
        let data = Array(lines.joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
        return .success(EmailMessage(sender: sender, recipients: envelope, data: data))
    }

    /// The bare address of `Name <a@b>` or `a@b`; nil when it could break the SMTP command line.
    static func mailbox(_ text: String) -> String? {
        var address = Substring(text)
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            address = text[text.index(after: open)..<close]
        }
        address = address.trimmingSpaces
        guard address.contains("@"), address.utf8.count <= 254,
            address.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else { return nil }
        return String(address)
    }

    /// `Name <address>` with a non-ASCII name RFC 2047-encoded (the address never is), or the
    /// bare address.
    static func mailboxHeader(_ text: String, address: String) -> String {
        guard let open = text.lastIndex(of: "<") else { return address }
        let name = text[..<open].trimmingSpaces
        guard !name.isEmpty else { return address }
        return "\(MIMEEncoding.headerText(String(name))) <\(address)>"
    }

    /// The idempotency key with characters outside RFC 5322 `atext` and `.` replaced by `-`.
    static func messageIDLocalPart(_ key: String) -> String {
        let allowed = Set("!#$%&'*+-/=?^_`{|}~.".utf8)
        return String(decoding: key.utf8.map { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || allowed.contains(byte)
                ? byte : UInt8(ascii: "-")
        }, as: UTF8.self)
    }

    static func plainText(_ context: MessageContext) -> String {
        var lines = [context.message, ""]
        for (name, value) in facts(context) { lines.append("\(name): \(value)") }
        if !context.incident.description.isEmpty { lines += ["", context.incident.description] }
        if !context.incidentURL.isEmpty { lines += ["", "Open the incident: \(context.incidentURL)"] }
        return lines.joined(separator: "\n")
    }

    static func html(_ context: MessageContext) -> String {
        let e = MIMEEncoding.htmlEscape
        var out = "<!DOCTYPE html>\n<html><body>\n"
        out += "<p><strong>\(e(context.message).replacingNewlines(with: "<br>"))</strong></p>\n<table>\n"
        for (name, value) in facts(context) { out += "<tr><th align=\"left\">\(e(name))</th><td>\(e(value))</td></tr>\n" }
        out += "</table>\n"
        if !context.incident.description.isEmpty { out += "<p>\(e(context.incident.description).replacingNewlines(with: "<br>"))</p>\n" }
        if !context.incidentURL.isEmpty { out += "<p><a href=\"\(e(context.incidentURL))\">Open the incident</a></p>\n" }
        return out + "</body></html>"
    }

    private static func facts(_ context: MessageContext) -> [(String, String)] {
        let incident = context.incident
        var facts = [
            ("Incident", incident.id), ("Title", incident.title),
            ("Severity", "\(incident.severity) (\(incident.severity.word))"), ("Status", incident.status.name),
        ]
        if !incident.team.isEmpty { facts.append(("Team", incident.team)) }
        if !incident.assignee.isEmpty { facts.append(("Assignee", incident.assignee)) }
        if !incident.source.isEmpty { facts.append(("Source", incident.source)) }
        if !incident.environment.isEmpty { facts.append(("Environment", incident.environment)) }
        facts.append(("Occurrences", String(incident.occurrenceCount)))
        facts.append(("Opened", incident.createdAt.rfc3339))
        return facts
    }
}

extension String {
    func replacingNewlines(with replacement: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
