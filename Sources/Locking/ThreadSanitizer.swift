#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ThreadSanitizer's annotations of synchronisation it cannot see, looked up once in the running
/// process: present when the process was built with `-sanitize=thread` (its runtime is linked
/// into the executable and exports them), absent otherwise.
public enum ThreadSanitizer {
    @usableFromInline typealias Annotation = @convention(c) (UnsafeRawPointer?) -> Void

    @usableFromInline struct Annotations: Sendable {
        @usableFromInline let acquire: Annotation
        @usableFromInline let release: Annotation
    }

    @usableFromInline static let annotations: Annotations? = {
        guard let process = dlopen(nil, RTLD_NOW),
            let acquire = dlsym(process, "__tsan_acquire"),
            let release = dlsym(process, "__tsan_release")
        else { return nil }
        return Annotations(
            acquire: unsafeBitCast(acquire, to: Annotation.self),
            release: unsafeBitCast(release, to: Annotation.self)
        )
    }()

    /// Whether this process runs under ThreadSanitizer.
    public static var isActive: Bool { annotations != nil }

    /// Marks the start of a critical section of the lock at `address`: what the last `release` of
    /// the same address published is visible from here on.
    @inlinable
    static func acquire(_ address: UnsafeRawPointer) {
        annotations?.acquire(address)
    }

    /// Marks the end of a critical section of the lock at `address`.
    @inlinable
    static func release(_ address: UnsafeRawPointer) {
        annotations?.release(address)
    }
}
