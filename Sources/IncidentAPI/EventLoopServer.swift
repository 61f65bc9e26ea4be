import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

extension HTTPServerBuilder {
    /// HTTP/1.1 whose connection tasks run on their channel's event loop instead of Swift's
    /// global executor.
    ///
    /// By default every request hops from the NIO thread that read it to a thread of the global
    /// pool, and its answer back to the NIO thread to be written: two thread wake-ups per request
    /// besides the one the consensus loop needs. On the event loop, the request is handled where
    /// it was read and the response written where it is produced; only the consensus loop's
    /// answer crosses threads. Handlers never block (the archive's blocking libpq calls run on
    /// their own dispatch queues), so the loop is not held up.
    public static func http1OnEventLoops(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            EventLoopBoundChildChannel(base: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}

/// A child channel whose `handle` runs with its channel's event loop as the preferred task
/// executor (child tasks inherit it).
struct EventLoopBoundChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

/// Runs Swift tasks' jobs on one NIO event loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
