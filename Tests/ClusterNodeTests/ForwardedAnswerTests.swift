import IncidentCore
import XCTest

@testable import ClusterNode

/// The Forward answer to a write (docs/PROTOCOL.md §3): status 0 without the entry's term for a
/// requester on wire protocol version 1, status 5 with it from version 2 on.
final class ForwardedAnswerTests: XCTestCase {
    private let submission = Submission(
        outcome: .success(Applied(result: .purged(count: 3), effects: Effects())), index: 812, appliedAt: Timestamp(millisecondsSinceEpoch: 1_764_000_000_000),
        duplicate: true, term: 9)

    func testAnAnswerWithTheTermCarriesItAndOneWithoutReadsAsUnknown() throws {
        let withTerm = Forwarded.encode(.applied(submission), withTerm: true)
        let without = Forwarded.encode(.applied(submission))
        XCTAssertEqual(withTerm[1], 5)
        XCTAssertEqual(without[1], 0)
        for (bytes, term) in [(withTerm, UInt64(9)), (without, UInt64(0))] {
            guard case .applied(let decoded) = try Forwarded.decodeAnswer(bytes) else { return XCTFail("not an applied answer") }
            XCTAssertEqual(decoded.index, 812)
            XCTAssertEqual(decoded.term, term)
            XCTAssertEqual(decoded.appliedAt, submission.appliedAt)
            XCTAssertTrue(decoded.duplicate)
            guard case .success(let applied) = decoded.outcome, case .purged(let count) = applied.result else { return XCTFail("outcome") }
            XCTAssertEqual(count, 3)
        }
        XCTAssertEqual(withTerm.count, without.count + 1, "the term is one varint byte here, and nothing else changed")
    }

    func testATruncatedAnswerWithTheTermIsRefused() {
        let bytes = Forwarded.encode(.applied(submission), withTerm: true)
        for length in 2..<bytes.count {
            XCTAssertThrowsError(try Forwarded.decodeAnswer(Array(bytes[..<length])), "\(length) bytes")
        }
        XCTAssertThrowsError(try Forwarded.decodeAnswer(bytes + [0]), "a trailing byte")
    }
}
