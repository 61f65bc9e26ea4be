#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor with the handful of operations the store needs. Every call is retried
/// on `EINTR`, short reads and writes are continued, and failures become `StorageError.ioFailure`
/// naming the path. Closed on `close()` or when the last reference goes away.
///
/// Not Sendable: each file belongs to the single owner of the store that opened it.
final class PosixFile {
    let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close() }

    /// Opens (and with `O_CREAT`, creates) `path`. `O_CLOEXEC` is always added.
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(StorageError) -> PosixFile {
        while true {
            let fd = systemOpen(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return PosixFile(path: path, descriptor: fd) }
            if errno != EINTR { throw .io("open", path) }
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        // `Array.withUnsafeBytes` rethrows untyped errors: the typed one is carried out instead.
        let failure: StorageError? = bytes.withUnsafeBytes { raw in
            do throws(StorageError) { try write(raw, at: offset) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("pwrite", path, offset: offset + done)
            }
            done += n
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only when the file ends first.
    func read(count: Int, at offset: Int) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("pread", path, offset: offset + done)
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeLast(count - done)
        return bytes
    }

    /// The whole file.
    func readAll() throws(StorageError) -> [UInt8] {
        try read(count: try size(), at: 0)
    }

    func size() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io("fstat", path) }
        return Int(info.st_size)
    }

    func truncate(to length: Int) throws(StorageError) {
        while ftruncate(descriptor, off_t(length)) != 0 {
            if errno != EINTR { throw .io("ftruncate", path, offset: length) }
        }
    }

    /// Makes written data (and the size needed to read it back) durable: `fdatasync` on Linux,
    /// `F_FULLFSYNC` on Darwin where plain `fsync` does not reach the platter.
    func syncData() throws(StorageError) {
        #if canImport(Darwin)
        try sync()
        #else
        while fdatasync(descriptor) != 0 {
            if errno != EINTR { throw .io("fdatasync", path) }
        }
        #endif
    }

    /// A second descriptor for this file, for a `PendingSync` to sync from another thread even
    /// after this one is closed.
    func duplicate() throws(StorageError) -> Int32 {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw .io("dup", path) }
        return copy
    }

    /// Makes data and all metadata durable.
    func sync() throws(StorageError) {
        #if canImport(Darwin)
        if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
        #endif
        while fsync(descriptor) != 0 {
            if errno != EINTR { throw .io("fsync", path) }
        }
    }

    /// Takes an exclusive advisory lock without waiting; false when someone else holds it.
    /// `flock` locks belong to the open file description, so a second open in the same process
    /// conflicts too.
    func tryLock() throws(StorageError) -> Bool {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return false }
            if errno != EINTR { throw .io("flock", path) }
        }
        return true
    }

    func close() {
        guard descriptor >= 0 else { return }
        _ = systemClose(descriptor)
        descriptor = -1
    }
}

extension StorageError {
    /// An `ioFailure` for the system call that just failed, carrying the current `errno`.
    static func io(_ call: String, _ path: String, offset: Int? = nil) -> StorageError {
        let code = errno
        let reason = strerror(code).map { String(cString: $0) } ?? "unknown error"
        return StorageError(.ioFailure, "\(call) failed: \(reason)", path: path, offset: offset, errorNumber: code)
    }
}

// The C functions under names that do not collide with the methods above.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }

/// `fdatasync` (Linux) or `F_FULLFSYNC` (Darwin) on a raw descriptor, retried on `EINTR`.
func syncData(descriptor: Int32, path: String) throws(StorageError) {
    #if canImport(Darwin)
    if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
    while fsync(descriptor) != 0 {
        if errno != EINTR { throw .io("fsync", path) }
    }
    #else
    while fdatasync(descriptor) != 0 {
        if errno != EINTR { throw .io("fdatasync", path) }
    }
    #endif
}

/// Closes a raw descriptor.
func closeDescriptor(_ descriptor: Int32) { _ = systemClose(descriptor) }
