import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// Configuration CRUD through the API, and that what is configured takes effect on events.
final class ConfigTests: XCTestCase {
    func testUsersAndTeamsCreateReadReplacePatchDelete() async throws {
        try await withAPI { client, _ in
            let alice = try await client.post("/api/v1/users", as: .admin, #"{"id":"alice","name":"Alice","email":"alice@example.com","time_zone":"Europe/Berlin"}"#)
            XCTAssertEqual(alice.status, .created, alice.text)
            XCTAssertEqual(alice.headers[.location], "/api/v1/users/alice")
            XCTAssertEqual(alice.json["time_zone"]?.string, "Europe/Berlin")

            let generated = try await client.post("/api/v1/users", as: .admin, #"{"name":"Bob"}"#)
            XCTAssertEqual(generated.status, .created)
            let bobID = try XCTUnwrap(generated.json["id"]?.string)
            XCTAssertTrue(bobID.hasPrefix("user-"), bobID)

            let duplicate = try await client.post("/api/v1/users", as: .admin, #"{"id":"alice","name":"Alice again"}"#)
            XCTAssertEqual(duplicate.status, .conflict)
            XCTAssertEqual(duplicate.errorCode, "conflict")

            let list = try await client.get("/api/v1/users", as: .viewer)
            XCTAssertEqual(list.json["items"]?.array?.compactMap { $0["id"]?.string }.sorted(), ["alice", bobID].sorted())

            let team = try await client.post("/api/v1/teams", as: .admin, #"{"id":"ml-infra","name":"ML Infra","members":["alice"]}"#)
            XCTAssertEqual(team.status, .created, team.text)

            let replaced = try await client.send(.put, "/api/v1/users/alice", as: .admin, body: #"{"name":"Alice Smith"}"#)
            XCTAssertEqual(replaced.status, .ok, replaced.text)
            XCTAssertEqual(replaced.json["name"]?.string, "Alice Smith")
            XCTAssertEqual(replaced.json["email"]?.string, "", "PUT replaces the whole item")

            let patched = try await client.send(.patch, "/api/v1/users/alice", as: .admin, body: #"{"slack_id":"U123"}"#)
            XCTAssertEqual(patched.json["name"]?.string, "Alice Smith", "PATCH keeps what it does not mention")
            XCTAssertEqual(patched.json["slack_id"]?.string, "U123")

            let mismatch = try await client.send(.put, "/api/v1/users/alice", as: .admin, body: #"{"id":"bob","name":"x"}"#)
            XCTAssertEqual(mismatch.errorField, "id")
            let badZone = try await client.send(.patch, "/api/v1/users/alice", as: .admin, body: #"{"time_zone":"BST"}"#)
            XCTAssertEqual(badZone.status, .badRequest)
            XCTAssertEqual(badZone.errorField, "time_zone")

            let inUse = try await client.send(.delete, "/api/v1/users/alice", as: .admin)
            XCTAssertEqual(inUse.status, .conflict)
            XCTAssertEqual(inUse.errorCode, "in_use")
            XCTAssertEqual(inUse.json["error"]?["details"]?["references"]?[0]?.string, "team:ml-infra (members[0])")

            let answer1 = try await client.send(.delete, "/api/v1/teams/ml-infra", as: .admin)
            XCTAssertEqual(answer1.status, .noContent)
            let answer2 = try await client.send(.delete, "/api/v1/users/alice", as: .admin)
            XCTAssertEqual(answer2.status, .noContent)
            let answer3 = try await client.get("/api/v1/users/alice", as: .viewer)
            XCTAssertEqual(answer3.status, .notFound)
            let answer4 = try await client.send(.delete, "/api/v1/users/alice", as: .admin)
            XCTAssertEqual(answer4.status, .notFound)
        }
    }

    func testInvalidRegexesInRulesAre400NamingTheField() async throws {
        try await withAPI { client, harness in
            let title = try await client.post(
                "/api/v1/classification-rules", as: .admin, #"{"name":"gpu","match":{"title":"(unclosed"},"set_severity":"P0"}"#)
            XCTAssertEqual(title.status, .badRequest)
            XCTAssertEqual(title.errorField, "match.title")
            XCTAssertTrue(title.json["error"]?["message"]?.string?.contains("regex") ?? false)

            let label = try await client.post(
                "/api/v1/routing-rules", as: .admin,
                #"{"name":"r","match":{"labels":[{"key":"alertname","op":"equals","value":"x"},{"key":"pod","op":"regex","value":"(a+)+("}]},"suppress":true}"#)
            XCTAssertEqual(label.status, .badRequest)
            XCTAssertEqual(label.errorField, "match.labels[1].value")

            let noEffect = try await client.post("/api/v1/classification-rules", as: .admin, #"{"name":"noop"}"#)
            XCTAssertEqual(noEffect.errorField, "set", "IncidentCore's validation comes through with its field")

            let badOp = try await client.post(
                "/api/v1/routing-rules", as: .admin, #"{"name":"r","match":{"tags":[{"key":"k","op":"like"}]},"suppress":true}"#)
            XCTAssertEqual(badOp.errorField, "match.tags[0].op")

            let missingTeam = try await client.post("/api/v1/routing-rules", as: .admin, #"{"name":"r","team":"ghosts"}"#)
            XCTAssertEqual(missingTeam.status, .badRequest)
            XCTAssertEqual(missingTeam.errorField, "team")

            let count = try await harness.node.read { $0.state.machine.config.classificationRules.count + $0.state.machine.config.routingRules.count }
            XCTAssertEqual(count, 0)
        }
    }

    func testClassificationAndRoutingRulesShapeNewIncidents() async throws {
        try await withAPI { client, harness in
            _ = try await client.post("/api/v1/teams", as: .admin, #"{"id":"security","name":"Security"}"#)
            let rule = try await client.post(
                "/api/v1/classification-rules", as: .admin,
                #"{"name":"injections are P0","position":10,"match":{"title":"(?i)prompt injection","sources":["llm-shield"]},"set_severity":"P0","set_team":"security"}"#)
            XCTAssertEqual(rule.status, .created, rule.text)
            XCTAssertEqual(rule.json["match"]?["title"]?.string, "(?i)prompt injection")
            XCTAssertEqual(rule.json["set_severity"]?.string, "P0")

            let suppress = try await client.post(
                "/api/v1/routing-rules", as: .admin, #"{"name":"staging is quiet","match":{"environments":["staging"]},"suppress":true}"#)
            XCTAssertEqual(suppress.status, .created, suppress.text)

            let shield = try await client.post(
                "/api/v1/events/shield", as: .ingest, #"{"title":"Prompt Injection detected","severity":"low","tags":{"environment":"production"}}"#)
            let shieldID = try XCTUnwrap(IncidentID(shield.json["incident_id"]?.string ?? ""))
            let classified = try await harness.node.read { $0.state.machine.incident(shieldID) }
            XCTAssertEqual(classified?.severity, .p0)
            XCTAssertEqual(classified?.team, "security")

            let staging = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"noise","environment":"staging"}"#)
            XCTAssertEqual(staging.json["outcome"]?.string, "suppressed")
        }
    }

    func testSchedulesAndWhoIsOnCall() async throws {
        try await withAPI { client, _ in
            for user in ["alice", "bob"] { _ = try await client.post("/api/v1/users", as: .admin, #"{"id":"\#(user)","name":"\#(user)"}"#) }
            let schedule = try await client.post(
                "/api/v1/schedules", as: .admin,
                #"""
                {"id":"primary","name":"Primary","time_zone":"UTC",
                 "layers":[{"name":"weekly","users":["alice","bob"],"rotation":"weekly","handoff_minute":540,"start_date":"2026-01-05"}],
                 "overrides":[{"user":"bob","start":"2026-03-01T00:00:00Z","end":"2026-03-02T00:00:00Z"}]}
                """#)
            XCTAssertEqual(schedule.status, .created, schedule.text)
            XCTAssertEqual(schedule.json["layers"]?[0]?["rotation"]?.string, "weekly")

            let first = try await client.get("/api/v1/schedules/primary/oncall?at=2026-01-06T12:00:00Z", as: .viewer)
            XCTAssertEqual(first.status, .ok, first.text)
            XCTAssertEqual(first.json["user_id"]?.string, "alice")
            XCTAssertEqual(first.json["user"]?["name"]?.string, "alice")
            let second = try await client.get("/api/v1/schedules/primary/oncall?at=2026-01-13T12:00:00Z", as: .viewer)
            XCTAssertEqual(second.json["user_id"]?.string, "bob")
            let beforeHandoff = try await client.get("/api/v1/schedules/primary/oncall?at=2026-01-12T08:59:00Z", as: .viewer)
            XCTAssertEqual(beforeHandoff.json["user_id"]?.string, "alice", "the shift hands off at 09:00")
            let override = try await client.get("/api/v1/schedules/primary/oncall?at=2026-03-01T12:00:00Z", as: .viewer)
            XCTAssertEqual(override.json["user_id"]?.string, "bob")
            let beforeStart = try await client.get("/api/v1/schedules/primary/oncall?at=2025-01-01T00:00:00Z", as: .viewer)
            XCTAssertEqual(beforeStart.json["user_id"], .null)

            let badRotation = try await client.post(
                "/api/v1/schedules", as: .admin,
                #"{"name":"x","time_zone":"UTC","layers":[{"users":["alice"],"rotation":"fortnightly","start_date":"2026-01-05"}]}"#)
            XCTAssertEqual(badRotation.errorField, "layers[0].rotation")
            let unknownUser = try await client.post(
                "/api/v1/schedules", as: .admin, #"{"name":"x","time_zone":"UTC","layers":[{"users":["carol"],"rotation":"daily","start_date":"2026-01-05"}]}"#)
            XCTAssertEqual(unknownUser.errorField, "layers[0].users[0]")
            let missing = try await client.get("/api/v1/schedules/nope/oncall", as: .viewer)
            XCTAssertEqual(missing.status, .notFound)
        }
    }

    func testEscalationPoliciesChannelsAndMaintenanceWindows() async throws {
        try await withAPI { client, harness in
            let channel = try await client.post(
                "/api/v1/channels", as: .admin,
                #"{"id":"ops-hook","name":"Ops webhook","type":"webhook","url":"https://hooks.example.com/ops","secret":"s3cret","headers":{"Authorization":"Bearer x"}}"#)
            XCTAssertEqual(channel.status, .created, channel.text)
            XCTAssertEqual(channel.json["has_secret"]?.bool, true)
            XCTAssertNil(channel.json["secret"], "secrets are never answered")
            XCTAssertEqual(channel.json["header_names"]?.array, ["Authorization"])
            XCTAssertFalse(channel.text.contains("s3cret"))

            let renamed = try await client.send(.patch, "/api/v1/channels/ops-hook", as: .admin, body: #"{"name":"Ops"}"#)
            XCTAssertEqual(renamed.status, .ok, renamed.text)
            let stored = try await harness.node.read { $0.state.machine.config.channels["ops-hook"] }
            XCTAssertEqual(stored?.secret, "s3cret", "PATCH keeps the write-only secret")
            XCTAssertEqual(stored?.headers["Authorization"], "Bearer x")
            let badURL = try await client.send(.patch, "/api/v1/channels/ops-hook", as: .admin, body: #"{"url":"ftp://x"}"#)
            XCTAssertEqual(badURL.errorField, "url")

            _ = try await client.post("/api/v1/users", as: .admin, #"{"id":"alice","name":"Alice"}"#)
            let policy = try await client.post(
                "/api/v1/policies/escalation", as: .admin,
                #"{"id":"default","name":"Default","levels":[{"delay":"5m","targets":["user:alice"],"channels":["ops-hook"]},{"delay":900,"targets":["channel:ops-hook"]}],"repeat_count":2,"acknowledge_timeout":"1h30m"}"#)
            XCTAssertEqual(policy.status, .created, policy.text)
            XCTAssertEqual(policy.json["levels"]?[0]?["delay"]?.string, "5m")
            XCTAssertEqual(policy.json["levels"]?[1]?["delay"]?.string, "15m", "a number is seconds")
            XCTAssertEqual(policy.json["acknowledge_timeout"]?.string, "1h30m")

            let tooFast = try await client.post(
                "/api/v1/policies/escalation", as: .admin, #"{"name":"x","levels":[{"delay":"10s","targets":["user:alice"],"channels":["ops-hook"]}]}"#)
            XCTAssertEqual(tooFast.errorField, "levels[0].delay")
            let badTarget = try await client.post(
                "/api/v1/policies/escalation", as: .admin, #"{"name":"x","levels":[{"delay":"5m","targets":["pager:alice"]}]}"#)
            XCTAssertEqual(badTarget.errorField, "levels[0].targets[0]")

            let inUse = try await client.send(.delete, "/api/v1/channels/ops-hook", as: .admin)
            XCTAssertEqual(inUse.status, .conflict)
            XCTAssertEqual(inUse.json["error"]?["details"]?["references"]?.array?.count, 2)

            let window = try await client.post(
                "/api/v1/maintenance-windows", as: .admin,
                #"{"name":"db upgrade","match":{"services":["chat-api"]},"start":"2026-01-01T00:00:00Z","end":"2099-01-01T00:00:00Z"}"#)
            XCTAssertEqual(window.status, .created, window.text)
            let suppressed = try await client.post("/api/v1/events", as: .ingest, #"{"source":"s","title":"t","resource":{"id":"chat-api"}}"#)
            XCTAssertEqual(suppressed.json["outcome"]?.string, "suppressed")
            let weekly = try await client.post(
                "/api/v1/maintenance-windows", as: .admin,
                #"{"name":"weekend","window":{"time_zone":"Europe/Berlin","range":{"days":["saturday"],"start_minute":0,"end_minute":1440}}}"#)
            XCTAssertEqual(weekly.status, .created, weekly.text)
            XCTAssertEqual(weekly.json["window"]?["range"]?["days"]?.array, ["saturday"])
            let backwards = try await client.post(
                "/api/v1/maintenance-windows", as: .admin, #"{"name":"x","start":"2026-01-02T00:00:00Z","end":"2026-01-01T00:00:00Z"}"#)
            XCTAssertEqual(backwards.errorField, "end")

            let grouping = try await client.post(
                "/api/v1/grouping-rules", as: .admin, #"{"name":"by cluster","group_by":["source","label:cluster"],"window":"10m"}"#)
            XCTAssertEqual(grouping.status, .created, grouping.text)
            XCTAssertEqual(grouping.json["window"]?.string, "10m")
        }
    }

    func testAPIKeysShowTheirSecretOnceAndRotateAndRevoke() async throws {
        try await withAPI { client, harness in
            let created = try await client.post("/api/v1/api-keys", as: .admin, #"{"name":"grafana","role":"viewer"}"#)
            XCTAssertEqual(created.status, .created, created.text)
            let secret = try XCTUnwrap(created.json["secret"]?.string)
            XCTAssertTrue(secret.hasPrefix("imk_"))
            let id = try XCTUnwrap(created.json["id"]?.string)
            let stored = try await harness.node.read { $0.state.machine.config.apiKeys[id] }
            XCTAssertEqual(stored?.secretHash, APIKeySecret.hash(secret), "only the hash is stored")
            XCTAssertEqual(stored?.createdBy, Actor(.apiKey, "key-admin"))

            let withNewKey = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: "Bearer \(secret)"])
            XCTAssertEqual(withNewKey.status, .ok)
            let fetched = try await client.get("/api/v1/api-keys/\(id)", as: .admin)
            XCTAssertNil(fetched.json["secret"])
            XCTAssertFalse(fetched.text.contains(secret) || fetched.text.contains(APIKeySecret.hash(secret)))
            let viewerList = try await client.get("/api/v1/api-keys", as: .viewer)
            XCTAssertEqual(viewerList.status, .forbidden)

            // Authentication is cached per key; a role change must be seen on the very next request.
            let bearer: HTTPFields = [.authorization: "Bearer \(secret)"]
            let asViewer = try await client.send(.post, "/api/v1/incidents/INC-20261201-000042/acknowledge", as: nil, headers: bearer)
            XCTAssertEqual(asViewer.status, .forbidden)
            let promoted = try await client.send(.patch, "/api/v1/api-keys/\(id)", as: .admin, body: #"{"role":"responder"}"#)
            XCTAssertEqual(promoted.json["role"]?.string, "responder")
            let asResponder = try await client.send(.post, "/api/v1/incidents/INC-20261201-000042/acknowledge", as: nil, headers: bearer)
            XCTAssertEqual(asResponder.status, .notFound, asResponder.text)
            XCTAssertEqual(promoted.json["name"]?.string, "grafana")
            let badRole = try await client.send(.patch, "/api/v1/api-keys/\(id)", as: .admin, body: #"{"role":"root"}"#)
            XCTAssertEqual(badRole.errorField, "role")

            let rotated = try await client.post("/api/v1/api-keys/\(id)/rotate", as: .admin)
            let newSecret = try XCTUnwrap(rotated.json["secret"]?.string)
            XCTAssertNotEqual(newSecret, secret)
            let oldFails = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: "Bearer \(secret)"])
            XCTAssertEqual(oldFails.status, .unauthorized)
            let newWorks = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: "Bearer \(newSecret)"])
            XCTAssertEqual(newWorks.status, .ok)

            let answer5 = try await client.send(.delete, "/api/v1/api-keys/\(id)", as: .admin)
            XCTAssertEqual(answer5.status, .noContent)
            let revoked = try await client.send(.get, "/api/v1/incidents", as: nil, headers: [.authorization: "Bearer \(newSecret)"])
            XCTAssertEqual(revoked.status, .unauthorized)

            let replayHeaders: HTTPFields = [.idempotencyKey: "create-ci-key"]
            let first = try await client.post("/api/v1/api-keys", as: .admin, #"{"name":"ci","role":"ingest"}"#, headers: replayHeaders)
            let replay = try await client.post("/api/v1/api-keys", as: .admin, #"{"name":"ci","role":"ingest"}"#, headers: replayHeaders)
            XCTAssertEqual(first.status, .created)
            XCTAssertEqual(replay.status, .ok)
            XCTAssertEqual(replay.json["id"], first.json["id"])
            XCTAssertNil(replay.json["secret"], "a replay cannot show a secret that was never stored")
        }
    }

    func testChannelTests() async throws {
        let webhook = #"{"id":"hook","name":"Hook","type":"webhook","url":"https://hooks.example.com/x"}"#
        try await withAPI({ $0.channelTester = { channel in channel.id == "hook" ? .delivered : .failed(error: "boom", retryable: false) } }) { client, _ in
            _ = try await client.post("/api/v1/channels", as: .admin, webhook)
            let response = try await client.post("/api/v1/channels/hook/test", as: .admin)
            XCTAssertEqual(response.status, .ok, response.text)
            XCTAssertEqual(response.json["result"]?.string, "delivered")
            let forbidden = try await client.post("/api/v1/channels/hook/test", as: .responder)
            XCTAssertEqual(forbidden.status, .forbidden)
            let missing = try await client.post("/api/v1/channels/none/test", as: .admin)
            XCTAssertEqual(missing.status, .notFound)
        }
        try await withAPI({ settings in
            settings.channelTestWaitMilliseconds = 50
            settings.channelTester = { _ in
                try? await Task.sleep(for: .seconds(2))
                return .delivered
            }
        }) { client, _ in
            _ = try await client.post("/api/v1/channels", as: .admin, webhook)
            let slow = try await client.post("/api/v1/channels/hook/test", as: .admin)
            XCTAssertEqual(slow.status, .accepted)
            XCTAssertEqual(slow.json["result"]?.string, "pending")
        }
        try await withAPI { client, _ in
            _ = try await client.post("/api/v1/channels", as: .admin, webhook)
            let unsupported = try await client.post("/api/v1/channels/hook/test", as: .admin)
            XCTAssertEqual(unsupported.status, .notImplemented)
            XCTAssertEqual(unsupported.errorCode, "not_implemented")
        }
    }

    func testTheSLAPolicy() async throws {
        try await withAPI { client, _ in
            let current = try await client.get("/api/v1/policies/sla", as: .viewer)
            XCTAssertEqual(current.json["P0"]?["acknowledge_within"]?.string, "5m")
            let updated = try await client.send(.put, "/api/v1/policies/sla", as: .admin, body: #"{"P0":{"acknowledge_within":"2m"}}"#)
            XCTAssertEqual(updated.status, .ok, updated.text)
            XCTAssertEqual(updated.json["P0"]?["acknowledge_within"]?.string, "2m")
            XCTAssertEqual(updated.json["P0"]?["resolve_within"]?.string, "1h", "untouched targets stay")
            let invalid = try await client.send(.put, "/api/v1/policies/sla", as: .admin, body: #"{"P1":{"acknowledge_within":"10s"}}"#)
            XCTAssertEqual(invalid.status, .badRequest)
            XCTAssertEqual(invalid.errorField, "sla.P1.acknowledge_within")
        }
    }
}
