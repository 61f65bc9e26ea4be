import IncidentCore

/// The encodings an email needs, written out (no Foundation): base64, quoted-printable
/// (RFC 2045 §6.7), RFC 2047 encoded words and RFC 5322 dates.
enum MIMEEncoding {
    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i < input.count {
            let b0 = input[i]
            let b1 = i + 1 < input.count ? input[i + 1] : 0
            let b2 = i + 2 < input.count ? input[i + 2] : 0
            out.append(base64Alphabet[Int(b0 >> 2)])
            out.append(base64Alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < input.count ? base64Alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < input.count ? base64Alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Quoted-printable with CRLF line ends and soft breaks keeping lines within 76 characters.
    /// `=` always becomes `=3D`, so a boundary starting with `=_` can never occur in the output.
    static func quotedPrintable(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var lines: [String] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var bytes = Array(rawLine.utf8)
            if bytes.last == 0x0D { bytes.removeLast() }
            var line: [UInt8] = []
            var out: [UInt8] = []
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                var token: [UInt8]
                if (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 0x20 || byte == 0x09) && !isLast) {
                    token = [byte]
                } else {
                    token = [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
                }
                // 75 characters plus the soft-break `=` make 76.
                if line.count + token.count > (isLast ? 76 : 75) {
                    out += line + Array("=\r\n".utf8)
                    line = []
                }
                line += token
            }
            out += line
            lines.append(String(decoding: out, as: UTF8.self))
        }
        return lines.joined(separator: "\r\n")
    }

    /// A header value: as is when it is printable ASCII, else RFC 2047 `=?UTF-8?B?…?=` words
    /// (each at most 64 characters, split on character boundaries) folded onto continuation lines.
    static func headerText(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar) }
        let clean = String(scalars)
        if clean.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return clean }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(character.utf8)
            // 39 bytes → 52 base64 characters + 12 = 64, so even `Subject: ` + a word stays within 78.
            if chunk.count + bytes.count > 39 {
                words.append("=?UTF-8?B?\(base64(chunk))?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(base64(chunk))?=") }
        return words.joined(separator: "\r\n ")
    }

    /// RFC 5322 date in UTC: `Thu, 05 Nov 2026 06:04:00 +0000`.
    static func rfc5322Date(_ time: Timestamp) -> String {
        let civil = CivilDateTime(utcMilliseconds: time.millisecondsSinceEpoch)
        let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let date = civil.date
        return "\(weekdays[Int(date.weekday.rawValue)]), \(two(date.day)) \(months[date.month - 1]) \(date.year) "
            + "\(two(civil.hour)):\(two(civil.minute)):\(two(civil.second)) +0000"
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `&`, `<`, `>`, `"` and `'` as HTML entities.
    static func htmlEscape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
