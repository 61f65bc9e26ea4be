import IncidentCore
import XCTest

@testable import ClusterNode

/// A forwarded write's command is logged by the leader as its follower encoded it
/// (`Forwarded.decodeRequestKeepingCommandBytes`, `Envelope.encoded(incidentCommandBytes:)`).
final class ForwardedRequestTests: XCTestCase {
    private let command = Command.ingest(
        events: [event("GPU memory pressure", dedupKey: "gpu-7"), event("latency p99 over budget")], actor: Actor(.apiKey, "ops"))

    func testTheKeptBytesAreTheCommandsEncodingAndMakeTheSameEntry() throws {
        let request = Forwarded.encode(.command(command, requestID: "n2-k3x9"))
        let (decoded, kept) = try Forwarded.decodeRequestKeepingCommandBytes(request)
        XCTAssertEqual(decoded, .command(command, requestID: "n2-k3x9"))
        let bytes = try XCTUnwrap(kept)
        XCTAssertEqual(Array(bytes), command.binaryEncoded())
        XCTAssertEqual(bytes.endIndex, request.endIndex, "the command runs to the end of the request")

        let envelope = Envelope(stamp: Timestamp(millisecondsSinceEpoch: 1_764_000_000_123), requestID: "n2-k3x9", body: .incident(command))
        let entry = envelope.encoded(incidentCommandBytes: bytes)
        XCTAssertEqual(entry, envelope.encoded(), "the same log entry as encoding the command again")
        XCTAssertEqual(try Envelope(decoding: entry), envelope)
    }

    func testAnEmptyRequestIDAndAClusterOperation() throws {
        let (_, kept) = try Forwarded.decodeRequestKeepingCommandBytes(Forwarded.encode(.command(command, requestID: "")))
        let envelope = Envelope(stamp: Timestamp(millisecondsSinceEpoch: -5), requestID: "", body: .incident(command))
        XCTAssertEqual(envelope.encoded(incidentCommandBytes: try XCTUnwrap(kept)), envelope.encoded())

        let (operation, none) = try Forwarded.decodeRequestKeepingCommandBytes(Forwarded.encode(.cluster(.forgetMember(4))))
        XCTAssertEqual(operation, .cluster(.forgetMember(4)))
        XCTAssertNil(none)
    }

    func testAMalformedCommandIsRefusedNotKept() {
        var request = Forwarded.encode(.command(command, requestID: "n2-k3x9"))
        request.removeLast()
        XCTAssertThrowsError(try Forwarded.decodeRequestKeepingCommandBytes(request))
        XCTAssertThrowsError(try Forwarded.decodeRequestKeepingCommandBytes(Forwarded.encode(.command(command, requestID: "x")) + [0]))
    }
}
