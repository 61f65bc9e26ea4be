import XCTest

@testable import IncidentCore

/// Pins the encodings other components depend on: the fingerprint definition (test vectors
/// computed independently of this code, with a few lines of Python over the bytes that
/// docs/ARCHITECTURE.md specifies), the command envelope, the snapshot header, and refusals of
/// malformed input.
final class CodecTests: XCTestCase {
    // MARK: Fingerprints

    /// A length filled in after what it measures: five bytes whatever the value, read back by the
    /// ordinary varint reader, and what follows it untouched.
    func testPaddedVarintsReadAsTheirValue() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 28, (1 << 35) - 1] {
            var writer = BinaryWriter()
            writer.write(UInt8(0xAA))
            let at = writer.reservePaddedVarint()
            writer.write(UInt8(0xBB))
            writer.fill(paddedVarint: value, at: at)
            XCTAssertEqual(writer.bytes.count, 7)
            var reader = BinaryReader(writer.bytes)
            XCTAssertEqual(try reader.readByte(), 0xAA)
            XCTAssertEqual(try reader.readVarint(), value, "\(value)")
            XCTAssertEqual(try reader.readByte(), 0xBB)
            try reader.expectEnd()
        }
        var unfilled = BinaryWriter()
        _ = unfilled.reservePaddedVarint()
        var reader = BinaryReader(unfilled.bytes)
        XCTAssertEqual(try reader.readVarint(), 0, "an unfilled length reads as 0")
    }

    func testFNV1a128MatchesThePublishedVectors() {
        var empty = FNV1a128()
        empty.combine(bytes: "")
        XCTAssertEqual(FNV1a128.hex(empty.state), "6c62272e07bb014262b821756295c58d", "the offset basis")
        var a = FNV1a128()
        a.combine(bytes: "a")
        XCTAssertEqual(FNV1a128.hex(a.state), "d228cb696f1a8caf78912b704e4a8964")
    }

    func testFingerprintVectors() {
        // "v1" US source US event_type US resource.id US title
        XCTAssertEqual(Fingerprint(of: sampleEvent()).value, "h:71b95bc0b2f7bb9b259e83123e053eac")
        XCTAssertEqual(Fingerprint(of: event(source: "src", type: "t", title: "title")).value, "h:8a19492c9638c3a0d1dd571474e4350e")
        // Label-only events add the labels sorted by UTF-8 bytes: "Zone" < "alertname" < "cluster".
        let labels = ["alertname": "HighLatency", "cluster": "eu-1", "Zone": "b"]
        XCTAssertEqual(Fingerprint(of: event(title: "", labels: labels)).value, "h:fffe14b9e0f4e3001d4da12deba36820")
        XCTAssertEqual(
            Fingerprint(of: event(title: "HighLatency", labels: ["alertname": "HighLatency", "cluster": "eu-1"])).value,
            "h:d9c7803b5549535f49b832671359c361")
        XCTAssertEqual(Fingerprint(of: event(title: "", labels: ["é": "1", "z": "2"])).value, "h:19904566b3898ce701d5f8c942063f47")
    }

    func testFingerprintIgnoresLabelsWhenTheResourceIdentifiesTheEvent() {
        let plain = sampleEvent()
        let labelled = sampleEvent(labels: ["pod": "chat-api-7f9c"])
        XCTAssertEqual(Fingerprint(of: plain), Fingerprint(of: labelled), "a pod label must not split the incident")
        // Everything else in the definition does change it.
        for other in [sampleEvent(title: "other"), sampleEvent(source: "other"), sampleEvent(resourceID: "other"), sampleEvent(eventType: "other")] {
            XCTAssertNotEqual(Fingerprint(of: other), Fingerprint(of: plain))
        }
        // Fields outside the definition do not.
        for same in [sampleEvent(severity: "low"), sampleEvent(environment: "staging"), sampleEvent(category: .cost), sampleEvent(at: .epoch)] {
            XCTAssertEqual(Fingerprint(of: same), Fingerprint(of: plain))
        }
        // Separators keep fields apart: moving a character across a boundary changes the hash.
        XCTAssertNotEqual(Fingerprint(of: event(source: "ab", type: "c")), Fingerprint(of: event(source: "a", type: "bc")))
    }

    func testDedupKeyFingerprintAndStringForms() {
        XCTAssertEqual(Fingerprint(of: sampleEvent(dedupKey: "db/primary")).value, "k:db/primary")
        for text in ["k:db/primary", "h:71b95bc0b2f7bb9b259e83123e053eac", "m:42"] {
            XCTAssertEqual(Fingerprint(parsing: text)?.value, text)
        }
        for bad in ["", "k:", "h:71B95BC0B2F7BB9B259E83123E053EAC", "h:71b95bc0", "m:042", "m:", "x:1", "h:zz" + String(repeating: "0", count: 30)] {
            XCTAssertNil(Fingerprint(parsing: bad), bad)
        }
        for fingerprint in [Fingerprint.key("k"), .hash(UInt128.max), .hash(0), .manual(7)] {
            XCTAssertEqual(try Fingerprint(binary: fingerprint.binaryEncoded()), fingerprint)
        }
    }

    // MARK: Commands

    func testCommandEnvelopeIsVersionThenTag() throws {
        let command = Command.addNote(incident: IncidentID(number: 1, createdAt: .epoch), text: "hi", actor: .system)
        let bytes = command.binaryEncoded()
        XCTAssertEqual(Array(bytes.prefix(2)), [1, 5], "format version 1, tag 5 (addNote; tags are append-only)")
        XCTAssertEqual(try Command(binary: bytes), command)

        XCTAssertEqual(decodingError(Command.self, [2] + bytes.dropFirst())?.code, .unsupportedVersion)
        XCTAssertEqual(decodingError(Command.self, [1, 99] + bytes.dropFirst(2))?.code, .invalidTag)
        XCTAssertEqual(decodingError(Command.self, bytes + [0])?.code, .trailingBytes)
        XCTAssertEqual(decodingError(Command.self, [])?.code, .truncated)
    }

    func testCountPrefixLargerThanTheInputIsRefusedBeforeAllocating() {
        // ingest with a claimed billion events and nothing behind the count.
        var writer = BinaryWriter()
        writer.write(Command.formatVersion)
        writer.write(UInt8(1))
        writer.write(varint: 1_000_000_000)
        let error = decodingError(Command.self, writer.bytes)
        XCTAssertEqual(error?.code, .tooLarge)
        XCTAssertEqual(error?.offset, 2)
    }

    func testMapsEncodeSortedAndOnlyTheCanonicalFormDecodes() {
        let labels = ["zone": "b", "app": "chat", "mid": "x"]
        var writer = BinaryWriter()
        writer.write(varint: 3)
        for key in ["app", "mid", "zone"] {
            writer.write(string: key)
            writer.write(string: labels[key]!)
        }
        XCTAssertEqual(labels.binaryEncoded(), writer.bytes)
        var unsorted = BinaryWriter()
        unsorted.write(varint: 2)
        for key in ["zone", "app"] {
            unsorted.write(string: key)
            unsorted.write(string: "v")
        }
        XCTAssertEqual(decodingError([String: String].self, unsorted.bytes)?.code, .invalidValue)
    }

    func testIncidentIDsOutsideTheTimestampRangeAreRefusedWhenDecoded() {
        // A note for incident day Int64.max: this used to decode, and apply then trapped while
        // formatting the "not found" error (date arithmetic overflow).
        let hostile = Command.addNote(incident: IncidentID(number: 1, day: .max), text: "x", actor: .system)
        let error = decodingError(Command.self, hostile.binaryEncoded())
        XCTAssertEqual(error?.code, .invalidValue)
        XCTAssertEqual(error?.offset, 3, "after version, tag and number")
        // The extreme days real timestamps produce still round-trip and format.
        for ms in [Int64.min, -1, 0, Int64.max] {
            let id = IncidentID(number: 9, createdAt: Timestamp(millisecondsSinceEpoch: ms))
            XCTAssertEqual(try IncidentID(binary: id.binaryEncoded()), id)
            XCTAssertFalse(id.description.isEmpty)
        }
        XCTAssertEqual(IncidentID(number: 1, createdAt: Timestamp(millisecondsSinceEpoch: -1)).description, "INC-19691231-000001")
    }

    // MARK: Snapshots

    func testSnapshotHeaderAndRefusals() throws {
        var h = Harness()
        h.installOnCall()
        _ = h.open(sampleEvent())
        let bytes = h.machine.snapshot()
        XCTAssertEqual(Array(bytes.prefix(5)), Array("INCS".utf8) + [1], "magic, then format version 1")
        XCTAssertEqual(try IncidentStateMachine(snapshot: bytes).snapshot(), bytes)

        XCTAssertEqual(snapshotError(Array("INCX".utf8) + bytes.dropFirst(4))?.code, .badMagic)
        XCTAssertEqual(snapshotError(Array(bytes.prefix(4)) + [2] + bytes.dropFirst(5))?.code, .unsupportedVersion)
        XCTAssertEqual(snapshotError(bytes + [0])?.code, .trailingBytes)
        XCTAssertEqual(snapshotError(Array(bytes.dropLast()))?.code, .truncated)
    }

    func testInconsistentSnapshotIsRefused() {
        // A state whose fingerprint index points at a resolved incident decodes field by field
        // but breaks an invariant: it must be refused, not restored.
        var h = Harness()
        let id = h.open(sampleEvent())
        XCTAssertNoThrow(try h.act(id, .resolve).get())
        var broken = h.machine
        broken.openByFingerprint[Fingerprint(of: sampleEvent())] = id.number
        let error = snapshotError(broken.snapshot())
        XCTAssertEqual(error?.code, .invalidValue)
        XCTAssertTrue(error?.context.contains("inconsistent snapshot") ?? false, "\(String(describing: error))")
    }

    // MARK: Helpers

    private func event(source: String = "alertmanager", type: String = "alert", title: String = "", labels: [String: String] = [:]) -> Event {
        Event(source: source, timestamp: .epoch, eventType: type, title: title, labels: labels)
    }

    private func decodingError<T: BinaryCodable>(_ type: T.Type, _ bytes: [UInt8]) -> DecodingError? {
        do {
            _ = try T(binary: bytes)
            return nil
        } catch { return error }
    }

    private func snapshotError(_ bytes: [UInt8]) -> DecodingError? {
        do {
            _ = try IncidentStateMachine(snapshot: bytes)
            return nil
        } catch { return error }
    }
}
