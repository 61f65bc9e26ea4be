import XCTest

@testable import IncidentCore

/// API keys live in replicated state as SHA-256 hashes only, each with one role:
/// ingest / viewer / responder / admin.
final class APIKeyTests: XCTestCase {
    // SHA-256 of "alpha-secret" and "beta-secret" as the API layer would compute them; the state
    // machine only ever sees these.
    private let alpha = "3f8ad42d6dc52445378196cb2e49281f812253eaea7830fe46f4756f2ca0a3d4"
    private let beta = "d40ab4efae8afe82f0fda0f0fc785ff61bec7b5f329c6070c453594397e03568"

    private func key(_ id: String, role: Role = .responder, hash: String, owner: String? = nil) -> ConfigItem {
        .apiKey(APIKey(id: id, name: "\(id) key", role: role, secretHash: hash, owner: owner))
    }

    func testRolesGrantExactlyWhatTheIssueSays() {
        let expected: [Role: Set<Permission>] = [
            .ingest: [.ingest],
            .viewer: [.read],
            .responder: [.read, .respond],
            .admin: [.ingest, .read, .respond, .configure],
        ]
        for role in Role.allCases {
            let granted = Set(Permission.allCases.filter { role.allows($0) })
            XCTAssertEqual(granted, expected[role], role.name)
            XCTAssertEqual(Role(name: role.name), role)
        }
        XCTAssertEqual(Role.allCases.map(\.name), ["ingest", "viewer", "responder", "admin"])
        XCTAssertNil(Role(name: "root"))
        XCTAssertNil(Role(name: "Admin"))
    }

    func testAKeyIsFoundByItsHashAndRecordsWhoCreatedItWhen() {
        var h = Harness()
        // Creation facts in the command are ignored: the state machine stamps them.
        let forged = APIKey(id: "ci", name: "CI", role: .ingest, secretHash: alpha, createdAt: .epoch, createdBy: .user("mallory"))
        h.create(.apiKey(forged))
        let stored = h.machine.apiKey(secretHash: alpha)
        XCTAssertEqual(stored?.id, "ci")
        XCTAssertEqual(stored?.role, .ingest)
        XCTAssertEqual(stored?.createdAt, h.now)
        XCTAssertEqual(stored?.createdBy, Harness.admin)
        XCTAssertNil(h.machine.apiKey(secretHash: beta))
        XCTAssertNil(h.machine.apiKey(secretHash: alpha.uppercased()), "lookups are exact")
    }

    func testOnlyTheHashIsStored() {
        var h = Harness()
        h.create(key("ci", hash: alpha))
        let snapshot = h.machine.snapshot()
        XCTAssertNotNil(snapshot.firstRange(of: Array(alpha.utf8)), "the hash is state")
        XCTAssertNil(snapshot.firstRange(of: Array("alpha-secret".utf8)), "the secret never is")
        let fields = Mirror(reflecting: h.machine.config.apiKeys["ci"]!).children.compactMap(\.label)
        XCTAssertEqual(fields, ["id", "name", "role", "secretHash", "owner", "createdAt", "createdBy"], "no field could hold a secret")
    }

    func testTheHashMustLookLikeSHA256() {
        var h = Harness()
        for bad in [alpha.uppercased(), String(alpha.dropLast()), alpha + "0", String(alpha.dropLast()) + "g", "", "alpha-secret"] {
            let error = h.fail(.createConfig(key("k", hash: bad), actor: Harness.admin))
            XCTAssertEqual(error.code, .invalid)
            XCTAssertEqual(error.field, "secret_hash", bad)
        }
        XCTAssertEqual(h.machine.config.apiKeys.count, 0)
    }

    func testTwoKeysCannotShareASecret() {
        var h = Harness()
        h.create(key("first", hash: alpha))
        let error = h.fail(.createConfig(key("second", role: .admin, hash: alpha), actor: Harness.admin))
        XCTAssertEqual(error.code, .conflict)
        XCTAssertEqual(error.field, "secret_hash")
        XCTAssertEqual(h.machine.apiKey(secretHash: alpha)?.role, .responder, "the first key keeps its role")
        h.create(key("second", hash: beta))
        XCTAssertEqual(h.fail(.updateConfig(key("second", hash: alpha), actor: Harness.admin)).code, .conflict, "nor by rotating into it")
    }

    func testRotatingASecretMovesTheLookupAndKeepsCreationFacts() {
        var h = Harness()
        h.create(key("ops", hash: alpha))
        let created = h.machine.config.apiKeys["ops"]!
        h.ok(.updateConfig(.apiKey(APIKey(id: "ops", name: "ops key", role: .admin, secretHash: beta, createdBy: .user("mallory"))), actor: .user("carol")), after: 60_000)
        XCTAssertNil(h.machine.apiKey(secretHash: alpha), "the old secret stops working at once")
        let rotated = h.machine.apiKey(secretHash: beta)
        XCTAssertEqual(rotated?.role, .admin)
        XCTAssertEqual(rotated?.createdAt, created.createdAt)
        XCTAssertEqual(rotated?.createdBy, Harness.admin)
        // Re-applying the same hash to the same key is not a conflict with itself.
        h.ok(.updateConfig(key("ops", role: .viewer, hash: beta), actor: Harness.admin))
        XCTAssertEqual(h.machine.apiKey(secretHash: beta)?.role, .viewer)
    }

    func testDeletingAKeyRevokesIt() {
        var h = Harness()
        h.create(key("temp", hash: alpha))
        h.ok(.deleteConfig(kind: .apiKey, id: "temp", actor: Harness.admin))
        XCTAssertNil(h.machine.apiKey(secretHash: alpha))
        h.create(key("again", hash: alpha))
        XCTAssertEqual(h.machine.apiKey(secretHash: alpha)?.id, "again", "the secret may be reused after revocation")
    }

    func testAPersonalKeyNamesAnExistingUserWhoThenCannotBeDeleted() {
        var h = Harness()
        XCTAssertEqual(h.fail(.createConfig(key("mine", hash: alpha, owner: "alice"), actor: Harness.admin)).field, "owner")
        h.create(.user(User(id: "alice", name: "Alice")))
        h.create(key("mine", hash: alpha, owner: "alice"))
        let error = h.fail(.deleteConfig(kind: .user, id: "alice", actor: Harness.admin))
        XCTAssertEqual(error.code, .inUse)
        XCTAssertEqual(error.references, ["api_key:mine (owner)"])
    }

    func testKeysWithoutAnIDGetOneFromTheSequence() {
        var h = Harness()
        XCTAssertEqual(h.ok(.createConfig(key("", hash: alpha), actor: Harness.admin)).result, .configChanged(.apiKey, id: "key-1"))
        XCTAssertEqual(h.ok(.createConfig(key("", hash: beta), actor: Harness.admin)).result, .configChanged(.apiKey, id: "key-2"))
    }

    func testLookupsSurviveASnapshotRestore() throws {
        var h = Harness()
        h.create(key("a", role: .ingest, hash: alpha))
        h.create(key("b", role: .viewer, hash: beta))
        h.ok(.updateConfig(key("a", role: .ingest, hash: String(repeating: "e", count: 64)), actor: Harness.admin))
        let restored = try IncidentStateMachine(snapshot: h.machine.snapshot())
        XCTAssertNil(restored.apiKey(secretHash: alpha))
        XCTAssertEqual(restored.apiKey(secretHash: String(repeating: "e", count: 64))?.id, "a")
        XCTAssertEqual(restored.apiKey(secretHash: beta)?.role, .viewer)
        XCTAssertEqual(restored.config, h.machine.config)
    }
}
