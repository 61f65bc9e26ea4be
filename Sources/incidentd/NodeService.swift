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
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down the node")
        await node.shutdown()
        await wire?.shutdown()
        try? await notifier.shutdown()
    }
}
