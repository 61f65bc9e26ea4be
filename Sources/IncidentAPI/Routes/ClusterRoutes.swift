import Archiver
import ClusterNode
import Foundation
import HTTPTypes
import Hummingbird
import IncidentCore
import RaftCore

/// The cluster itself: status and members (read right), membership changes, leadership transfer
/// and a snapshot download (configure right). Any node takes them; changes are carried out by
/// the leader (forwarded like writes).
extension Endpoints {
    func addClusterRoutes(to routes: RouteList) {
        routes.add(.get, "/api/v1/cluster") { request, _ in
            _ = try await authorize(request, for: .read)
            let (status, members, leases, journal) = try await read(.local) {
                ($0.status, $0.state.members.sorted, $0.state.dispatchLeases, $0.state.archive.summary)
            }
            var json = Self.clusterJSON(status, members: members)
            if case .object(var object) = json {
                object["dispatch_leases"] = .array(leases.keys.sorted().map { scope in
                    ["scope": .string(scope), "holder": .int(leases[scope]!.holder), "expires_at": .string(leases[scope]!.expiresAt.rfc3339)]
                })
                object["archive"] = Self.archiveJSON(status, journal: journal, holder: leases["archive"]?.holder, local: settings.archiverStatus.map { Self.archiverJSON($0()) })
                json = .object(object)
            }
            return .json(json)
        }
        routes.add(.post, "/api/v1/cluster/members") { request, _ in
            _ = try await authorize(request, for: .configure)
            let member = try Self.member(try JSONReader(try await json(request)))
            _ = try await clusterOperation { () async throws(NodeError) in try await node.addLearner(member) }
            return .json(Self.memberJSON(member, kind: "learner"), status: .created)
        }
        routes.add(.post, "/api/v1/cluster/members/{id}/promote") { request, context in
            _ = try await authorize(request, for: .configure)
            let id = try await knownMember(context)
            _ = try await clusterOperation { () async throws(NodeError) in try await node.promote(id) }
            return .json(["id": .int(id), "kind": "voter"])
        }
        routes.add(.delete, "/api/v1/cluster/members/{id}") { request, context in
            _ = try await authorize(request, for: .configure)
            let id = try await knownMember(context)
            _ = try await clusterOperation { () async throws(NodeError) in try await node.remove(id) }
            return Response(status: .noContent)
        }
        routes.add(.post, "/api/v1/cluster/leader/transfer") { request, _ in
            _ = try await authorize(request, for: .configure)
            let body = try JSONReader(try await json(request))
            guard let target = try body.int("target", in: 1...Int64(Int32.max)) else { throw APIError.invalid("target", "is required") }
            let voters = try await read(.local) { $0.status.voters }
            guard voters.contains(NodeID(target)) else { throw APIError.invalid("target", "node \(target) is not a voter") }
            try await clusterOperation { () async throws(NodeError) in try await node.transferLeadership(to: NodeID(target)) }
            return .json(["target": .int(Int64(target)), "status": "transferring"], status: .accepted)
        }
        routes.add(.get, "/api/v1/cluster/snapshot") { request, _ in
            _ = try await authorize(request, for: .configure)
            let backup = try await clusterOperation { () async throws(NodeError) in try await node.backup() }
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers[HTTPField.Name("X-Snapshot-Index")!] = String(backup.index)
            headers[HTTPField.Name("X-Snapshot-Term")!] = String(backup.term)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: backup.data)))
        }
    }

    /// Archival (issue #6): whether it is on, who archives, the lag, the journal's fill, and what
    /// this node's archiver (if it has an archive URL) last saw.
    static func archiveJSON(_ status: NodeStatus, journal: ArchiveJournal.Summary, holder: NodeID?, local: JSONValue?) -> JSONValue {
        guard journal.enabled else { return ["enabled": false, "this_node": local ?? .null] }
        let lone = status.voters == [status.nodeID] && status.learners.isEmpty
        let effectiveHolder = lone ? (journal.archivers.contains(status.nodeID) ? status.nodeID : nil) : holder
        return [
            "enabled": true,
            "holder": effectiveHolder.map { .int($0) } ?? .null,
            "archivers": .array(journal.archivers.map { .int($0) }),
            "watermark": .int(journal.watermark),
            "lag_entries": .int(status.archiveLagEntries),
            "lag_seconds": .double(Double(status.archiveLagMilliseconds) / 1_000),
            "journal_records": .int(journal.records),
            "journal_bytes": .int(journal.bytes),
            "journal_limit_bytes": .int(journal.limitBytes),
            "gap_through": journal.gapThrough > 0 ? .int(journal.gapThrough) : .null,
            "this_node": local ?? .null,
        ]
    }

    static func archiverJSON(_ status: ArchiverStatus) -> JSONValue {
        [
            "state": .string(status.state.rawValue), "watermark": .int(status.watermark),
            "last_error": status.lastError.map { .string($0) } ?? .null, "rows_written": .int(status.rowsWritten),
            "batches_written": .int(status.batchesWritten), "gaps_recorded": .int(status.gapsRecorded),
        ]
    }

    /// The `{id}` of a member route, 404 unless it is a voter or learner now.
    private func knownMember(_ context: BasicRequestContext) async throws(APIError) -> NodeID {
        let text = context.parameter("id")
        guard let id = NodeID(text), id != 0 else { throw APIError.notFound("member \(text) not found") }
        let status = try await read(.local) { $0.status }
        guard status.voters.contains(id) || status.learners.contains(id) else { throw APIError.notFound("member \(id) not found") }
        return id
    }

    static func member(_ r: JSONReader) throws(APIError) -> MemberInfo {
        guard let id = try r.int("id", in: 1...Int64(Int32.max)) else { throw APIError.invalid("id", "is required") }
        let address = try r.requiredString("address")
        guard Self.isHostPort(address) else { throw APIError.invalid("address", "must be host:port of the member's peer port") }
        let region = try r.requiredString("region")
        guard !region.isEmpty, region.utf8.count <= 64 else { throw APIError.invalid("region", "must be 1–64 bytes") }
        let zone = try r.string("zone") ?? ""
        let api = try r.string("api_address") ?? ""
        return MemberInfo(id: NodeID(id), peerAddress: address, apiAddress: api, region: region, zone: zone)
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return false }
        return (1...65_535).contains(port) && colon != text.startIndex && text.utf8.count <= 255
    }

    static func memberJSON(_ member: MemberInfo, kind: String) -> JSONValue {
        [
            "id": .int(member.id), "kind": .string(kind), "region": .string(member.region), "zone": .string(member.zone),
            "peer_address": .string(member.peerAddress), "api_address": .string(member.apiAddress),
        ]
    }

    static func clusterJSON(_ status: NodeStatus, members directory: [MemberInfo]) -> JSONValue {
        let byID = Dictionary(uniqueKeysWithValues: directory.map { ($0.id, $0) })
        var members: [JSONValue] = []
        var healthyByRegion: [String: [NodeID]] = [:]
        let ids = status.voters.map { ($0, "voter") } + status.learners.map { ($0, "learner") }
        for (id, kind) in ids.sorted(by: { $0.0 < $1.0 }) {
            let info = byID[id]
            let progress = status.followers[id]
            let healthy: Bool? =
                id == status.nodeID ? true
                : status.role == .leader ? progress?.recentActive
                : status.connectedPeers.contains(id) ? true : (status.connectedPeers.isEmpty && status.voters.count == 1 ? nil : false)
            let region = info?.region ?? (id == status.nodeID ? status.region : "")
            if healthy == true, !region.isEmpty { healthyByRegion[region, default: []].append(id) }
            var member: JSONObject = [
                "id": .int(id), "kind": .string(kind), "leader": .bool(id == status.leader), "self": .bool(id == status.nodeID),
                "region": .string(region), "zone": .string(info?.zone ?? (id == status.nodeID ? status.zone : "")),
                "peer_address": .string(info?.peerAddress ?? ""), "api_address": .string(info?.apiAddress ?? ""),
                "health": .string(healthy.map { $0 ? "healthy" : "unreachable" } ?? "unknown"),
            ]
            if id == status.nodeID {
                member["match_index"] = .int(status.lastIndex)
                member["applied_index"] = .int(status.appliedIndex)
                member["lag"] = .int(status.commitIndex >= status.appliedIndex ? status.commitIndex - status.appliedIndex : 0)
            } else if let progress {
                member["match_index"] = .int(progress.match)
                member["lag"] = .int(status.commitIndex > progress.match ? status.commitIndex - progress.match : 0)
                member["replication"] = .string(progress.state)
            }
            members.append(.object(member))
        }
        // For clients: the healthy member to use in each region (this node, else the leader,
        // else the lowest id there).
        var nearest = JSONObject()
        for region in healthyByRegion.keys.sorted() {
            let candidates = healthyByRegion[region]!
            let pick = candidates.contains(status.nodeID) ? status.nodeID : candidates.contains(status.leader) ? status.leader : candidates.min()!
            nearest[region] = ["id": .int(pick), "api_address": .string(byID[pick]?.apiAddress ?? "")]
        }
        return [
            "node_id": .int(status.nodeID), "region": .string(status.region), "zone": .string(status.zone),
            "role": .string(roleName(status.role)), "leader": .int(status.leader),
            "term": .int(status.term), "commit_index": .int(status.commitIndex), "applied_index": .int(status.appliedIndex),
            "members": .array(members), "nearest_healthy": .object(nearest),
            "log": [
                "first_index": .int(status.firstIndex), "last_index": .int(status.lastIndex),
                "bytes": .int(status.logBytes), "appends": .int(status.logAppends),
            ],
            "snapshot": ["index": .int(status.snapshotIndex), "bytes": .int(status.snapshotBytes)],
            "pending_timers": .int(status.pendingTimers), "outbox_depth": .int(status.outboxDepth),
            "remembered_requests": .int(status.rememberedRequests),
        ]
    }
}
