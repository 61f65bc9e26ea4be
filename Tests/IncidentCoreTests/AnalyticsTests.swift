import XCTest

@testable import IncidentCore

final class AnalyticsTests: XCTestCase {
    func testNearestRankPercentiles() {
        let stats = DurationStats((1...20).map { Int64($0) * 1000 })
        XCTAssertEqual(stats.count, 20)
        XCTAssertEqual(stats.meanMilliseconds, 10_500)
        XCTAssertEqual(stats.p50Milliseconds, 10_000)
        XCTAssertEqual(stats.p95Milliseconds, 19_000)
        XCTAssertEqual(DurationStats([7]).p95Milliseconds, 7)
        XCTAssertNil(DurationStats([]).meanMilliseconds)
    }

    func testMTTAMTTRMTTDBySeverityAndTeam() throws {
        var h = Harness()
        h.installOnCall()
        let start = h.now
        // Detected by the source 10 s before it reached us; acknowledged after 2 min, resolved after 30.
        let a = h.open(sampleEvent(title: "a", severity: "critical", at: h.now.adding(milliseconds: -10_000)))
        let b = h.open(sampleEvent(title: "b", severity: "critical", environment: "staging", at: h.now.adding(milliseconds: -4_000)))
        _ = try h.act(a, .acknowledge, after: 2 * Milliseconds.minute).get()
        _ = try h.act(b, .acknowledge, after: 2 * Milliseconds.minute).get()
        _ = try h.act(a, .resolve, after: 26 * Milliseconds.minute).get()
        let c = h.open(sampleEvent(title: "c", severity: "low", environment: "staging", at: h.now.adding(milliseconds: -10_000)))

        let report = h.machine.analytics(since: start, until: h.now.adding(milliseconds: 1))
        XCTAssertEqual(report.overall.count, 3)
        XCTAssertEqual(report.overall.open, 2)
        XCTAssertEqual(report.byStatus[.resolved], 1)
        XCTAssertEqual(report.byStatus[.acknowledged], 1)
        XCTAssertEqual(report.byStatus[.new], 1)
        let p0 = try XCTUnwrap(report.bySeverity[.p0])
        XCTAssertEqual(p0.count, 2)
        XCTAssertEqual(p0.mtta.meanMilliseconds, 3 * Milliseconds.minute, "a: 2 min, b: 4 min")
        XCTAssertEqual(p0.mttr.count, 1)
        XCTAssertEqual(p0.mttr.meanMilliseconds, 30 * Milliseconds.minute)
        XCTAssertEqual(p0.mttd.meanMilliseconds, 7_000)
        XCTAssertEqual(report.byTeam["sre"]?.count, 1, "only production performance incidents route to sre")
        XCTAssertEqual(report.byTeam[""]?.count, 2)
        XCTAssertEqual(h.incident(c).timeToDetect, 10_000)
        // The window is by creation time.
        XCTAssertEqual(h.machine.analytics(since: h.now, until: h.now.adding(milliseconds: 1)).overall.count, 1)
    }

    func testSLABreachCountsAndClockSkewClamp() {
        var h = Harness()
        let early = h.open(sampleEvent(title: "skewed", at: h.now.adding(milliseconds: 60_000)))
        XCTAssertEqual(h.incident(early).timeToDetect, 0, "a source clock ahead of the leader's does not produce negative MTTD")
        h.now = h.now.adding(milliseconds: Milliseconds.day)
        h.fireDueTimers()
        let report = h.machine.analytics(since: .epoch, until: h.now)
        XCTAssertEqual(report.overall.acknowledgeBreaches, 1)
        XCTAssertEqual(report.overall.resolveBreaches, 1)
    }
}
