import Foundation
import Locking

/// Runs `body(0..<count)` on `count` threads at once and returns the results in order.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = ResultBox<T>(count: count)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread.detachNewThread {
            results.set(index, Result { try body(index) })
            group.leave()
        }
    }
    group.wait()
    return try results.all().map { try $0.get() }
}

final class ResultBox<T: Sendable>: Sendable {
    private let storage: Lock<[Result<T, any Error>?]>
    init(count: Int) { storage = Lock(Array(repeating: nil, count: count)) }
    func set(_ index: Int, _ result: Result<T, any Error>) { storage.withLock { $0[index] = result } }
    func all() -> [Result<T, any Error>] { storage.withLock { $0.map { $0! } } }
}
