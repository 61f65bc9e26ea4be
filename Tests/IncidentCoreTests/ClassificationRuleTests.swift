import XCTest

@testable import IncidentCore

/// Classification rules: ordered, first match wins unless `continue`, conditions on every event
/// field the issue names, overriding severity and category and setting the team. Regexes are
/// compiled when a rule is built or decoded, so a bad pattern never reaches evaluation.
final class ClassificationRuleTests: XCTestCase {
    private func rule(_ id: String, position: Int = 0, match: EventMatcher = EventMatcher(), severity: Severity? = nil,
                      category: EventCategory? = nil, team: String? = nil, continue: Bool = false, enabled: Bool = true) -> ConfigItem {
        .classificationRule(ClassificationRule(
            id: id, name: id, position: position, enabled: enabled, match: match, setSeverity: severity, setCategory: category,
            setTeam: team, continue: `continue`))
    }

    func testFirstMatchWinsInPositionThenIDOrder() {
        var h = Harness()
        h.create(rule("late", position: 5, severity: .p0))
        h.create(rule("early", position: 1, severity: .p4))
        let id = h.open(sampleEvent())
        XCTAssertEqual(h.incident(id).severity, .p4)
        XCTAssertEqual(h.incident(id).timeline.elements.first?.reason, "classification:early", "the timeline says which rule decided")

        var tie = Harness()
        tie.create(rule("x-rule", position: 1, severity: .p0))
        tie.create(rule("m-rule", position: 1, severity: .p2))
        XCTAssertEqual(tie.opened(sampleEvent()).severity, .p2, "equal positions: by id")

        // Moving a rule by an update changes the order at once.
        h.ok(.updateConfig(rule("late", position: 0, severity: .p0), actor: Harness.admin))
        XCTAssertEqual(h.opened(sampleEvent(title: "after the update")).severity, .p0)
    }

    func testContinueLetsLaterRulesFillOnlyWhatIsStillUnset() {
        var h = Harness()
        h.create(.team(Team(id: "sre", name: "SRE")))
        h.create(rule("r1", position: 1, severity: .p2, continue: true))
        h.create(rule("r2", position: 2, severity: .p0, category: .security, continue: true))
        h.create(rule("r3", position: 3, team: "sre"))
        h.create(rule("r4", position: 4, category: .cost))
        let incident = h.opened(sampleEvent())
        XCTAssertEqual(incident.severity, .p2, "r2 may not overwrite what r1 set")
        XCTAssertEqual(incident.category, .security, "r2 fills the category r1 left unset")
        XCTAssertEqual(incident.team, "sre")
        XCTAssertEqual(incident.timeline.elements.first?.reason, "classification:r1, classification:r2, classification:r3", "r3 stops the walk")
    }

    func testEachConditionSelectsEvents() throws {
        let cases: [(String, EventMatcher, Event, Event)] = [
            ("source", EventMatcher(sources: ["llm-shield"]), sampleEvent(source: "llm-shield"), sampleEvent()),
            ("event type", EventMatcher(eventTypes: ["violation"]), sampleEvent(eventType: "violation"), sampleEvent()),
            ("category", EventMatcher(categories: [.security, .compliance]), sampleEvent(category: .compliance), sampleEvent()),
            ("severity", EventMatcher(severities: [.p0]), sampleEvent(severity: "critical"), sampleEvent()),
            ("environment", EventMatcher(environments: ["staging"]), sampleEvent(environment: "staging"), sampleEvent()),
            ("service", EventMatcher(services: ["chat-api"]), sampleEvent(), sampleEvent(resourceID: "embed-api")),
            ("tag", EventMatcher(tags: [try LabelMatcher(key: "tier", value: "gold")]), sampleEvent(tags: ["tier": "gold"]), sampleEvent(tags: ["tier": "free"])),
            ("label regex", EventMatcher(labels: [try LabelMatcher(key: "model", op: .matchesRegex, value: "^gpt-4")]),
             sampleEvent(labels: ["model": "gpt-4o"]), sampleEvent(labels: ["model": "llama-3"])),
            ("label present", EventMatcher(labels: [try LabelMatcher(key: "canary", op: .present)]), sampleEvent(labels: ["canary": ""]), sampleEvent()),
            ("label absent", EventMatcher(labels: [try LabelMatcher(key: "canary", op: .absent)]), sampleEvent(), sampleEvent(labels: ["canary": "1"])),
            ("label not equals", EventMatcher(labels: [try LabelMatcher(key: "region", op: .notEquals, value: "eu")]),
             sampleEvent(labels: ["region": "us"]), sampleEvent(labels: ["region": "eu"])),
            ("title regex", EventMatcher(title: try SafeRegex("(?i)PROMPT injection")), sampleEvent(title: "Prompt injection detected"), sampleEvent()),
            ("all of them", EventMatcher(sources: ["llm-shield"], environments: ["production"]),
             sampleEvent(source: "llm-shield"), sampleEvent(source: "llm-shield", environment: "staging")),
        ]
        for (name, match, hit, miss) in cases {
            var h = Harness()
            h.create(rule("only", match: match, severity: .p4, category: .cost))
            let matched = h.opened(hit)
            XCTAssertEqual(matched.severity, .p4, "\(name): should match")
            XCTAssertEqual(matched.category, .cost, name)
            var missed = miss
            missed.title += " (miss)"  // its own fingerprint
            let other = h.opened(missed)
            XCTAssertEqual(other.severity, Severity(normalizing: miss.rawSeverity), "\(name): should not match")
            XCTAssertEqual(other.category, miss.category, name)
        }
    }

    func testDisabledRulesAreSkipped() {
        var h = Harness()
        h.create(rule("off", position: 1, severity: .p0, enabled: false))
        h.create(rule("on", position: 2, severity: .p3))
        XCTAssertEqual(h.opened(sampleEvent()).severity, .p3)
    }

    func testSetTeamBeatsTheRoutedTeamAndBringsItsPolicy() throws {
        var h = Harness()
        h.installOnCall()
        h.create(.escalationPolicy(EscalationPolicy(
            id: "ml-policy", name: "ML", levels: [EscalationLevel(delayMilliseconds: Milliseconds.hour, targets: [.user("bob")], channels: ["hook"])])))
        h.create(.team(Team(id: "ml", name: "ML", members: ["bob"], escalationPolicy: "ml-policy")))
        h.create(rule("gpu", match: EventMatcher(title: try SafeRegex("(?i)gpu|cuda")), team: "ml"))
        let gpu = h.opened(sampleEvent(title: "GPU OOM on node 3"))
        XCTAssertEqual(gpu.team, "ml", "classification's team wins over the routing rule's sre")
        XCTAssertEqual(gpu.escalationPolicy, "ml-policy")
        XCTAssertEqual(h.pending(), ["hook→user:bob triggered"])
        XCTAssertEqual(h.opened(sampleEvent()).team, "sre", "other events still route to sre")
    }

    func testOverridesApplyToRepeatsOfAnOpenAlert() throws {
        var h = Harness()
        h.create(rule("canary", match: EventMatcher(labels: [try LabelMatcher(key: "canary", op: .present)]), severity: .p0))
        h.create(rule("staging", match: EventMatcher(environments: ["staging"]), severity: .p4))
        let id = h.open(sampleEvent())
        XCTAssertEqual(h.incident(id).severity, .p1)
        // Same fingerprint (labels do not count when the resource is named), classified worse.
        h.ingest(sampleEvent(labels: ["canary": "true"]), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0)
        XCTAssertEqual(h.incident(id).timeline.last?.reason, "a repeat event reported P0")
        h.ingest(sampleEvent(environment: "staging"), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0, "a repeat classified milder does not lower it")
    }

    func testRegexesAreValidatedWhenTheRuleIsBuilt() throws {
        XCTAssertThrowsError(try SafeRegex("(unclosed"))
        XCTAssertThrowsError(try LabelMatcher(key: "model", op: .matchesRegex, value: "[gpt")) { error in
            XCTAssertEqual((error as? ValidationError)?.field, "value")
        }
        XCTAssertNoThrow(try LabelMatcher(key: "model", value: "[gpt"), "only regex matchers compile their value")

        // A rule cannot carry an uncompiled pattern, so the log cannot either: bytes of a
        // create command whose pattern was altered to an invalid one do not decode.
        let match = EventMatcher(labels: [try LabelMatcher(key: "m", op: .matchesRegex, value: "label-(pattern)")], title: try SafeRegex("title-(pattern)"))
        let bytes = Command.createConfig(rule("r", match: match, severity: .p0), actor: Harness.admin).binaryEncoded()
        XCTAssertNoThrow(try Command(binary: bytes))
        for (pattern, broken) in [("label-(pattern)", "label-(pattern("), ("title-(pattern)", "title-[pattern)")] {
            var corrupt = bytes
            guard let at = corrupt.firstRange(of: Array(pattern.utf8)) else { return XCTFail("\(pattern) not found in the encoding") }
            corrupt.replaceSubrange(at, with: Array(broken.utf8))
            XCTAssertThrowsError(try Command(binary: corrupt), broken) { error in
                XCTAssertEqual((error as? DecodingError)?.code, .invalidValue)
            }
        }
    }

    func testPathologicalPatternsAreStoredAndEvaluateSafely() throws {
        var h = Harness()
        h.create(rule("evil", match: EventMatcher(title: try SafeRegex("(a+)+$")), severity: .p0))
        let long = String(repeating: "a", count: 1_000) + "!"
        XCTAssertEqual(h.opened(sampleEvent(title: long)).severity, .p1, "no match, and no catastrophic backtracking")
        XCTAssertEqual(h.opened(sampleEvent(title: "aaaa")).severity, .p0)
    }

    func testInvalidRulesAreRefusedAndChangeNothing() {
        var h = Harness()
        XCTAssertEqual(h.fail(.createConfig(rule("nothing"), actor: Harness.admin)).field, "set")
        XCTAssertEqual(h.fail(.createConfig(rule("ghost-team", team: "ghosts"), actor: Harness.admin)).field, "set_team")
        XCTAssertEqual(h.fail(.createConfig(rule("bad id!", severity: .p0), actor: Harness.admin)).field, "id")
        let sources = (0...EventMatcher.maxConditionValues).map { "source-\($0)" }
        XCTAssertEqual(h.fail(.createConfig(rule("wide", match: EventMatcher(sources: sources), severity: .p0), actor: Harness.admin)).field, "match.sources")
        XCTAssertEqual(h.machine.config.classificationRules.count, 0)

        h.create(.team(Team(id: "sre", name: "SRE")))
        h.create(rule("owner", team: "sre"))
        let inUse = h.fail(.deleteConfig(kind: .team, id: "sre", actor: Harness.admin))
        XCTAssertEqual(inUse.code, .inUse)
        XCTAssertEqual(inUse.references, ["classification_rule:owner (set_team)"])
        h.ok(.deleteConfig(kind: .classificationRule, id: "owner", actor: Harness.admin))
        h.ok(.deleteConfig(kind: .team, id: "sre", actor: Harness.admin))
    }
}
