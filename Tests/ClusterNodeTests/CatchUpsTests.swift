import Locking
import XCTest

@testable import ClusterNode

final class CatchUpsTests: XCTestCase {
    /// Waits end when their index is applied, in the order they were added, or at their
    /// deadline; only forwarded writes' waits (`counted`) count as answered before catching up.
    func testWaitsEndOnApplyOrDeadlineAndOnlyForwardedWritesAreCounted() {
        let done = Lock<[String]>([])
        func mark(_ name: String) -> @Sendable () -> Void { { done.withLock { $0.append(name) } } }
        var waits = CatchUps()
        waits.add(index: 5, deadline: 100, done: mark("write 5"))
        waits.add(index: 3, deadline: 100, done: mark("write 3"))
        waits.add(index: 9, deadline: 50, counted: false, done: mark("earlier answer 9"))
        waits.add(index: 9, deadline: 60, done: mark("write 9"))
        waits.release(upTo: 5)
        XCTAssertEqual(done.withLock { $0 }, ["write 5", "write 3"])
        XCTAssertEqual(waits.releaseExpired(now: 49), 0)
        XCTAssertEqual(waits.releaseExpired(now: 50), 0, "an uncounted wait ran out")
        XCTAssertEqual(done.withLock { $0 }.last, "earlier answer 9")
        XCTAssertEqual(waits.releaseExpired(now: 60), 1)
        XCTAssertEqual(waits.count, 0)
        XCTAssertEqual(done.withLock { $0 }, ["write 5", "write 3", "earlier answer 9", "write 9"])
    }
}
