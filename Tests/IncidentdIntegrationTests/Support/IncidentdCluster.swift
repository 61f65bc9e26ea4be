import Foundation
import IncidentdTesting

/// Several real `incidentd` processes on loopback forming one cluster: API and peer ports
/// picked free, one data directory each, the same `--peers` list for every founder.
final class IncidentdCluster {
    let cleanup: TestCleanup
    let clusterID: String
    private(set) var nodes: [Int: IncidentdNode] = [:]
    let peerPorts: [Int: Int]
    let regions: [Int: String]
    let common: [String]

    init(cleanup: TestCleanup, count: Int, regions: [String]? = nil, clusterID: String = "itest", extra: [String] = [], perNode: (Int) -> [String] = { _ in [] }) throws {
        self.cleanup = cleanup
        self.clusterID = clusterID
        var ports: [Int: Int] = [:]
        var regionOf: [Int: String] = [:]
        for id in 1...count {
            ports[id] = try IncidentdProcess.freeLoopbackPort()
            regionOf[id] = regions?[id - 1] ?? "region-\(id)"
        }
        peerPorts = ports
        self.regions = regionOf
        common = extra
        let peers = (1...count).map { "\($0)=127.0.0.1:\(ports[$0]!)@\(regionOf[$0]!)" }.joined(separator: ",")
        for id in 1...count {
            nodes[id] = try IncidentdNode(
                cleanup: cleanup,
                extraArguments: [
                    "--node-id", String(id), "--cluster-id", clusterID, "--region", regionOf[id]!,
                    "--peer-listen", "127.0.0.1:\(ports[id]!)", "--peers", peers, "--election-ticks", "10",
                ] + extra + perNode(id))
        }
    }

    /// A node that joins later: its own peer port, `--join`, no founders list.
    func addJoiner(id: Int, region: String, extra: [String] = []) throws -> (node: IncidentdNode, peerPort: Int) {
        let port = try IncidentdProcess.freeLoopbackPort()
        let node = try IncidentdNode(
            cleanup: cleanup,
            extraArguments: [
                "--node-id", String(id), "--cluster-id", clusterID, "--region", region, "--peer-listen", "127.0.0.1:\(port)", "--join",
            ] + common + extra)
        nodes[id] = node
        return (node, port)
    }

    func startAll() async throws {
        for id in nodes.keys.sorted() where nodes[id]!.process?.isRunning != true { try await nodes[id]!.start() }
    }

    /// The leader node `id` knows (from `/api/v1/ready`, which needs no key), 0 when none.
    func leaderSeen(by id: Int) async -> Int {
        guard let node = nodes[id], node.process?.isRunning == true,
            let answer = try? await node.client(key: nil).send(.GET, "/api/v1/ready", timeoutSeconds: 2)
        else { return 0 }
        return answer.json["components"]?["consensus"]?["leader"]?.int ?? 0
    }

    /// Waits until the running nodes among `among` (default: all running) agree on one leader.
    func leader(within seconds: Double = 20, among: Set<Int>? = nil) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let ids = (among ?? Set(nodes.keys)).filter { nodes[$0]?.process?.isRunning == true }.sorted()
            var seen: [Int] = []
            for id in ids { seen.append(await leaderSeen(by: id)) }
            if let first = seen.first, first != 0, seen.allSatisfy({ $0 == first }), ids.contains(first) {
                // The admin key is written right after the first election; wait for it too.
                if (try? await nodes[first]!.admin.get("/api/v1/cluster?consistency=local"))?.status == 200 { return first }
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw HarnessError("no agreed leader within \(seconds) s; logs:\n" + nodes.keys.sorted().map { "node \($0): \(nodes[$0]!.logs.suffix(1_500))" }.joined(separator: "\n"))
    }

    /// Titles of every open incident on node `id`, read locally once it applied `index`.
    func titles(on id: Int, appliedAtLeast index: Int, within seconds: Double = 20) async throws -> Set<String> {
        let client = nodes[id]!.admin
        let caughtUp = await eventually(seconds) {
            let answer = try? await client.get("/api/v1/cluster?consistency=local")
            return (answer?.json["applied_index"]?.int ?? 0) >= index
        }
        guard caughtUp else { throw HarnessError("node \(id) did not apply \(index) within \(seconds) s") }
        var titles: Set<String> = []
        var cursor: String?
        repeat {
            var page = try await client.get("/api/v1/incidents?consistency=local&limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
            // The load the tests run shares this API key and its per-node rate limit.
            for _ in 0..<10 where page.status == 429 {
                try await Task.sleep(nanoseconds: 500_000_000)
                page = try await client.get("/api/v1/incidents?consistency=local&limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
            }
            guard page.status == 200 else { throw HarnessError("node \(id) answered the incident list with \(page.status): \(page)") }
            for incident in page.json["incidents"]?.array ?? [] { if let title = incident["title"]?.string { titles.insert(title) } }
            cursor = page.json["next_cursor"]?.string
        } while cursor != nil
        return titles
    }

    func commitIndex(of id: Int) async throws -> Int {
        try await nodes[id]!.admin.get("/api/v1/cluster?consistency=local").json["commit_index"]?.int ?? 0
    }
}

func eventBody(_ title: String, service: String = "chat-api") -> String {
    #"{"source": "itest", "title": \#(quoted(title)), "severity": "high", "resource": {"type": "service", "id": \#(quoted(service))}}"#
}
