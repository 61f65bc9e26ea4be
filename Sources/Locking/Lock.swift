import Synchronization

/// A value behind a lock: the standard library's `Mutex`, with its critical sections made visible
/// to ThreadSanitizer.
///
/// On Linux, `Synchronization.Mutex` locks through atomics and futexes inside the uninstrumented
/// standard library, so ThreadSanitizer sees no ordering between two threads' critical sections
/// and reports every access inside `withLock` as a race (four threads counting behind a `Mutex`
/// draw reports and still count right). `Lock` tells ThreadSanitizer what the lock does — an
/// acquire of the lock's address when a critical section starts, a release when it ends — so
/// that the project's code can be checked with `swift test --sanitize=thread`. Without
/// ThreadSanitizer in the process the annotations are a load and a branch.
public struct Lock<Value: ~Copyable>: ~Copyable, Sendable {
    @usableFromInline let mutex: Mutex<Value>

    public init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, holding the lock. Inlinable, so that callers specialise it
    /// (and the mutex inside) for their value and closure, as they would `Mutex.withLock`.
    @inlinable
    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        // The mutex's own address names the lock (it is never dereferenced): the value's would be
        // an access of the value before the acquire, which ThreadSanitizer would check against
        // the last holder's.
        let address = withUnsafePointer(to: mutex) { UnsafeRawPointer($0) }
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            ThreadSanitizer.acquire(address)
            defer { ThreadSanitizer.release(address) }
            return try body(&value)
        }
    }
}
