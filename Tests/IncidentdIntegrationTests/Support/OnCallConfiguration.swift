import Foundation
import IncidentdTesting

/// The on-call setup the escalation scenarios share, created through the REST API as an
/// operator would: two users, a signed webhook channel, an email channel, a two-level policy
/// (level 1 pages alice, level 2 pages bob after 5 minutes; the whole policy repeats once), a
/// team owning the policy, and a routing rule sending chat-api events to the team.
enum OnCallConfiguration {
    static let webhookSecret = "whsec-itest-5d1f0c2a"
    static let policy = "llm-oncall"
    static let levelOneDelayMilliseconds: Int64 = 5 * 60_000
    static let levelTwoDelayMilliseconds: Int64 = 10 * 60_000

    /// Creates everything; the email channel only when `mail` is given.
    static func apply(to node: IncidentdNode, webhook: WebhookReceiver, mail: MailReceiver?) async throws {
        let channels = mail == nil ? #"["hook"]"# : #"["hook", "mail"]"#
        var items: [(String, String)] = [
            ("/api/v1/users", #"{"id": "alice", "name": "Alice Example", "email": "alice@example.com", "time_zone": "Europe/Berlin"}"#),
            ("/api/v1/users", #"{"id": "bob", "name": "Bob Example", "email": "bob@example.com"}"#),
            (
                "/api/v1/channels",
                #"{"id": "hook", "name": "On-call webhook", "type": "webhook", "url": \#(quoted(webhook.url())), "secret": "\#(webhookSecret)"}"#
            ),
        ]
        if let mail {
            items.append((
                "/api/v1/channels",
                #"""
                {"id": "mail", "name": "On-call email", "type": "email", "url": "\#(mail.url)",
                 "email_from": "incidentd@example.com", "email_to": ["oncall@example.com"]}
                """#
            ))
        }
        items += [
            (
                "/api/v1/policies/escalation",
                #"""
                {"id": "\#(policy)", "name": "LLM on-call", "repeat_count": 1, "levels": [
                  {"delay": "5m", "targets": ["user:alice"], "channels": \#(channels)},
                  {"delay": "10m", "targets": ["user:bob"], "channels": \#(channels)}]}
                """#
            ),
            ("/api/v1/teams", #"{"id": "ml-platform", "name": "ML platform", "members": ["alice", "bob"], "escalation_policy": "\#(policy)"}"#),
            (
                "/api/v1/routing-rules",
                #"{"id": "chat-api", "name": "chat-api to ML platform", "match": {"services": ["chat-api"]}, "team": "ml-platform"}"#
            ),
        ]
        for (path, body) in items {
            let answer = try await node.admin.post(path, body)
            guard answer.status == 201 else { throw HarnessError("POST \(path) was refused: \(answer)") }
        }
    }

    /// An event the routing rule sends to the team; tagged `region` when one is given (its pages
    /// then leave from a member in that region while one is healthy).
    static func event(title: String, region: String? = nil) -> String {
        let tags = region.map { #", "tags": {"region": \#(quoted($0))}"# } ?? ""
        return #"""
        {"source": "llm-sentinel", "event_type": "anomaly", "category": "performance", "title": \#(quoted(title)),
         "severity": "high", "resource": {"type": "service", "id": "chat-api", "name": "Chat API"},
         "environment": "production", "metrics": {"p99_latency_ms": 2300}\#(tags)}
        """#
    }
}
