import XCTest

@testable import IncidentCore

/// Ingestion and deduplication: a repeat of an open alert never opens a second incident; the
/// PagerDuty-style `acknowledge` and `resolve` actions act on the matching incident.
final class IngestDedupTests: XCTestCase {
    private let t0 = Timestamp(millisecondsSinceEpoch: 1_795_586_390_000)

    func testRepeatsCountIntoTheOpenIncident() {
        var h = Harness()
        let first = h.ingest(sampleEvent(at: t0)).first!
        XCTAssertEqual(first.disposition, .created)
        XCTAssertEqual(first.fingerprint, Fingerprint(of: sampleEvent()))
        let id = first.incident!
        for i in 1...3 {
            let repeated = h.ingest(sampleEvent(at: t0.adding(milliseconds: Int64(i) * 60_000)), after: 60_000).first!
            XCTAssertEqual(repeated.disposition, .deduplicated)
            XCTAssertEqual(repeated.incident, id)
        }
        // A late event from a source clock behind the others does not move last_seen back.
        h.ingest(sampleEvent(at: t0.adding(milliseconds: 30_000)), after: 1_000)
        let incident = h.incident(id)
        XCTAssertEqual(h.machine.incidentCount, 1)
        XCTAssertEqual(incident.occurrenceCount, 5)
        XCTAssertEqual(incident.firstSeen, t0)
        XCTAssertEqual(incident.lastSeen, t0.adding(milliseconds: 180_000))
        XCTAssertEqual(incident.updatedAt, h.now)
        XCTAssertEqual(incident.alerts.map(\.count), [5], "one alert, counted, not five")
        XCTAssertEqual(incident.timeline.totalCount, 1, "repeats change counters, not the timeline")
    }

    func testRepeatRaisesSeverityButNeverLowersIt() {
        var h = Harness()
        let id = h.open(sampleEvent(severity: "warning"))
        XCTAssertEqual(h.incident(id).severity, .p2)
        h.ingest(sampleEvent(severity: "critical"), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0)
        XCTAssertEqual(h.incident(id).sla.acknowledgeBy, h.incident(id).createdAt.adding(milliseconds: 5 * Milliseconds.minute), "SLA follows the new severity")
        let entry = h.incident(id).timeline.last!
        XCTAssertEqual(entry.kind, .severityChanged)
        XCTAssertEqual(entry.change, "severity P2 → P0")
        h.ingest(sampleEvent(severity: "info"), after: 1_000)
        h.ingest(sampleEvent(severity: "high"), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0, "a milder repeat never lowers severity")
        XCTAssertEqual(h.incident(id).occurrenceCount, 4)
    }

    func testDedupKeyDecidesIdentityWhenGiven() {
        var h = Harness()
        let a = h.open(sampleEvent(title: "disk 91% full", dedupKey: "db-1/disk"))
        let results = h.ingest(sampleEvent(title: "disk 97% full", resourceID: "db-1", dedupKey: "db-1/disk"))
        XCTAssertEqual(results.first?.disposition, .deduplicated, "same dedup key, different content: one incident")
        XCTAssertEqual(results.first?.fingerprint, .key("db-1/disk"))
        XCTAssertEqual(results.first?.incident, a)
        let b = h.open(sampleEvent(title: "disk 91% full", dedupKey: "db-2/disk"))
        XCTAssertNotEqual(a, b, "same content, different dedup keys: two incidents")
    }

    func testAcknowledgeActionAcknowledgesTheMatchingIncident() throws {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent(dedupKey: "chat/latency"))
        _ = h.open(sampleEvent(title: "unrelated", dedupKey: "other"))
        XCTAssertEqual(h.pending().count, 2)
        let results = h.ingest(sampleEvent(dedupKey: "chat/latency", action: .acknowledge), after: 30_000)
        XCTAssertEqual(results.first?.disposition, .acknowledged)
        XCTAssertEqual(results.first?.incident, id)
        XCTAssertEqual(h.incident(id).status, .acknowledged)
        XCTAssertEqual(h.incident(id).acknowledgedBy, Harness.source)
        XCTAssertNil(h.incident(id).timer(.escalation))
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered", "hook→user:alice acknowledged"], "only the matching incident's page is cancelled")
        // Acknowledging again, or an incident that is already in progress, is answered but changes nothing.
        XCTAssertNoThrow(try h.act(id, .startWork).get())
        let again = h.ingest(sampleEvent(dedupKey: "chat/latency", action: .acknowledge))
        XCTAssertEqual(again.first?.disposition, .acknowledged)
        XCTAssertEqual(h.incident(id).status, .inProgress)
    }

    func testResolveActionResolvesTheMatchingIncidentAndFreesItsFingerprint() {
        var h = Harness()
        let id = h.open(sampleEvent())
        let other = h.open(sampleEvent(title: "another alert"))
        let results = h.ingest(sampleEvent(action: .resolve), after: 60_000)
        XCTAssertEqual(results.first?.disposition, .resolved)
        XCTAssertEqual(h.incident(id).status, .resolved)
        XCTAssertEqual(h.incident(id).resolution?.resolvedBy, Harness.source)
        XCTAssertEqual(h.incident(other).status, .new)
        XCTAssertNil(h.machine.openIncident(fingerprint: Fingerprint(of: sampleEvent())))
        // The next trigger is a new occurrence of the problem: a new incident.
        let reopened = h.ingest(sampleEvent(), after: 60_000).first!
        XCTAssertEqual(reopened.disposition, .created)
        XCTAssertNotEqual(reopened.incident, id)
    }

    func testAcknowledgeOrResolveWithoutAnOpenIncidentIsIgnored() {
        var h = Harness()
        let results = h.ingest(sampleEvent(action: .acknowledge), sampleEvent(action: .resolve))
        XCTAssertEqual(results.map(\.disposition), [.ignored, .ignored])
        XCTAssertEqual(results.map(\.incident), [nil, nil])
        XCTAssertEqual(h.machine.incidentCount, 0, "an acknowledge or resolve never opens an incident")
    }

    func testEventsOfOneBatchApplyInOrder() {
        var h = Harness()
        let results = h.ingest(
            sampleEvent(), sampleEvent(), sampleEvent(action: .resolve), sampleEvent(), sampleEvent(title: "second alert"))
        XCTAssertEqual(results.map(\.disposition), [.created, .deduplicated, .resolved, .created, .created])
        XCTAssertEqual(results[0].incident, results[1].incident)
        XCTAssertNotEqual(results[0].incident, results[3].incident)
        XCTAssertEqual(h.machine.openIncidentCount, 2)
        XCTAssertEqual(results.map { $0.incident!.number }, [1, 1, 1, 2, 3])
    }

    func testAnInvalidEventRejectsTheWholeBatch() {
        var h = Harness()
        var bad = sampleEvent(title: "bad")
        bad.source = ""
        let error = h.fail(.ingest(events: [sampleEvent(), bad], actor: Harness.source))
        XCTAssertEqual(error.code, .invalid)
        XCTAssertEqual(error.field, "events[1].source")
        XCTAssertEqual(h.machine.incidentCount, 0, "the valid first event was not applied either")

        XCTAssertEqual(h.fail(.ingest(events: [], actor: Harness.source)).code, .invalid)
        let tooMany = [Event](repeating: sampleEvent(), count: h.machine.settings.maxEventsPerCommand + 1)
        XCTAssertEqual(h.fail(.ingest(events: tooMany, actor: Harness.source)).code, .limitExceeded)
        XCTAssertEqual(h.ingest(sampleEvent()).first?.disposition, .created, "refusals consumed no incident number")
        XCTAssertEqual(h.machine.incidentCount, 1)
    }

    func testEventValidationNamesTheFirstBadFieldInKeyOrder() {
        var h = Harness()
        let long = String(repeating: "x", count: TextLimits.titleBytes + 1)
        var event = sampleEvent()
        event.labels = ["zone": long, "app": long, "mid": long]
        XCTAssertEqual(h.fail(.ingest(events: [event], actor: Harness.source)).field, "events[0].labels.app")
        var untitled = sampleEvent(title: "")
        untitled.labels = [:]
        XCTAssertEqual(h.fail(.ingest(events: [untitled], actor: Harness.source)).field, "events[0].title")
        var nan = sampleEvent()
        nan.metrics = ["p95_ms": .infinity]
        XCTAssertEqual(h.fail(.ingest(events: [nan], actor: Harness.source)).field, "events[0].metrics.p95_ms")
    }

    func testLabelOnlyEventsDeduplicateOnTheirLabelSet() {
        var h = Harness()
        func alert(_ labels: KeyValuePairs<String, String>, action: EventAction = .trigger) -> Event {
            var event = sampleEvent(title: "", source: "alertmanager", resourceID: "", action: action, eventType: "alert")
            for (key, value) in labels { event.labels[key] = value }
            return event
        }
        let id = h.open(alert(["alertname": "HighLatency", "cluster": "eu-1"]))
        XCTAssertEqual(h.incident(id).title, "HighLatency", "titled after alertname")
        XCTAssertEqual(h.ingest(alert(["cluster": "eu-1", "alertname": "HighLatency"])).first?.disposition, .deduplicated, "label order does not matter")
        let other = h.ingest(alert(["alertname": "HighLatency", "cluster": "us-1"])).first!
        XCTAssertEqual(other.disposition, .created, "a different label value is a different alert")
        XCTAssertEqual(h.ingest(alert(["alertname": "HighLatency", "cluster": "eu-1"], action: .resolve)).first?.disposition, .resolved)
        XCTAssertEqual(h.incident(other.incident!).status, .new)
    }

    func testManualIncidentsDeduplicateOnlyThroughADedupKey() throws {
        var h = Harness()
        func manual(_ dedupKey: String = "", severity: Severity = .p2) -> Command {
            .openIncident(ManualIncident(title: "customers report slow answers", severity: severity, dedupKey: dedupKey), actor: Harness.responder)
        }
        let a = h.ok(manual()).result
        let b = h.ok(manual()).result
        XCTAssertNotEqual(a, b, "without a dedup key every manual incident is its own")
        guard case .incident(let first, true) = a else { return XCTFail("\(a)") }
        XCTAssertEqual(h.incident(first).fingerprint, .manual(first.number))

        let keyed = h.open(sampleEvent(dedupKey: "chat/slow"))
        XCTAssertEqual(h.ok(manual("chat/slow", severity: .p0)).result, .incident(keyed, created: false))
        XCTAssertEqual(h.incident(keyed).occurrenceCount, 2)
        XCTAssertEqual(h.incident(keyed).severity, .p0, "the manual report's severity raises the incident's")
        XCTAssertEqual(h.machine.incidentCount, 3)
    }
}
