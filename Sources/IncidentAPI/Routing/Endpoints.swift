import Foundation
import ClusterNode
import HTTPTypes
import Hummingbird
import IncidentCore

/// What every endpoint shares: the node, the settings, the rate limiter, and the steps of the
/// request pipeline (authenticate → authorise → rate-limit → read the body → parse → submit or
/// read). Each step throws an `APIError` that already carries its status and error code.
struct Endpoints: Sendable {
    let node: IncidentNode
    let settings: APISettings
    let limiter: RateLimiter
    let keys = APIKeyCache()

    init(node: IncidentNode, settings: APISettings) {
        self.node = node
        self.settings = settings
        self.limiter = RateLimiter(
            rate: settings.rateLimitRequestsPerSecond, burst: settings.rateLimitBurst,
            trackedKeys: settings.rateLimitTrackedKeys, now: settings.monotonicSeconds)
    }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!
    /// Secrets longer than this cannot be ours; they are refused without hashing.
    static let maxSecretBytes = 256

    // MARK: - Authentication

    /// The secret from `Authorization: Bearer <key>` or `X-API-Key: <key>` (on every request, so
    /// without Foundation's string scanning).
    static func secret(in request: Request) -> String? {
        secret(authorization: request.headers[.authorization], apiKey: request.headers[apiKeyHeader])
    }

    /// The secret from the values of the `Authorization` and `X-API-Key` headers.
    static func secret(authorization: String?, apiKey: String?) -> String? {
        if let authorization {
            let utf8 = authorization.utf8
            if utf8.count > 7, utf8.prefix(6).elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }),
                utf8.dropFirst(6).first == UInt8(ascii: " ")
            {
                return trimmed(Substring(authorization.utf8.dropFirst(7)))
            }
        }
        return apiKey.map { trimmed(Substring($0)) }
    }

    private static func trimmed(_ text: Substring) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }

    /// The stored key whose secret is `secret`, nil when there is none.
    func key(forSecret secret: String) async throws(APIError) -> APIKey? {
        guard let hash = Self.hash(ofSecret: secret) else { return nil }
        if let cached = keys.key(forHash: hash, revision: node.accessRevision) { return cached }
        // Keys are checked against this node's applied state (a revoked key stops working on
        // each node as soon as that node applies the revocation).
        let (key, revision) = try await read(.local) { ($0.state.machine.apiKey(secretHash: hash), $0.state.accessRevision) }
        if let key { keys.remember(key, forHash: hash, revision: revision) }
        return key
    }

    /// The key whose secret is `secret` when the cache holds it for the node's current access
    /// revision (nil: unknown here, or not cached). `memo` is the last secret a connection sent
    /// and its hash: a client sends the same key on every request of a connection, so the
    /// SHA-256 is computed once per connection and key, not per request. The key itself is still
    /// looked up each time, so a revoked key stops working on open connections too.
    func cachedKey(forSecret secret: String, memo: inout (secret: String, hash: String)?) -> APIKey? {
        let hash: String
        if let memo, memo.secret.utf8.elementsEqual(secret.utf8) {  // bytes, not Unicode equivalence
            hash = memo.hash
        } else {
            guard let made = Self.hash(ofSecret: secret) else { return nil }
            hash = made
            memo = (secret, made)
        }
        return keys.key(forHash: hash, revision: node.accessRevision)
    }

    private static func hash(ofSecret secret: String) -> String? {
        guard !secret.isEmpty, secret.utf8.count <= maxSecretBytes else { return nil }
        return APIKeySecret.hash(secret)
    }

    /// Authenticates the request (401), checks that its key's role has `permission` (403) and
    /// takes a token from the key's bucket (429).
    func authorize(_ request: Request, for permission: Permission) async throws(APIError) -> APIKey {
        guard let secret = Self.secret(in: request), !secret.isEmpty else {
            throw APIError(.unauthorized, .unauthorized, "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        }
        guard let key = try await key(forSecret: secret) else {
            throw APIError(.unauthorized, .unauthorized, "the API key is not valid")
        }
        try check(key, has: permission)
        return key
    }

    /// 403 unless `key`'s role grants `permission`; then a rate-limit token (429).
    func check(_ key: APIKey, has permission: Permission) throws(APIError) {
        guard key.role.allows(permission) else {
            throw APIError(
                .forbidden, .forbidden, "the '\(key.role.name)' role may not \(permission.verb)",
                details: ["role": .string(key.role.name), "required": .string(permission.name)])
        }
        if let wait = limiter.take(key.id) {
            throw APIError(
                .tooManyRequests, .rateLimited, "too many requests for this API key; retry in \(wait) s",
                details: ["retry_after_seconds": .int(wait)], retryAfterSeconds: wait)
        }
    }

    /// Who a key acts as on incident timelines: its owner, else the key itself.
    static func actor(_ key: APIKey) -> Actor {
        if let owner = key.owner, !owner.isEmpty { return .user(owner) }
        return Actor(.apiKey, key.id)
    }

    /// The request id making a write idempotent: `<key id>:<Idempotency-Key>`, or "" without
    /// the header. Scoped by key so two clients cannot collide.
    static func requestID(_ request: Request, key: APIKey) throws(APIError) -> String {
        try requestID(idempotencyKey: request.headers[idempotencyKeyHeader], key: key)
    }

    static func requestID(idempotencyKey raw: String?, key: APIKey) throws(APIError) -> String {
        guard let raw else { return "" }
        let value = raw.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, value.utf8.count <= 255 else {
            throw APIError.invalid("Idempotency-Key", "must be 1 to 255 characters")
        }
        return "\(key.id):\(value)"
    }

    // MARK: - Bodies

    /// The whole body, refused with 413 past `limit` bytes (checked against Content-Length
    /// before reading, and again while reading for chunked bodies).
    func body(of request: Request, limit: Int? = nil) async throws(APIError) -> [UInt8] {
        let limit = limit ?? settings.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw APIError.tooLarge(limit: limit) }
        var bytes: [UInt8] = []
        do {
            for try await buffer in request.body {
                guard bytes.count + buffer.readableBytes <= limit else { throw APIError.tooLarge(limit: limit) }
                bytes.append(contentsOf: buffer.readableBytesView)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, .malformedJSON, "the request body could not be read")
        }
        return bytes
    }

    /// The body parsed as JSON (400 `malformed_json` when it is not).
    func json(_ request: Request, limit: Int? = nil) async throws(APIError) -> JSONValue {
        try Self.json(try await body(of: request, limit: limit))
    }

    /// `bytes` parsed as JSON (400 `malformed_json` when they are not).
    static func json(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        guard !bytes.isEmpty else { throw APIError(.badRequest, .malformedJSON, "the request body is empty; JSON is expected") }
        do { return try JSONValue.parse(bytes) } catch {
            throw APIError(.badRequest, .malformedJSON, "the request body is not valid JSON: \(error.reason)", details: ["offset": .int(error.offset)])
        }
    }

    /// The body as a JSON object, or an empty object when there is no body (optional bodies of
    /// lifecycle actions).
    func optionalObject(_ request: Request) async throws(APIError) -> JSONReader {
        let bytes = try await body(of: request)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return try JSONReader(.object([:])) }
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw APIError(.badRequest, .malformedJSON, "the request body is not valid JSON: \(error.reason)", details: ["offset": .int(error.offset)])
        }
        return try JSONReader(value)
    }

    // MARK: - The node

    /// Submits `command` and returns what it did; rejections become 4xx, node trouble 503.
    func submit(_ command: Command, requestID: String = "") async throws(APIError) -> (result: CommandResult, duplicate: Bool) {
        let submission: Submission
        do { submission = try await node.submit(command, requestID: requestID) } catch {
            return try answer(to: .failure(error)).get()
        }
        return try answer(to: .success(submission)).get()
    }

    /// What a submission's outcome means to a client: the result, or the error to answer.
    func answer(to submission: Result<Submission, NodeError>) -> Result<(result: CommandResult, duplicate: Bool), APIError> {
        switch submission {
        case .failure(let error): return .failure(APIError(error, retryAfterSeconds: settings.unavailableRetryAfterSeconds))
        case .success(let submission):
            switch submission.outcome {
            case .success(let applied): return .success((applied.result, submission.duplicate))
            case .failure(let error): return .failure(APIError(error))
            }
        }
    }

    /// Runs `body` against the applied state on the consensus loop, as fresh as the request asked
    /// (`?consistency=`, `ReadScope`) unless `consistency` is given.
    func read<T: Sendable>(_ consistency: ReadConsistency, _ body: @escaping @Sendable (borrowing LoopContext) -> T) async throws(APIError) -> T {
        do { return try await node.read(consistency, body) } catch {
            throw APIError(error, retryAfterSeconds: settings.unavailableRetryAfterSeconds)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (borrowing LoopContext) -> T) async throws(APIError) -> T {
        try await read(ReadScope.consistency, body)
    }

    /// Runs a cluster operation of the node, mapping its failure to the API's error.
    func clusterOperation<T: Sendable>(_ body: () async throws(NodeError) -> T) async throws(APIError) -> T {
        do { return try await body() } catch {
            throw APIError(error, retryAfterSeconds: settings.unavailableRetryAfterSeconds)
        }
    }

    var now: Timestamp { Timestamp(millisecondsSinceEpoch: settings.clockMilliseconds()) }
}

extension Permission {
    var name: String { ["ingest", "read", "respond", "configure"][Int(rawValue)] }
    var verb: String { ["post events", "read", "act on incidents", "change configuration"][Int(rawValue)] }
}
