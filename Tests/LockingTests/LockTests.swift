import Dispatch
import Locking
import XCTest

final class LockTests: XCTestCase {
    /// A plain (non-atomic, non-Sendable) counter, shared by reference; only `Lock` orders its
    /// accesses (the lock takes it as a `sending` value, like `Mutex`).
    private final class Counter {
        var value = 0
        var history: [Int] = []
    }

    private final class Shared: Sendable {
        let lock = Lock(Counter())
    }

    /// Four threads count to 40,000 through the lock. Under ThreadSanitizer (README, "Longer
    /// runs") this is also the check that the lock's critical sections are visible to it: with
    /// `Synchronization.Mutex` in its place, the same test reports races on `value` and `history`.
    func testCriticalSectionsExcludeEachOtherAndPublishTheirWrites() {
        let shared = Shared()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<10_000 {
                shared.lock.withLock { counter in
                    counter.value += 1
                    if counter.value.isMultiple(of: 1_000) { counter.history.append(counter.value) }
                }
            }
        }
        XCTAssertEqual(shared.lock.withLock { $0.value }, 40_000)
        XCTAssertEqual(shared.lock.withLock { $0.history }, Array(stride(from: 1_000, through: 40_000, by: 1_000)))
    }

    func testResultsAndErrorsPassThrough() {
        struct Refused: Error {}
        let lock = Lock([1, 2, 3])
        XCTAssertEqual(lock.withLock { values -> Int in values.append(4); return values.count }, 4)
        XCTAssertThrowsError(try lock.withLock { (_: inout [Int]) throws(Refused) -> Int in throw Refused() }) {
            XCTAssertTrue($0 is Refused)
        }
        XCTAssertEqual(lock.withLock { $0 }, [1, 2, 3, 4])
    }
}
