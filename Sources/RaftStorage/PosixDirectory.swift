#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Directory-level operations. Creating, renaming or deleting a file changes its directory, and
/// that change is only durable once the directory itself is synced (`sync(_:)`); callers do that
/// explicitly after each such step.
enum PosixDirectory {
    /// Creates `path` if it does not exist yet (one level; parents must exist). Returns whether it
    /// did, in which case the parent directory needs a sync to make that durable.
    @discardableResult
    static func create(_ path: String) throws(StorageError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        if errno == EEXIST { return false }
        throw .io("mkdir", path)
    }

    /// The names in `path`, without `.` and `..`, sorted.
    static func names(in path: String) throws(StorageError) -> [String] {
        guard let stream = opendir(path) else { throw .io("opendir", path) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// fsync on the directory: makes creations, renames and deletions inside it durable.
    static func sync(_ path: String) throws(StorageError) {
        let directory = try PosixFile.open(path, flags: O_RDONLY | O_DIRECTORY)
        try directory.sync()
    }

    /// Atomically replaces `destination` with `source` (same file system).
    static func rename(_ source: String, to destination: String) throws(StorageError) {
        if systemRename(source, destination) != 0 { throw .io("rename", source) }
    }

    /// Gives `source` the second name `destination` unless that name exists (a hard link: atomic,
    /// never replacing). False when it exists or the link failed otherwise (a file system without
    /// hard links); the caller then goes the way it would have without.
    static func linkUnlessPresent(_ source: String, as destination: String) -> Bool {
        link(source, destination) == 0
    }

    /// Deletes a file; a file that is already gone is not an error.
    static func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io("unlink", path) }
    }

    /// The size of a file in bytes.
    static func fileSize(_ path: String) throws(StorageError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io("stat", path) }
        return Int(info.st_size)
    }
}

private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
