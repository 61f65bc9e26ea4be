import Locking

/// A value shared between tasks, behind a `Mutex` (which, being non-copyable, cannot itself be
/// captured by the closures of a task group).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Lock<Value>

    init(_ value: Value) { mutex = Lock(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }

    var value: Value { withLock { $0 } }
}
