import XCTest

@testable import IncidentCore

/// Configuration commands validate fully before they change anything: invalid items, dangling
/// references, duplicate ids, unknown ids and deletes of items in use are refused with a coded
/// error and leave state as it was (the Harness compares snapshots around every refusal).
final class ConfigValidationTests: XCTestCase {
    private let admin = Harness.admin

    /// A small valid configuration to refer to.
    private func configured() -> Harness {
        var h = Harness()
        h.installOnCall()
        return h
    }

    private func level(_ targets: [EscalationTarget], channels: [String] = ["hook"], delay: Int64 = Milliseconds.minute) -> EscalationLevel {
        EscalationLevel(delayMilliseconds: delay, targets: targets, channels: channels)
    }

    func testInvalidItemsOfEveryKindAreRefusedWithTheirField() {
        var h = configured()
        let start = CivilDate(year: 2026, month: 11, day: 1)
        let layer = ScheduleLayer(name: "l", users: ["alice"], rotation: .daily, startDate: start)
        let cases: [(ConfigItem, String)] = [
            (.user(User(id: "u", name: "U", email: "no-at-sign")), "email"),
            (.user(User(id: "u", name: "U", timeZone: "PST")), "time_zone"),
            (.user(User(id: "u", name: "")), "name"),
            (.user(User(id: "with space", name: "U")), "id"),
            (.user(User(id: String(repeating: "u", count: TextLimits.identifierBytes + 1), name: "U")), "id"),
            (.channel(NotificationChannel(id: "c", name: "c", type: .webhook, url: "ftp://x")), "url"),
            (.channel(NotificationChannel(id: "c", name: "c", type: .pagerduty)), "routing_key"),
            (.channel(NotificationChannel(id: "c", name: "c", type: .email, url: "smtp://mail:25")), "email_from"),
            (.channel(NotificationChannel(id: "c", name: "c", type: .email, url: "smtp://mail:25", emailFrom: "a@b", emailTo: ["ok@b", "bad"])), "email_to[1]"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [])), "levels"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("alice")], delay: 59_999)])), "levels[0].delay"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([])])), "levels[0].targets"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("alice")], channels: [])])), "levels[0].channels"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("alice")])], repeatCount: 11)), "repeat_count"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("alice")])], acknowledgeTimeoutMilliseconds: 1_000)), "acknowledge_timeout"),
            (.team(Team(id: "t", name: "T", members: Array(repeating: "alice", count: 501))), "members"),
            (.schedule(OnCallSchedule(id: "s", name: "S", timeZone: "Moon/Base", layers: [layer])), "time_zone"),
            (.schedule(OnCallSchedule(id: "s", name: "S", timeZone: "UTC", layers: [ScheduleLayer(name: "l", users: [], rotation: .daily, startDate: start)])), "layers[0].users"),
            (.schedule(OnCallSchedule(id: "s", name: "S", timeZone: "UTC", overrides: [ScheduleOverride(user: "alice", start: h.now, end: h.now)])), "overrides[0].end"),
            (.groupingRule(GroupingRule(id: "g", name: "g", groupBy: [], windowMilliseconds: Milliseconds.minute)), "group_by"),
            (.routingRule(RoutingRule(id: "r", name: "r")), "outcome"),
            (.classificationRule(ClassificationRule(id: "c", name: "c")), "set"),
            (.maintenanceWindow(MaintenanceWindow(id: "m", name: "m", schedule: .oneOff(start: h.now, end: h.now))), "end"),
            (.apiKey(APIKey(id: "k", name: "k", role: .admin, secretHash: "not-a-hash")), "secret_hash"),
        ]
        let before = h.machine.config
        for (item, field) in cases {
            let error = h.fail(.createConfig(item, actor: admin))
            XCTAssertEqual(error.code, .invalid, "\(item.kind) \(field)")
            XCTAssertEqual(error.field, field, "\(item.kind)")
        }
        XCTAssertEqual(h.machine.config, before)
    }

    func testReferencesMustExistOnCreateAndUpdate() {
        var h = configured()
        let cases: [(ConfigItem, String)] = [
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("carol")])])), "levels[0].targets[0]"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.schedule("night")])])), "levels[0].targets[0]"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("alice"), .team("ml")])])), "levels[0].targets[1]"),
            (.escalationPolicy(EscalationPolicy(id: "p", name: "p", levels: [level([.user("alice")], channels: ["sms"])])), "levels[0].channels[0]"),
            (.team(Team(id: "t", name: "T", members: ["alice", "carol"])), "members[1]"),
            (.team(Team(id: "t", name: "T", escalationPolicy: "nightly")), "escalation_policy"),
            (.team(Team(id: "t", name: "T", channels: ["sms"])), "channels[0]"),
            (.schedule(OnCallSchedule(id: "s", name: "S", timeZone: "UTC", overrides: [ScheduleOverride(user: "carol", start: h.now, end: h.now.adding(milliseconds: 1))])), "overrides[0].user"),
        ]
        for (item, field) in cases {
            let error = h.fail(.createConfig(item, actor: admin))
            XCTAssertEqual(error.code, .invalid)
            XCTAssertEqual(error.field, field)
        }
        // Updates are held to the same rules: the team may not start naming a missing user.
        let update = h.fail(.updateConfig(.team(Team(id: "sre", name: "SRE", members: ["alice", "carol"])), actor: admin))
        XCTAssertEqual(update.field, "members[1]")
        XCTAssertEqual(h.machine.config.teams["sre"]?.members, ["alice", "bob"])
    }

    func testItemsInUseCannotBeDeleted() {
        var h = configured()
        let policy = h.fail(.deleteConfig(kind: .escalationPolicy, id: "payments", actor: admin))
        XCTAssertEqual(policy.code, .inUse)
        XCTAssertEqual(policy.references, ["team:sre (escalation_policy)"])
        let alice = h.fail(.deleteConfig(kind: .user, id: "alice", actor: admin))
        XCTAssertEqual(alice.references, ["escalation_policy:payments (levels[0].targets[0])", "team:sre (members[0])"])
        let hook = h.fail(.deleteConfig(kind: .channel, id: "hook", actor: admin))
        XCTAssertEqual(hook.references, ["escalation_policy:payments (levels[0].channels[0])", "escalation_policy:payments (levels[1].channels[0])"])
        // Unhooking the referrer first makes the delete possible.
        h.ok(.deleteConfig(kind: .routingRule, id: "prod-perf", actor: admin))
        h.ok(.deleteConfig(kind: .team, id: "sre", actor: admin))
        h.ok(.deleteConfig(kind: .escalationPolicy, id: "payments", actor: admin))
        h.ok(.deleteConfig(kind: .user, id: "alice", actor: admin))
    }

    func testDuplicateAndUnknownIDs() {
        var h = configured()
        let duplicate = h.fail(.createConfig(.user(User(id: "alice", name: "Another Alice")), actor: admin))
        XCTAssertEqual(duplicate.code, .conflict)
        XCTAssertEqual(duplicate.field, "id")
        XCTAssertEqual(h.machine.config.users["alice"]?.name, "Alice")
        XCTAssertEqual(h.fail(.updateConfig(.user(User(id: "carol", name: "Carol")), actor: admin)).code, .notFound)
        XCTAssertEqual(h.fail(.deleteConfig(kind: .user, id: "carol", actor: admin)).code, .notFound)
        XCTAssertEqual(h.fail(.deleteConfig(kind: .team, id: "alice", actor: admin)).code, .notFound, "ids are per kind")
    }

    func testMissingIDsComeFromTheLogOrderedSequence() {
        var h = Harness()
        func create(_ item: ConfigItem) -> CommandResult { h.ok(.createConfig(item, actor: admin)).result }
        XCTAssertEqual(create(.user(User(name: "Carol"))), .configChanged(.user, id: "user-1"))
        XCTAssertEqual(create(.team(Team(id: "team-3", name: "taken in advance"))), .configChanged(.team, id: "team-3"))
        XCTAssertEqual(create(.team(Team(name: "second"))), .configChanged(.team, id: "team-2"), "one sequence for all kinds")
        XCTAssertEqual(create(.team(Team(name: "third"))), .configChanged(.team, id: "team-4"), "team-3 is skipped")
        // A refused create does not use up a number.
        h.fail(.createConfig(.team(Team(name: "members missing", members: ["nobody"])), actor: admin))
        XCTAssertEqual(create(.routingRule(RoutingRule(name: "r", suppress: true))), .configChanged(.routingRule, id: "rte-5"))
    }

    func testSLAPolicyIsValidatedAsAWhole() {
        var h = Harness()
        var short = SLAPolicy.default
        short.resolveWithinMilliseconds.removeLast()
        XCTAssertEqual(h.fail(.setSLAPolicy(short, actor: admin)).field, "sla")
        var inverted = SLAPolicy.default
        inverted.resolveWithinMilliseconds[1] = inverted.acknowledgeWithinMilliseconds[1] - 1
        XCTAssertEqual(h.fail(.setSLAPolicy(inverted, actor: admin)).field, "sla.P1.resolve_within")
        var hasty = SLAPolicy.default
        hasty.acknowledgeWithinMilliseconds[0] = 59_999
        XCTAssertEqual(h.fail(.setSLAPolicy(hasty, actor: admin)).field, "sla.P0.acknowledge_within")
        XCTAssertEqual(h.machine.config.sla, .default)

        var relaxed = SLAPolicy.default
        relaxed.acknowledgeWithinMilliseconds[1] = Milliseconds.hour
        XCTAssertEqual(h.ok(.setSLAPolicy(relaxed, actor: admin)).result, .slaPolicyUpdated)
        XCTAssertEqual(h.opened(sampleEvent()).sla.acknowledgeBy, h.now.adding(milliseconds: Milliseconds.hour))
    }

    func testManualIncidentsMustNameExistingTeamsAndPolicies() {
        var h = configured()
        func manual(team: String? = nil, policy: String? = nil) -> Command {
            .openIncident(ManualIncident(title: "t", severity: .p2, team: team, escalationPolicy: policy), actor: Harness.responder)
        }
        XCTAssertEqual(h.fail(manual(team: "ghosts")).field, "team")
        XCTAssertEqual(h.fail(manual(policy: "nightly")).field, "escalation_policy")
        XCTAssertEqual(h.machine.incidentCount, 0)
        guard case .incident(let id, true) = h.ok(manual(team: "sre", policy: "payments")).result else { return XCTFail("not created") }
        XCTAssertEqual(h.incident(id).team, "sre")
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"])
    }

    func testAnUpdateThatWouldBreakAnItemKeepsTheOldOne() {
        var h = configured()
        let broken = NotificationChannel(id: "hook", name: "Pager webhook", type: .webhook, url: "not a url")
        XCTAssertEqual(h.fail(.updateConfig(.channel(broken), actor: admin)).field, "url")
        XCTAssertEqual(h.machine.config.channels["hook"]?.url, "http://127.0.0.1:9/hook")
        _ = h.open(sampleEvent())
        XCTAssertEqual(h.pending(), ["hook→user:alice triggered"], "the stored channel still pages")
    }
}
