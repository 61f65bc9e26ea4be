import XCTest

import Checksums

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

    func testSlicingByEightMatchesBitwiseDefinitionAtEveryLengthAndAlignment() {
        // A fixed pseudo-random pattern (multiplicative hashing of the position).
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: (UInt32($0) &* 2_654_435_761) >> 13) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 7) {
                XCTAssertEqual(CRC32C.checksum(bytes[start..<end]), bitwiseCRC32C(bytes[start..<end]), "\(start)..<\(end)")
            }
        }
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
