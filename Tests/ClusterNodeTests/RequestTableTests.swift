import IncidentCore
import XCTest

@testable import ClusterNode

/// `RequestTable` against a plain model (an array in applied order): the same answers, the same
/// evictions by count and by age, and the same snapshot bytes (the format every version reads),
/// across many chunks of its record store; and a copy is not changed by the original's writes.
final class RequestTableTests: XCTestCase {
    private struct ModelRecord: Equatable {
        var id: String
        var index: UInt64
        var stamp: Int64
        var answer: [UInt8]
    }

    private struct Model {
        var records: [ModelRecord] = []
        let capacity: Int
        let retention: Int64

        func answer(for id: String) -> ModelRecord? { records.last { $0.id == id } }

        mutating func remember(_ record: ModelRecord) {
            records.removeAll { record.stamp - $0.stamp > retention }
            records.append(record)
            if records.count > capacity { records.removeFirst(records.count - capacity) }
        }

        /// The snapshot format: count, then per record id, index, stamp and answer.
        var encoded: [UInt8] {
            var writer = BinaryWriter()
            writer.write(varint: UInt64(records.count))
            for record in records {
                writer.write(string: record.id)
                writer.write(varint: record.index)
                writer.write(zigzag: record.stamp)
                writer.write(blob: record.answer)
            }
            return writer.bytes
        }
    }

    private func encoded(_ table: RequestTable) -> [UInt8] {
        var writer = BinaryWriter()
        table.encode(to: &writer)
        return writer.bytes
    }

    private func check(_ table: RequestTable, against model: Model, ids: [String], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(table.count, Set(model.records.map(\.id)).count, context, file: file, line: line)
        for id in ids {
            let expected = model.answer(for: id)
            let found = table.answer(for: RequestTable.Key(id))
            XCTAssertEqual(found?.index, expected?.index, "\(context): \(id)", file: file, line: line)
            XCTAssertEqual(found?.stamp, expected?.stamp, "\(context): \(id)", file: file, line: line)
            XCTAssertEqual(found?.answer, expected?.answer, "\(context): \(id)", file: file, line: line)
        }
    }

    func testMatchesTheModelAcrossChunksEvictionsAndSnapshots() throws {
        let chunk = RequestTable.Records.chunkSize
        // Capacity spans several chunks and is not a multiple of one; retention evicts in bursts.
        let capacity = chunk * 3 + 17
        var table = RequestTable(capacity: capacity, retentionMilliseconds: 5_000)
        var model = Model(capacity: capacity, retention: 5_000)
        var stamp: Int64 = 1_700_000_000_000
        var allIDs: [String] = []
        let failure = Outcome.failure(CommandError(.notFound, "no incident \"x\"\\y"))
        var failureBytes = BinaryWriter()
        RequestTable.encode(failure, to: &failureBytes)
        for step in 1...(chunk * 12) {
            // Mostly a millisecond apart; now and then a pause long enough to evict by age.
            stamp += step % 1_500 == 0 ? [1_000, 6_000, 3_000, 5_001][step / 1_500 % 4] : Int64(step * 7 % 3)
            let id = "~n\(step)"
            let withAnswer = step % 7 == 0
            table.remember(RequestTable.Key(id), index: UInt64(step), stamp: Timestamp(millisecondsSinceEpoch: stamp), outcome: withAnswer ? failure : nil)
            model.remember(ModelRecord(id: id, index: UInt64(step), stamp: stamp, answer: withAnswer ? failureBytes.bytes : []))
            allIDs.append(id)
            if step % 997 == 0 || step == chunk * 12 {
                // Ids never remembered, evicted, live, and the newest.
                let sample = ["~never", allIDs[0], allIDs[allIDs.count / 2]] + allIDs.suffix(5)
                    + (1...20).map { allIDs[allIDs.count * $0 / 21] }
                check(table, against: model, ids: sample, "step \(step)")
                XCTAssertEqual(encoded(table), model.encoded, "step \(step): snapshot bytes")
                XCTAssertLessThanOrEqual(model.encoded.count, table.encodedBytesEstimate, "step \(step): the writer's size")
                var reader = BinaryReader(encoded(table))
                var restored = RequestTable(capacity: capacity, retentionMilliseconds: 5_000)
                try restored.decode(from: &reader)
                XCTAssertEqual(encoded(restored), model.encoded, "step \(step): restored")
                check(restored, against: model, ids: sample, "step \(step): restored")
            }
        }
        XCTAssertLessThanOrEqual(model.records.count, capacity)
        XCTAssertGreaterThan(model.records.count, chunk, "the run should end with several chunks in use")
    }

    /// A snapshot encodes a copy while the loop goes on writing to the original.
    func testACopyIsNotChangedByTheOriginalsWrites() {
        let chunk = RequestTable.Records.chunkSize
        var table = RequestTable(capacity: chunk * 2, retentionMilliseconds: 60_000)
        for n in 0..<(chunk * 2) {
            table.remember(RequestTable.Key("~a\(n)"), index: UInt64(n), stamp: Timestamp(millisecondsSinceEpoch: Int64(n)), outcome: nil)
        }
        let copy = table
        let before = encoded(copy)
        for n in 0..<(chunk + 5) {
            table.remember(RequestTable.Key("~b\(n)"), index: UInt64(10_000 + n), stamp: Timestamp(millisecondsSinceEpoch: Int64(chunk * 2 + n)), outcome: nil)
        }
        XCTAssertEqual(encoded(copy), before)
        XCTAssertEqual(copy.answer(for: RequestTable.Key("~a0"))?.index, 0)
        XCTAssertNil(table.answer(for: RequestTable.Key("~a0")), "evicted by count from the original")
        XCTAssertNil(copy.answer(for: RequestTable.Key("~b0")))
        XCTAssertEqual(table.answer(for: RequestTable.Key("~b\(chunk + 4)"))?.index, UInt64(10_000 + chunk + 4))
        XCTAssertEqual(table.count, chunk * 2)
    }
}
