import Locking

/// Waiting for work with a deadline, without cancelling the work: a channel test or a node read
/// that takes too long goes on in the background while the client gets an answer.
enum Deadline {
    /// The result of `work`, or nil if it takes longer than `milliseconds`.
    static func firstOf<T: Sendable>(milliseconds: Int, _ work: @escaping @Sendable () async -> T) async -> T? {
        let answer = FirstAnswer<T>()
        return await withCheckedContinuation { continuation in
            answer.set(continuation)
            let timer = Task {
                // A cancelled sleep returns at once: only a sleep that ran its course is a timeout.
                guard (try? await Task.sleep(for: .milliseconds(milliseconds))) != nil else { return }
                answer.finish(nil)
            }
            Task {
                let value = await work()
                // Answer first, then stop the timer (cancelling first let the timer's early return
                // win the race and report a timeout: /ready flapped to 503 on an idle node).
                answer.finish(value)
                timer.cancel()
            }
        }
    }
}

/// Resumes a waiting continuation with whichever answer comes first; later answers are dropped.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let waiter = Lock<CheckedContinuation<T?, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<T?, Never>) { waiter.withLock { $0 = continuation } }

    func finish(_ value: T?) { waiter.withLock { $0.take() }?.resume(returning: value) }
}
