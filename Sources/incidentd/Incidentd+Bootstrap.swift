import Archive
import Archiver
import ClusterNode
import RaftCore
import ClusterWire
import Foundation
import IncidentAPI
import IncidentCore
import Logging

extension Incidentd {
    static func bootstrapLogging(_ settings: Settings) -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let json = settings.logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "incidentd")
        logger.logLevel = level
        return logger
    }

    /// The wall clock, or the drill clock when `--clock-offset-file` is set (announced loudly:
    /// a node whose time can be moved must never run in production by accident).
    static func nodeClock(_ settings: Settings, logger: Logger) -> @Sendable () -> Int64 {
        guard !settings.clockOffsetFile.isEmpty else { return { Int64(Date().timeIntervalSince1970 * 1_000) } }
        let drill = DrillClock(path: settings.clockOffsetFile, logger: logger)
        logger.warning(
            "drill clock: this node's time is the wall clock plus the offset in the clock offset file (testing only)",
            metadata: ["path": "\(settings.clockOffsetFile)", "offset_ms": "\(drill.offsetMilliseconds())"])
        return { drill.now() }
    }

    /// First start: create an admin API key, print it once (only its hash is stored).
    /// `INCIDENTD_BOOTSTRAP_ADMIN_KEY` sets (or rotates to) a known secret for automation.
    static func bootstrapAdminKey(node: IncidentNode, logger: Logger) async throws {
        if let secret = ProcessInfo.processInfo.environment["INCIDENTD_BOOTSTRAP_ADMIN_KEY"], !secret.isEmpty {
            let changed = try await provisionAPIKey(on: node, id: "bootstrap-admin", name: "bootstrap admin", role: .admin, secret: secret)
            if changed { logger.info("admin API key set from INCIDENTD_BOOTSTRAP_ADMIN_KEY (id bootstrap-admin)") }
            return
        }
        let keys = try await node.read { $0.state.machine.config.count(.apiKey) }
        guard keys == 0 else { return }
        let secret = APIKeySecret.generate()
        do {
            _ = try await provisionAPIKey(on: node, id: "bootstrap-admin", name: "bootstrap admin", role: .admin, secret: secret)
        } catch .rejected {
            return  // another member of a new cluster created the first key a moment earlier
        }
        // Printed once, on standard output, so scripts can capture it; it is not stored anywhere.
        let notice = "incidentd: created the first admin API key (shown only now, store it safely):\n\n    \(secret)\n\n"
        FileHandle.standardOutput.write(Data(notice.utf8))
    }

    /// In a cluster the admin key can only be written once a leader is elected: keep trying in
    /// the background (the API serves meanwhile, answering 503 to writes until there is one).
    static func bootstrapAdminKeyWhenLeaderKnown(node: IncidentNode, logger: Logger) {
        Task {
            var attempt = 0
            while true {
                do {
                    try await bootstrapAdminKey(node: node, logger: logger)
                    return
                } catch let error as APIKeyProvisioningError {
                    if case .node(let nodeError) = error, nodeError.code == .unavailable && nodeError.message.contains("shutting down") { return }
                    attempt += 1
                    if attempt % 25 == 0 { logger.warning("still waiting for a leader to write the admin API key", metadata: ["error": "\(error)"]) }
                } catch {
                    attempt += 1
                    if attempt % 25 == 0 { logger.warning("still waiting for a leader to write the admin API key", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
    }

    /// The OpenAPI document: the configured path, or docs/api/openapi.json found from the working
    /// directory or from the executable's directory upwards (a source checkout).
    static func findOpenAPIDocument(_ configured: String) -> String? {
        let fm = FileManager.default
        if !configured.isEmpty { return configured }
        var candidates = [fm.currentDirectoryPath + "/docs/api/openapi.json"]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent("docs/api/openapi.json").path)
            directory = directory.deletingLastPathComponent()
        }
        return candidates.first { fm.fileExists(atPath: $0) }
    }

    /// The cluster part of the node's configuration, from the settings.
    static func applyCluster(_ settings: Settings, to config: inout NodeConfig) throws {
        config.nodeID = NodeID(settings.nodeId)
        config.region = settings.region
        config.zone = settings.zone
        config.join = settings.join
        config.preferredLeaderRegions = settings.preferredRegions
        config.electionTicks = settings.electionTicks
        config.heartbeatTicks = settings.heartbeatTicks
        config.leaderWaitMilliseconds = settings.leaderWaitMs
        config.forwardTimeoutMilliseconds = settings.forwardTimeoutMs
        config.forwardBatchesInFlight = settings.forwardBatchesInFlight
        config.forwardWaitMicroseconds = settings.forwardWaitUs
        let api = settings.advertiseApi.isEmpty ? "http://\(settings.host):\(settings.port)" : settings.advertiseApi
        config.advertisedPeerAddress = settings.peerListen
        config.advertisedAPIAddress = api
        config.initialMembers = try settings.peerMembers().map { peer in
            MemberInfo(
                id: NodeID(peer.id), peerAddress: "\(peer.host):\(peer.port)", apiAddress: peer.id == settings.nodeId ? api : "",
                region: peer.region, zone: peer.zone)
        }
    }

    /// ClusterWire's configuration: identity, the peer port, the founders' addresses, TLS.
    static func wireConfig(_ settings: Settings) throws -> WireConfig {
        guard let (host, port) = Settings.hostPort(settings.peerListen) else { throw SettingsError("peer_listen must be host:port") }
        var peers: [NodeID: PeerAddress] = [:]
        for peer in try settings.peerMembers() where peer.id != settings.nodeId {
            peers[NodeID(peer.id)] = PeerAddress(host: peer.host, port: peer.port)
        }
        let tls = settings.tlsCa.isEmpty
            ? nil
            : WireTLS(
                caCertificatePath: settings.tlsCa, certificatePath: settings.tlsCert, privateKeyPath: settings.tlsKey,
                requireClientCertificate: settings.tlsRequireClientCert,
                nodeNamePattern: settings.tlsNodeName.isEmpty ? nil : settings.tlsNodeName)
        var limits = WireLimits.default
        if let value = settings.wireLimits["wire_max_frame_bytes"] { limits.maxFrameBytes = value }
        if let value = settings.wireLimits["wire_max_queued_bytes_per_peer"] { limits.maxQueuedBytesPerPeer = value }
        if let value = settings.wireLimits["wire_max_queued_frames_per_peer"] { limits.maxQueuedFramesPerPeer = value }
        if let value = settings.wireLimits["wire_compression_threshold_bytes"] { limits.compressionThresholdBytes = value }
        if let value = settings.wireLimits["wire_connect_timeout_ms"] { limits.connectTimeoutMilliseconds = value }
        if let value = settings.wireLimits["wire_handshake_timeout_ms"] { limits.handshakeTimeoutMilliseconds = value }
        if let value = settings.wireLimits["wire_ping_interval_ms"] { limits.pingIntervalMilliseconds = value }
        if let value = settings.wireLimits["wire_idle_timeout_ms"] { limits.idleTimeoutMilliseconds = value }
        if let value = settings.wireLimits["wire_max_pending_requests_per_peer"] { limits.maxPendingRequestsPerPeer = value }
        var config = WireConfig(
            identity: WireIdentity(clusterID: settings.clusterId, nodeID: NodeID(settings.nodeId), region: settings.region, zone: settings.zone),
            listen: PeerAddress(host: host, port: port), peers: peers, tls: tls, limits: limits)
        config.sendDelays = try settings.peerSendDelays()
        return config
    }
}

extension Incidentd {
    /// The archiver and the historical queries when `archive_url` is set: nothing is dialed yet
    /// (a database that is down at startup only delays archiving, visible as `degraded` in `GET
    /// /api/v1/cluster`); a malformed URL or an unreadable password file stops startup naming
    /// the setting.
    static func archive(
        _ settings: Settings, node: IncidentNode, clock: @escaping @Sendable () -> Int64, logger: Logger
    ) throws -> (runner: ArchiveRunner, queries: ArchiveQueries)? {
        guard !settings.archiveUrl.isEmpty else { return nil }
        var password: PostgresPassword?
        if !settings.archivePasswordFile.isEmpty {
            guard FileManager.default.isReadableFile(atPath: settings.archivePasswordFile) else {
                throw SettingsError("archive_password_file: cannot read \(settings.archivePasswordFile)")
            }
            password = .file(path: settings.archivePasswordFile)
        } else if !settings.archivePassword.isEmpty {
            password = .literal(settings.archivePassword)
        }
        var archiveLogger = logger
        archiveLogger[metadataKey: "component"] = "archive"
        let store: ArchiveStore
        let queries: ArchiveQueries
        do {
            store = try ArchiveStore(url: settings.archiveUrl, password: password, clusterID: settings.clusterId, logger: archiveLogger)
            queries = try ArchiveQueries(url: settings.archiveUrl, password: password, clusterID: settings.clusterId, logger: archiveLogger)
        } catch {
            throw SettingsError("archive_url: \(error)")
        }
        let sink = PostgresArchiveSink(store: store, clock: clock)
        var runnerSettings = ArchiveRunner.Settings()
        runnerSettings.journalLimitBytes = settings.archiveJournalLimitBytes
        runnerSettings.maxRecordsPerBatch = settings.archiveBatchRecords
        archiveLogger.info("archiving into \(sink.redactedURL) while this node holds the archive lease")
        return (ArchiveRunner(node: node, sink: sink, settings: runnerSettings, logger: archiveLogger), queries)
    }
}
