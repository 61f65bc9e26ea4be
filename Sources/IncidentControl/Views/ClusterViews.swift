/// What one endpoint answered to `GET /api/v1/cluster`, or why it did not.
public struct ClusterProbe: Sendable, Equatable {
    public var endpoint: String
    public var result: Result<JSONValue, ControlError>

    public init(endpoint: String, result: Result<JSONValue, ControlError>) {
        self.endpoint = endpoint
        self.result = result
    }

    var view: JSONValue? { if case .success(let view) = result { return view } else { return nil } }
}

/// One line of `cluster status`: a node as it answered itself, or a member only known from
/// the member list of the nodes that answered. nil is shown as `-`.
public struct ClusterStatusRow: Sendable, Equatable {
    public var endpoint: String?
    public var id: Int64?
    public var region: String?
    public var role: String?
    public var term: Int64?
    public var commitIndex: Int64?
    public var appliedIndex: Int64?
    public var lag: Int64?
    public var health: String

    public init(
        endpoint: String? = nil, id: Int64? = nil, region: String? = nil, role: String? = nil, term: Int64? = nil, commitIndex: Int64? = nil,
        appliedIndex: Int64? = nil, lag: Int64? = nil, health: String
    ) {
        self.endpoint = endpoint
        self.id = id
        self.region = region
        self.role = role
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lag = lag
        self.health = health
    }

    var cells: [String] {
        [
            endpoint ?? "-", id.map(String.init) ?? "-", region ?? "-", role ?? "-", term.map(String.init) ?? "-",
            commitIndex.map(String.init) ?? "-", appliedIndex.map(String.init) ?? "-", lag.map(String.init) ?? "-", health,
        ]
    }

    var json: JSONValue {
        func value(_ number: Int64?) -> JSONValue { number.map(JSONValue.int) ?? .null }
        func value(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        return [
            "endpoint": value(endpoint), "id": value(id), "region": value(region), "role": value(role), "term": value(term),
            "commit_index": value(commitIndex), "applied_index": value(appliedIndex), "lag": value(lag), "health": .string(health),
        ]
    }
}

/// `cluster status` and `member list` as pure functions of the `GET /api/v1/cluster` answers.
///
/// Fields are read leniently: today's answer has `node_id`, `role`, `leader`, `term`,
/// `commit_index`, `applied_index` and `members[]` with `id`, `kind` (voter/learner), `leader`,
/// `self`; members may also carry `role`, `region`, `zone`, `address`, `health`,
/// `match_index`, `applied_index` and `lag`. Whatever is missing shows as `-`.
public enum ClusterViews {
    public static let statusHeaders = ["endpoint", "id", "region", "role", "term", "commit index", "applied index", "lag", "health"]

    /// One row per probed endpoint, in the order given, then one per member that no endpoint
    /// answered as. Member details come from the leader's answer when a leader answered (its
    /// view of replication is the one that matters), else from any answer.
    public static func statusRows(_ probes: [ClusterProbe]) -> [ClusterStatusRow] {
        let views = probes.compactMap(\.view)
        let leaderView = views.filter { $0["role"]?.string == "leader" }.max { ($0["term"]?.int ?? 0) < ($1["term"]?.int ?? 0) }
        let leaderCommit = leaderView?["commit_index"]?.int
        func member(_ id: Int64) -> JSONValue? {
            for view in [leaderView].compactMap({ $0 }) + views {
                if let found = view["members"]?.array?.first(where: { $0["id"]?.int == id }) { return found }
            }
            return nil
        }
        func lag(_ member: JSONValue?, applied: Int64?) -> Int64? {
            if let lag = member?["lag"]?.int { return lag }
            guard let leaderCommit, let applied else { return nil }
            return max(0, leaderCommit - applied)
        }

        var rows: [ClusterStatusRow] = []
        var answered: Set<Int64> = []
        for probe in probes {
            switch probe.result {
            case .success(let view):
                let id = view["node_id"]?.int
                if let id { answered.insert(id) }
                let entry = id.flatMap(member)
                let applied = view["applied_index"]?.int
                let knowsLeader = (view["leader"]?.int ?? 0) != 0
                rows.append(
                    ClusterStatusRow(
                        endpoint: probe.endpoint, id: id, region: entry?["region"]?.string, role: ownRole(view, member: entry),
                        term: view["term"]?.int, commitIndex: view["commit_index"]?.int, appliedIndex: applied,
                        lag: lag(entry, applied: applied), health: knowsLeader ? "healthy" : "no leader"))
            case .failure(let error):
                rows.append(ClusterStatusRow(endpoint: probe.endpoint, health: error.code == "unreachable" ? "unreachable" : error.code))
            }
        }
        var listed: Set<Int64> = []
        for view in [leaderView].compactMap({ $0 }) + views {
            for entry in view["members"]?.array ?? [] {
                guard let id = entry["id"]?.int, !answered.contains(id), listed.insert(id).inserted else { continue }
                let applied = entry["applied_index"]?.int ?? entry["match_index"]?.int
                rows.append(
                    ClusterStatusRow(
                        id: id, region: entry["region"]?.string, role: memberRole(entry), appliedIndex: applied,
                        lag: lag(entry, applied: applied), health: entry["health"]?.string ?? "not probed"))
            }
        }
        return rows
    }

    public static func statusTable(_ rows: [ClusterStatusRow]) -> Table {
        Table(headers: statusHeaders, rows: rows.map(\.cells))
    }

    public static func statusJSON(_ rows: [ClusterStatusRow]) -> JSONValue { .array(rows.map(\.json)) }

    /// `member list`: one row per member, as the answering node lists them.
    public static func memberTable(_ cluster: JSONValue) -> Table {
        let members = cluster["members"]?.array ?? []
        return Table(
            headers: ["id", "role", "address", "region", "zone", "match index", "applied index", "lag", "health"],
            rows: members.map { m in
                [
                    m["id"].cell, memberRole(m) ?? "-", m["address"].cell, m["region"].cell, m["zone"].cell, m["match_index"].cell,
                    m["applied_index"].cell, m["lag"].cell, m["health"].cell,
                ]
            })
    }

    /// A member's role: its `role` when given, else learner for `kind: learner`, leader for
    /// `leader: true`, follower for any other voter.
    static func memberRole(_ member: JSONValue) -> String? {
        if let role = member["role"]?.string, !role.isEmpty { return role }
        if member["kind"]?.string == "learner" { return "learner" }
        if member["leader"]?.bool == true { return "leader" }
        if member["kind"]?.string == "voter" { return "follower" }
        return nil
    }

    /// A node's own role: a learner says so in the member list (Raft calls it a follower).
    static func ownRole(_ view: JSONValue, member: JSONValue?) -> String? {
        if let member, memberRole(member) == "learner" { return "learner" }
        return view["role"]?.string ?? member.flatMap(memberRole)
    }
}
