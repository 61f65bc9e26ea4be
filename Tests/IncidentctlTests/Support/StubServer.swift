import Foundation
import HTTPTypes
import Hummingbird
import IncidentControl
import Locking
import Logging
import NIOCore

/// A local HTTP server on 127.0.0.1 (port chosen by the kernel) that records every request and
/// answers what the test says: it stands in for the cluster endpoints `incidentd` does not
/// serve yet, so tests can check the exact method, path, headers and body incidentctl sends.
final class StubServer: Sendable {
    /// One request as the server received it.
    struct Received: Sendable {
        var method: String
        /// Path and query, as sent.
        var target: String
        var headers: HTTPFields
        var body: [UInt8]

        var json: JSONValue? { JSONValue(parsing: body) }
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    }

    /// What to answer.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: [(String, String)]
        var body: [UInt8]
        /// How long to wait before answering (a slow or hung node).
        var delayMilliseconds = 0

        static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: [(String, String)] = []) -> Answer {
            Answer(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(value.compactText.utf8))
        }

        /// The API's error envelope.
        static func error(_ status: HTTPResponse.Status, code: String, message: String, headers: [(String, String)] = []) -> Answer {
            json(["error": ["code": .string(code), "message": .string(message), "details": [:]]], status: status, headers: headers)
        }
    }

    private let log = Lock<[Received]>([])
    private let answer: @Sendable (_ request: Received, _ index: Int) -> Answer

    private init(answer: @escaping @Sendable (Received, Int) -> Answer) { self.answer = answer }

    /// Every request so far, oldest first.
    var received: [Received] { log.withLock { $0 } }

    /// Starts a server answering with `answer` (given each request and its index among all
    /// received), runs `body` with it and its base URL, then stops it.
    static func run<T: Sendable>(
        answering answer: @escaping @Sendable (_ request: Received, _ index: Int) -> Answer,
        _ body: @Sendable (_ server: StubServer, _ url: String) async throws -> T
    ) async throws -> T {
        let server = StubServer(answer: answer)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: CallbackResponder { (request: Request, _: BasicRequestContext) in try await server.respond(to: request) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            // Quiet: stopping by cancellation is how every test ends, and Hummingbird logs it as an error.
            logger: Logger(label: "stub-server", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw StubError("the stub server did not start") }
            return try await body(server, "http://127.0.0.1:\(port)")
        }
    }

    private func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let received = Received(
            method: request.method.rawValue, target: request.uri.description, headers: request.headers, body: Array(body.readableBytesView))
        let index = log.withLock { list in
            list.append(received)
            return list.count - 1
        }
        let answer = answer(received, index)
        if answer.delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(answer.delayMilliseconds)) }
        var headers = HTTPFields()
        for (name, value) in answer.headers { if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) } }
        return Response(status: answer.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

struct StubError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
