import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Sends `OutboundRequest`s through the notifier's shared `HTTPClient` and classifies the outcome.
struct HTTPSender: Sendable {
    let client: HTTPClient
    let timeoutMilliseconds: Int64
    let maxResponseBodyBytes: Int

    func send(_ request: OutboundRequest) async -> Result<Void, DeliveryError> {
        var http = HTTPClientRequest(url: request.url)
        http.method = .POST
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let deadline = NIODeadline.now() + .milliseconds(timeoutMilliseconds)
        do {
            let response = try await client.execute(http, deadline: deadline)
            let body = try await readBody(response)
            return Self.classify(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"), body: body)
        } catch {
            return .failure(Self.classify(error))
        }
    }

    /// Up to `maxResponseBodyBytes` of the body (the rest is drained and dropped).
    private func readBody(_ response: HTTPClientResponse) async throws -> String {
        var kept: [UInt8] = []
        for try await chunk in response.body {
            let room = maxResponseBodyBytes - kept.count
            if room > 0 { kept += chunk.readableBytesView.prefix(room) }
        }
        return String(decoding: kept, as: UTF8.self)
    }

    /// 2xx delivered; 408, 429 and 5xx retryable (429/503 honour `Retry-After` seconds); other
    /// statuses (3xx included: we do not follow redirects) are permanent.
    static func classify(status: Int, retryAfter: String?, body: String) -> Result<Void, DeliveryError> {
        if (200..<300).contains(status) { return .success(()) }
        let snippet = shortened(body.filter { $0 != "\n" && $0 != "\r" }, toCharacters: 200)
        let detail = snippet.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(snippet)"
        let retryable = status == 408 || status == 429 || (500..<600).contains(status)
        var error = DeliveryError(.httpStatus, detail, retryable: retryable)
        if retryable, let retryAfter, let seconds = Int64(retryAfter.trimmingSpaces), seconds >= 0 {
            error.retryAfterMilliseconds = seconds.multipliedReportingOverflow(by: 1000).overflow ? .max : seconds * 1000
        }
        return .failure(error)
    }

    static func classify(_ error: any Error) -> DeliveryError {
        if let error = error as? DeliveryError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                return DeliveryError(.timeout, error.shortDescription, retryable: true)
            // Channel URLs are checked by `Endpoint.parse` first; these are what slips through.
            case .invalidURL, .emptyHost, .emptyScheme:
                return .invalid(error.shortDescription)
            case .alreadyShutdown:
                return DeliveryError(.shutdown, "http client is shut down", retryable: true)
            default:
                break
            }
            return DeliveryError(.connectionFailed, error.shortDescription, retryable: true)
        }
        if error is CancellationError { return DeliveryError(.timeout, "cancelled", retryable: true) }
        return DeliveryError(.connectionFailed, String(describing: error), retryable: true)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
