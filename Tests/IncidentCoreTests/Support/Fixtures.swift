@testable import IncidentCore

/// A small on-call setup: two users, a webhook and a Slack channel, a two-level policy
/// (5 min then 10 min, repeated once), a team, and a routing rule sending production
/// performance incidents to it.
extension Harness {
    static let level1Delay = 5 * Milliseconds.minute
    static let level2Delay = 10 * Milliseconds.minute

    mutating func installOnCall(repeatCount: Int = 0, acknowledgeTimeout: Int64? = nil) {
        create(.user(User(id: "alice", name: "Alice", email: "alice@example.com", slackID: "U1")))
        create(.user(User(id: "bob", name: "Bob", email: "bob@example.com", slackID: "U2")))
        create(.channel(NotificationChannel(id: "hook", name: "Pager webhook", type: .webhook, url: "http://127.0.0.1:9/hook")))
        create(.channel(NotificationChannel(id: "slack", name: "#incidents", type: .slack, url: "http://127.0.0.1:9/slack")))
        create(.escalationPolicy(EscalationPolicy(
            id: "payments", name: "Payments",
            levels: [
                EscalationLevel(delayMilliseconds: Self.level1Delay, targets: [.user("alice")], channels: ["hook"]),
                EscalationLevel(delayMilliseconds: Self.level2Delay, targets: [.user("bob"), .channel("slack")], channels: ["hook"]),
            ], repeatCount: repeatCount, acknowledgeTimeoutMilliseconds: acknowledgeTimeout)))
        create(.team(Team(id: "sre", name: "SRE", members: ["alice", "bob"], escalationPolicy: "payments")))
        let match = EventMatcher(categories: [.performance], environments: ["production"])
        create(.routingRule(RoutingRule(id: "prod-perf", name: "production performance", match: match, team: "sre")))
    }
}
