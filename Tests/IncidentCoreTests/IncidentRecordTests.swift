import XCTest

@testable import IncidentCore

/// Incident ids (`INC-YYYYMMDD-NNNNNN` from the creating command's UTC date and the creation
/// count in log order) and the bounds on per-incident lists: a flapping alert changes counters,
/// not the size of state.
final class IncidentRecordTests: XCTestCase {
    private func utc(_ iso: String, _ hour: Int, _ minute: Int, _ second: Int = 0, ms: Int64 = 0) -> Timestamp {
        let seconds = CivilDateTime(date: CivilDate(iso: iso)!, hour: hour, minute: minute, second: second).secondsSinceEpochAsUTC
        return Timestamp(millisecondsSinceEpoch: seconds * 1_000 + ms)
    }

    // MARK: Ids

    func testIDsCarryTheCommandsUTCDateAndTheCreationCount() {
        var h = Harness()
        let yesterday = utc("2026-11-24", 12, 0)
        let first = h.open(sampleEvent(title: "one", at: yesterday))
        XCTAssertEqual(first.description, "INC-20261125-000001", "the command's date, not the source's")
        h.now = utc("2026-11-25", 23, 59, 59, ms: 999)
        XCTAssertEqual(h.open(sampleEvent(title: "two")).description, "INC-20261125-000002")
        h.now = utc("2026-11-26", 0, 0)
        let third = h.open(sampleEvent(title: "three"))
        XCTAssertEqual(third.description, "INC-20261126-000003")
        XCTAssertEqual(IncidentID(third.description), third)
        XCTAssertEqual(h.incident(third).id, third)
    }

    func testOnlyCreatedIncidentsConsumeNumbers() {
        var h = Harness()
        h.create(.groupingRule(GroupingRule(id: "env", name: "env", groupBy: [.environment], windowMilliseconds: Milliseconds.hour)))
        XCTAssertEqual(h.open(sampleEvent()).number, 1)
        h.ingest(sampleEvent())  // deduplicated
        h.ingest(sampleEvent(title: "grouped"))  // grouped
        h.ingest(sampleEvent(title: "never opened", action: .resolve, environment: "staging"))  // ignored
        h.fail(.ingest(events: [], actor: Harness.source))  // refused
        h.fail(.openIncident(ManualIncident(title: "", severity: .p2), actor: Harness.responder))  // refused
        h.ok(.openIncident(ManualIncident(title: "dup", severity: .p2, dedupKey: "k"), actor: Harness.responder))  // created: 2
        h.ok(.openIncident(ManualIncident(title: "dup", severity: .p2, dedupKey: "k"), actor: Harness.responder))  // deduplicated
        XCTAssertEqual(h.open(sampleEvent(title: "next", environment: "staging")).number, 3)
    }

    func testNumbersAreNeverReusedAfterPurgeOrRestore() throws {
        var h = Harness()
        let old = [h.open(sampleEvent(title: "a")), h.open(sampleEvent(title: "b"))]
        for id in old {
            XCTAssertNoThrow(try h.act(id, .resolve).get())
            XCTAssertNoThrow(try h.act(id, .close).get())
        }
        let kept = h.open(sampleEvent(title: "c"))
        h.now = h.now.adding(milliseconds: Milliseconds.day)
        XCTAssertEqual(h.ok(.purgeClosedIncidents(closedBefore: h.now, limit: 10, actor: .system)).result, .purged(count: 2))
        XCTAssertEqual(h.machine.incidentCount, 1)
        XCTAssertNil(h.machine.incident(old[0]))
        XCTAssertEqual(h.fail(.addNote(incident: old[0], text: "late", actor: Harness.responder)).code, .notFound)
        XCTAssertEqual(h.open(sampleEvent(title: "d")).number, 4)

        h.machine = try IncidentStateMachine(snapshot: h.machine.snapshot())
        XCTAssertEqual(h.open(sampleEvent(title: "e")).number, 5, "the counter is state, restored with it")
        XCTAssertEqual(h.incident(kept).title, "c")
    }

    func testNumbersWidenPastSixDigits() {
        var h = Harness()
        h.machine.nextIncidentNumber = 999_999
        XCTAssertEqual(h.open(sampleEvent(title: "a")).description, "INC-20261125-999999")
        let wide = h.open(sampleEvent(title: "b"))
        XCTAssertEqual(wide.description, "INC-20261125-1000000")
        XCTAssertEqual(IncidentID(wide.description), wide)
    }

    // MARK: Bounds

    func testAFlappingAlertGrowsCountersNotState() {
        var h = Harness()
        h.create(.groupingRule(GroupingRule(id: "svc", name: "svc", groupBy: [.resourceID], windowMilliseconds: Milliseconds.hour)))
        let id = h.open(sampleEvent(title: "A"))
        h.ingest(sampleEvent(title: "B"))
        func flap(_ times: Int) {
            for _ in 0..<times { h.ingest(sampleEvent(title: "B", action: .resolve), sampleEvent(title: "B"), after: 1_000) }
        }
        flap(200)
        let early = h.machine.snapshot().count
        flap(4_800)
        let incident = h.incident(id)
        XCTAssertEqual(incident.status, .new)
        XCTAssertEqual(incident.occurrenceCount, 5_002)
        XCTAssertEqual(incident.alerts.map(\.count), [1, 5_001])
        XCTAssertEqual(incident.timeline.totalCount, 2 + 2 * 5_000)
        XCTAssertEqual(incident.timeline.elements.count, Incident.Limits.timelineHead + Incident.Limits.timelineTail)
        XCTAssertEqual(incident.timeline.omittedCount, UInt64(2 + 2 * 5_000 - 128))
        XCTAssertEqual(incident.timeline.elements.first?.kind, .created, "how it started is kept")
        XCTAssertEqual(incident.timeline.last?.at, h.now, "and what is happening now")
        XCTAssertLessThan(h.machine.snapshot().count - early, 64, "25 times the flapping, the same size give or take varint widths")
    }

    func testNotesKeepTheFirstAndLatest() {
        var h = Harness()
        let id = h.open(sampleEvent())
        for n in 1...100 { h.ok(.addNote(incident: id, text: "note \(n)", actor: Harness.responder)) }
        let notes = h.incident(id).notes
        XCTAssertEqual(notes.totalCount, 100)
        XCTAssertEqual(notes.omittedCount, 100 - UInt64(Incident.Limits.notesHead + Incident.Limits.notesTail))
        XCTAssertEqual(notes.elements.map(\.text), (1...8).map { "note \($0)" } + (45...100).map { "note \($0)" })
        XCTAssertEqual(h.incident(id).timeline.last?.reason, "note 100", "each note is on the timeline too")
    }

    func testNotificationHistoryIsBounded() throws {
        var h = Harness()
        h.installOnCall()
        let id = h.open(sampleEvent())
        var delivered = 0
        for _ in 0..<40 {
            XCTAssertNoThrow(try h.act(id, .escalate, after: 1_000).get())
            for intent in h.machine.liveNotifications() {
                h.ok(.recordDelivery(notification: intent.id, report: .delivered, actor: .system))
                delivered += 1
            }
        }
        let history = h.incident(id).notificationHistory
        XCTAssertGreaterThan(delivered, Incident.Limits.historyHead + Incident.Limits.historyTail)
        XCTAssertEqual(history.totalCount, UInt64(delivered))
        XCTAssertEqual(history.elements.count, Incident.Limits.historyHead + Incident.Limits.historyTail)
        XCTAssertTrue(history.elements.allSatisfy { $0.state == .delivered })
        XCTAssertEqual(h.incident(id).recipients.count, 3, "alice, bob and the Slack channel, each once")
    }

    func testBoundedLogsRefuseImpossibleShapesWhenDecoded() {
        var log = BoundedLog<Int>(headCapacity: 2, tailCapacity: 2)
        for n in 1...3 { log.append(n) }
        var writer = BinaryWriter()
        writer.write(varint: 2)
        writer.write(varint: 2)
        writer.write(varint: 3)
        writer.write([1])  // head not full while the tail has entries
        writer.write([3])
        XCTAssertThrowsError(try BoundedLog<Int>(binary: writer.bytes))
        XCTAssertEqual(try BoundedLog<Int>(binary: log.binaryEncoded()), log)
    }
}
