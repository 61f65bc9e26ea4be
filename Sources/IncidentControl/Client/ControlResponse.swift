import Foundation
import NIOHTTP1

/// A whole answer from one endpoint.
public struct ControlResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The endpoint that answered.
    public var endpoint: String

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = [], endpoint: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
        self.endpoint = endpoint
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body as JSON, or an `unexpected_response` error naming what came instead.
    public func json() throws(ControlError) -> JSONValue {
        guard let value = JSONValue(parsing: body) else {
            throw .unexpectedResponse("\(endpoint) answered HTTP \(status) without JSON: \(Self.excerpt(body))", httpStatus: status)
        }
        return value
    }

    /// The error this answer stands for: the API's envelope when there is one, else
    /// `http_<status>` with the start of the body.
    public var error: ControlError {
        if let envelope = JSONValue(parsing: body)?["error"], let code = envelope["code"]?.string {
            var error = ControlError(code: code, message: envelope["message"]?.string ?? "", httpStatus: status)
            if let details = envelope["details"], details != .object([:]), details != .null { error.details = details }
            return error
        }
        let text = Self.excerpt(body)
        return ControlError(code: "http_\(status)", message: text.isEmpty ? "\(endpoint) answered HTTP \(status)" : text, httpStatus: status)
    }

    /// `X-Incidentd-Node`: the id of the node that answered.
    public var node: String? { headers.first(name: "X-Incidentd-Node") }
    /// `X-Incidentd-Leader`: the leader as the answering node knows it.
    public var leader: String? { headers.first(name: "X-Incidentd-Leader") }

    /// `Retry-After` in seconds (an HTTP date counts as one second); nil without the header.
    public var retryAfterSeconds: Int? { Self.retryAfterSeconds(headers.first(name: "Retry-After")) }

    static func retryAfterSeconds(_ value: String?) -> Int? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return Int(value).map { max(0, $0) } ?? 1
    }

    /// The first 300 bytes as text, on one line.
    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }
}
