import XCTest

@testable import IncidentCore

/// Routing rules decide, when an incident is created, its team, escalation policy, extra
/// channels or suppression: ordered, first match wins unless `continue`, optionally only inside
/// a weekly time window in a zone.
final class RoutingRuleTests: XCTestCase {
    /// alice and bob; a webhook and a Slack channel; policy `pol-a` pages alice, `pol-b` bob;
    /// team `sre` defaults to `pol-a`, team `ml` to `pol-b`.
    private func configured() -> Harness {
        var h = Harness()
        h.create(.user(User(id: "alice", name: "Alice")))
        h.create(.user(User(id: "bob", name: "Bob")))
        h.create(.channel(NotificationChannel(id: "hook", name: "hook", type: .webhook, url: "http://127.0.0.1:9/hook")))
        h.create(.channel(NotificationChannel(id: "slack", name: "slack", type: .slack, url: "http://127.0.0.1:9/slack")))
        for (policy, user) in [("pol-a", "alice"), ("pol-b", "bob")] {
            h.create(.escalationPolicy(EscalationPolicy(
                id: policy, name: policy, levels: [EscalationLevel(delayMilliseconds: Milliseconds.hour, targets: [.user(user)], channels: ["hook"])])))
        }
        h.create(.team(Team(id: "sre", name: "SRE", escalationPolicy: "pol-a")))
        h.create(.team(Team(id: "ml", name: "ML", escalationPolicy: "pol-b")))
        return h
    }

    private func route(_ id: String, position: Int, match: EventMatcher = EventMatcher(), window: ZonedTimeWindow? = nil, team: String? = nil,
                       policy: String? = nil, channels: [String] = [], suppress: Bool = false, continue: Bool = false, enabled: Bool = true) -> ConfigItem {
        .routingRule(RoutingRule(
            id: id, name: id, position: position, enabled: enabled, match: match, activeWindow: window, team: team,
            escalationPolicy: policy, channels: channels, suppress: suppress, continue: `continue`))
    }

    func testFirstMatchingRuleWins() {
        var h = configured()
        h.create(route("prod", position: 1, match: EventMatcher(environments: ["production"]), team: "sre"))
        h.create(route("catch-all", position: 2, team: "ml"))
        let prod = h.opened(sampleEvent())
        XCTAssertEqual(prod.team, "sre")
        XCTAssertEqual(prod.escalationPolicy, "pol-a", "the team's default policy")
        XCTAssertEqual(prod.timeline.elements.first?.reason, "routing:prod")
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"])
        XCTAssertEqual(h.opened(sampleEvent(title: "staging twin", environment: "staging")).team, "ml", "the next rule catches the rest")
    }

    func testContinueAddsChannelsAndFillsWhatIsUnset() {
        var h = configured()
        h.create(route("broadcast", position: 1, channels: ["slack"], continue: true))
        h.create(route("owner", position: 2, team: "ml", continue: true))
        h.create(route("fallback", position: 3, team: "sre", policy: "pol-a", channels: ["hook", "slack"]))
        h.create(route("never", position: 4, team: "sre", channels: ["hook"]))
        let incident = h.opened(sampleEvent())
        XCTAssertEqual(incident.team, "ml", "an earlier rule's team is kept")
        XCTAssertEqual(incident.escalationPolicy, "pol-a", "a later rule fills the policy nobody set")
        XCTAssertEqual(incident.timeline.elements.first?.reason, "routing:broadcast, routing:owner, routing:fallback")
        XCTAssertEqual(h.pending(), ["slack→channel triggered", "hook→channel triggered", "hook→user:alice triggered"], "each channel once, then the policy")
    }

    func testARulePolicyBeatsTheTeamDefault() {
        var h = configured()
        h.create(route("special", position: 1, match: EventMatcher(sources: ["llm-shield"]), team: "sre", policy: "pol-b"))
        h.create(route("default", position: 2, team: "sre"))
        XCTAssertEqual(h.opened(sampleEvent(source: "llm-shield")).escalationPolicy, "pol-b")
        XCTAssertEqual(h.opened(sampleEvent()).escalationPolicy, "pol-a")
    }

    func testSuppressRecordsTheIncidentButPagesNobody() {
        var h = configured()
        h.create(route("quiet", position: 1, match: EventMatcher(environments: ["staging"]), suppress: true, continue: true))
        h.create(route("owner", position: 2, team: "sre", channels: ["slack"]))
        let result = h.ingest(sampleEvent(environment: "staging")).first!
        XCTAssertEqual(result.disposition, .suppressed)
        let incident = h.incident(result.incident!)
        XCTAssertEqual(incident.suppressedBy, "routing:quiet")
        XCTAssertEqual(incident.team, "sre", "continue: later rules still decide ownership")
        XCTAssertEqual(incident.status, .new)
        XCTAssertTrue(incident.timers.isEmpty, "no escalation or SLA timers")
        XCTAssertEqual(incident.timeline.elements.map(\.kind), [.created, .suppressed])
        XCTAssertEqual(h.pending(), [])
        XCTAssertEqual(h.ingest(sampleEvent(environment: "staging"), after: 1_000).first?.disposition, .deduplicated)
        XCTAssertEqual(h.pending(), [], "repeats stay silent")
        XCTAssertEqual(h.ingest(sampleEvent(title: "production twin")).first?.disposition, .created)
        XCTAssertEqual(h.pending(), ["slack→channel triggered", "hook→user:alice triggered"])
    }

    func testTimeWindowIsReadInTheRuleZone() {
        var h = configured()
        let officeHours = ZonedTimeWindow(
            timeZone: "Europe/Berlin", range: DailyTimeRange(days: [.monday, .tuesday, .wednesday, .thursday, .friday], startMinute: 9 * 60, endMinute: 17 * 60))
        h.create(route("office", position: 1, window: officeHours, team: "ml"))
        h.create(route("after-hours", position: 2, team: "sre"))
        // Harness time is Wednesday 2026-11-25 06:00 UTC, 07:00 in Berlin (CET, UTC+1).
        let checks: [(Int64, String, String)] = [
            (0, "sre", "07:00 Berlin, before office hours"),
            (2 * Milliseconds.hour, "ml", "09:00 Berlin"),
            (10 * Milliseconds.hour - 1, "ml", "16:59:59.999 Berlin"),
            (10 * Milliseconds.hour, "sre", "17:00 Berlin, the end is exclusive"),
            (3 * Milliseconds.day + 4 * Milliseconds.hour, "sre", "Saturday 11:00 Berlin"),
            (5 * Milliseconds.day + 3 * Milliseconds.hour, "ml", "Monday 10:00 Berlin"),
        ]
        let start = h.now
        for (offset, team, when) in checks {
            h.now = start.adding(milliseconds: offset)
            XCTAssertEqual(h.opened(sampleEvent(title: when)).team, team, when)
        }
    }

    func testConditionsSeeTheClassifiedEvent() {
        var h = configured()
        h.create(.classificationRule(ClassificationRule(
            id: "shield", name: "shield", match: EventMatcher(sources: ["llm-shield"]), setSeverity: .p0, setCategory: .security)))
        h.create(route("sec", position: 1, match: EventMatcher(categories: [.security], severities: [.p0]), team: "ml"))
        h.create(route("rest", position: 2, team: "sre"))
        XCTAssertEqual(h.opened(sampleEvent(source: "llm-shield", severity: "low", category: .performance)).team, "ml")
        XCTAssertEqual(h.opened(sampleEvent(severity: "critical", category: .security)).team, "ml")
        XCTAssertEqual(h.opened(sampleEvent(title: "milder", severity: "high", category: .security)).team, "sre")
    }

    func testConditionsOnTagsLabelsAndSource() throws {
        var h = configured()
        h.create(route("gold", position: 1, match: EventMatcher(tags: [try LabelMatcher(key: "tier", value: "gold")]), team: "ml"))
        h.create(route("eu", position: 2, match: EventMatcher(labels: [try LabelMatcher(key: "region", op: .matchesRegex, value: "^eu-")]), team: "ml"))
        h.create(route("shield", position: 3, match: EventMatcher(sources: ["llm-shield"]), team: "ml"))
        h.create(route("rest", position: 4, team: "sre"))
        XCTAssertEqual(h.opened(sampleEvent(title: "a", tags: ["tier": "gold"])).team, "ml")
        XCTAssertEqual(h.opened(sampleEvent(title: "b", labels: ["region": "eu-west-1"])).team, "ml")
        XCTAssertEqual(h.opened(sampleEvent(title: "c", source: "llm-shield")).team, "ml")
        XCTAssertEqual(h.opened(sampleEvent(title: "d", labels: ["region": "us-east-1"], tags: ["tier": "free"])).team, "sre")
    }

    func testDisabledRulesAreSkipped() {
        var h = configured()
        h.create(route("off", position: 1, team: "ml", enabled: false))
        h.create(route("on", position: 2, team: "sre"))
        XCTAssertEqual(h.opened(sampleEvent()).team, "sre")
    }

    func testRoutingHappensOnceWhenTheIncidentIsCreated() {
        var h = configured()
        h.create(route("default", position: 1, team: "sre"))
        let id = h.open(sampleEvent())
        h.create(route("takeover", position: 0, team: "ml"))
        h.ingest(sampleEvent(), after: 1_000)
        XCTAssertEqual(h.incident(id).team, "sre", "a repeat is not re-routed")
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"], "nor paged again")
        XCTAssertEqual(h.opened(sampleEvent(title: "new alert")).team, "ml")
    }

    func testInvalidRulesAreRefusedAndReferencedChannelsCannotBeDeleted() {
        var h = configured()
        let admin = Harness.admin
        XCTAssertEqual(h.fail(.createConfig(route("empty", position: 1), actor: admin)).field, "outcome")
        XCTAssertEqual(h.fail(.createConfig(route("r", position: 1, channels: ["pager"]), actor: admin)).field, "channels[0]")
        XCTAssertEqual(h.fail(.createConfig(route("r", position: 1, policy: "pol-z"), actor: admin)).field, "escalation_policy")
        XCTAssertEqual(h.fail(.createConfig(route("r", position: 1, team: "ghosts"), actor: admin)).field, "team")
        let badZone = ZonedTimeWindow(timeZone: "CET", range: DailyTimeRange(startMinute: 0, endMinute: 60))
        XCTAssertEqual(h.fail(.createConfig(route("r", position: 1, window: badZone, team: "sre"), actor: admin)).field, "active_window.time_zone")
        let badRange = ZonedTimeWindow(timeZone: "UTC", range: DailyTimeRange(startMinute: 1_440, endMinute: 60))
        XCTAssertEqual(h.fail(.createConfig(route("r", position: 1, window: badRange, team: "sre"), actor: admin)).field, "active_window.range.start_minute")
        let many = [String](repeating: "hook", count: RoutingRule.maxChannels + 1)
        XCTAssertEqual(h.fail(.createConfig(route("r", position: 1, channels: many), actor: admin)).field, "channels")
        XCTAssertEqual(h.machine.config.routingRules.count, 0)

        h.create(route("r", position: 1, channels: ["hook", "slack"]))
        let inUse = h.fail(.deleteConfig(kind: .channel, id: "slack", actor: admin))
        XCTAssertEqual(inUse.code, .inUse)
        XCTAssertEqual(inUse.references, ["routing_rule:r (channels[1])"])
        XCTAssertEqual(h.fail(.updateConfig(route("r", position: 1, channels: ["pager"]), actor: admin)).field, "channels[0]", "updates are checked too")
        XCTAssertEqual(h.machine.config.routingRules["r"]?.channels, ["hook", "slack"])
    }
}
