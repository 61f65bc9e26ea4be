import XCTest

@testable import IncidentCore

/// Raw severities from every producer map onto P0–P4. The expected tables are written out here
/// from the issue and docs/ARCHITECTURE.md, not derived from the code's own table.
final class SeverityNormalisationTests: XCTestCase {
    private func assertMaps(_ table: [String: Severity], _ scale: String, file: StaticString = #filePath, line: UInt = #line) {
        for (raw, expected) in table.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(Severity(normalizing: raw), expected, "\(scale) '\(raw)'", file: file, line: line)
        }
    }

    func testOurOwnScale() {
        assertMaps(["critical": .p0, "high": .p1, "medium": .p2, "low": .p3, "info": .p4], "seed design")
        for severity in Severity.allCases {
            XCTAssertEqual(Severity(normalizing: severity.word), severity, "the word we print reads back")
        }
    }

    func testPriorityAndSEVNotations() {
        for n in 0...4 {
            let expected = Severity(rawValue: UInt8(n))!
            for spelling in ["P\(n)", "p\(n)", "SEV\(n)", "sev\(n)", "SEV-\(n)", "Sev_\(n)", "S\(n)"] {
                XCTAssertEqual(Severity(normalizing: spelling), expected, spelling)
            }
            XCTAssertEqual(Severity(normalizing: expected.description), expected)
        }
    }

    func testPagerDutyEventsV2() {
        assertMaps(["critical": .p0, "error": .p1, "warning": .p2, "info": .p4], "PagerDuty")
        // What we send to PagerDuty reads back as the same or a milder severity (P3 and P4
        // both become `info`), never a worse one.
        for severity in Severity.allCases {
            let back = Severity(normalizing: severity.pagerDutySeverity)!
            XCTAssertFalse(back.isWorse(than: severity), "\(severity) → \(severity.pagerDutySeverity) → \(back)")
        }
        XCTAssertEqual(Severity.allCases.map(\.pagerDutySeverity), ["critical", "error", "warning", "info", "info"])
    }

    func testAlertmanagerSeverityLabelValues() {
        assertMaps(
            [
                "critical": .p0, "page": .p1, "error": .p1, "high": .p1, "major": .p1, "warning": .p2, "warn": .p2,
                "medium": .p2, "moderate": .p2, "minor": .p3, "low": .p3, "notice": .p3, "info": .p4,
                "informational": .p4, "none": .p4, "debug": .p4,
            ], "Alertmanager")
    }

    func testSyslogNames() {
        assertMaps(["emergency": .p0, "emerg": .p0, "alert": .p0, "fatal": .p0, "crit": .p0, "err": .p1], "syslog")
    }

    func testCaseAndSurroundingWhitespaceDoNotMatter() {
        assertMaps([" Critical\n": .p0, "WARNING": .p2, "\tP2 ": .p2, "Info\r\n": .p4, "SeV-1": .p1], "spelling")
    }

    func testUnknownSpellingsAreNotGuessed() {
        for raw in ["", " ", "urgent", "P5", "sev5", "P-1", "5", "crit ical", "critical!", "high-ish", "P0P1", "ＣＲＩＴＩＣＡＬ"] {
            XCTAssertNil(Severity(normalizing: raw), "'\(raw)'")
        }
    }

    func testIngestFallsBackToTheConfiguredDefault() {
        var h = Harness()
        let unknown = h.open(sampleEvent(title: "unknown", severity: "bogus"))
        let missing = h.open(sampleEvent(title: "missing", severity: ""))
        XCTAssertEqual(h.incident(unknown).severity, .p3, "the default default is P3")
        XCTAssertEqual(h.incident(missing).severity, .p3)

        var settings = IncidentStateMachine.Settings()
        settings.defaultSeverity = .p1
        var strict = Harness(machine: IncidentStateMachine(settings: settings))
        let fallback = strict.open(sampleEvent(severity: "whatever"))
        let known = strict.open(sampleEvent(title: "known", severity: "sev-4"))
        XCTAssertEqual(strict.incident(fallback).severity, .p1)
        XCTAssertEqual(strict.incident(known).severity, .p4, "a known spelling wins")
    }

    func testRepeatsAreNormalisedTheSameWay() {
        var h = Harness()
        let id = h.open(sampleEvent(severity: "warning"))
        h.ingest(sampleEvent(severity: "SEV-0"), after: 1_000)
        XCTAssertEqual(h.incident(id).severity, .p0, "a repeat's raw severity goes through the same table")
        XCTAssertEqual(h.incident(id).timeline.last?.change, "severity P2 → P0")
        let pagerDuty = h.open(sampleEvent(title: "from PagerDuty", severity: "info"))
        h.ingest(sampleEvent(title: "from PagerDuty", severity: "error"), after: 1_000)
        XCTAssertEqual(h.incident(pagerDuty).severity, .p1)
    }

    func testEachProducerSpellingOpensTheExpectedPriority() {
        var h = Harness()
        let producers: [(String, String, Severity)] = [
            ("pagerduty", "error", .p1), ("alertmanager", "page", .p1), ("llm-sentinel", "medium", .p2),
            ("syslog", "emerg", .p0), ("grafana", "SEV-3", .p3),
        ]
        for (source, raw, expected) in producers {
            let id = h.open(sampleEvent(source: source, severity: raw))
            XCTAssertEqual(h.incident(id).severity, expected, "\(source) '\(raw)'")
            XCTAssertTrue(h.incident(id).timeline.elements.first!.change.hasPrefix("opened \(expected)"))
        }
    }
}
