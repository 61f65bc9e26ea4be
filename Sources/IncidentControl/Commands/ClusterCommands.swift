import ArgumentParser

/// `incidentctl cluster ...`.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Cluster-wide views.", subcommands: [ClusterStatus.self])
}

/// `cluster status`: asks every endpoint for `GET /api/v1/cluster` at once and shows one row
/// per node (`etcdctl endpoint status --cluster -w table`), plus the members no endpoint
/// answered as. Exit 3 when no endpoint answered.
struct ClusterStatus: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Role, term, indexes, lag and health of every endpoint and member.")

    @OptionGroup var global: GlobalOptions

    static let request = APIRequest(.GET, "/api/v1/cluster")

    func execute(_ session: Session) async throws(ControlError) {
        let endpoints = session.settings.endpoints
        let client = session.client
        let probes = await withTaskGroup(of: (Int, ClusterProbe).self) { group in
            for (index, endpoint) in endpoints.enumerated() {
                group.addTask {
                    do throws(ControlError) {
                        let view = try await client.probe(Self.request, on: endpoint).json()
                        return (index, ClusterProbe(endpoint: endpoint, result: .success(view)))
                    } catch {
                        return (index, ClusterProbe(endpoint: endpoint, result: .failure(error)))
                    }
                }
            }
            var probes: [(Int, ClusterProbe)] = []
            for await probe in group { probes.append(probe) }
            return probes.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let rows = ClusterViews.statusRows(probes)
        switch session.output {
        case .json: session.printJSON(ClusterViews.statusJSON(rows))
        case .table: session.printTable(ClusterViews.statusTable(rows))
        }
        for probe in probes {
            if case .failure(let error) = probe.result { session.console.printError("\(probe.endpoint): \(error.code): \(error.message)") }
        }
        if probes.allSatisfy({ $0.view == nil }) {
            let failures = probes.compactMap { probe -> ControlError? in if case .failure(let e) = probe.result { return e } else { return nil } }
            // Every endpoint refused the request (e.g. a bad key): that error, not "unreachable".
            if let refusal = failures.first(where: { $0.exitStatus != .unreachable }) { throw refusal }
            throw ControlError(code: "unreachable", message: "none of the \(probes.count) endpoints answered", exitStatus: .unreachable)
        }
    }
}

/// `incidentctl member ...`: the Raft membership.
struct MemberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "List, add, promote and remove cluster members.",
        subcommands: [MemberList.self, MemberAdd.self, MemberPromote.self, MemberRemove.self])
}

/// `member list`: `GET /api/v1/cluster`, its `members`.
struct MemberList: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The members as the answering node lists them.")

    @OptionGroup var global: GlobalOptions

    func execute(_ session: Session) async throws(ControlError) {
        let cluster = try await session.client.send(ClusterStatus.request).json()
        switch session.output {
        case .json: session.printJSON(cluster["members"] ?? [])
        case .table: session.printTable(ClusterViews.memberTable(cluster))
        }
    }
}

/// `member add`: `POST /api/v1/cluster/members` `{"id", "address", "region", "zone"}`; the node
/// joins as a learner and is promoted with `member promote` once it has caught up.
struct MemberAdd: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a node as a learner.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The new node's id (a positive integer, unique in the cluster).") var id: UInt64
    @Option(help: "Its cluster (Raft) address, host:port.") var address: String
    @Option(help: "Its region, e.g. eu-west.") var region: String
    @Option(help: "Its zone within the region.") var zone: String?

    func validate() throws {
        guard id > 0 else { throw ValidationError("--id must be a positive integer") }
        guard Self.isHostPort(address) else { throw ValidationError("--address must be host:port, got '\(address)'") }
        guard !region.isEmpty else { throw ValidationError("--region must not be empty") }
    }

    /// `host:port` or `[v6]:port` with a port in 1...65535.
    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            return false
        }
        return colon != text.startIndex
    }

    var request: APIRequest {
        var body: JSONValue = ["id": .int(Int64(clamping: id)), "address": .string(address), "region": .string(region)]
        if let zone, case .object(var fields) = body {
            fields["zone"] = .string(zone)
            body = .object(fields)
        }
        return .write(.POST, "/api/v1/cluster/members", json: body)
    }

    func execute(_ session: Session) async throws(ControlError) {
        let response = try await session.client.send(request)
        let place = [region, zone].compactMap { $0 }.joined(separator: "/")
        session.report(response, "member \(id) added as a learner at \(address) (\(place)); promote it once it has caught up")
    }
}

/// `member promote ID`: `POST /api/v1/cluster/members/{id}/promote`, learner → voter.
struct MemberPromote: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "promote", abstract: "Promote a learner to a voter.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The member's id.") var id: UInt64

    var request: APIRequest { .write(.POST, "/api/v1/cluster/members/\(id)/promote") }

    func execute(_ session: Session) async throws(ControlError) {
        session.report(try await session.client.send(request), "member \(id) promoted to voter")
    }
}

/// `member remove ID`: `DELETE /api/v1/cluster/members/{id}`.
struct MemberRemove: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a member from the cluster.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The member's id.") var id: UInt64

    var request: APIRequest { .write(.DELETE, "/api/v1/cluster/members/\(id)") }

    func execute(_ session: Session) async throws(ControlError) {
        session.report(try await session.client.send(request), "member \(id) removed")
    }
}

/// `incidentctl leader ...`.
struct LeaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leader", abstract: "Leadership.", subcommands: [LeaderTransfer.self])
}

/// `leader transfer --to ID`: `POST /api/v1/cluster/leader/transfer` `{"target": ID}`.
struct LeaderTransfer: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "transfer", abstract: "Hand leadership to another voter.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("to"), help: "The voter to become leader.") var target: UInt64

    var request: APIRequest { .write(.POST, "/api/v1/cluster/leader/transfer", json: ["target": .int(Int64(clamping: target))]) }

    func execute(_ session: Session) async throws(ControlError) {
        session.report(try await session.client.send(request), "leadership transfer to member \(target) requested")
    }
}
