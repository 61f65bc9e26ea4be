import Archive
import Dispatch
import Locking
import Logging
import Synchronization

/// Historical analytics from PostgreSQL for the API: a few `ArchiveAnalytics` connections, each
/// used on a serial queue of its own (libpq blocks), handed out round-robin. Separate from the
/// archiver's writer connection, so a slow report never delays archiving.
public final class ArchiveQueries: Sendable {
    private let lanes: [Lane]
    private let next = Atomic<Int>(0)

    private final class Lane: Sendable {
        let analytics: Lock<ArchiveAnalytics>
        let queue: DispatchQueue

        init(_ analytics: sending ArchiveAnalytics, index: Int) {
            self.analytics = Lock(analytics)
            queue = DispatchQueue(label: "incidentd-archive-query-\(index)")
        }
    }

    /// Does not connect yet; the first query does. Throws for a malformed URL.
    public init(url: String, password: PostgresPassword?, clusterID: String, connections: Int = 2, logger: Logger) throws {
        var lanes: [Lane] = []
        for index in 0..<max(1, connections) {
            lanes.append(Lane(try ArchiveAnalytics(url: url, password: password, clusterID: clusterID, logger: logger), index: index))
        }
        self.lanes = lanes
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (ArchiveAnalytics) throws -> T) async throws -> T {
        let lane = lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count]
        return try await withCheckedThrowingContinuation { continuation in
            lane.queue.async {
                continuation.resume(with: Result { try lane.analytics.withLock { try body($0) } })
            }
        }
    }

    public func close() {
        for lane in lanes { lane.analytics.withLock { $0.close() } }
    }
}
