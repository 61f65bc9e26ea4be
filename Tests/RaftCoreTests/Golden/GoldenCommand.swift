import RaftCore

/// One parsed script line: `name positional… key=value key=(a,b,c)`.
struct GoldenCommand {
    var name: String
    var positional: [String]
    var named: [String: String]

    typealias ScriptError = GoldenEnvironment.ScriptError

    /// Splits on whitespace, keeping `(…)` groups and `"…"` strings together.
    init(parsing line: String) throws(ScriptError) {
        var tokens: [String] = []
        var current = ""
        var depth = 0
        var quoted = false
        for ch in line {
            if ch == "\"" { quoted.toggle() }
            if !quoted {
                if ch == "(" { depth += 1 }
                if ch == ")" { depth -= 1 }
            }
            if ch == " " && depth == 0 && !quoted {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        guard depth == 0, !quoted, let first = tokens.first else {
            throw ScriptError(description: "cannot parse command line: \(line)")
        }
        name = first
        positional = []
        named = [:]
        for token in tokens.dropFirst() {
            if let eq = token.firstIndex(of: "="), !token.hasPrefix("\"") {
                named[String(token[..<eq])] = String(token[token.index(after: eq)...])
            } else {
                positional.append(Self.unquoted(token))
            }
        }
    }

    private static func unquoted(_ token: String) -> String {
        guard token.count >= 2, token.hasPrefix("\""), token.hasSuffix("\"") else { return token }
        return String(token.dropFirst().dropLast())
    }

    // MARK: - Arguments

    func positional(_ i: Int, _ what: String) throws(ScriptError) -> String {
        guard i < positional.count else { throw ScriptError(description: "\(name): missing \(what)") }
        return positional[i]
    }

    func id(_ i: Int = 0) throws(ScriptError) -> NodeID {
        try Self.number(try positional(i, "node id"), in: name)
    }

    /// Every positional argument as a node id (etcd's `nodeIdxs`).
    func allIDs() throws(ScriptError) -> [NodeID] {
        var ids: [NodeID] = []
        for token in positional { ids.append(try Self.number(token, in: name)) }
        return ids
    }

    func int(_ key: String) throws(ScriptError) -> Int? {
        guard let value = named[key] else { return nil }
        guard let n = Int(value) else { throw ScriptError(description: "\(name): \(key) must be a number, not \(value)") }
        return n
    }

    func nodeID(_ key: String) throws(ScriptError) -> NodeID {
        guard let value = named[key] else { throw ScriptError(description: "\(name): missing \(key)=") }
        return try Self.number(value, in: name)
    }

    func bool(_ key: String) throws(ScriptError) -> Bool? {
        guard let value = named[key] else { return nil }
        switch value {
        case "true": return true
        case "false": return false
        default: throw ScriptError(description: "\(name): \(key) must be true or false, not \(value)")
        }
    }

    /// `key=(1,2,3)`, `key=(1 2 3)` or `key=1`.
    func list(_ key: String) -> [String]? {
        guard var value = named[key] else { return nil }
        if value.hasPrefix("(") && value.hasSuffix(")") { value = String(value.dropFirst().dropLast()) }
        return value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    func ids(_ key: String) throws(ScriptError) -> [NodeID]? {
        guard let items = list(key) else { return nil }
        var ids: [NodeID] = []
        for item in items { ids.append(try Self.number(item, in: name)) }
        return ids
    }

    static func number(_ token: String, in command: String) throws(ScriptError) -> NodeID {
        guard let n = NodeID(token) else { throw ScriptError(description: "\(command): \(token) is not a number") }
        return n
    }
}
