import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

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

extension HTTPServerBuilder {
    /// `http1OnEventLoops` with `fastPath` answering event ingestion in the channel pipeline
    /// (`IngestFastPath`); without one, exactly `http1OnEventLoops`.
    static func http1OnEventLoops(fastPath: IngestFastPath?) -> HTTPServerBuilder {
        guard let fastPath else { return http1OnEventLoops() }
        return .init { responder in
            EventLoopBoundChildChannel(base: IngestHTTP1Channel(responder: responder, fastPath: fastPath))
        }
    }
}

/// Hummingbird's HTTP/1.1 child channel (`HTTP1Channel`) with the ingest fast path in its
/// pipeline: NIO's codec, NIO's pipelining handler (one request at a time reaches the fast path
/// and Hummingbird, answers leave in order, and a graceful shutdown closes each connection after
/// its current answer), the fast path, then Hummingbird's own handlers. Hummingbird's connection
/// loop (`handleHTTP`) serves everything passed on.
struct IngestHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
    let responder: HTTPChannelHandler.Responder
    let fastPath: IngestFastPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's decoder limits (HTTP1Channel.Configuration.DecoderConfiguration).
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = 80 * 1024
            limits.maxHeaderListSize = 80 * 1024
            limits.maxHeaderFieldCount = 1000
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            try pipeline.addHandler(fastPath.makeHandler())
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
