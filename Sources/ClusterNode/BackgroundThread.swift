import Dispatch
import Foundation
import Locking

import CThread

/// A serial queue on a thread of its own, run at a lower scheduling priority than the threads
/// that answer requests: for bulk work that may take a second of CPU and must not take it from
/// them (encoding, compressing and writing a snapshot of the whole state).
///
/// Why not a `DispatchQueue` of low QoS: on Linux, Dispatch sets its pooled threads' nice values
/// itself (here at 0 or below, whatever the queue's QoS), and a pooled thread whose nice value
/// we raised could not be given its old one back without privileges, so it would stay slow for
/// whatever work the pool gave it next. A thread of our own keeps its nice value for its whole
/// life and runs nothing else.
///
/// Jobs run one at a time, in the order given. The thread ends once its owner is released and
/// the jobs already given have run.
final class BackgroundThread: Sendable {
    private let shared: Shared

    /// Starts the thread, named `name` (at most 15 bytes are kept) and with nice value `nice`
    /// (0 to 19; higher runs later). Lowering the priority needs no privilege.
    init(name: String, nice: Int32) {
        shared = Shared()
        let shared = self.shared
        let thread = Thread {
            #if os(Linux)
            _ = cthread_set_name(name)
            if nice > 0 { _ = cthread_set_nice(nice) }
            #endif
            shared.run()
        }
        thread.start()
    }

    deinit { shared.stop() }

    /// Runs `work` on the thread after the work given before it.
    func async(_ work: @escaping @Sendable () -> Void) {
        shared.enqueue(Job(work: work))
    }

    /// Waits until the work given so far has run. Must not be called from the thread itself.
    func sync() {
        let done = DispatchSemaphore(value: 0)
        shared.enqueue(Job { done.signal() })
        done.wait()
    }

    /// A job in a struct: a bare closure stored in a `Mutex` and read back through `withLock`
    /// gets wrapped in reabstraction thunks again on every round trip.
    private struct Job: Sendable {
        var work: @Sendable () -> Void
    }

    private final class Shared: Sendable {
        private let jobs = Lock<(queue: [Job], stopping: Bool)>(([], false))
        private let available = DispatchSemaphore(value: 0)

        func enqueue(_ job: Job) {
            jobs.withLock { $0.queue.append(job) }
            available.signal()
        }

        func stop() {
            jobs.withLock { $0.stopping = true }
            available.signal()
        }

        func run() {
            while true {
                available.wait()
                let next: Job? = jobs.withLock { state in
                    state.queue.isEmpty ? nil : state.queue.removeFirst()
                }
                if let next {
                    next.work()
                } else if jobs.withLock({ $0.stopping && $0.queue.isEmpty }) {
                    return
                }
            }
        }
    }
}
