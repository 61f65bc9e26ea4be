import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a file so that it appears whole or not at all: the bytes go to a temporary file in
/// the same directory, which is fsynced, renamed over the destination, and the directory is
/// fsynced so the rename survives a crash. Until `commit`, the destination is untouched; `abandon`
/// (or a failed commit) removes the temporary file.
final class AtomicFileWriter {
    let path: String
    let temporaryPath: String
    private var descriptor: Int32
    private(set) var bytesWritten: Int64 = 0

    /// Creates the temporary file (`.<name>.tmp-<pid>-<random>`, mode 0600, never an existing file).
    init(path: String) throws(ControlError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let suffix = "tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        temporaryPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(suffix)").path
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .file(path, "cannot create \(temporaryPath): \(Self.lastError())") }
    }

    deinit {
        if descriptor >= 0 {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends `buffer`, retrying short writes and interruptions.
    func write(_ buffer: ByteBuffer) throws(ControlError) {
        precondition(descriptor >= 0, "write after commit or abandon")
        let failure: String? = buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return Self.lastError()
                }
                offset += written
            }
            return nil
        }
        if let failure { throw .file(temporaryPath, "write failed: \(failure)") }
        bytesWritten += Int64(buffer.readableBytes)
    }

    /// fsync, rename over `path`, fsync the directory.
    func commit() throws(ControlError) {
        precondition(descriptor >= 0, "commit after commit or abandon")
        defer { descriptor = -1 }
        guard fsync(descriptor) == 0 else {
            let reason = Self.lastError()
            close(descriptor)
            unlink(temporaryPath)
            throw .file(temporaryPath, "fsync failed: \(reason)")
        }
        close(descriptor)
        guard rename(temporaryPath, path) == 0 else {
            let reason = Self.lastError()
            unlink(temporaryPath)
            throw .file(path, "rename failed: \(reason)")
        }
        let directory = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            // The file is complete either way; a failed directory fsync only weakens durability.
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Removes the temporary file; the destination is untouched.
    func abandon() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        unlink(temporaryPath)
        descriptor = -1
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// `write(2)`, named apart from `AtomicFileWriter.write`.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(fd, bytes, count)
    #else
        return Darwin.write(fd, bytes, count)
    #endif
}
