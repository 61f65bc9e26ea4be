import Foundation
import RaftCore
import XCTest

@testable import RaftStorage

/// A temporary directory for one test, deleted when the test ends.
final class TemporaryDirectory {
    let path: String

    /// `inMemory` puts it on tmpfs (`/dev/shm`) when there is one: for tests that simulate crashes
    /// by editing files and run thousands of recoveries, where real fsyncs on a busy disk would
    /// only add minutes without testing anything more.
    init(_ name: String = "raftstorage", inMemory: Bool = false) throws {
        let memory = "/dev/shm"
        let parent = inMemory && FileManager.default.isWritableFile(atPath: memory)
            ? memory : FileManager.default.temporaryDirectory.path
        let template = parent + "/\(name)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard mkdtemp(&bytes) != nil else { throw CocoaError(.fileWriteUnknown) }
        path = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A fresh subdirectory path (not created) for a store.
    func child(_ name: String) -> String { path + "/" + name }
}

/// Entries `range` of `term` with deterministic contents that differ per index and term.
func makeEntries(_ range: ClosedRange<LogIndex>, term: Term, bytes: Int = 16) -> [Entry] {
    range.map { index in
        let data = (0..<bytes).map { UInt8(truncatingIfNeeded: Int(index) &* 31 &+ Int(term) &* 7 &+ $0) }
        return Entry(term: term, index: index, kind: index % 5 == 0 ? .confChange : .normal, data: data)
    }
}

/// The state a store should recover, maintained by applying the same operations a test performs.
struct ExpectedLog: Equatable {
    var snapshot: SnapshotMetadata?
    var hardState = HardState.empty
    var entries: [Entry] = []

    mutating func append(_ batch: [Entry], hardState: HardState?) {
        if let first = batch.first {
            entries.removeAll { $0.index >= first.index }
            entries.append(contentsOf: batch)
        }
        if let hardState { self.hardState = hardState }
    }

    var lastIndex: LogIndex { entries.last?.index ?? snapshot?.index ?? 0 }

    func term(at index: LogIndex) -> Term? {
        if index == (snapshot?.index ?? 0) { return snapshot?.term ?? 0 }
        return entries.first { $0.index == index }?.term
    }

    /// The storage rule for a saved snapshot: keep the suffix if the log holds its last entry,
    /// otherwise drop the whole log.
    mutating func save(_ metadata: SnapshotMetadata) {
        if term(at: metadata.index) == metadata.term {
            entries.removeAll { $0.index <= metadata.index }
        } else {
            entries = []
        }
        snapshot = metadata
    }

    func matches(_ recovered: RecoveredState) -> Bool {
        recovered.snapshot == snapshot && recovered.hardState == hardState && recovered.entries == entries
    }
}

extension XCTestCase {
    /// Opens a store and fails the test (rethrowing) when that throws.
    func openStore(_ path: String, _ config: StorageConfig = .default) throws -> (store: RaftLogStore, recovered: RecoveredState) {
        try RaftLogStore.open(directory: path, config: config)
    }

    /// Asserts `body` throws a `StorageError` with `code`, and returns it for further checks.
    @discardableResult
    func assertStorageError<T>(
        _ code: StorageError.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
    ) -> StorageError? {
        do {
            _ = try body()
            XCTFail("expected \(code), nothing was thrown", file: file, line: line)
        } catch let error as StorageError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected StorageError \(code), got \(error)", file: file, line: line)
        }
        return nil
    }
}

/// Raw file access for tests that damage files.
enum Files {
    static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func write(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    static func names(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    static func copyDirectory(_ source: String, to destination: String) throws {
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    static func flipByte(at offset: Int, in path: String) throws {
        var bytes = try read(path)
        bytes[offset] ^= 0x5A
        try write(bytes, to: path)
    }
}
