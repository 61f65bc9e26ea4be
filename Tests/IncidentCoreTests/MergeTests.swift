import XCTest

@testable import IncidentCore

/// Merging folds a duplicate into another open incident: the duplicate resolves silently with
/// `duplicate_of`, its firing alerts deduplicate into the target from then on, occurrence counts
/// add up, and the target takes the worse severity.
final class MergeTests: XCTestCase {
    private let latency = sampleEvent(title: "p95 latency above threshold")
    private let errors = sampleEvent(title: "error rate above 5%", severity: "critical")

    private func merge(_ id: IncidentID, into target: IncidentID) -> Command {
        .merge(incident: id, into: target, actor: Harness.responder)
    }

    func testTheDuplicateResolvesSilentlyAndItsAlertsMove() throws {
        var h = Harness()
        h.installOnCall()
        let target = h.open(latency)
        let duplicate = h.open(errors)
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered", "hook→user:alice triggered"])

        let merged = h.ok(merge(duplicate, into: target), after: 60_000)
        XCTAssertEqual(merged.result, .incident(target, created: false))
        let dup = h.incident(duplicate)
        XCTAssertEqual(dup.status, .resolved)
        XCTAssertEqual(dup.duplicateOf, target)
        XCTAssertEqual(dup.resolution?.rootCause, "duplicate of \(target)")
        XCTAssertEqual(dup.relatedIncidents, [target])
        XCTAssertTrue(dup.timers.isEmpty)
        XCTAssertEqual(dup.timeline.last?.kind, .merged)
        XCTAssertEqual(merged.effects.notificationsCancelled.count, 1, "the duplicate's page is cancelled")
        XCTAssertEqual(h.machine.pendingNotifications().map(\.incident), [target], "and nobody is told it resolved")

        let into = h.incident(target)
        XCTAssertEqual(into.alerts.map(\.fingerprint), [Fingerprint(of: latency), Fingerprint(of: errors)])
        XCTAssertEqual(into.relatedIncidents, [duplicate])
        XCTAssertEqual(into.timeline.elements.last { $0.kind == .merged }?.change, "\(duplicate) merged in (1 alerts)")
        XCTAssertEqual(h.machine.openIncident(fingerprint: Fingerprint(of: errors))?.id, target)

        // The moved alert now deduplicates into the target, and resolves there.
        XCTAssertEqual(h.ingest(errors).first?.incident, target)
        XCTAssertEqual(h.ingest(sampleEvent(title: latency.title, action: .resolve)).first?.disposition, .deduplicated)
        XCTAssertEqual(h.ingest(sampleEvent(title: errors.title, action: .resolve)).first?.disposition, .resolved)
        XCTAssertEqual(h.incident(target).status, .resolved)
        XCTAssertEqual(h.machine.openIncidentCount, 0)
    }

    func testCountsAddUpAndTheWorseSeverityAndEarlierFirstSeenWin() {
        var h = Harness()
        var early = errors
        early.timestamp = h.now.adding(milliseconds: -Milliseconds.hour)
        let duplicate = h.open(early)
        h.ingest(errors, errors)
        let target = h.open(sampleEvent(title: "warning only", severity: "warning"))
        XCTAssertEqual(h.incident(target).severity, .p2)
        h.ok(merge(duplicate, into: target), after: 1_000)
        let into = h.incident(target)
        XCTAssertEqual(into.occurrenceCount, 4)
        XCTAssertEqual(into.severity, .p0)
        XCTAssertEqual(into.sla.acknowledgeBy, into.createdAt.adding(milliseconds: 5 * Milliseconds.minute), "SLA follows the raised severity")
        XCTAssertEqual(into.firstSeen, early.timestamp, "the problem began when the duplicate's first event did")
        XCTAssertEqual(into.timeline.last?.reason, "merged \(duplicate)")
    }

    func testOnlyFiringAlertsMove() {
        var h = Harness()
        h.create(.groupingRule(GroupingRule(id: "svc", name: "svc", groupBy: [.resourceID], windowMilliseconds: Milliseconds.hour)))
        let duplicate = h.open(sampleEvent(title: "A", resourceID: "embed-api"))
        h.ingest(sampleEvent(title: "B", resourceID: "embed-api"))
        h.ingest(sampleEvent(title: "A", resourceID: "embed-api", action: .resolve))
        let target = h.open(sampleEvent(title: "C"))
        h.ok(merge(duplicate, into: target))
        XCTAssertEqual(h.incident(target).alerts.map(\.title), ["C", "B"])
        XCTAssertNil(h.machine.openIncident(fingerprint: Fingerprint(of: sampleEvent(title: "A", resourceID: "embed-api"))))
        XCTAssertEqual(h.ingest(sampleEvent(title: "A", resourceID: "embed-api")).first?.disposition, .created, "a resolved alert that fires again is new")
    }

    func testRefusedMergesChangeNothing() throws {
        var h = Harness()
        let a = h.open(sampleEvent(title: "a"))
        let b = h.open(sampleEvent(title: "b"))
        let closed = h.open(sampleEvent(title: "c"))
        XCTAssertNoThrow(try h.act(closed, .resolve).get())

        let onto = h.fail(merge(a, into: a))
        XCTAssertEqual(onto.code, .invalid)
        XCTAssertEqual(onto.field, "into")
        let fromResolved = h.fail(merge(closed, into: a))
        XCTAssertEqual(fromResolved.code, .invalidTransition)
        XCTAssertEqual(fromResolved.status, .resolved)
        let intoResolved = h.fail(merge(a, into: closed))
        XCTAssertEqual(intoResolved.code, .conflict)
        XCTAssertEqual(intoResolved.field, "into")
        let ghost = IncidentID(number: 99, createdAt: h.now)
        XCTAssertEqual(h.fail(merge(ghost, into: a)).code, .notFound)
        XCTAssertEqual(h.fail(merge(a, into: ghost)).code, .notFound)
        XCTAssertEqual(h.incident(a).status, .new)
        XCTAssertEqual(h.incident(b).status, .new)
    }

    func testReopeningAMergedIncidentLeavesItsAlertsWithTheTarget() throws {
        var h = Harness()
        let target = h.open(latency)
        let duplicate = h.open(errors)
        h.ok(merge(duplicate, into: target))
        XCTAssertNoThrow(try h.act(duplicate, .reopen).get())
        XCTAssertEqual(h.incident(duplicate).status, .new)
        XCTAssertNil(h.incident(duplicate).duplicateOf)
        XCTAssertEqual(h.machine.openIncident(fingerprint: Fingerprint(of: errors))?.id, target, "one fingerprint, one open incident")
        XCTAssertEqual(h.ingest(errors).first?.incident, target)
    }

    func testRelatedIncidentsAreBounded() {
        var h = Harness()
        let target = h.open(sampleEvent(title: "target"))
        for n in 0..<70 {
            let duplicate = h.open(sampleEvent(title: "duplicate \(n)"))
            h.ok(merge(duplicate, into: target))
        }
        XCTAssertEqual(h.incident(target).relatedIncidents.count, Incident.Limits.maxRelated)
        XCTAssertEqual(h.incident(target).occurrenceCount, 71)
        XCTAssertEqual(h.incident(target).alerts.count, 71, "alerts are bounded separately (100)")
    }
}
