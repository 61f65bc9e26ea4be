import XCTest

@testable import Checksums

final class CRC32CTests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
        // RFC 3720 (iSCSI), appendix B.4.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
    }

    func testChecksumMatchesTheBitwiseDefinitionAtEveryLengthAndAlignment() {
        // A fixed pseudo-random pattern (multiplicative hashing of the position).
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: (UInt32($0) &* 2_654_435_761) >> 13) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 7) {
                XCTAssertEqual(CRC32C.checksum(bytes[start..<end]), bitwiseCRC32C(bytes[start..<end]), "\(start)..<\(end)")
            }
        }
    }

    /// `checksum` takes the CPU's instruction where there is one (the test above checks it there);
    /// the table path, used elsewhere, must give the same values at every length and alignment.
    func testTheTablePathMatchesTheDefinitionToo() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: (UInt32($0) &* 2_246_822_519) >> 11) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 5) {
                let table = bytes[start..<end].withUnsafeBytes { ~CRC32C.advanceByTable(0xFFFF_FFFF, $0) }
                XCTAssertEqual(table, bitwiseCRC32C(bytes[start..<end]), "\(start)..<\(end)")
            }
        }
        #if arch(x86_64)
        // Every x86-64 CPU this runs on in practice has SSE4.2 (2008 onwards).
        XCTAssertTrue(CRC32C.usesHardware, "the SSE4.2 path is in use")
        #endif
    }

    func testIncrementalUpdatesEqualOneShot() {
        let bytes = Array("The quick brown fox jumps over the lazy dog, repeatedly and at length.".utf8)
        for split in 0...bytes.count {
            var crc = CRC32C()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            XCTAssertEqual(crc.value, CRC32C.checksum(bytes))
        }
        var withInteger = CRC32C()
        withInteger.update(littleEndian: UInt32(0x0403_0201))
        XCTAssertEqual(withInteger.value, CRC32C.checksum([1, 2, 3, 4]))
    }

    /// The definition: reflected polynomial 0x82F63B78, one bit at a time.
    private func bitwiseCRC32C(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}
