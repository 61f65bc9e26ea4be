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

/// A follower applies a write it forwarded from the command it kept, not by decoding the entry
/// (`OwnWrites.envelope(decoding:)`), and only when the entry carries exactly the bytes it sent.
final class ForwardedEnvelopeTests: XCTestCase {
    private let command = Command.ingest(events: [event("disk full", dedupKey: "disk-3")], actor: Actor(.apiKey, "ops"))
    private let other = Command.ingest(events: [event("disk full", dedupKey: "disk-4")], actor: Actor(.apiKey, "ops"))
    private let stamp = Timestamp(millisecondsSinceEpoch: 1_764_000_000_777)

    private func forwarded(_ writes: OwnWrites, id: String, _ command: Command) {
        let (bytes, start) = Forwarded.encodeCommand(command, requestID: id)
        writes.forwarding(id, command, encoded: bytes[start...])
    }

    private func entry(_ id: String, _ body: Envelope.Body) -> (envelope: Envelope, bytes: [UInt8]) {
        let envelope = Envelope(stamp: stamp, requestID: id, body: body)
        return (envelope, envelope.encoded())
    }

    func testTheEntryOfAForwardedWriteTakesTheKeptCommand() throws {
        let writes = OwnWrites(nodeID: 2)
        writes.register(writes.idPrefix + "1")
        forwarded(writes, id: writes.idPrefix + "1", command)
        XCTAssertEqual(writes.keptCommands, 1)
        let (envelope, bytes) = entry(writes.idPrefix + "1", .incident(command))
        XCTAssertEqual(try writes.envelope(decoding: bytes), envelope)
        XCTAssertEqual(writes.keptCommands, 0, "taken")
        XCTAssertEqual(writes.forwardedCommandsReused, 1)
        XCTAssertEqual(try writes.envelope(decoding: bytes), envelope, "a second entry with the id is decoded")
    }

    func testOtherEntriesAreDecodedAndLeaveTheKeptCommand() throws {
        let writes = OwnWrites(nodeID: 2)
        writes.register(writes.idPrefix + "1")
        forwarded(writes, id: writes.idPrefix + "1", command)
        for (envelope, bytes) in [
            entry(writes.idPrefix + "2", .incident(command)), entry("client-key", .incident(command)), entry("~3.x.1", .incident(command)),
            entry(writes.idPrefix + "2", .cluster(.forgetMember(3))),
        ] {
            XCTAssertEqual(try writes.envelope(decoding: bytes), envelope)
        }
        XCTAssertThrowsError(try writes.envelope(decoding: [9, 1, 2]))
        XCTAssertThrowsError(try writes.envelope(decoding: []))
        XCTAssertEqual(writes.keptCommands, 1)
        XCTAssertEqual(writes.forwardedCommandsReused, 0)
    }

    func testAnotherCommandUnderTheIdIsDecodedNotReplaced() throws {
        let writes = OwnWrites(nodeID: 2)
        writes.register(writes.idPrefix + "1")
        forwarded(writes, id: writes.idPrefix + "1", command)
        let (envelope, bytes) = entry(writes.idPrefix + "1", .incident(other))
        XCTAssertEqual(try writes.envelope(decoding: bytes), envelope, "the entry's own command, not the kept one")
        var truncated = entry(writes.idPrefix + "1", .incident(command)).bytes
        truncated.removeLast()
        forwarded(writes, id: writes.idPrefix + "1", command)
        XCTAssertThrowsError(try writes.envelope(decoding: truncated))
    }

    func testOnlyWritesInFlightAreKept() {
        let writes = OwnWrites(nodeID: 2)
        forwarded(writes, id: writes.idPrefix + "5", command)  // never registered
        XCTAssertEqual(writes.keptCommands, 0)
        writes.register(writes.idPrefix + "5")
        forwarded(writes, id: writes.idPrefix + "5", command)
        XCTAssertEqual(writes.keptCommands, 1)
        writes.finish(writes.idPrefix + "5")
        XCTAssertEqual(writes.keptCommands, 0, "finished: nothing kept")
    }
}
