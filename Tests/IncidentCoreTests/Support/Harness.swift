import XCTest

@testable import IncidentCore

/// Drives an `IncidentStateMachine` the way the log would: increasing indexes, a leader clock
/// that only moves forward, and the structural invariants checked after every command.
struct Harness {
    var machine = IncidentStateMachine()
    var index: UInt64 = 0
    /// 2026-11-25T06:00:00Z.
    var now = Timestamp(millisecondsSinceEpoch: 1_795_586_400_000)
    static let responder = Actor.user("alice")
    static let admin = Actor.user("root")
    static let source = Actor(.source, "llm-sentinel")

    @discardableResult
    mutating func apply(_ command: Command, after milliseconds: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        now = now.adding(milliseconds: milliseconds)
        index += 1
        let before = machine.snapshot()
        let outcome = machine.apply(command, at: now, index: index)
        if let violation = machine.invariantViolation() { XCTFail("invariant violated: \(violation)", file: file, line: line) }
        if case .failure = outcome {
            // A rejected command changes nothing but the applied index and time.
            var expected = try! IncidentStateMachine(snapshot: before)  // test-only: bytes came from snapshot() above
            expected.appliedIndex = index
            if now > expected.appliedAt { expected.appliedAt = now }
            XCTAssertEqual(expected.snapshot(), machine.snapshot(), "a rejected command changed state", file: file, line: line)
        }
        return outcome
    }

    @discardableResult
    mutating func ok(_ command: Command, after milliseconds: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> Applied {
        switch apply(command, after: milliseconds, file: file, line: line) {
        case .success(let applied): return applied
        case .failure(let error):
            XCTFail("unexpected failure: \(error)", file: file, line: line)
            return Applied(result: .slaPolicyUpdated, effects: Effects())
        }
    }

    @discardableResult
    mutating func fail(_ command: Command, after milliseconds: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> CommandError {
        switch apply(command, after: milliseconds, file: file, line: line) {
        case .success(let applied):
            XCTFail("expected failure, got \(applied.result)", file: file, line: line)
            return CommandError(.invalid, "")
        case .failure(let error): return error
        }
    }

    /// Ingests events and returns their results.
    @discardableResult
    mutating func ingest(_ events: Event..., after milliseconds: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> [EventResult] {
        let applied = ok(.ingest(events: events, actor: Self.source), after: milliseconds, file: file, line: line)
        guard case .ingested(let results) = applied.result else {
            XCTFail("not an ingest result", file: file, line: line)
            return []
        }
        return results
    }

    /// Ingests one event and returns the incident it landed in.
    mutating func open(_ event: Event, file: StaticString = #filePath, line: UInt = #line) -> IncidentID {
        let results = ingest(event, file: file, line: line)
        guard let id = results.first?.incident else {
            XCTFail("event did not open an incident", file: file, line: line)
            return IncidentID(number: 0, createdAt: now)
        }
        return id
    }

    func incident(_ id: IncidentID) -> Incident { machine.incident(id)! }

    /// Ingests one event and returns the incident it landed in, as it is afterwards. (Not
    /// `h.incident(h.open(e))`: that reads `h` before `open` mutates it.)
    mutating func opened(_ event: Event, file: StaticString = #filePath, line: UInt = #line) -> Incident {
        let id = open(event, file: file, line: line)
        return incident(id)
    }

    mutating func act(_ id: IncidentID, _ action: LifecycleAction, by actor: Actor = responder, after ms: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        apply(.transition(incident: id, action: action, comment: "", rootCause: "", actor: actor), after: ms, file: file, line: line)
    }

    mutating func create(_ item: ConfigItem, file: StaticString = #filePath, line: UInt = #line) {
        ok(.createConfig(item, actor: Self.admin), file: file, line: line)
    }

    /// Fires every timer due now, in order, and returns how many fired.
    @discardableResult
    mutating func fireDueTimers(file: StaticString = #filePath, line: UInt = #line) -> Int {
        var fired = 0
        for timer in machine.dueTimers(at: now) {
            if case .timerFired(true) = ok(.fireTimer(timer.id, actor: .system), file: file, line: line).result { fired += 1 }
        }
        return fired
    }

    /// Pending outbox entries as `channel→target kind` strings, oldest first.
    func pending() -> [String] {
        machine.pendingNotifications().map { "\($0.channel)→\($0.target) \($0.kind.name)" }
    }
}

/// Events for tests, with sensible defaults.
func sampleEvent(
    title: String = "p95 latency above threshold", source: String = "llm-sentinel", resourceID: String = "chat-api",
    severity: String = "high", dedupKey: String = "", action: EventAction = .trigger, labels: [String: String] = [:],
    tags: [String: String] = [:], environment: String = "production", category: EventCategory = .performance,
    eventType: String = "anomaly", at: Timestamp = Timestamp(millisecondsSinceEpoch: 1_795_586_390_000)
) -> Event {
    Event(
        eventID: nil, source: source, timestamp: at, eventType: eventType, category: category, title: title,
        rawSeverity: severity, resource: Resource(type: "service", id: resourceID, name: resourceID), tags: tags,
        labels: labels, environment: environment, dedupKey: dedupKey, action: action)
}

/// A small deterministic generator (SplitMix64) for seeded property tests.
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
