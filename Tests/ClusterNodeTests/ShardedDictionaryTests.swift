import XCTest

@testable import ClusterNode

/// `ShardedDictionary` (the request table's storage) behaves as one `Dictionary`, and a copy is a
/// value: writes to either side never show through to the other.
final class ShardedDictionaryTests: XCTestCase {
    func testMatchesADictionaryUnderRandomInsertsUpdatesAndRemovals() {
        var sharded = ShardedDictionary<String, Int>()
        var reference: [String: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let key = "request-\(Int.random(in: 0..<3_000, using: &generator))"
            if Int.random(in: 0..<3, using: &generator) == 0 {
                sharded[key] = nil
                reference[key] = nil
            } else {
                sharded[key] = step
                reference[key] = step
            }
            XCTAssertEqual(sharded.count, reference.count, "step \(step)")
        }
        for i in 0..<3_000 {
            XCTAssertEqual(sharded["request-\(i)"], reference["request-\(i)"], "request-\(i)")
        }
        sharded.removeAll()
        XCTAssertEqual(sharded.count, 0)
        XCTAssertNil(sharded["request-1"])
    }

    func testACopyIsIndependentOfTheOriginal() {
        var original = ShardedDictionary<String, [UInt8]>()
        for i in 0..<2_000 { original["id-\(i)"] = [UInt8(i % 256)] }
        let snapshot = original
        original["id-7"] = nil
        original["id-8"] = [99]
        original["new"] = [1]
        XCTAssertEqual(snapshot.count, 2_000)
        XCTAssertEqual(snapshot["id-7"], [7])
        XCTAssertEqual(snapshot["id-8"], [8])
        XCTAssertNil(snapshot["new"])
        XCTAssertEqual(original.count, 2_000)
        XCTAssertNil(original["id-7"])
        XCTAssertEqual(original["id-8"], [99])
        var other = snapshot
        other["id-9"] = [0]
        XCTAssertEqual(snapshot["id-9"], [9])
        XCTAssertEqual(original["id-9"], [9])
    }
}
