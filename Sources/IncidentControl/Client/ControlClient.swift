import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The REST client of `incidentctl`: one connection pool, the API key, and the failover rule.
///
/// **Failover.** Endpoints are tried in order. A transport failure (refused, timed out, reset)
/// moves on to the next; when every endpoint has failed in a row the command ends with
/// `unreachable` (exit 3). A `503` carrying `Retry-After` (the node has no leader, is
/// overloaded, or is not the leader) is retried on the next endpoint, at most
/// `maxUnavailableRetries` times; before an endpoint is tried a second time the client waits
/// `Retry-After` (at most `maxRetryWaitMilliseconds`). Every other answer is final. Writes
/// carry an `Idempotency-Key`, so a retry after a lost answer cannot apply them twice.
public final class ControlClient: Sendable {
    public let settings: ClientSettings
    let console: Console
    private let http: HTTPClient

    public init(settings: ClientSettings, console: Console) {
        self.settings = settings
        self.console = console
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .milliseconds(Int64(settings.requestTimeoutMilliseconds))
        // A refused connection must fail the attempt at once so the next endpoint is tried;
        // by default the pool would retry it with backoff until the request's deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Closes the connection pool; call once, when the command is done.
    public func shutdown() async { try? await http.shutdown() }

    // MARK: - Requests

    /// Sends `request` with failover and returns the successful answer; an error answer throws
    /// its `ControlError` (the API's envelope).
    public func send(_ request: APIRequest) async throws(ControlError) -> ControlResponse {
        let response = try await sendAllowingErrors(request)
        guard response.isSuccess else { throw response.error }
        return response
    }

    /// Sends `request` with failover and returns the final answer whatever its status.
    public func sendAllowingErrors(_ request: APIRequest) async throws(ControlError) -> ControlResponse {
        let opened = try await exchange(request, timeoutMilliseconds: settings.requestTimeoutMilliseconds)
        return try await collect(opened)
    }

    /// Sends `request` to `endpoint` only (no failover), for commands that ask every node.
    public func probe(_ request: APIRequest, on endpoint: String) async throws(ControlError) -> ControlResponse {
        let opened: Opened
        do {
            opened = try await attempt(request, on: endpoint, timeoutMilliseconds: settings.requestTimeoutMilliseconds)
        } catch {
            throw ControlError(code: "unreachable", message: Self.reason(error), exitStatus: .unreachable)
        }
        let response = try await collect(opened)
        guard response.isSuccess else { throw response.error }
        return response
    }

    /// Sends `request` with failover and passes the successful body to `sink` chunk by chunk,
    /// stopping past `limitBytes`. Returns the answer with an empty body.
    public func download(
        _ request: APIRequest, timeoutMilliseconds: Int, limitBytes: Int64, into sink: (ByteBuffer) throws(ControlError) -> Void
    ) async throws(ControlError) -> ControlResponse {
        let opened = try await exchange(request, timeoutMilliseconds: timeoutMilliseconds)
        guard (200..<300).contains(Int(opened.response.status.code)) else { throw try await collect(opened).error }
        var received: Int64 = 0
        do {
            for try await chunk in opened.response.body {
                received += Int64(chunk.readableBytes)
                guard received <= limitBytes else {
                    throw ControlError(code: "too_large", message: "the download is larger than \(limitBytes) bytes")
                }
                try sink(chunk)
            }
        } catch let error as ControlError {
            throw error
        } catch {
            throw ControlError(code: "transport", message: "\(opened.endpoint) stopped sending: \(Self.reason(error))")
        }
        return ControlResponse(status: Int(opened.response.status.code), headers: opened.response.headers, endpoint: opened.endpoint)
    }

    // MARK: - Failover

    /// An answer whose head has arrived; its body is still to be read.
    struct Opened {
        var endpoint: String
        var response: HTTPClientResponse
    }

    /// The failover loop described on the type. Terminates: every turn either returns, uses
    /// one of `maxUnavailableRetries`, or adds to a run of transport failures that ends the
    /// loop at `endpoints.count`; only an answer resets that run, and an answer returns or
    /// uses a retry.
    private func exchange(_ request: APIRequest, timeoutMilliseconds: Int) async throws(ControlError) -> Opened {
        let endpoints = settings.endpoints
        var failures: [(endpoint: String, reason: String)] = []
        var failuresInARow = 0
        var retriesLeft = settings.maxUnavailableRetries
        var waitMilliseconds = 0
        var position = 0
        while true {
            if position > 0, position % endpoints.count == 0, waitMilliseconds > 0 {
                verbose("  waiting \(waitMilliseconds) ms (Retry-After) before trying the endpoints again")
                try? await Task.sleep(for: .milliseconds(waitMilliseconds))
                waitMilliseconds = 0
            }
            let endpoint = endpoints[position % endpoints.count]
            position += 1
            let opened: Opened
            do {
                opened = try await attempt(request, on: endpoint, timeoutMilliseconds: timeoutMilliseconds)
            } catch {
                failures.append((endpoint, Self.reason(error)))
                failuresInARow += 1
                if failuresInARow >= endpoints.count { throw .unreachable(failures) }
                continue
            }
            failuresInARow = 0
            let status = opened.response.status.code
            let retryAfter = ControlResponse.retryAfterSeconds(opened.response.headers.first(name: "Retry-After"))
            guard status == 503, let retryAfter, retriesLeft > 0 else { return opened }
            retriesLeft -= 1
            // Read the refusal so the connection can be reused.
            _ = try? await opened.response.body.collect(upTo: settings.maxResponseBytes)
            waitMilliseconds = max(waitMilliseconds, min(retryAfter * 1_000, settings.maxRetryWaitMilliseconds))
            verbose("  \(endpoint) is unavailable (503, Retry-After: \(retryAfter)); retrying on the next endpoint")
        }
    }

    /// One request to one endpoint, up to the answer's head.
    private func attempt(_ request: APIRequest, on endpoint: String, timeoutMilliseconds: Int) async throws -> Opened {
        var outgoing = HTTPClientRequest(url: endpoint + request.target)
        outgoing.method = request.method
        outgoing.headers.add(name: "User-Agent", value: "incidentctl")
        outgoing.headers.add(name: "Accept", value: "application/json")
        if let key = settings.apiKey { outgoing.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let idempotencyKey = request.idempotencyKey { outgoing.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if let body = request.body {
            outgoing.headers.add(name: "Content-Type", value: "application/json")
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        verbose("> \(request.method.rawValue) \(endpoint)\(request.target)")
        let started = ContinuousClock.now
        do {
            let response = try await http.execute(outgoing, deadline: .now() + .milliseconds(Int64(timeoutMilliseconds)))
            let elapsed = ContinuousClock.now - started
            let node = response.headers.first(name: "X-Incidentd-Node") ?? "-"
            let leader = response.headers.first(name: "X-Incidentd-Leader") ?? "-"
            verbose("< \(response.status.code) \(response.status.reasonPhrase) from \(endpoint) (node \(node), leader \(leader)) in \(elapsed.milliseconds) ms")
            return Opened(endpoint: endpoint, response: response)
        } catch {
            verbose("< \(endpoint): \(Self.reason(error))")
            throw error
        }
    }

    /// Reads the whole body of an answer, up to `maxResponseBytes`.
    private func collect(_ opened: Opened) async throws(ControlError) -> ControlResponse {
        let status = Int(opened.response.status.code)
        do {
            let buffer = try await opened.response.body.collect(upTo: settings.maxResponseBytes)
            return ControlResponse(status: status, headers: opened.response.headers, body: Array(buffer.readableBytesView), endpoint: opened.endpoint)
        } catch is NIOTooManyBytesError {
            throw ControlError(code: "too_large", message: "\(opened.endpoint) answered more than \(settings.maxResponseBytes) bytes")
        } catch {
            throw ControlError(code: "transport", message: "\(opened.endpoint) stopped sending: \(Self.reason(error))")
        }
    }

    private func verbose(_ line: String) {
        if settings.verbose { console.printError(line) }
    }

    /// A short reason for a transport error: `connection refused`, `timed out`, ...
    static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            case .remoteConnectionClosed: return "connection closed"
            default: return "\(error)"
            }
        }
        let text = "\(error)"
        if text.localizedCaseInsensitiveContains("connection refused") { return "connection refused" }
        if text.localizedCaseInsensitiveContains("timeout") || text.localizedCaseInsensitiveContains("timed out") { return "timed out" }
        return text
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }
}
