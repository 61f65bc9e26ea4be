import XCTest

@testable import RaftStorage

/// The torn-tail rule on its own (docs/STORAGE.md, "Torn tail"): which byte images, from the
/// first record that does not validate to the end of the last segment, an interrupted append can
/// leave. The images start at that record (offset 0) and are judged with `maxBatchBytes` 1024.
final class TornTailRuleTests: XCTestCase {
    private static let maxRecordBytes = 1024
    private static let maxPayload = maxRecordBytes - WALFormat.recordHeaderBytes

    private func shape(_ image: [UInt8]) -> SegmentScanner.TailShape {
        SegmentScanner(path: "image", bytes: image, isLast: true, maxRecordBytes: Self.maxRecordBytes).tornWrite(at: 0)
    }

    /// A record header with a checksum that matches nothing.
    private func header(length: Int, type: UInt8) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + [0x11, 0x22, 0x33, 0x44, type]
    }

    private func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }
    private func ones(_ count: Int) -> [UInt8] { [UInt8](repeating: 0x5A, count: count) }

    private func assertTorn(_ image: [UInt8], _ rule: String, _ context: String, line: UInt = #line) {
        guard case .torn(let text) = shape(image) else {
            return XCTFail("\(context): expected torn write \(rule), got \(shape(image))", line: line)
        }
        XCTAssertTrue(text.contains("torn write \(rule)"), "\(context): \(text)", line: line)
    }

    private func assertNotTorn(_ image: [UInt8], _ context: String, line: UInt = #line) {
        if case .torn(let text) = shape(image) { XCTFail("\(context): accepted as \(text)", line: line) }
    }

    func testIncompleteHeaderIsTorn() {
        for count in 1..<WALFormat.recordHeaderBytes {
            assertTorn(ones(count), "(a)", "\(count) bytes")
        }
    }

    func testShortWriteOfAPlausibleRecordIsTorn() {
        assertTorn(header(length: 40, type: 2), "(b)", "header alone")
        assertTorn(header(length: 40, type: 2) + [1] + ones(20), "(b)", "part of the payload")
        assertTorn(header(length: 40, type: 2) + [0] + ones(38), "(b)", "one byte short")
        assertTorn(header(length: Self.maxPayload, type: 2) + [0] + ones(100), "(b)", "largest batch")
        assertTorn(header(length: Batch.minimumPayloadBytes, type: 2) + [1], "(b)", "smallest batch")
        assertTorn(header(length: SnapshotMarker.payloadBytes, type: 3) + ones(10), "(b)", "snapshot marker")
        assertTorn(header(length: 40, type: 2) + zeros(20), "(b)", "zeros up to where the file ends")
    }

    func testPlausibleRecordThatFitsFollowedOnlyByZerosIsTorn() {
        assertTorn(header(length: 40, type: 2) + [0] + ones(39), "(c)", "ends the file")
        assertTorn(header(length: 40, type: 2) + [1] + ones(39) + zeros(300), "(c)", "zeros after it")
        assertTorn(header(length: 40, type: 2) + [1] + ones(10) + zeros(29), "(c)", "payload partly zeros")
        assertTorn(header(length: 17, type: 3) + ones(17) + zeros(5), "(c)", "snapshot marker")
    }

    func testAllZerosIsTorn() {
        assertTorn(zeros(9), "(d)", "a header of zeros")
        assertTorn(zeros(5000), "(d)", "a long run")
    }

    func testHeaderWrittenOnlyInPartThenZerosIsTorn() {
        let header = header(length: 40, type: 2)
        for written in 1..<WALFormat.recordHeaderBytes {
            assertTorn(Array(header.prefix(written)) + zeros(100), "(e)", "\(written) header bytes")
        }
        assertTorn([17, 0, 0, 0, 0x22] + zeros(30), "(e)", "snapshot marker length")
    }

    func testImplausibleHeadersAreNotTorn() {
        assertNotTorn(header(length: 40, type: 0) + ones(10), "type 0")
        assertNotTorn(header(length: 56, type: 1) + ones(10), "segment header type")
        assertNotTorn(header(length: 40, type: 4) + ones(10), "unknown type")
        assertNotTorn(header(length: Self.maxPayload + 1, type: 2) + ones(10), "batch over maxBatchBytes")
        assertNotTorn(header(length: WALFormat.maxRecordPayloadBytes + 1, type: 2) + ones(10), "over the format limit")
        assertNotTorn(header(length: Batch.minimumPayloadBytes - 1, type: 2) + [0] + ones(27), "batch below the smallest")
        assertNotTorn(header(length: 18, type: 3) + ones(18), "snapshot marker of the wrong size")
        assertNotTorn(header(length: 40, type: 2) + [2] + ones(10), "batch flags 2")
        assertNotTorn([0xFF, 0xFF, 0xFF] + zeros(50), "three length bytes already over the limit")
        assertNotTorn([20, 0, 0, 0, 0x22] + zeros(50), "a length no record an append writes has")
        assertNotTorn(zeros(20) + [1], "zeros, then a non-zero byte")
    }

    func testNonZeroBytesAfterTheDeclaredEndAreNotTorn() {
        assertNotTorn(header(length: 40, type: 2) + [0] + ones(39) + [1], "one byte after it")
        assertNotTorn(header(length: 40, type: 2) + [0] + ones(39) + zeros(100) + [1], "zeros, then a byte")
        assertNotTorn(header(length: 17, type: 3) + ones(17) + header(length: 40, type: 2), "another header after it")
        // A short length at the start of inserted garbage, shifted records after it.
        assertNotTorn(header(length: 32, type: 2) + [0] + ones(31) + header(length: 300, type: 2) + ones(300), "shifted records")
    }
}
