import XCTest

@testable import IncidentAPI

/// Regression: the timer was cancelled before the answer was delivered, and a cancelled sleep
/// returns at once, so quick work was sometimes reported as a timeout (`/ready` answered 503
/// on an idle node in about a quarter of polls).
final class DeadlineTests: XCTestCase {
    func testQuickWorkIsNeverReportedAsATimeout() async {
        var timeouts = 0
        for i in 0..<500 {
            let value = await Deadline.firstOf(milliseconds: 2_000) { i }
            if value == nil { timeouts += 1 }
        }
        XCTAssertEqual(timeouts, 0, "\(timeouts) of 500 immediate answers were reported as timeouts")
    }

    func testSlowWorkIsReportedAsATimeout() async {
        let value = await Deadline.firstOf(milliseconds: 20) { () async -> Int in
            try? await Task.sleep(for: .milliseconds(500))
            return 1
        }
        XCTAssertNil(value)
    }
}
