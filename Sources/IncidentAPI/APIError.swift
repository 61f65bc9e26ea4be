import ClusterNode
import Hummingbird
import IncidentCore

/// Why a request failed, rendered as `{"error": {"code", "message", "details"}}` with the
/// matching HTTP status. Clients branch on `code`, never on `message`.
struct APIError: Error, HTTPResponseError, Sendable {
    enum Code: String, Sendable {
        /// The body is not JSON (truncated, bad syntax, nested too deeply).
        case malformedJSON = "malformed_json"
        /// A field has the wrong type or an invalid value (`details.field` names it).
        case invalidRequest = "invalid_request"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case conflict
        /// The lifecycle action is not allowed now (`details.status`, `details.allowed`).
        case invalidTransition = "invalid_transition"
        /// The item is referenced by others (`details.references`).
        case inUse = "in_use"
        case limitExceeded = "limit_exceeded"
        case payloadTooLarge = "payload_too_large"
        case rateLimited = "rate_limited"
        /// The node cannot serve writes or reads now (`details.reason`); retry after `Retry-After`.
        case unavailable
        case notImplemented = "not_implemented"
        case `internal`
    }

    var status: HTTPResponse.Status
    var code: Code
    var message: String
    var details: JSONObject
    var retryAfterSeconds: Int?

    init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, details: JSONObject = [:], retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
    }

    var body: JSONValue {
        ["error": ["code": .string(code.rawValue), "message": .string(message), "details": .object(details)]]
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(body, status: status, headers: headers)
    }

    /// The headers an error answer carries besides the JSON body's.
    var headers: HTTPFields {
        var headers = HTTPFields()
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return headers
    }

    // MARK: - Common errors

    /// A field had the wrong type or an invalid value.
    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, .invalidRequest, field.isEmpty ? message : "\(field): \(message)", details: ["field": .string(field)])
    }

    static func notFound(_ message: String) -> APIError { APIError(.notFound, .notFound, message) }

    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, .payloadTooLarge, "the request body is larger than \(limit) bytes", details: ["limit_bytes": .int(limit)])
    }

    /// The node could not take the request; the client should retry (503 with Retry-After) —
    /// except a cluster operation that conflicts with the cluster's state (409).
    init(_ error: NodeError, retryAfterSeconds: Int) {
        var details: JSONObject = ["reason": .string(error.code.rawValue)]
        if error.leaderHint != 0 { details["leader"] = .int(error.leaderHint) }
        if error.code == .conflict {
            self.init(.conflict, .conflict, error.message, details: details)
        } else {
            self.init(.serviceUnavailable, .unavailable, error.message, details: details, retryAfterSeconds: retryAfterSeconds)
        }
    }

    /// A command the state machine rejected. `field` paths from IncidentCore are passed through.
    init(_ error: CommandError, fieldPrefix: String = "") {
        var details: JSONObject = [:]
        if let field = error.field {
            details["field"] = .string(fieldPrefix.isEmpty ? field : (field.hasPrefix("[") ? fieldPrefix + field : "\(fieldPrefix).\(field)"))
        }
        switch error.code {
        case .invalidTransition:
            if let status = error.status { details["status"] = .string(status.name) }
            details["allowed"] = .strings(error.allowed.map(\.name))
            self.init(.conflict, .invalidTransition, error.message, details: details)
        case .notFound:
            self.init(.notFound, .notFound, error.message, details: details)
        case .conflict:
            self.init(.conflict, .conflict, error.message, details: details)
        case .invalid:
            self.init(.badRequest, .invalidRequest, error.message, details: details)
        case .inUse:
            details["references"] = .strings(error.references)
            self.init(.conflict, .inUse, error.message, details: details)
        case .limitExceeded:
            self.init(.conflict, .limitExceeded, error.message, details: details)
        case .alreadyApplied:
            // Only a driver replaying entries sees this; a client never should.
            self.init(.internalServerError, .internal, error.message, details: details)
        }
    }
}

/// The `Content-Type` of every JSON answer.
let jsonContentType = "application/json; charset=utf-8"

extension Response {
    /// A JSON response with `Content-Type: application/json`.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(bytes: value.bytes, status: status, headers: headers)
    }

    /// A JSON answer already encoded.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = jsonContentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
