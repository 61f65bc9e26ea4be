import CLibPQ
import Foundation

/// Connection strings as libpq reads them: a URI (`postgres://user@host:5432/db?sslmode=require`)
/// or keyword/value pairs (`host=db port=5432 dbname=archive`).
enum ConnectionString {
    /// Keywords whose values are secrets.
    static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// `url` with every secret removed, for logs and error messages: the password of a URI's
    /// user-info and `password=`/`sslpassword=` parameters are dropped.
    static func redacted(_ url: String) -> String {
        if let schemeEnd = url.range(of: "://"), url.hasPrefix("postgres") {
            return redactedURI(url, schemeEnd: schemeEnd)
        }
        return redactedKeywordValue(url)
    }

    private static func redactedURI(_ url: String, schemeEnd: Range<String.Index>) -> String {
        let scheme = url[..<schemeEnd.upperBound]
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            let user = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            authority = String(user) + String(authority[at...])
        }
        var tail = String(rest[authorityEnd...])
        if let question = tail.firstIndex(of: "?") {
            let path = tail[..<question]
            let kept = tail[tail.index(after: question)...].split(separator: "&").filter { parameter in
                let key = parameter.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                return !secretKeywords.contains(key.lowercased())
            }
            tail = String(path) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
        }
        return String(scheme) + authority + tail
    }

    /// Parsed by libpq itself, then written back without secrets.
    private static func redactedKeywordValue(_ conninfo: String) -> String {
        guard let options = PQconninfoParse(conninfo, nil) else { return "<unparseable connection string>" }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            let key = String(cString: keyword)
            if let value = option.pointee.val, !secretKeywords.contains(key) {
                let escaped = String(cString: value).replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "'", with: "\\'")
                parts.append("\(key)='\(escaped)'")
            }
            option += 1
        }
        return parts.joined(separator: " ")
    }
}
