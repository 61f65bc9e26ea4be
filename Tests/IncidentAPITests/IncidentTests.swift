import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// Incidents: listing with filters and cursors, manual incidents, edits, lifecycle actions and
/// their 409s, notes, merge and the timeline.
final class IncidentTests: XCTestCase {
    func testListFiltersByStatusSeveritySourceAndText() async throws {
        try await withAPI { client, _ in
            let gpu = try await client.trigger(title: "GPU memory exhausted", severity: "critical")
            let latency = try await client.trigger(title: "Latency spike", severity: "low")
            _ = try await client.post("/api/v1/incidents/\(latency)/acknowledge", as: .responder)
            _ = try await client.post("/api/v1/events", as: .ingest, #"{"source":"llm-shield","title":"Prompt injection","severity":"high"}"#)

            func ids(_ query: String) async throws -> [String] {
                let response = try await client.get("/api/v1/incidents\(query)", as: .viewer)
                XCTAssertEqual(response.status, .ok, response.text)
                return response.json["incidents"]?.array?.compactMap { $0["id"]?.string } ?? []
            }
            let all = try await ids("")
            XCTAssertEqual(all.count, 3)
            let oldest = try await client.get("/api/v1/incidents/\(gpu)", as: .viewer)
            let createdAt = try XCTUnwrap(oldest.json["created_at"]?.string)
            XCTAssertEqual(all.last, gpu, "newest first")
            let expectations: [(String, Set<String>?, Int)] = [
                ("?status=acknowledged", [latency], 1), ("?status=new,acknowledged", nil, 3), ("?status=open", nil, 3),
                ("?severity=P0", [gpu], 1), ("?severity=critical,low", [gpu, latency], 2), ("?source=llm-shield", nil, 1),
                ("?q=gpu%20MEMORY", [gpu], 1), ("?status=resolved", [], 0),
                ("?since=\(createdAt)", nil, 3), ("?until=\(createdAt)", [], 0), ("?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z", [], 0),
            ]
            for (query, expected, count) in expectations {
                let found = try await ids(query)
                XCTAssertEqual(found.count, count, query)
                if let expected { XCTAssertEqual(Set(found), expected, query) }
            }

            let badStatus = try await client.get("/api/v1/incidents?status=sleeping", as: .viewer)
            XCTAssertEqual(badStatus.status, .badRequest)
            XCTAssertEqual(badStatus.errorField, "status")
            let badLimit = try await client.get("/api/v1/incidents?limit=0", as: .viewer)
            XCTAssertEqual(badLimit.errorField, "limit")
            let badSince = try await client.get("/api/v1/incidents?since=last-week", as: .viewer)
            XCTAssertEqual(badSince.errorField, "since")
        }
    }

    func testCursorPaginationVisitsEveryIncidentOnce() async throws {
        try await withAPI { client, _ in
            let events = (0..<7).map { #"{"source":"s","title":"alert \#($0)"}"# }
            _ = try await client.post("/api/v1/events", as: .ingest, "[" + events.joined(separator: ",") + "]")
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = "/api/v1/incidents?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.get(query, as: .viewer)
                seen += page.json["incidents"]?.array?.compactMap { $0["id"]?.string } ?? []
                cursor = page.json["next_cursor"]?.string
                pages += 1
            } while cursor != nil && pages < 10
            XCTAssertEqual(pages, 3)
            XCTAssertEqual(seen.count, 7)
            XCTAssertEqual(Set(seen).count, 7)
            XCTAssertEqual(seen, seen.sorted(by: >), "newest first across pages")

            let exact = try await client.get("/api/v1/incidents?limit=7", as: .viewer)
            XCTAssertEqual(exact.json["next_cursor"], .null, "no empty trailing page")
            let bad = try await client.get("/api/v1/incidents?cursor=abc", as: .viewer)
            XCTAssertEqual(bad.errorField, "cursor")
        }
    }

    func testASelectiveFilterScansABoundedNumberOfIncidentsPerPage() async throws {
        try await withAPI({ settings in
            settings.maxPageSize = 3
            settings.maxScannedIncidentsPerList = 3
        }) { client, _ in
            _ = try await client.post("/api/v1/events", as: .ingest, #"{"source":"rare","title":"the needle"}"#)
            let hay = (0..<8).map { #"{"source":"common","title":"hay \#($0)"}"# }
            _ = try await client.post("/api/v1/events", as: .ingest, "[" + hay.joined(separator: ",") + "]")
            var found: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await client.get("/api/v1/incidents?source=rare" + (cursor.map { "&cursor=\($0)" } ?? ""), as: .viewer)
                XCTAssertEqual(page.status, .ok, page.text)
                found += page.json["incidents"]?.array?.compactMap { $0["title"]?.string } ?? []
                cursor = page.json["next_cursor"]?.string
                pages += 1
            } while cursor != nil && pages < 10
            XCTAssertEqual(found, ["the needle"])
            XCTAssertEqual(pages, 3, "nine incidents, three examined per request")
        }
    }

    func testManualIncidentsOpenWith201AndDeduplicateByKey() async throws {
        try await withAPI { client, _ in
            let body = #"{"title":"Checkout errors reported by support","severity":"P1","category":"availability","labels":{"origin":"support"},"dedup_key":"support-42"}"#
            let created = try await client.post("/api/v1/incidents", as: .responder, body)
            XCTAssertEqual(created.status, .created, created.text)
            let id = try XCTUnwrap(created.json["id"]?.string)
            XCTAssertEqual(created.headers[.location], "/api/v1/incidents/\(id)")
            XCTAssertEqual(created.json["severity"]?.string, "P1")
            XCTAssertEqual(created.json["source"]?.string, "manual")
            XCTAssertEqual(created.json["labels"]?["origin"]?.string, "support")

            let again = try await client.post("/api/v1/incidents", as: .responder, body)
            XCTAssertEqual(again.status, .ok, "an open incident with the same dedup key is returned")
            XCTAssertEqual(again.json["id"]?.string, id)

            let missing = try await client.post("/api/v1/incidents", as: .responder, #"{"severity":"P1"}"#)
            XCTAssertEqual(missing.errorField, "title")
            let badSeverity = try await client.post("/api/v1/incidents", as: .responder, #"{"title":"x","severity":"whatever"}"#)
            XCTAssertEqual(badSeverity.errorField, "severity")
            let noTeam = try await client.post("/api/v1/incidents", as: .responder, #"{"title":"x","severity":"P2","team":"ghosts"}"#)
            XCTAssertEqual(noTeam.status, .badRequest)
            XCTAssertEqual(noTeam.errorField, "team")
        }
    }

    func testGetAndPatch() async throws {
        try await withAPI { client, harness in
            _ = try await harness.node.submit(.createConfig(.user(User(id: "alice", name: "Alice")), actor: .system))
            let id = try await client.trigger(title: "Token budget exceeded", severity: "low")
            let detail = try await client.get("/api/v1/incidents/\(id)", as: .viewer)
            XCTAssertEqual(detail.status, .ok)
            XCTAssertEqual(detail.json["id"]?.string, id)
            XCTAssertEqual(detail.json["status"]?.string, "new")
            XCTAssertEqual(detail.json["alerts"]?.array?.count, 1)
            XCTAssertNotNil(detail.json["sla"]?["acknowledge_by"]?.string)

            let patched = try await client.send(
                .patch, "/api/v1/incidents/\(id)", as: .responder,
                body: #"{"title":"Token budget exceeded for tenant t-9","severity":"P1","reason":"paying tenant","assignee":"alice"}"#)
            XCTAssertEqual(patched.status, .ok, patched.text)
            XCTAssertEqual(patched.json["title"]?.string, "Token budget exceeded for tenant t-9")
            XCTAssertEqual(patched.json["severity"]?.string, "P1")
            XCTAssertEqual(patched.json["assignee"]?.string, "alice")

            let nothing = try await client.send(.patch, "/api/v1/incidents/\(id)", as: .responder, body: #"{"colour":"red"}"#)
            XCTAssertEqual(nothing.status, .badRequest)
            let unknownUser = try await client.send(.patch, "/api/v1/incidents/\(id)", as: .responder, body: #"{"assignee":"mallory"}"#)
            XCTAssertEqual(unknownUser.errorField, "user")
        }
    }

    func testUnknownAndMalformedIdsAre404() async throws {
        try await withAPI { client, _ in
            let unknown = try await client.get("/api/v1/incidents/INC-20261201-000042", as: .viewer)
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.errorCode, "not_found")
            let malformed = try await client.get("/api/v1/incidents/not-an-id", as: .viewer)
            XCTAssertEqual(malformed.status, .notFound)
            let action = try await client.post("/api/v1/incidents/INC-20261201-000042/acknowledge", as: .responder)
            XCTAssertEqual(action.status, .notFound)
            let timeline = try await client.get("/api/v1/incidents/INC-20261201-000042/timeline", as: .viewer)
            XCTAssertEqual(timeline.status, .notFound)
        }
    }

    func testTheLifecycleAndInvalidTransitionsAre409WithDetails() async throws {
        try await withAPI { client, _ in
            let id = try await client.trigger(title: "Model server crash loop")
            let ack = try await client.post("/api/v1/incidents/\(id)/acknowledge", as: .responder, #"{"comment":"on it"}"#)
            XCTAssertEqual(ack.status, .ok, ack.text)
            XCTAssertEqual(ack.json["status"]?.string, "acknowledged")
            XCTAssertEqual(ack.json["acknowledged_by"]?.string, "api_key:key-responder")

            let again = try await client.post("/api/v1/incidents/\(id)/acknowledge", as: .responder)
            XCTAssertEqual(again.status, .conflict)
            XCTAssertEqual(again.errorCode, "invalid_transition")
            XCTAssertEqual(again.json["error"]?["details"]?["status"]?.string, "acknowledged")
            XCTAssertEqual(again.json["error"]?["details"]?["allowed"]?.array?.compactMap(\.string), ["start", "escalate", "resolve"])

            for (action, status) in [("start", "in_progress"), ("escalate", "escalated"), ("deescalate", "in_progress")] {
                let response = try await client.post("/api/v1/incidents/\(id)/\(action)", as: .responder)
                XCTAssertEqual(response.json["status"]?.string, status, "\(action): \(response.text)")
            }
            let resolved = try await client.post("/api/v1/incidents/\(id)/resolve", as: .responder, #"{"comment":"rolled back","root_cause":"bad deploy"}"#)
            XCTAssertEqual(resolved.json["status"]?.string, "resolved")
            XCTAssertEqual(resolved.json["resolution"]?["root_cause"]?.string, "bad deploy")
            let closed = try await client.post("/api/v1/incidents/\(id)/close", as: .responder)
            XCTAssertEqual(closed.json["status"]?.string, "closed")
            let start = try await client.post("/api/v1/incidents/\(id)/start", as: .responder)
            XCTAssertEqual(start.status, .conflict)
            XCTAssertEqual(start.json["error"]?["details"]?["allowed"]?.array?.compactMap(\.string), ["reopen"])
            let reopened = try await client.post("/api/v1/incidents/\(id)/reopen", as: .responder)
            XCTAssertEqual(reopened.json["status"]?.string, "new")

            let wrongType = try await client.post("/api/v1/incidents/\(id)/resolve", as: .responder, #"{"comment":7}"#)
            XCTAssertEqual(wrongType.errorField, "comment")
        }
    }

    func testNotesMergeAndTheTimeline() async throws {
        try await withAPI { client, _ in
            let first = try await client.trigger(title: "Embedding service 500s", dedupKey: "emb")
            let second = try await client.trigger(title: "Embedding latency", dedupKey: "emb-latency")
            let note = try await client.post("/api/v1/incidents/\(first)/notes", as: .responder, #"{"text":"Vendor status page shows an outage"}"#)
            XCTAssertEqual(note.status, .created, note.text)
            XCTAssertEqual(note.json["note"]?["text"]?.string, "Vendor status page shows an outage")
            XCTAssertEqual(note.json["note"]?["author"]?.string, "api_key:key-responder")
            let empty = try await client.post("/api/v1/incidents/\(first)/notes", as: .responder, #"{"text":""}"#)
            XCTAssertEqual(empty.errorField, "text")

            let merged = try await client.post("/api/v1/incidents/\(second)/merge", as: .responder, #"{"into":"\#(first)"}"#)
            XCTAssertEqual(merged.status, .ok, merged.text)
            XCTAssertEqual(merged.json["status"]?.string, "resolved")
            XCTAssertEqual(merged.json["duplicate_of"]?.string, first)
            let badTarget = try await client.post("/api/v1/incidents/\(first)/merge", as: .responder, #"{"into":"nope"}"#)
            XCTAssertEqual(badTarget.errorField, "into")
            let mergeResolved = try await client.post("/api/v1/incidents/\(second)/merge", as: .responder, #"{"into":"\#(first)"}"#)
            XCTAssertEqual(mergeResolved.status, .conflict)

            let timeline = try await client.get("/api/v1/incidents/\(first)/timeline", as: .viewer)
            XCTAssertEqual(timeline.status, .ok)
            let kinds = timeline.json["entries"]?.array?.compactMap { $0["kind"]?.string } ?? []
            XCTAssertEqual(kinds.first, "created")
            XCTAssertTrue(kinds.contains("note_added"), "\(kinds)")
            XCTAssertTrue(kinds.contains("merged"), "\(kinds)")
            XCTAssertEqual(timeline.json["total_count"]?.int, Int64(kinds.count))
        }
    }

    func testWritesWithAnIdempotencyKeyApplyOnce() async throws {
        try await withAPI { client, harness in
            let id = try await client.trigger(title: "Queue backlog")
            let headers: HTTPFields = [.idempotencyKey: "note-1"]
            let first = try await client.post("/api/v1/incidents/\(id)/notes", as: .responder, #"{"text":"checking"}"#, headers: headers)
            let second = try await client.post("/api/v1/incidents/\(id)/notes", as: .responder, #"{"text":"checking"}"#, headers: headers)
            XCTAssertEqual(first.status, .created)
            XCTAssertEqual(second.status, .created)
            let notes = try await harness.node.read { $0.state.machine.incident(IncidentID(id)!)?.notes.totalCount }
            XCTAssertEqual(notes, 1)
        }
    }
}
