import Archiver
import ArgumentParser
import ClusterNode
import ClusterWire
import Foundation
import Hummingbird
import IncidentAPI
import IncidentCore
import Logging
import Metrics
import Notifier
import Prometheus
import ServiceLifecycle

/// `incidentd`: one node of LLM-Incident-Manager. With no arguments it runs a single-node cluster
/// on ./data and serves http://127.0.0.1:8080.
@main
struct Incidentd: AsyncParsableCommand {
    static let version = "0.4.0"
    static let configuration = CommandConfiguration(
        commandName: "incidentd",
        abstract: "Incident manager node: REST API, Raft-replicated incident state, escalations and notifications.",
        discussion: """
            Every option can also be set by the environment variable INCIDENTD_<NAME> (e.g. INCIDENTD_DATA_DIR) or by a \
            key <name> (snake_case, e.g. data_dir) in the JSON file given with --config. Flags win over the environment, \
            the environment over the file. INCIDENTD_BOOTSTRAP_ADMIN_KEY sets the admin API key (otherwise one is \
            generated on first start and printed once).
            """,
        version: version)

    @Option(help: "JSON configuration file (env INCIDENTD_CONFIG).") var config: String?
    @Option(name: .customLong("data-dir"), help: "Data directory: Raft log and snapshots. (default: ./data)") var dataDir: String?
    @Option(help: "Address to listen on. (default: 127.0.0.1)") var host: String?
    @Option(help: "HTTP port. (default: 8080)") var port: Int?
    @Option(name: .customLong("log-level"), help: "trace|debug|info|notice|warning|error|critical (default: info)") var logLevel: String?
    @Option(name: .customLong("log-format"), help: "text|json (default: text)") var logFormat: String?
    @Option(name: .customLong("tick-interval-ms"), help: "Raft tick and timer resolution in ms. (default: 100)") var tickIntervalMs: Int?
    @Option(name: .customLong("snapshot-every-entries"), help: "Snapshot and compact after this many entries. (default: 100000)") var snapshotEveryEntries: Int?
    @Option(name: .customLong("snapshot-every-bytes"), help: "...or after this many bytes of entries, which bounds the log held in memory. (default: 33554432)") var snapshotEveryBytes: Int?
    @Option(name: .customLong("max-batch-commands"), help: "Commands per log append (group commit). (default: 1024)") var maxBatchCommands: Int?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body. (default: 1048576)") var maxBodyBytes: Int?
    @Option(name: .customLong("rate-limit-rps"), help: "Requests per second per API key. (default: 100)") var rateLimitRps: Double?
    @Option(name: .customLong("rate-limit-burst"), help: "Burst per API key. (default: 200)") var rateLimitBurst: Double?
    @Option(name: .customLong("dashboard-url"), help: "Base URL linked from notifications. (default: none)") var dashboardUrl: String?
    @Option(name: .customLong("delivery-timeout-ms"), help: "Timeout of one notification attempt. (default: 5000)") var deliveryTimeoutMs: Int?
    @Option(name: .customLong("max-delivery-concurrency"), help: "Notification attempts in flight. (default: 64)") var maxDeliveryConcurrency: Int?
    @Option(name: .customLong("openapi-path"), help: "OpenAPI document to serve. (default: docs/api/openapi.json found from the working directory or the executable)") var openapiPath: String?
    @Option(
        name: .customLong("clock-offset-file"),
        help: """
            Drill/testing only (clock-jump drills): the node's clock becomes the wall clock plus the whole number of \
            milliseconds in this file, re-read at most every 50 ms (missing or empty file = 0). Never in production. \
            (default: none)
            """) var clockOffsetFile: String?
    @Option(name: .customLong("node-id"), help: "This member's id in the cluster (> 0). (default: 1)") var nodeId: Int?
    @Option(name: .customLong("cluster-id"), help: "Cluster name; peers with another one are refused. (default: incidentd)") var clusterId: String?
    @Option(help: "Region this node runs in. (default: default)") var region: String?
    @Option(help: "Zone within the region. (default: none)") var zone: String?
    @Option(name: .customLong("peer-listen"), help: "host:port of the peer (replication) port; without it the node runs alone. (default: none)") var peerListen: String?
    @Option(help: "Founding members, id=host:port@region[/zone],... including this node. (default: none)") var peers: String?
    @Flag(help: "Start empty and wait to be added to a running cluster (as a learner).") var join = false
    @Option(name: .customLong("snapshot-log-ratio"), help: "Once the state is large, take a snapshot after about this many times its size of log; 0 = every --snapshot-every-entries whatever the state. (default: 0.5)") var snapshotLogRatio: Double?
    @Option(name: .customLong("snapshot-reuse-bytes"), help: "Bytes of unchanged incidents' encodings kept in memory for the next snapshot to copy instead of encoding again; 0 keeps none. (default: 33554432)") var snapshotReuseBytes: Int?
    @Option(name: .customLong("snapshot-nice"), help: "Nice value (0-19) of the thread that encodes and writes snapshots; higher leaves more CPU to requests. (default: 10)") var snapshotNice: Int?
    @Option(name: .customLong("busy-sync-interval-us"), help: "Under load, the least time between two log fsyncs, so each carries more writes; 0 = off. (default: 1000)") var busySyncIntervalUs: Int?
    @Option(name: .customLong("wal-preallocation-bytes"), help: "Zeros kept written ahead of the log's records, so that log fsyncs commit no file growth; 0 = off. (default: 1048576)") var walPreallocationBytes: Int?
    @Option(name: .customLong("commit-announcement-delay-us"), help: "How long a leader may leave followers without a new commit index, waiting for the next entries to carry it (fewer messages; followers' state shows a write up to this much later, except the follower a write came through, which learns its commit from the leader's answer); 0 = tell them at once. (default: 2000)") var commitAnnouncementDelayUs: Int?
    @Flag(name: .customLong("inline-log-sync"), help: "Block the consensus loop on each log fsync instead of running it on a thread of its own (for comparison).") var inlineLogSync = false
    @Option(name: .customLong("preferred-leader-regions"), help: "Comma-separated regions whose members should lead. (default: none)") var preferredLeaderRegions: String?
    @Option(name: .customLong("peer-send-delay-ms"), help: "Drills only: simulated one-way latency to peers by region, region=ms,... (a WAN on one machine; cluster/wan-5.json). (default: none)") var peerSendDelayMs: String?
    @Option(name: .customLong("advertise-api"), help: "API address others should use for this node. (default: http://HOST:PORT)") var advertiseApi: String?
    @Option(name: .customLong("election-ticks"), help: "Ticks without a leader before an election (≥ 10× the RTT in ticks). (default: 10)") var electionTicks: Int?
    @Option(name: .customLong("heartbeat-ticks"), help: "Ticks between leader heartbeats (≈ the RTT). (default: 1)") var heartbeatTicks: Int?
    @Option(name: .customLong("leader-wait-ms"), help: "How long a write waits for a leader before 503. (default: 3000)") var leaderWaitMs: Int?
    @Option(name: .customLong("forward-timeout-ms"), help: "How long a forwarded write waits for the leader's answer. (default: 5000)") var forwardTimeoutMs: Int?
    @Option(name: .customLong("forward-batches-in-flight"), help: "Batches of forwarded writes a follower keeps out to the leader at once where batches come back quickly (1-64). (default: 2)") var forwardBatchesInFlight: Int?
    @Option(name: .customLong("forward-wait-us"), help: "About how long a forwarded write should wait for a batch out to come back: across a WAN the follower keeps the quickest batch round trip / this many out (0-1000000 µs; 0 = only --forward-batches-in-flight). (default: 2000)") var forwardWaitUs: Int?
    @Option(name: .customLong("tls-ca"), help: "Cluster CA certificate (PEM) for the peer port. (default: none, plain TCP)") var tlsCa: String?
    @Option(name: .customLong("tls-cert"), help: "This node's certificate (PEM). (default: none)") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "This node's private key (PEM). (default: none)") var tlsKey: String?
    @Flag(name: .customLong("tls-require-client-cert"), help: "Mutual TLS: refuse peers without a certificate from the cluster CA.") var tlsRequireClientCert = false
    @Option(name: .customLong("archive-url"), help: "Archive committed changes into this PostgreSQL database (postgres://user@host:port/db?sslmode=...; no password in it). (default: none, no archival)") var archiveUrl: String?
    @Option(name: .customLong("archive-password-file"), help: "File holding the archive user's password (or set INCIDENTD_ARCHIVE_PASSWORD). (default: none)") var archivePasswordFile: String?
    @Option(name: .customLong("archive-journal-limit-bytes"), help: "Unarchived changes kept per node before the oldest are dropped and recorded as a gap. (default: 268435456)") var archiveJournalLimitBytes: Int?
    @Option(name: .customLong("archive-batch-records"), help: "Most log entries per archive batch. (default: 5000)") var archiveBatchRecords: Int?
    @Option(name: .customLong("tls-node-name"), help: "With TLS: the name a peer's certificate must carry, {id} = its node id; empty = unchecked. (default: node-{id})") var tlsNodeName: String?

    func resolvedSettings() throws -> Settings {
        var settings = Settings()
        let environment = ProcessInfo.processInfo.environment
        if let file = config ?? environment["INCIDENTD_CONFIG"] { try settings.load(file: file) }
        try settings.loadEnvironment(environment)
        let flags: [(String, String?)] = [
            ("data_dir", dataDir), ("host", host), ("port", port.map(String.init)), ("log_level", logLevel),
            ("log_format", logFormat), ("tick_interval_ms", tickIntervalMs.map(String.init)),
            ("snapshot_every_entries", snapshotEveryEntries.map(String.init)), ("snapshot_every_bytes", snapshotEveryBytes.map(String.init)), ("snapshot_nice", snapshotNice.map(String.init)), ("snapshot_reuse_bytes", snapshotReuseBytes.map(String.init)), ("snapshot_log_ratio", snapshotLogRatio.map { "\($0)" }), ("inline_log_sync", inlineLogSync ? "true" : nil), ("busy_sync_interval_us", busySyncIntervalUs.map(String.init)), ("wal_preallocation_bytes", walPreallocationBytes.map(String.init)), ("commit_announcement_delay_us", commitAnnouncementDelayUs.map(String.init)), ("max_batch_commands", maxBatchCommands.map(String.init)),
            ("max_body_bytes", maxBodyBytes.map(String.init)), ("rate_limit_rps", rateLimitRps.map { "\($0)" }),
            ("rate_limit_burst", rateLimitBurst.map { "\($0)" }), ("dashboard_url", dashboardUrl),
            ("delivery_timeout_ms", deliveryTimeoutMs.map(String.init)), ("max_delivery_concurrency", maxDeliveryConcurrency.map(String.init)),
            ("openapi_path", openapiPath), ("clock_offset_file", clockOffsetFile),
            ("node_id", nodeId.map(String.init)), ("cluster_id", clusterId), ("region", region), ("zone", zone),
            ("peer_listen", peerListen), ("peers", peers), ("join", join ? "true" : nil),
            ("preferred_leader_regions", preferredLeaderRegions), ("advertise_api", advertiseApi),
            ("peer_send_delay_ms", peerSendDelayMs),
            ("election_ticks", electionTicks.map(String.init)), ("heartbeat_ticks", heartbeatTicks.map(String.init)),
            ("leader_wait_ms", leaderWaitMs.map(String.init)), ("forward_timeout_ms", forwardTimeoutMs.map(String.init)),
            ("forward_batches_in_flight", forwardBatchesInFlight.map(String.init)), ("forward_wait_us", forwardWaitUs.map(String.init)),
            ("tls_ca", tlsCa), ("tls_cert", tlsCert), ("tls_key", tlsKey), ("tls_require_client_cert", tlsRequireClientCert ? "true" : nil), ("tls_node_name", tlsNodeName),
            ("archive_url", archiveUrl), ("archive_password_file", archivePasswordFile),
            ("archive_journal_limit_bytes", archiveJournalLimitBytes.map(String.init)), ("archive_batch_records", archiveBatchRecords.map(String.init)),
        ]
        for case (let key, let value?) in flags { try settings.set(key, value, source: "--\(key.replacingOccurrences(of: "_", with: "-"))") }
        try settings.validate()
        return settings
    }

    func run() async throws {
        let settings: Settings
        do { settings = try resolvedSettings() } catch {
            throw ValidationError("\(error)")
        }
        let logger = Self.bootstrapLogging(settings)
        if Allocator.isJemalloc {
            logger.info("allocator: \(Allocator.description)")
        } else {
            logger.warning("allocator: \(Allocator.description)")
        }
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        // A log append is one write and one fdatasync: usually well under a millisecond, where
        // the default buckets (from 5 ms) would put every append in the first one.
        // The same for the consensus loop's turns.
        let fine: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        metricsFactory.durationHistogramBuckets["incidentd_log_append_seconds"] = fine
        metricsFactory.durationHistogramBuckets["incidentd_loop_turn_seconds"] = fine
        MetricsSystem.bootstrap(metricsFactory)
        let clock = Self.nodeClock(settings, logger: logger)

        var notifierConfig = NotifierConfig()
        notifierConfig.requestTimeoutMilliseconds = Int64(settings.deliveryTimeoutMs)
        notifierConfig.maxConcurrentDeliveries = settings.maxDeliveryConcurrency
        notifierConfig.dashboardBaseURL = settings.dashboardUrl
        let notifier = try Notifier(config: notifierConfig, logger: logger, now: { Timestamp(millisecondsSinceEpoch: clock()) })
        let delivery = NotifierDelivery(notifier: notifier)

        var nodeConfig = NodeConfig(dataDirectory: settings.dataDir)
        nodeConfig.tickIntervalMilliseconds = settings.tickIntervalMs
        nodeConfig.snapshotEveryEntries = UInt64(settings.snapshotEveryEntries)
        nodeConfig.snapshotEveryBytes = settings.snapshotEveryBytes
        nodeConfig.maxLogBytesBetweenSnapshots = max(nodeConfig.maxLogBytesBetweenSnapshots, settings.snapshotEveryBytes)
        nodeConfig.deferLogSyncs = !settings.inlineLogSync
        nodeConfig.minBusySyncIntervalMicroseconds = settings.busySyncIntervalUs
        nodeConfig.commitAnnouncementDelayMicroseconds = settings.commitAnnouncementDelayUs
        nodeConfig.snapshotThreadNice = Int32(settings.snapshotNice)
        nodeConfig.snapshotReuseBytes = settings.snapshotReuseBytes
        nodeConfig.snapshotLogRatio = settings.snapshotLogRatio
        nodeConfig.storage.preallocationBytes = settings.walPreallocationBytes
        nodeConfig.maxBatchCommands = settings.maxBatchCommands
        nodeConfig.maxConcurrentDeliveries = settings.maxDeliveryConcurrency
        nodeConfig.dispatchLeaseReserveMilliseconds = Int64(settings.deliveryTimeoutMs) + 1_000
        // Renewed when a third of the time beyond the reserve is left: every 2 s with these values;
        // pages of a failed holder's scope pause for at most the lease.
        nodeConfig.dispatchLeaseMilliseconds = max(12_000, nodeConfig.dispatchLeaseReserveMilliseconds + 3_000)
        var wire: ClusterWire?
        let relay = NodeRelay(logger: logger)
        if settings.isClustered {
            do {
                try Self.applyCluster(settings, to: &nodeConfig)
                wire = try ClusterWire(config: try Self.wireConfig(settings), delegate: relay, logger: logger)
                try await wire!.start()
            } catch {
                try? await notifier.shutdown()
                logger.critical("cannot open the peer port: \(error)")
                throw ExitCode(1)
            }
        }
        let node: IncidentNode
        do {
            let transport = wire.map { WireTransport(wire: $0, logger: logger) }
            node = try IncidentNode(config: nodeConfig, logger: logger, delivery: delivery, clock: clock, transport: transport)
            relay.attach(node)
        } catch {
            await wire?.shutdown()
            try? await notifier.shutdown()
            logger.critical("cannot start the node: \(error)")
            throw ExitCode(1)
        }
        if settings.isClustered {
            Self.bootstrapAdminKeyWhenLeaderKnown(node: node, logger: logger)
        } else {
            try await Self.bootstrapAdminKey(node: node, logger: logger)
        }

        let archive: (runner: ArchiveRunner, queries: ArchiveQueries)?
        do { archive = try Self.archive(settings, node: node, clock: clock, logger: logger) } catch {
            await node.shutdown()
            await wire?.shutdown()
            try? await notifier.shutdown()
            logger.critical("cannot set up archival: \(error)")
            throw ExitCode(1)
        }

        var api = APISettings(version: Self.version, logger: logger)
        let archiver = archive?.runner
        if let archive {
            api.archiverStatus = { archive.runner.status }
            api.archiveQueries = archive.queries
        }
        api.maxBodyBytes = settings.maxBodyBytes
        api.rateLimitRequestsPerSecond = settings.rateLimitRps
        api.rateLimitBurst = settings.rateLimitBurst
        api.metricsRenderer = { registry.emitToString() }
        api.clockMilliseconds = clock
        api.channelTester = { channel in await delivery.test(channel, now: Timestamp(millisecondsSinceEpoch: clock())) }
        if let path = Self.findOpenAPIDocument(settings.openapiPath) {
            api.openAPIDocument = try APISettings.readOpenAPIDocument(at: path)
        } else {
            logger.warning("docs/api/openapi.json not found; GET /api/v1/openapi.json answers 404 (set --openapi-path)")
        }
        try api.validate()

        let (router, server) = makeRouterAndServer(node: node, settings: api, serverName: "incidentd")
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "incidentd"),
            services: [NodeService(node: node, notifier: notifier, wire: wire, archiver: archiver, logger: logger)],
            onServerRunning: { _ in
                logger.info("incidentd \(Self.version) serving http://\(settings.host):\(settings.port) with data in \(settings.dataDir)")
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
