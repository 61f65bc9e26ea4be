import ClusterNode
import IncidentCore

/// API key secrets: generated here, shown to their creator once, and stored in replicated state
/// only as the lower-case hex SHA-256 of their UTF-8 bytes (`APIKey.secretHash`).
public enum APIKeySecret {
    /// Prefix of generated secrets, so leaked keys are recognisable by secret scanners.
    public static let prefix = "imk_"

    /// A new secret: the prefix and 40 characters drawn uniformly from `[A-Za-z0-9]` by the
    /// system's cryptographic generator (about 238 bits).
    public static func generate() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<40).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// The hash stored in `APIKey.secretHash` and looked up on every request.
    public static func hash(_ secret: String) -> String { SecretDigest.hex(secret) }
}

/// Why `provisionAPIKey` failed.
public enum APIKeyProvisioningError: Error, Sendable {
    case node(NodeError)
    case rejected(CommandError)
}

/// Makes sure the API key `id` exists with `secret` and `role`: creates it, or updates its
/// secret, name and role when they differ. The executable uses it to install a bootstrap admin
/// key (e.g. from an environment variable) so the first real keys can be created over the API.
/// Returns whether anything was written.
@discardableResult
public func provisionAPIKey(
    on node: IncidentNode, id: String, name: String, role: Role, secret: String, actor: Actor = .system
) async throws(APIKeyProvisioningError) -> Bool {
    let hash = APIKeySecret.hash(secret)
    let existing: APIKey?
    do { existing = try await node.read { $0.state.machine.config.apiKeys[id] } } catch { throw .node(error) }
    if let existing, existing.secretHash == hash, existing.role == role, existing.name == name { return false }
    let key = APIKey(id: id, name: name, role: role, secretHash: hash, owner: existing?.owner)
    let command: Command = existing == nil ? .createConfig(.apiKey(key), actor: actor) : .updateConfig(.apiKey(key), actor: actor)
    let submission: Submission
    do { submission = try await node.submit(command) } catch { throw .node(error) }
    if case .failure(let error) = submission.outcome { throw .rejected(error) }
    return true
}
