import IncidentdTesting
import XCTest

/// Base class of the integration tests: owns the cleanup and offers a node.
class IncidentdTestCase: XCTestCase {
    let cleanup = TestCleanup()

    override func tearDown() async throws {
        await cleanup.run()
        try await super.tearDown()
    }

    /// A started node (fresh data directory) plus anything else passed as flags.
    func startedNode(_ extraArguments: [String] = []) async throws -> IncidentdNode {
        try await IncidentdNode.started(cleanup: cleanup, extraArguments: extraArguments)
    }
}

extension IncidentdNode {
    /// A client with the admin key, and one per other key on demand.
    var admin: APIClient { client(key: Self.adminKey) }
    func client(key: String?) -> APIClient { APIClient(http: http, baseURL: baseURL, key: key) }
}
