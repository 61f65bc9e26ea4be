import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// The cluster endpoints and headers on a single node (multi-node behaviour: ClusterNodeTests
/// and the integration tests).
final class ClusterRoutesTests: XCTestCase {
    func testStatusListsMembersWithRegionAndHealthAndAnswersCarryNodeHeaders() async throws {
        try await withAPI { client, _ in
            let cluster = try await client.get("/api/v1/cluster", as: .viewer)
            XCTAssertEqual(cluster.status, .ok, cluster.text)
            XCTAssertEqual(cluster.json["node_id"]?.int, 1)
            XCTAssertEqual(cluster.json["role"]?.string, "leader")
            let member = cluster.json["members"]?[0]
            XCTAssertEqual(member?["kind"]?.string, "voter")
            XCTAssertEqual(member?["health"]?.string, "healthy")
            XCTAssertEqual(member?["region"]?.string, "default")
            XCTAssertEqual(cluster.json["nearest_healthy"]?["default"]?["id"]?.int, 1)
            XCTAssertEqual(cluster.headers[HTTPField.Name("X-Incidentd-Node")!], "1")
            XCTAssertEqual(cluster.headers[HTTPField.Name("X-Incidentd-Leader")!], "1")

            let missing = try await client.get("/api/v1/nope", as: .viewer)
            XCTAssertEqual(missing.headers[HTTPField.Name("X-Incidentd-Node")!], "1", "errors carry the headers too")
        }
    }

    func testLocalReadsCarryTheAppliedIndexAndBadConsistencyIs400() async throws {
        try await withAPI { client, _ in
            _ = try await client.trigger(title: "local read")
            let local = try await client.get("/api/v1/incidents?consistency=local", as: .viewer)
            XCTAssertEqual(local.status, .ok)
            XCTAssertEqual(local.json["incidents"]?[0]?["title"]?.string, "local read")
            let applied = try XCTUnwrap(local.headers[HTTPField.Name("X-Incidentd-Applied-Index")!].flatMap { Int($0) })
            XCTAssertGreaterThan(applied, 1)
            XCTAssertNotNil(local.headers[HTTPField.Name("X-Incidentd-Staleness-Ms")!])
            let linearizable = try await client.get("/api/v1/incidents?consistency=linearizable", as: .viewer)
            XCTAssertEqual(linearizable.status, .ok)
            XCTAssertNil(linearizable.headers[HTTPField.Name("X-Incidentd-Applied-Index")!])
            let bad = try await client.get("/api/v1/incidents?consistency=eventual", as: .viewer)
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(bad.errorField, "consistency")
        }
    }

    func testMembershipRequestsAreValidated() async throws {
        try await withAPI { client, _ in
            let noAddress = try await client.post("/api/v1/cluster/members", as: .admin, #"{"id": 2, "region": "eu"}"#)
            XCTAssertEqual(noAddress.status, .badRequest)
            XCTAssertEqual(noAddress.errorField, "address")
            let badAddress = try await client.post("/api/v1/cluster/members", as: .admin, #"{"id": 2, "address": "nohost", "region": "eu"}"#)
            XCTAssertEqual(badAddress.errorField, "address")
            let zero = try await client.post("/api/v1/cluster/members", as: .admin, #"{"id": 0, "address": "127.0.0.1:7102", "region": "eu"}"#)
            XCTAssertEqual(zero.errorField, "id")
            let unknown = try await client.post("/api/v1/cluster/members/7/promote", as: .admin)
            XCTAssertEqual(unknown.status, .notFound)
            let notVoter = try await client.post("/api/v1/cluster/leader/transfer", as: .admin, #"{"target": 9}"#)
            XCTAssertEqual(notVoter.errorField, "target")
            let asResponder = try await client.post("/api/v1/cluster/leader/transfer", as: .responder, #"{"target": 1}"#)
            XCTAssertEqual(asResponder.status, .forbidden)
        }
    }

    func testASnapshotCanBeDownloaded() async throws {
        try await withAPI { client, _ in
            _ = try await client.trigger(title: "backed up")
            let snapshot = try await client.get("/api/v1/cluster/snapshot", as: .admin)
            XCTAssertEqual(snapshot.status, .ok)
            XCTAssertEqual(Array(snapshot.bytes.prefix(4)), Array("IMRS".utf8))
            let index = try XCTUnwrap(snapshot.headers[HTTPField.Name("X-Snapshot-Index")!].flatMap { Int($0) })
            XCTAssertGreaterThan(index, 1)
            XCTAssertEqual(snapshot.headers[.contentType], "application/octet-stream")
        }
    }
}
