import Foundation
import NIOHTTP1

/// One REST call, independent of the endpoint it will be sent to: what commands build and
/// tests compare.
public struct APIRequest: Sendable, Equatable {
    public var method: HTTPMethod
    /// The percent-encoded path, `/api/v1/...`.
    public var path: String
    /// Query parameters in order; encoded when the request is sent.
    public var query: [QueryItem]
    /// A JSON body, sent as given with `Content-Type: application/json`.
    public var body: [UInt8]?
    /// Sent as `Idempotency-Key` so that a retry on another endpoint cannot apply a write twice.
    public var idempotencyKey: String?

    public init(_ method: HTTPMethod, _ path: String, query: [QueryItem] = [], body: [UInt8]? = nil, idempotencyKey: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.idempotencyKey = idempotencyKey
    }

    /// A write with a JSON body and a fresh idempotency key.
    static func write(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil) -> APIRequest {
        APIRequest(method, path, body: json?.bytes, idempotencyKey: UUID().uuidString.lowercased())
    }

    /// The body parsed as JSON (tests).
    public var json: JSONValue? { body.flatMap { JSONValue(parsing: $0) } }

    /// Path and query, as sent after the endpoint: `/api/v1/incidents?status=new&limit=20`.
    public var target: String {
        guard !query.isEmpty else { return path }
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.name, value: $0.value) }
        // URLComponents leaves `+` alone, which servers read as a space.
        let text = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return path + "?" + text
    }

    /// `text` as one path segment: everything but unreserved characters is percent-encoded, so
    /// an id can never add a segment or a query.
    public static func segment(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// One query parameter.
public struct QueryItem: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
