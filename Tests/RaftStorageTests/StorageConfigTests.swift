import XCTest

@testable import RaftStorage

final class StorageConfigTests: XCTestCase {
    func testDefaultsAreValidAndDocumentedValues() throws {
        let config = StorageConfig.default
        try config.validate()
        XCTAssertEqual(config.segmentSizeBytes, 64 << 20)
        XCTAssertEqual(config.maxBatchBytes, 16 << 20)
        XCTAssertEqual(config.maxSnapshotBytes, 1 << 30)
        XCTAssertEqual(config.retainedSnapshotCount, 2)
    }

    func testEachOutOfRangeFieldIsNamed() {
        let cases: [(String, StorageConfig)] = [
            ("segmentSizeBytes", StorageConfig(segmentSizeBytes: 100)),
            ("segmentSizeBytes", StorageConfig(segmentSizeBytes: 2 << 30)),
            ("maxBatchBytes", StorageConfig(maxBatchBytes: 0)),
            ("maxBatchBytes", StorageConfig(maxBatchBytes: WALFormat.maxRecordPayloadBytes + 1)),
            ("maxSnapshotBytes", StorageConfig(maxSnapshotBytes: 0)),
            ("retainedSnapshotCount", StorageConfig(retainedSnapshotCount: 0)),
            ("retainedSnapshotCount", StorageConfig(retainedSnapshotCount: 17)),
        ]
        for (field, config) in cases {
            let error = assertStorageError(.invalidConfig) { try config.validate() }
            XCTAssertTrue(error?.message.hasPrefix(field) == true, "\(String(describing: error))")
        }
    }

    func testOpenRejectsAnInvalidConfigBeforeTouchingTheDisk() throws {
        let temp = try TemporaryDirectory()
        let path = temp.child("node")
        assertStorageError(.invalidConfig) { try RaftLogStore.open(directory: path, config: StorageConfig(segmentSizeBytes: 1)) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
