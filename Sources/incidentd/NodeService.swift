import Archiver
import ClusterNode
import ClusterWire
import Logging
import Notifier
import ServiceLifecycle

/// Keeps the node and the notifier alive for the lifetime of the process and closes them after
/// the HTTP server stopped (services shut down in reverse order): pending writes fail with 503,
/// the log is closed cleanly.
struct NodeService: Service {
    let node: IncidentNode
    let notifier: Notifier
    /// The peer port, when the node is part of a cluster; closed after the node stopped.
    let wire: ClusterWire?
    /// Archives into PostgreSQL while this node holds the archive lease (`--archive-url`).
    let archiver: ArchiveRunner?
    let logger: Logger

    func run() async throws {
        let archiving = archiver.map { runner in Task { await runner.run() } }
        try? await gracefulShutdown()
        logger.info("shutting down the node")
        archiver?.stop()
        archiving?.cancel()
        await archiving?.value
        await node.shutdown()
        await wire?.shutdown()
        try? await notifier.shutdown()
    }
}
