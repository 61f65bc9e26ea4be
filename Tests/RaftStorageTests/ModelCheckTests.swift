import RaftCore
import XCTest

@testable import RaftStorage

/// Long random runs of everything a driver does (appends, suffix replacements, hard-state-only
/// writes, own and leader snapshots, compaction, restarts) against a plain in-memory model.
/// After every restart the recovered state must equal the model. Failures print the seed.
final class ModelCheckTests: XCTestCase {
    func testRandomOperationsMatchTheModelAcrossRestarts() throws {
        for seed: UInt64 in [1, 2, 3, 4] {
            try run(seed: seed, operations: 400)
        }
    }

    private func run(seed: UInt64, operations: Int) throws {
        let temp = try TemporaryDirectory(inMemory: true)
        let path = temp.child("node")
        let config = StorageConfig(segmentSizeBytes: 1024, retainedSnapshotCount: 1)
        var random = SplitMix64(seed: seed)
        var model = ExpectedLog()
        var term: Term = 1
        var store = try openStore(path, config).store
        var mostSegments = 0
        var compactedSegments = 0
        func roll(_ n: UInt64) -> UInt64 { random.next() % n }

        for step in 0..<operations {
            let context = "seed \(seed), step \(step)"
            let base = model.snapshot?.index ?? 0
            switch roll(10) {
            case 0...3:  // the common case: more entries, sometimes with a hard state
                let count = LogIndex(1 + roll(5))
                let batch = makeEntries(model.lastIndex + 1...model.lastIndex + count, term: term, bytes: Int(roll(80)))
                let state = roll(2) == 0 ? HardState(term: term, vote: roll(3), commit: model.lastIndex) : nil
                try store.append(batch, hardState: state)
                model.append(batch, hardState: state)
            case 4 where model.lastIndex > base:  // a new leader replaces a suffix
                term += 1
                let from = base + 1 + LogIndex(roll(model.lastIndex - base))
                let batch = makeEntries(from...from + LogIndex(roll(3)), term: term, bytes: 30)
                try store.append(batch, hardState: HardState(term: term, vote: 0, commit: base))
                model.append(batch, hardState: HardState(term: term, vote: 0, commit: base))
            case 5:
                let state = HardState(term: term, vote: 1 + roll(3), commit: model.lastIndex)
                try store.append([], hardState: state)
                model.append([], hardState: state)
            case 6 where model.lastIndex > base:  // our own snapshot of applied state
                let index = base + 1 + LogIndex(roll(model.lastIndex - base))
                let metadata = SnapshotMetadata(index: index, term: model.term(at: index)!, confState: ConfState(voters: [1, 2, 3]))
                try store.saveSnapshot(Snapshot(metadata: metadata, data: makeEntries(1...1, term: index, bytes: 100)[0].data))
                model.save(metadata)
            case 7 where roll(4) == 0:  // a leader's snapshot, possibly ahead of or diverging from our log
                term += 1
                let index = Int(model.lastIndex) + Int(roll(4)) - Int(roll(3))  // behind, at or ahead of our log
                guard index > Int(base) else { continue }
                let metadata = SnapshotMetadata(index: LogIndex(index), term: term)
                try store.saveSnapshot(Snapshot(metadata: metadata, data: [1, 2, 3]))
                model.save(metadata)
            case 8:
                compactedSegments += try store.compact(upTo: base)
            case 9:
                store.close()
                let reopened = try openStore(path, config)
                XCTAssertTrue(model.matches(reopened.recovered), context)
                XCTAssertNil(reopened.recovered.discardedTail, context)
                store = reopened.store
            default:
                continue
            }
            XCTAssertEqual(store.lastIndex, model.lastIndex, context)
            XCTAssertEqual(store.hardState, model.hardState, context)
            mostSegments = max(mostSegments, store.segmentCount)
        }
        store.close()
        XCTAssertTrue(model.matches(try openStore(path, config).recovered), "seed \(seed), final restart")
        XCTAssertGreaterThan(mostSegments, 2, "seed \(seed): the run should roll segments")
        XCTAssertGreaterThan(compactedSegments, 0, "seed \(seed): the run should compact")
    }
}
