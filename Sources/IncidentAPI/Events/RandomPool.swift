import Locking

#if canImport(Glibc)
import Glibc
#endif

/// Random bytes for ids (`EventJSON.newEventID`), taken from the kernel's generator 4 KiB at a
/// time: one read for 256 event ids, where `SystemRandomNumberGenerator` makes a `getrandom`
/// call per eight bytes (two system calls per event on the ingest path). Bytes handed out are never
/// handed out again.
final class RandomPool: Sendable {
    static let shared = RandomPool()

    private static let poolSize = 4096
    private let pool = Lock<(bytes: [UInt8], next: Int)>(([], 0))

    /// Fills `buffer` (at most `poolSize` bytes) with random bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count <= Self.poolSize)
        pool.withLock { pool in
            if pool.bytes.count - pool.next < buffer.count {
                pool.bytes = Self.kernelRandom(Self.poolSize)
                pool.next = 0
            }
            pool.bytes.withUnsafeBytes { bytes in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[pool.next..<pool.next + buffer.count]))
            }
            pool.next += buffer.count
        }
    }

    /// `count` bytes from the kernel's generator (`/dev/urandom`); `SystemRandomNumberGenerator`
    /// where that cannot be read.
    private static func kernelRandom(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        #if canImport(Glibc)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            bytes.withUnsafeMutableBytes { buffer in
                while filled < count {
                    let got = read(fd, buffer.baseAddress! + filled, count - filled)
                    if got > 0 {
                        filled += got
                    } else if got < 0, errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
            }
            close(fd)
        }
        #endif
        if filled < count {
            var generator = SystemRandomNumberGenerator()
            for i in filled..<count { bytes[i] = generator.next() }
        }
        return bytes
    }
}
