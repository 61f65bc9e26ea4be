import XCTest

@testable import ClusterNode

final class RetryIDTests: XCTestCase {
    /// The hand-written base 36 of retry ids is what `String(_:radix:)` writes.
    func testRetryIDsCountInBase36AfterTheirPrefix() {
        var counters: [UInt64] = [0, 1, 9, 10, 35, 36, 37, 1_295, 1_296, 46_655, 46_656, UInt64(UInt32.max), UInt64.max - 1, UInt64.max]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 { counters.append(generator.next() >> UInt64.random(in: 0...63, using: &generator)) }
        for n in counters {
            XCTAssertEqual(IncidentNode.retryID(prefix: "~3.abc.", counter: n), "~3.abc." + String(n, radix: 36), "\(n)")
        }
    }
}
