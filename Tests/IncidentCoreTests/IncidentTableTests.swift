import Foundation
import Synchronization
import XCTest

@testable import IncidentCore

/// `IncidentTable` (boxes in 512 shards by number) behaves as one dictionary, and a copy of the
/// state — what a node hands its snapshot thread — never sees the writes made after it.
final class IncidentTableTests: XCTestCase {
    /// More incidents than shards, so every shard holds several.
    private let incidentCount = 1_300

    private func machine(incidents: Int) -> (IncidentStateMachine, UInt64, [IncidentID]) {
        var machine = IncidentStateMachine()
        var index: UInt64 = 0
        var ids: [IncidentID] = []
        let start = Timestamp(millisecondsSinceEpoch: 1_795_586_400_000)
        for n in 0..<incidents {
            index += 1
            let event = sampleEvent(dedupKey: "key-\(n)")
            guard case .success(let applied) = machine.apply(.ingest(events: [event], actor: Harness.source), at: start.adding(milliseconds: Int64(n)), index: index),
                case .ingested(let results) = applied.result, let id = results.first?.incident
            else {
                XCTFail("event \(n) did not open an incident")
                continue
            }
            ids.append(id)
        }
        return (machine, index, ids)
    }

    func testTheTableCountsFindsListsAndRemovesLikeOneDictionary() {
        let (machine, _, ids) = machine(incidents: incidentCount)
        var table = machine.incidents
        XCTAssertEqual(table.count, incidentCount)
        XCTAssertEqual(table.unordered.map(\.id.number).sorted(), ids.map(\.number), "every number, once")
        XCTAssertEqual(Set(table.unordered.map(\.id)), Set(ids))
        for id in [ids[0], ids[511], ids[512], ids[1_299]] {
            XCTAssertTrue(table.contains(id.number))
            XCTAssertEqual(table.find(id.number)?.id, id)
            XCTAssertEqual(table[id.number].id, id)
        }
        XCTAssertNil(table.find(UInt64(incidentCount) + 10))
        table.remove(ids[512].number)
        table.remove(ids[512].number)  // removing twice counts once
        XCTAssertEqual(table.count, incidentCount - 1)
        XCTAssertFalse(table.contains(ids[512].number))
        XCTAssertEqual(table.unordered.map(\.id.number).sorted(), ids.map(\.number).filter { $0 != ids[512].number })
        XCTAssertEqual(machine.incidents.count, incidentCount, "the table it was copied from is untouched")
    }

    func testACopyTakenBeforeWritesKeepsItsStateAndTheWritesLandInTheOriginalOnly() throws {
        var (machine, index, ids) = machine(incidents: incidentCount)
        let copy = machine
        let before = copy.snapshot()
        let at = Timestamp(millisecondsSinceEpoch: 1_795_590_000_000)
        // Writes to incidents in many shards: acknowledge some, deduplicate into others, open new.
        for (n, id) in ids.enumerated() where n % 7 == 0 {
            index += 1
            _ = machine.apply(.transition(incident: id, action: .acknowledge, comment: "", rootCause: "", actor: Harness.responder), at: at, index: index)
        }
        for n in stride(from: 3, to: incidentCount, by: 11) {
            index += 1
            _ = machine.apply(.ingest(events: [sampleEvent(dedupKey: "key-\(n)")], actor: Harness.source), at: at, index: index)
        }
        index += 1
        _ = machine.apply(.ingest(events: [sampleEvent(dedupKey: "new")], actor: Harness.source), at: at, index: index)

        XCTAssertEqual(copy.snapshot(), before, "the copy still encodes the state as of the copy")
        XCTAssertNil(machine.invariantViolation())
        XCTAssertEqual(machine.incidents.count, incidentCount + 1)
        XCTAssertEqual(machine.incident(ids[7])?.status, .acknowledged)
        XCTAssertEqual(copy.incident(ids[7])?.status, .new)
        XCTAssertEqual(machine.incident(ids[3])?.occurrenceCount, 2)
        XCTAssertEqual(copy.incident(ids[3])?.occurrenceCount, 1)
        // And the original restores from its own snapshot to the same state.
        let restored = try IncidentStateMachine(snapshot: machine.snapshot())
        XCTAssertEqual(restored.snapshot(), machine.snapshot())
        XCTAssertEqual(restored.incidents.count, incidentCount + 1)
    }

    /// A snapshot thread reusing kept encodings writes the same bytes as one encoding everything,
    /// while the loop writes to the state between and during snapshots (as a node does: each
    /// snapshot encodes a copy taken before the writes), and it encodes only what changed.
    func testSnapshotsReusingKeptEncodingsEqualFullEncodingsAndEncodeOnlyWhatChanged() throws {
        var (machine, index, ids) = machine(incidents: incidentCount)
        let budget = 1 << 30
        var stats = SnapshotEncodingStats()
        let first = machine.snapshot(reusingEncodingsUpTo: budget, stats: &stats)
        XCTAssertEqual(first, machine.snapshot())
        XCTAssertEqual(stats.reusedIncidents, 0)
        XCTAssertEqual(stats.encodedIncidents, incidentCount)
        XCTAssertGreaterThan(stats.keptEncodingBytes, incidentCount * 100)

        // A copy handed to the "snapshot thread", then writes on the "loop" while it lives.
        let copy = machine
        let expected = machine.snapshot()
        let at = Timestamp(millisecondsSinceEpoch: 1_795_590_000_000)
        var touched = Set<UInt64>()
        for (n, id) in ids.enumerated() where n % 7 == 0 {
            index += 1
            _ = machine.apply(.transition(incident: id, action: .acknowledge, comment: "", rootCause: "", actor: Harness.responder), at: at, index: index)
            touched.insert(id.number)
        }
        stats = SnapshotEncodingStats()
        XCTAssertEqual(copy.snapshot(reusingEncodingsUpTo: budget, stats: &stats), expected, "the copy's incidents were all unchanged")
        XCTAssertEqual(stats.reusedIncidents, incidentCount)
        XCTAssertEqual(stats.encodedIncidents, 0)

        // Deduplicated events, a resolution and a new incident: each changed one is encoded again.
        for n in stride(from: 3, to: incidentCount, by: 11) {
            index += 1
            _ = machine.apply(.ingest(events: [sampleEvent(dedupKey: "key-\(n)")], actor: Harness.source), at: at, index: index)
            touched.insert(ids[n].number)
        }
        index += 1
        _ = machine.apply(.transition(incident: ids[5], action: .resolve, comment: "fixed", rootCause: "", actor: Harness.responder), at: at, index: index)
        touched.insert(ids[5].number)
        index += 1
        _ = machine.apply(.ingest(events: [sampleEvent(dedupKey: "new")], actor: Harness.source), at: at, index: index)
        XCTAssertEqual(machine.incident(ids[5])?.status, .resolved)
        stats = SnapshotEncodingStats()
        let second = machine.snapshot(reusingEncodingsUpTo: budget, stats: &stats)
        XCTAssertEqual(second, machine.snapshot())
        XCTAssertEqual(second, try IncidentStateMachine(snapshot: second).snapshot(), "restores to the same bytes")
        XCTAssertEqual(stats.encodedIncidents, touched.count + 1, "the written incidents and the new one")
        XCTAssertEqual(stats.reusedIncidents, incidentCount - touched.count)
    }

    /// The kept encodings stay within the budget (lower numbers first), the bytes are the same
    /// whatever the budget, and a budget of 0 keeps and reuses nothing.
    func testKeptEncodingsStayWithinTheBudget() {
        let (machine, _, _) = machine(incidents: incidentCount)
        let full = machine.snapshot()
        var stats = SnapshotEncodingStats()
        XCTAssertEqual(machine.snapshot(reusingEncodingsUpTo: 0, stats: &stats), full)
        XCTAssertEqual(stats, { var s = SnapshotEncodingStats(); s.encodedIncidents = incidentCount; return s }())
        stats = SnapshotEncodingStats()
        XCTAssertEqual(machine.snapshot(reusingEncodingsUpTo: 0, stats: &stats), full)
        XCTAssertEqual(stats.reusedIncidents, 0, "nothing kept at 0")

        let budget = 50_000
        stats = SnapshotEncodingStats()
        XCTAssertEqual(machine.snapshot(reusingEncodingsUpTo: budget, stats: &stats), full)
        XCTAssertLessThanOrEqual(stats.keptEncodingBytes, budget)
        XCTAssertGreaterThan(stats.keptEncodingBytes, budget / 2)
        let kept = stats.keptEncodingBytes
        stats = SnapshotEncodingStats()
        XCTAssertEqual(machine.snapshot(reusingEncodingsUpTo: budget, stats: &stats), full)
        XCTAssertGreaterThan(stats.reusedIncidents, 0)
        XCTAssertLessThan(stats.reusedIncidents, incidentCount)
        XCTAssertEqual(stats.keptEncodingBytes, kept, "the same incidents stay kept")
    }

    /// As on a node: one thread keeps writing to the state while another encodes the copies it
    /// is handed, reusing and keeping encodings in the boxes both share. Every copy encodes to
    /// the bytes the writing thread saw when it took it. (Under `swift test --sanitize=thread`
    /// this is also the race check of `IncidentTable.Box`'s sharing rule.)
    func testASnapshotThreadReusingEncodingsWhileWritesGoOnEncodesEachCopyAsItWas() throws {
        var (machine, index, ids) = machine(incidents: incidentCount)
        let snapshots = DispatchQueue(label: "snapshot-thread")
        let mismatches = Counter()
        let reused = Counter()
        let at = Timestamp(millisecondsSinceEpoch: 1_795_590_000_000)
        func write(from first: Int) {
            // Deduplicated events into a few dozen incidents, some acknowledged.
            for n in stride(from: first, to: incidentCount, by: 37) {
                index += 1
                _ = machine.apply(.ingest(events: [sampleEvent(dedupKey: "key-\(n)")], actor: Harness.source), at: at, index: index)
                if n % 3 == 0 {
                    index += 1
                    _ = machine.apply(.transition(incident: ids[n], action: .acknowledge, comment: "", rootCause: "", actor: Harness.responder), at: at, index: index)
                }
            }
        }
        for round in 0..<40 {
            // With no copy alive (the last snapshot is done): written in place, in boxes that
            // kept an encoding.
            write(from: round % 11)
            do {
                let copy = machine
                let expected = machine.snapshot()  // a budget of 0 touches no kept encoding
                snapshots.async {
                    var stats = SnapshotEncodingStats()
                    if copy.snapshot(reusingEncodingsUpTo: 1 << 30, stats: &stats) != expected { mismatches.add(1) }
                    reused.add(stats.reusedIncidents)
                }
            }
            // While the snapshot thread encodes: written into fresh boxes (the old ones shared).
            write(from: 17 + round % 13)
            snapshots.sync {}
        }
        XCTAssertEqual(mismatches.value, 0)
        XCTAssertGreaterThan(reused.value, 30 * incidentCount / 2, "most incidents reused in most snapshots")
        var stats = SnapshotEncodingStats()
        XCTAssertTrue(machine.snapshot(reusingEncodingsUpTo: 1 << 30, stats: &stats) == machine.snapshot(), "the final state reuses encodings faithfully")
    }
}

/// A total two threads add to; read after they are done (the queue's `sync` orders it).
private final class Counter: Sendable {
    private let total = Atomic<Int>(0)
    func add(_ n: Int) { total.add(n, ordering: .relaxed) }
    var value: Int { total.load(ordering: .relaxed) }
}
