import ClusterNode
import ClusterWire
import Foundation

/// Every setting of `incidentd`, resolved in this order: command-line flag, then environment
/// variable (`INCIDENTD_` + the name in upper case, e.g. `INCIDENTD_DATA_DIR`), then the JSON
/// configuration file (`--config`; keys are the snake_case names below), then the default.
/// `incidentd --help` lists them with their defaults; docs/CONFIGURATION.md explains each.
struct Settings: Sendable, Equatable {
    /// The node's own defaults, where a setting maps onto `NodeConfig` one to one.
    private static let nodeDefaults = NodeConfig(dataDirectory: "")

    var dataDir = "./data"
    var host = "127.0.0.1"
    var port = 8080
    var logLevel = "info"
    var logFormat = "text"
    var tickIntervalMs = 100
    var snapshotEveryEntries = 100_000
    /// Snapshot after this many bytes of applied entries (`NodeConfig.snapshotEveryBytes`).
    var snapshotEveryBytes = 32 << 20
    /// Nice value of the snapshot thread (`NodeConfig.snapshotThreadNice`).
    var snapshotNice = 10
    /// Bytes of unchanged incidents' encodings kept for the next snapshot (`NodeConfig.snapshotReuseBytes`); 0 = none.
    var snapshotReuseBytes = 32 << 20
    /// Log between snapshots as a multiple of the state's size, once large (`NodeConfig.snapshotLogRatio`).
    var snapshotLogRatio = 0.5
    /// Block the consensus loop on each log sync instead of syncing off it (for comparison).
    var inlineLogSync = false
    /// Under load, the least time between two log syncs (`NodeConfig.minBusySyncIntervalMicroseconds`); 0 = off.
    var busySyncIntervalUs = 1_000
    /// How long followers may wait to hear of a commit (`NodeConfig.commitAnnouncementDelayMicroseconds`); 0 = at once.
    var commitAnnouncementDelayUs = 2_000
    /// Zeros kept written ahead of the WAL's records (`StorageConfig.preallocationBytes`); 0 = off.
    var walPreallocationBytes = 1 << 20
    var maxBatchCommands = 1_024
    var maxBodyBytes = 1 << 20
    var rateLimitRps = 100.0
    var rateLimitBurst = 200.0
    var dashboardUrl = ""
    var deliveryTimeoutMs = 5_000
    var maxDeliveryConcurrency = 64
    var openapiPath = ""
    /// Drill/testing only: the node's clock is the wall clock plus the milliseconds in this file
    /// (`DrillClock`). Empty = the wall clock.
    var clockOffsetFile = ""
    // The cluster (docs/CONFIGURATION.md, "Cluster"). Without peer_listen the node runs alone.
    var nodeId = 1
    var clusterId = "incidentd"
    var region = "default"
    var zone = ""
    /// host:port of the peer (replication) port; empty = a single node without one.
    var peerListen = ""
    /// The founding members: `id=host:port@region[/zone],...` (this node among them).
    var peers = ""
    /// Start empty and wait to be added (as a learner) by the running cluster.
    var join = false
    /// Comma-separated regions whose members should lead.
    var preferredLeaderRegions = ""
    /// Simulated one-way latency to peers by region, `region=ms,...` (drills only; empty = none).
    var peerSendDelayMs = ""
    /// The API address other members and clients should use for this node (default http://host:port).
    var advertiseApi = ""
    var electionTicks = 10
    var heartbeatTicks = 1
    var leaderWaitMs = 3_000
    var forwardTimeoutMs = 5_000
    var forwardBatchesInFlight = Self.nodeDefaults.forwardBatchesInFlight
    var forwardWaitUs = Self.nodeDefaults.forwardWaitMicroseconds
    /// TLS for the peer port (PEM files); mutual TLS when tls_require_client_cert is true.
    var tlsCa = ""
    var tlsCert = ""
    var tlsKey = ""
    var tlsRequireClientCert = false
    /// With TLS, the name a peer's certificate must carry (`{id}` = the node id it claims);
    /// empty turns the check off.
    var tlsNodeName = "node-{id}"
    /// Peer-port limits (`WireLimits`, docs/PROTOCOL.md §2.11), by their wire names; unset keep
    /// the defaults.
    var wireLimits: [String: Int] = [:]
    // Archival into PostgreSQL (docs/ARCHIVE.md). Without archive_url nothing is archived.
    /// `postgres://user@host:port/db?sslmode=...` (no password in it: use the file or variable).
    var archiveUrl = ""
    /// A file holding the archive user's password (first line); or INCIDENTD_ARCHIVE_PASSWORD.
    var archivePasswordFile = ""
    var archivePassword = ""
    /// Bound of the archive journal on every replica; beyond it the oldest changes are dropped
    /// and recorded in the archive as a gap.
    var archiveJournalLimitBytes = 256 << 20
    /// Most journal records (log entries) per archive batch.
    var archiveBatchRecords = 5_000
    static let wireLimitKeys = [
        "wire_max_frame_bytes",
        "wire_max_queued_bytes_per_peer",
        "wire_max_queued_frames_per_peer",
        "wire_compression_threshold_bytes",
        "wire_connect_timeout_ms",
        "wire_handshake_timeout_ms",
        "wire_ping_interval_ms",
        "wire_idle_timeout_ms",
        "wire_max_pending_requests_per_peer",
    ]

    /// Keys accepted in the configuration file (and, upper-cased, after `INCIDENTD_`).
    static let keys = [
        "data_dir", "host", "port", "log_level", "log_format", "tick_interval_ms", "snapshot_every_entries", "snapshot_every_bytes", "snapshot_nice", "snapshot_reuse_bytes", "snapshot_log_ratio", "inline_log_sync", "busy_sync_interval_us", "wal_preallocation_bytes",
        "commit_announcement_delay_us", "max_batch_commands", "max_body_bytes", "rate_limit_rps", "rate_limit_burst", "dashboard_url",
        "delivery_timeout_ms", "max_delivery_concurrency", "openapi_path", "clock_offset_file",
        "node_id", "cluster_id", "region", "zone", "peer_listen", "peers", "join", "preferred_leader_regions", "advertise_api",
        "peer_send_delay_ms",
        "election_ticks", "heartbeat_ticks", "leader_wait_ms", "forward_timeout_ms", "forward_batches_in_flight", "forward_wait_us", "tls_ca", "tls_cert", "tls_key",
        "tls_require_client_cert", "tls_node_name",
        "archive_url", "archive_password_file", "archive_password", "archive_journal_limit_bytes", "archive_batch_records",
    ] + wireLimitKeys

    /// Applies one named value (from the file or the environment); throws naming the source.
    mutating func set(_ key: String, _ value: String, source: String) throws {
        func int() throws -> Int {
            guard let n = Int(value) else { throw SettingsError("\(source): \(key) must be an integer, got \"\(value)\"") }
            return n
        }
        func bool() throws -> Bool {
            switch value.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no", "": return false
            default: throw SettingsError("\(source): \(key) must be true or false, got \"\(value)\"")
            }
        }
        func double() throws -> Double {
            guard let n = Double(value) else { throw SettingsError("\(source): \(key) must be a number, got \"\(value)\"") }
            return n
        }
        switch key {
        case "data_dir": dataDir = value
        case "host": host = value
        case "port": port = try int()
        case "log_level": logLevel = value
        case "log_format": logFormat = value
        case "tick_interval_ms": tickIntervalMs = try int()
        case "snapshot_every_entries": snapshotEveryEntries = try int()
        case "snapshot_every_bytes": snapshotEveryBytes = try int()
        case "inline_log_sync": inlineLogSync = try bool()
        case "snapshot_nice": snapshotNice = try int()
        case "snapshot_reuse_bytes": snapshotReuseBytes = try int()
        case "snapshot_log_ratio": snapshotLogRatio = try double()
        case "busy_sync_interval_us": busySyncIntervalUs = try int()
        case "commit_announcement_delay_us": commitAnnouncementDelayUs = try int()
        case "wal_preallocation_bytes": walPreallocationBytes = try int()
        case "max_batch_commands": maxBatchCommands = try int()
        case "max_body_bytes": maxBodyBytes = try int()
        case "rate_limit_rps": rateLimitRps = try double()
        case "rate_limit_burst": rateLimitBurst = try double()
        case "dashboard_url": dashboardUrl = value
        case "delivery_timeout_ms": deliveryTimeoutMs = try int()
        case "max_delivery_concurrency": maxDeliveryConcurrency = try int()
        case "openapi_path": openapiPath = value
        case "clock_offset_file": clockOffsetFile = value
        case "node_id": nodeId = try int()
        case "cluster_id": clusterId = value
        case "region": region = value
        case "zone": zone = value
        case "peer_listen": peerListen = value
        case "peers": peers = value
        case "join": join = try bool()
        case "preferred_leader_regions": preferredLeaderRegions = value
        case "peer_send_delay_ms": peerSendDelayMs = value
        case "advertise_api": advertiseApi = value
        case "election_ticks": electionTicks = try int()
        case "heartbeat_ticks": heartbeatTicks = try int()
        case "leader_wait_ms": leaderWaitMs = try int()
        case "forward_timeout_ms": forwardTimeoutMs = try int()
        case "forward_batches_in_flight": forwardBatchesInFlight = try int()
        case "forward_wait_us": forwardWaitUs = try int()
        case "tls_ca": tlsCa = value
        case "tls_cert": tlsCert = value
        case "tls_key": tlsKey = value
        case "tls_require_client_cert": tlsRequireClientCert = try bool()
        case "tls_node_name": tlsNodeName = value
        case "archive_url": archiveUrl = value
        case "archive_password_file": archivePasswordFile = value
        case "archive_password": archivePassword = value
        case "archive_journal_limit_bytes": archiveJournalLimitBytes = try int()
        case "archive_batch_records": archiveBatchRecords = try int()
        case let key where Self.wireLimitKeys.contains(key): wireLimits[key] = try int()
        default: throw SettingsError("\(source): unknown setting \"\(key)\" (known: \(Self.keys.joined(separator: ", ")))")
        }
    }

    /// Reads a JSON object of settings; values may be strings, numbers or booleans.
    mutating func load(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read configuration file \(path)") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw SettingsError("\(path): not valid JSON: \(error.localizedDescription)")
        }
        guard let settings = object as? [String: Any] else { throw SettingsError("\(path): the top level must be a JSON object") }
        for key in settings.keys.sorted() {
            let raw = settings[key]!
            let text: String
            switch raw {
            case let s as String: text = s
            case let n as NSNumber: text = n.stringValue
            default: throw SettingsError("\(path): \(key) must be a string or a number")
            }
            try set(key, text, source: path)
        }
    }

    mutating func loadEnvironment(_ environment: [String: String]) throws {
        for key in Self.keys {
            if let value = environment["INCIDENTD_" + key.uppercased()] { try set(key, value, source: "INCIDENTD_\(key.uppercased())") }
        }
    }

    func validate() throws {
        guard (1...65_535).contains(port) else { throw SettingsError("port must be 1–65535, got \(port)") }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw SettingsError("log_level must be trace|debug|info|notice|warning|error|critical, got \(logLevel)")
        }
        guard ["text", "json"].contains(logFormat) else { throw SettingsError("log_format must be text or json, got \(logFormat)") }
        guard deliveryTimeoutMs > 0, maxDeliveryConcurrency > 0 else { throw SettingsError("delivery settings must be positive") }
        guard nodeId > 0 else { throw SettingsError("node_id must be positive, got \(nodeId)") }
        guard snapshotEveryEntries > 0 else { throw SettingsError("snapshot_every_entries must be positive, got \(snapshotEveryEntries)") }
        guard snapshotEveryBytes >= 1 << 20 else {
            throw SettingsError("snapshot_every_bytes must be at least 1048576 (1 MiB), got \(snapshotEveryBytes)")
        }
        guard (0...19).contains(snapshotNice) else {
            throw SettingsError("snapshot_nice must be 0–19, got \(snapshotNice)")
        }
        guard (0...(1 << 34)).contains(snapshotReuseBytes) else {
            throw SettingsError("snapshot_reuse_bytes must be 0–17179869184 (16 GiB), got \(snapshotReuseBytes)")
        }
        guard (0...100).contains(snapshotLogRatio) else {
            throw SettingsError("snapshot_log_ratio must be 0–100, got \(snapshotLogRatio)")
        }
        // The hold delays everything the next Ready carries, heartbeats included: keep it far
        // below a tick.
        guard (0...10_000).contains(busySyncIntervalUs) else {
            throw SettingsError("busy_sync_interval_us must be 0–10000, got \(busySyncIntervalUs)")
        }
        // Followers learn of commits at the next heartbeat at the latest anyway.
        guard (0...100_000).contains(commitAnnouncementDelayUs) else {
            throw SettingsError("commit_announcement_delay_us must be 0–100000, got \(commitAnnouncementDelayUs)")
        }
        guard (0...(64 << 20)).contains(walPreallocationBytes) else {
            throw SettingsError("wal_preallocation_bytes must be 0–67108864, got \(walPreallocationBytes)")
        }
        guard !clusterId.isEmpty, clusterId.utf8.count <= 64 else { throw SettingsError("cluster_id must be 1–64 bytes") }
        guard !region.isEmpty else { throw SettingsError("region must not be empty") }
        let members = try peerMembers()
        if !members.isEmpty || join {
            guard !peerListen.isEmpty else { throw SettingsError("peer_listen is required when peers or join is set") }
            guard Self.hostPort(peerListen) != nil else { throw SettingsError("peer_listen must be host:port, got \"\(peerListen)\"") }
        }
        if !members.isEmpty && !join {
            guard members.contains(where: { $0.id == nodeId }) else { throw SettingsError("peers must include this node (node_id \(nodeId))") }
        }
        for (key, value, range) in [
            ("forward_batches_in_flight", forwardBatchesInFlight, NodeConfig.forwardBatchesInFlightRange),
            ("forward_wait_us", forwardWaitUs, NodeConfig.forwardWaitMicrosecondsRange),
        ] where !range.contains(value) {
            throw SettingsError("\(key) must be \(range.lowerBound)–\(range.upperBound), got \(value)")
        }
        let delays = try peerSendDelays()
        guard delays.isEmpty || isClustered else { throw SettingsError("peer_send_delay_ms needs peer_listen (a cluster)") }
        guard electionTicks > heartbeatTicks, heartbeatTicks > 0 else { throw SettingsError("election_ticks must exceed heartbeat_ticks (> 0)") }
        let tls = [tlsCa, tlsCert, tlsKey].filter { !$0.isEmpty }.count
        guard tls == 0 || tls == 3 else { throw SettingsError("tls_ca, tls_cert and tls_key go together") }
        guard !tlsRequireClientCert || tls == 3 else { throw SettingsError("tls_require_client_cert needs tls_ca, tls_cert and tls_key") }
        if !archiveUrl.isEmpty {
            guard archiveUrl.hasPrefix("postgres://") || archiveUrl.hasPrefix("postgresql://") else {
                throw SettingsError("archive_url must be a postgres:// or postgresql:// URL")
            }
            guard !Self.urlHasPassword(archiveUrl) else {
                throw SettingsError("archive_url must not carry a password (it would show in process lists and logs); use archive_password_file or INCIDENTD_ARCHIVE_PASSWORD")
            }
        }
        guard (1 << 20...Int(Int32.max)).contains(archiveJournalLimitBytes) else {
            throw SettingsError("archive_journal_limit_bytes must be 1 MiB–2 GiB, got \(archiveJournalLimitBytes)")
        }
        guard (1...100_000).contains(archiveBatchRecords) else { throw SettingsError("archive_batch_records must be 1–100000, got \(archiveBatchRecords)") }
    }

    /// Whether `postgres://user:secret@host/...` carries a password (between `:` and `@` of the
    /// authority).
    static func urlHasPassword(_ url: String) -> Bool {
        guard let schemeEnd = url.range(of: "://") else { return false }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return false }
        return authority[..<at].contains(":")
    }
}

/// One founding member from `peers`.
struct PeerSetting: Sendable, Equatable {
    var id: Int
    var host: String
    var port: Int
    var region: String
    var zone: String
}

extension Settings {
    /// Parses `peers`: `id=host:port@region[/zone]`, comma-separated.
    func peerMembers() throws -> [PeerSetting] {
        var members: [PeerSetting] = []
        for item in peers.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = Int(parts[0]), id > 0 else { throw SettingsError("peers: \"\(item)\" is not id=host:port@region") }
            let location = parts[1].split(separator: "@", maxSplits: 1).map(String.init)
            guard location.count == 2, let (host, port) = Self.hostPort(location[0]) else {
                throw SettingsError("peers: \"\(item)\" is not id=host:port@region")
            }
            let regionZone = location[1].split(separator: "/", maxSplits: 1).map(String.init)
            guard let region = regionZone.first, !region.isEmpty else { throw SettingsError("peers: \"\(item)\" names no region") }
            guard !members.contains(where: { $0.id == id }) else { throw SettingsError("peers: node \(id) is listed twice") }
            members.append(PeerSetting(id: id, host: host, port: port, region: region, zone: regionZone.count > 1 ? regionZone[1] : ""))
        }
        return members
    }

    /// `host:port` (IPv6 in brackets) split, nil when malformed.
    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// `peer_send_delay_ms` as region → milliseconds.
    func peerSendDelays() throws -> [String: Int] {
        var delays: [String: Int] = [:]
        for item in peerSendDelayMs.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let milliseconds = Int(parts[1]) else {
                throw SettingsError("peer_send_delay_ms: \"\(item)\" is not region=milliseconds")
            }
            guard (0...WireConfig.maxSendDelayMilliseconds).contains(milliseconds) else {
                throw SettingsError("peer_send_delay_ms: \(parts[0]) must be 0–\(WireConfig.maxSendDelayMilliseconds) ms, got \(milliseconds)")
            }
            guard delays[parts[0]] == nil else { throw SettingsError("peer_send_delay_ms: \(parts[0]) is listed twice") }
            delays[parts[0]] = milliseconds
        }
        return delays
    }

    var preferredRegions: [String] {
        preferredLeaderRegions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    var isClustered: Bool { !peerListen.isEmpty }
}

/// A configuration problem, reported before anything starts.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
