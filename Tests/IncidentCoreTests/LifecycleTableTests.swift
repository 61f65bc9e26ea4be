import XCTest

@testable import IncidentCore

/// Every (status, action) pair against the lifecycle table as documented in
/// docs/ARCHITECTURE.md. The expected table is written out here, not derived from the code.
final class LifecycleTableTests: XCTestCase {
    private static let expected: [IncidentStatus: [LifecycleAction: IncidentStatus]] = [
        .new: [.acknowledge: .acknowledged, .startWork: .inProgress, .escalate: .escalated, .resolve: .resolved],
        .acknowledged: [.startWork: .inProgress, .escalate: .escalated, .resolve: .resolved],
        .inProgress: [.escalate: .escalated, .resolve: .resolved],
        .escalated: [.acknowledge: .acknowledged, .startWork: .inProgress, .escalate: .escalated, .deescalate: .inProgress, .resolve: .resolved],
        .resolved: [.close: .closed, .reopen: .new],
        .closed: [.reopen: .new],
    ]

    /// Brings a fresh incident into `status` through allowed actions.
    private func incident(in status: IncidentStatus, _ h: inout Harness) -> IncidentID {
        let id = h.open(sampleEvent(title: "incident in \(status)"))
        let path: [LifecycleAction] =
            switch status {
            case .new: []
            case .acknowledged: [.acknowledge]
            case .inProgress: [.startWork]
            case .escalated: [.escalate]
            case .resolved: [.resolve]
            case .closed: [.resolve, .close]
            }
        for action in path { XCTAssertNoThrow(try h.act(id, action).get()) }
        XCTAssertEqual(h.incident(id).status, status)
        return id
    }

    func testEveryStatusActionPair() {
        for status in IncidentStatus.allCases {
            for action in LifecycleAction.allCases {
                var h = Harness()
                h.installOnCall()
                let id = incident(in: status, &h)
                let outcome = h.act(id, action)
                if let target = Self.expected[status]![action] {
                    XCTAssertNoThrow(try outcome.get(), "\(status) --\(action)--> \(target)")
                    XCTAssertEqual(h.incident(id).status, target, "\(status) --\(action)-->")
                } else {
                    guard case .failure(let error) = outcome else {
                        XCTFail("\(status) --\(action)--> should be refused")
                        continue
                    }
                    XCTAssertEqual(error.code, .invalidTransition)
                    XCTAssertEqual(error.status, status)
                    let allowed = LifecycleAction.allCases.filter { Self.expected[status]![$0] != nil }
                    XCTAssertEqual(error.allowed, allowed, "allowed actions from \(status)")
                    XCTAssertEqual(h.incident(id).status, status)
                }
            }
        }
    }

    func testEditsPerStatus() {
        for status in IncidentStatus.allCases {
            var h = Harness()
            h.installOnCall()
            let id = incident(in: status, &h)
            let other = h.open(sampleEvent(title: "merge target \(status)"))
            // Notes are always allowed (post-mortems happen after closing).
            XCTAssertNoThrow(try h.apply(.addNote(incident: id, text: "looking", actor: Harness.responder)).get())
            let assign = h.apply(.assign(incident: id, user: "bob", team: nil, actor: Harness.responder))
            let severity = h.apply(.changeSeverity(incident: id, severity: .p0, reason: "customer impact", actor: Harness.responder))
            let merge = h.apply(.merge(incident: id, into: other, actor: Harness.responder))
            if status == .closed {
                XCTAssertEqual(try? assign.get(), nil)
                XCTAssertEqual(try? severity.get(), nil)
            } else {
                XCTAssertNoThrow(try assign.get(), "assign while \(status)")
                XCTAssertNoThrow(try severity.get(), "severity while \(status)")
            }
            if status.isOpen {
                XCTAssertNoThrow(try merge.get(), "merge while \(status)")
                XCTAssertEqual(h.incident(id).status, .resolved)
                XCTAssertEqual(h.incident(id).duplicateOf, other)
            } else {
                guard case .failure(let error) = merge else { return XCTFail("merge of a \(status) incident") }
                XCTAssertEqual(error.code, .invalidTransition)
            }
        }
    }

    func testUnknownIncidentIsNotFound() {
        var h = Harness()
        let ghost = IncidentID(number: 42, createdAt: h.now)
        XCTAssertEqual(h.fail(.transition(incident: ghost, action: .acknowledge, comment: "", rootCause: "", actor: Harness.responder)).code, .notFound)
        let id = h.open(sampleEvent())
        // Right number, wrong date: not the same incident.
        let wrongDay = IncidentID(number: id.number, createdAt: h.now.adding(milliseconds: -Milliseconds.day))
        XCTAssertEqual(h.fail(.addNote(incident: wrongDay, text: "x", actor: Harness.responder)).code, .notFound)
    }

    func testTimelineRecordsActorAndReason() {
        var h = Harness()
        let id = h.open(sampleEvent())
        _ = h.apply(.transition(incident: id, action: .acknowledge, comment: "on it", rootCause: "", actor: .user("carol")), after: 1000)
        let entry = h.incident(id).timeline.elements.last { $0.kind == .statusChanged }!
        XCTAssertEqual(entry.actor, .user("carol"))
        XCTAssertEqual(entry.change, "status new → acknowledged")
        XCTAssertEqual(entry.reason, "on it")
        XCTAssertEqual(entry.at, h.now)
        XCTAssertEqual(h.incident(id).assignee, "carol", "the first responder to take an unassigned incident owns it")
    }
}
