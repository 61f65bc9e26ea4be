import XCTest

@testable import IncidentCore

/// Grouping attaches distinct alerts (different fingerprints) that share the rule's group-by
/// values to one open incident, within a window from its creation. It is separate from dedup:
/// a known fingerprint always deduplicates first.
final class GroupingRuleTests: XCTestCase {
    private static let window = 10 * Milliseconds.minute

    private func grouped(by fields: [GroupField] = [.label("cluster")], sources: [String] = ["alertmanager"]) -> Harness {
        var h = Harness()
        h.create(.groupingRule(GroupingRule(
            id: "by-cluster", name: "by cluster", match: EventMatcher(sources: sources), groupBy: fields, windowMilliseconds: Self.window)))
        return h
    }

    /// An Alertmanager alert: identified by its labels only.
    private func alert(_ name: String, cluster: String = "eu-1", severity: String = "warning", action: EventAction = .trigger) -> Event {
        var event = sampleEvent(title: "", source: "alertmanager", resourceID: "", severity: severity, action: action, eventType: "alert")
        event.labels = ["alertname": name, "cluster": cluster]
        return event
    }

    func testDistinctAlertsSharingTheKeyJoinOneIncident() {
        var h = grouped()
        let id = h.open(alert("HighLatency"))
        let second = h.ingest(alert("ModelDown"), after: 2 * Milliseconds.minute).first!
        XCTAssertEqual(second.disposition, .grouped)
        XCTAssertEqual(second.incident, id)
        let incident = h.incident(id)
        XCTAssertEqual(incident.alerts.map(\.fingerprint), [Fingerprint(of: alert("HighLatency")), Fingerprint(of: alert("ModelDown"))])
        XCTAssertEqual(incident.occurrenceCount, 2)
        XCTAssertEqual(incident.timeline.last?.kind, .alertGrouped)
        XCTAssertEqual(incident.timeline.last?.reason, "grouping rule by-cluster")
        XCTAssertEqual(h.machine.openIncident(fingerprint: Fingerprint(of: alert("ModelDown")))?.id, id, "the grouped alert now deduplicates here")

        let elsewhere = h.ingest(alert("HighLatency", cluster: "us-1")).first!
        XCTAssertEqual(elsewhere.disposition, .created, "another cluster is another group")
        XCTAssertEqual(h.machine.openIncidentCount, 2)
    }

    func testKnownFingerprintsDeduplicateRatherThanGroup() {
        var h = grouped()
        let id = h.open(alert("HighLatency"))
        h.ingest(alert("ModelDown"), after: 1_000)
        let repeated = h.ingest(alert("ModelDown"), after: 1_000).first!
        XCTAssertEqual(repeated.disposition, .deduplicated)
        XCTAssertEqual(h.incident(id).alerts.map(\.count), [1, 2])
        XCTAssertEqual(h.incident(id).occurrenceCount, 3)
    }

    func testTheWindowRunsFromTheIncidentsCreation() {
        var h = grouped()
        let first = h.open(alert("A"))
        XCTAssertEqual(h.ingest(alert("B"), after: Self.window).first?.disposition, .grouped, "the window's end is inclusive")
        let late = h.ingest(alert("C"), after: 1).first!
        XCTAssertEqual(late.disposition, .created, "past the window a new incident opens")
        XCTAssertNotEqual(late.incident, first)
        // The new incident now holds the key: later alerts of the group join it, not the old one.
        XCTAssertEqual(h.ingest(alert("D"), after: Milliseconds.minute).first?.incident, late.incident)
        XCTAssertEqual(h.incident(first).alerts.count, 2)
    }

    func testTheIncidentResolvesWhenEveryTrackedAlertHasResolved() {
        var h = grouped()
        let id = h.open(alert("A"))
        h.ingest(alert("B"), after: 1_000)
        let partly = h.ingest(alert("A", action: .resolve), after: 1_000).first!
        XCTAssertEqual(partly.disposition, .deduplicated, "one alert resolved, the incident still fires")
        XCTAssertEqual(h.incident(id).status, .new)
        XCTAssertEqual(h.incident(id).alerts.map(\.resolved), [true, false])
        XCTAssertEqual(h.incident(id).timeline.last?.kind, .alertResolved)

        // A resolved alert that fires again is firing again, in the same incident.
        XCTAssertEqual(h.ingest(alert("A"), after: 1_000).first?.disposition, .deduplicated)
        XCTAssertEqual(h.incident(id).alerts.map(\.resolved), [false, false])
        XCTAssertEqual(h.incident(id).timeline.last?.change, "alert \(Fingerprint(of: alert("A"))) firing again")

        let results = h.ingest(alert("A", action: .resolve), alert("B", action: .resolve), after: 1_000)
        XCTAssertEqual(results.map(\.disposition), [.deduplicated, .resolved])
        XCTAssertEqual(h.incident(id).status, .resolved)
        // Resolution releases the group key: the group's next alert opens a new incident.
        let next = h.ingest(alert("C"), after: 1_000).first!
        XCTAssertEqual(next.disposition, .created)
        XCTAssertNotEqual(next.incident, id)
    }

    func testAGroupedAlertCanRaiseTheSeverity() {
        var h = grouped()
        let id = h.open(alert("A", severity: "warning"))
        h.ingest(alert("B", severity: "critical"), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0)
        XCTAssertEqual(h.incident(id).timeline.last?.reason, "grouped alert reported P0")
        h.ingest(alert("C", severity: "info"), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0)
    }

    func testTheFirstMatchingRuleDecidesTheKey() {
        var h = grouped()
        h.create(.groupingRule(GroupingRule(id: "by-env", name: "by environment", position: 1, groupBy: [.environment, .category], windowMilliseconds: Self.window)))
        let sentinel = h.open(sampleEvent(title: "latency"))
        XCTAssertEqual(h.ingest(sampleEvent(title: "error rate")).first?.incident, sentinel, "same environment and category")
        XCTAssertEqual(h.ingest(sampleEvent(title: "cost spike", category: .cost)).first?.disposition, .created, "another category")
        // Alertmanager events match `by-cluster` first (position 0); their key is the cluster.
        var production = alert("HighLatency")
        production.environment = "production"
        production.category = .performance
        let am = h.ingest(production).first!
        XCTAssertEqual(am.disposition, .created, "keys of different rules never meet")
        XCTAssertEqual(h.incident(am.incident!).groupKey, "by-cluster\u{1F}eu-1")
    }

    func testSeveralFieldsMustAllAgree() {
        var h = grouped(by: [.label("cluster"), .tag("service")])
        func tagged(_ name: String, _ service: String) -> Event {
            var event = alert(name)
            event.tags = ["service": service]
            return event
        }
        let id = h.open(tagged("A", "chat"))
        XCTAssertEqual(h.ingest(tagged("B", "chat")).first?.incident, id)
        XCTAssertEqual(h.ingest(tagged("C", "embed")).first?.disposition, .created)
    }

    func testDisabledRulesDoNotGroup() {
        var h = Harness()
        h.create(.groupingRule(GroupingRule(id: "off", name: "off", enabled: false, groupBy: [.source], windowMilliseconds: Self.window)))
        _ = h.open(alert("A"))
        XCTAssertEqual(h.ingest(alert("B")).first?.disposition, .created)
    }

    func testTrackedAlertsAreBoundedAndTheRestCounted() {
        var h = grouped()
        let id = h.open(alert("alert-0"))
        for n in 1..<150 { h.ingest(alert("alert-\(n)")) }
        let incident = h.incident(id)
        XCTAssertEqual(incident.alerts.count, Incident.Limits.maxTrackedAlerts)
        XCTAssertEqual(incident.untrackedAlertCount, 50)
        XCTAssertEqual(incident.occurrenceCount, 150)
        XCTAssertEqual(h.machine.incidentCount, 1)
        XCTAssertEqual(incident.timeline.elements.count, Incident.Limits.timelineHead + Incident.Limits.timelineTail)
        XCTAssertNil(h.machine.openIncident(fingerprint: Fingerprint(of: alert("alert-120"))), "untracked alerts are not indexed")
        XCTAssertEqual(h.ingest(alert("alert-120")).first?.incident, id, "but still land in the group's incident")
    }

    func testGroupFieldNamesAndRuleValidation() {
        for field: GroupField in [.source, .eventType, .category, .environment, .resourceID, .label("cluster"), .tag("team")] {
            XCTAssertEqual(GroupField(name: field.description), field)
            XCTAssertEqual(try GroupField(binary: field.binaryEncoded()), field)
        }
        for bad in ["", "label:", "tag:", "cluster", "Source"] { XCTAssertNil(GroupField(name: bad), bad) }

        var h = Harness()
        let cases: [(GroupingRule, String)] = [
            (GroupingRule(id: "g", name: "g", groupBy: [], windowMilliseconds: Self.window), "group_by"),
            (GroupingRule(id: "g", name: "g", groupBy: Array(repeating: .source, count: 17), windowMilliseconds: Self.window), "group_by"),
            (GroupingRule(id: "g", name: "g", groupBy: [.source], windowMilliseconds: 999), "window"),
            (GroupingRule(id: "g", name: "g", groupBy: [.source], windowMilliseconds: GroupingRule.maxWindowMilliseconds + 1), "window"),
        ]
        for (rule, field) in cases {
            XCTAssertEqual(h.fail(.createConfig(.groupingRule(rule), actor: Harness.admin)).field, field)
        }
        XCTAssertEqual(h.machine.config.groupingRules.count, 0)
    }
}
