/// One writer per node, each posting events one after another (titles `<prefix> <node>-<n>`)
/// until `stop()`; failures during a failover are fine, every 202 is recorded.
struct LoadWriters {
    let acknowledged = Locked<Set<String>>([])
    private let stopped = Locked(false)
    private let tasks: [Task<Void, Never>]

    init(_ cluster: IncidentdCluster, prefix: String) {
        let (acknowledged, stopped) = (acknowledged, stopped)
        tasks = cluster.nodes.keys.sorted().map { id in
            let client = cluster.nodes[id]!.admin
            return Task {
                var n = 0
                while !stopped.value {
                    n += 1
                    let title = "\(prefix) \(id)-\(n)"
                    let body = Array(eventBody(title, service: "\(prefix)-\(id)-\(n)").utf8)
                    if let answer = try? await client.send(.POST, "/api/v1/events", body: body, timeoutSeconds: 5), answer.status == 202 {
                        acknowledged.withLock { _ = $0.insert(title) }
                    } else {
                        try? await Task.sleep(nanoseconds: 20_000_000)
                    }
                }
            }
        }
    }

    /// Stops the writers and waits for them; returns the titles acknowledged.
    func stop() async -> Set<String> {
        stopped.withLock { $0 = true }
        for task in tasks { await task.value }
        return acknowledged.value
    }
}
