import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An answer from the node, whole.
struct APIResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as JSON; `.null` when it is not JSON (assertions then show the text).
    var json: JSON { JSON(parsing: body) ?? .null }
    func header(_ name: String) -> String? { headers.first(name: name) }
    /// `error.code` of the API's error envelope.
    var errorCode: String? { json["error"]?["code"]?.string }

    var description: String { "HTTP \(status) \(text.prefix(600))" }
}

/// A client of one node's HTTP API, authenticated with `key` (nil sends no key).
struct APIClient: Sendable {
    /// The connection pool of the node's current run (`IncidentdNode.http`).
    let http: HTTPClient
    let baseURL: String
    let key: String?

    /// Sends one request. `body` is sent as is (JSON unless `contentType` says otherwise), with
    /// `Content-Length`, or chunked without it when `chunked` (the length is then unknown
    /// until the end).
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, chunked: Bool = false, headers: [(String, String)] = [],
        contentType: String = "application/json", timeoutSeconds: Int64 = 15
    ) async throws -> APIResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            if chunked {
                let chunks = AsyncStream<ByteBuffer> { continuation in
                    var rest = body[...]
                    while !rest.isEmpty {
                        continuation.yield(ByteBuffer(bytes: rest.prefix(64 * 1_024)))
                        rest = rest.dropFirst(64 * 1_024)
                    }
                    continuation.finish()
                }
                request.body = .stream(chunks, length: .unknown)
            } else {
                request.body = .bytes(ByteBuffer(bytes: body))
            }
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await http.execute(request, timeout: .seconds(timeoutSeconds))
        let collected = try await response.body.collect(upTo: 16 << 20)
        return APIResponse(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
    }

    func get(_ path: String) async throws -> APIResponse { try await send(.GET, path) }

    func post(_ path: String, _ body: String? = nil, headers: [(String, String)] = []) async throws -> APIResponse {
        try await send(.POST, path, body: body.map { Array($0.utf8) }, headers: headers)
    }

    func put(_ path: String, _ body: String) async throws -> APIResponse { try await send(.PUT, path, body: Array(body.utf8)) }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

/// Text as a JSON string literal (quotes included), for building request bodies.
func quoted(_ text: String) -> String {
    // Encoding a String to JSON cannot fail; fall back to an empty literal rather than trap.
    guard let data = try? JSONEncoder().encode(text) else { return "\"\"" }
    return String(decoding: data, as: UTF8.self)
}
