@testable import IncidentCore

/// Random but plausible command sequences for `DeterminismPropertyTests`.
///
/// Every command kind is generated, valid and invalid. Values come from small pools (four
/// titles, two dedup keys, a handful of config ids) so that collisions are the norm: repeats
/// deduplicate, grouping keys meet, merges and reopenings fight over fingerprints, timers go
/// stale, config deletes hit `in_use`. Generation reads only deterministic queries of the
/// machine it drives, so one seed always yields one sequence.
struct CommandGenerator {
    var rng: TestRNG
    /// The leader's clock: mostly forward, sometimes straight to the next timer, and now and then
    /// a little backwards (a new leader whose clock runs behind).
    private(set) var now: Timestamp
    private var generated = 0

    static let sources = ["llm-sentinel", "llm-shield", "alertmanager", "prometheus"]
    static let titles = ["p95 latency high", "GPU OOM on node 3", "prompt injection detected", "error rate above 5%"]
    static let rawSeverities = ["critical", "high", "warning", "info", "P2", "sev-1", "page", "bogus", ""]
    static let environments = ["production", "staging", ""]
    static let resources = ["chat-api", "embed-api", ""]

    init(seed: UInt64, start: Timestamp) {
        rng = TestRNG(seed: seed)
        now = start
    }

    /// The next command and the leader time it is stamped with.
    mutating func next(for machine: IncidentStateMachine) -> (Command, Timestamp) {
        advanceClock(machine)
        generated += 1
        // Configure first, so that incidents have policies, channels and rules to meet.
        let bootstrapping = generated <= Self.bootstrap.count
        let command = bootstrapping || chance(16) ? configCommand(machine, step: generated) : incidentCommand(machine)
        return (command, now)
    }

    // MARK: - Random helpers

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// A random subset of `items`, in their order.
    mutating func subset<T>(_ items: [T], percent: Int = 50) -> [T] {
        var chosen: [T] = []
        for item in items where chance(percent) { chosen.append(item) }
        return chosen
    }

    // MARK: - Clock

    private mutating func advanceClock(_ machine: IncidentStateMachine) {
        let roll = int(0...99)
        if roll < 12, let timer = machine.armedTimers().first, timer.dueAt > now {
            now = timer.dueAt
        } else if roll < 15 {
            now = now.adding(milliseconds: -Int64(int(1...5_000)))
        } else if roll < 19 {
            now = now.adding(milliseconds: Int64(int(1...30)) * Milliseconds.hour)
        } else {
            now = now.adding(milliseconds: Int64(int(0...90_000)))
        }
    }

    // MARK: - Incident commands

    private mutating func incidentCommand(_ machine: IncidentStateMachine) -> Command {
        let actor = pick([Actor.user("alice"), Actor.user("bob"), Actor(.apiKey, "key-a"), Actor.system])
        switch int(0...99) {
        case 0..<36: return ingest()
        case 36..<41: return .openIncident(manualIncident(machine), actor: actor)
        case 41..<55:
            let id = incidentID(machine)
            // Mostly an action the incident's status allows, sometimes any (refused) one.
            let allowed = machine.incident(id).map { LifecycleAction.allowed(from: $0.status) } ?? []
            let action = allowed.isEmpty || chance(25) ? pick(LifecycleAction.allCases) : pick(allowed)
            let comment = chance(20) ? "" : "working on it"
            return .transition(incident: id, action: action, comment: comment, rootCause: chance(50) ? "bad deploy" : "", actor: actor)
        case 55..<59:
            let user: String? = pick([nil, "", "alice", "bob", "alice", "nobody"])
            let team: String? = pick([nil, "", "sre", "ml", "sre", "ghosts"])
            return .assign(incident: incidentID(machine), user: user, team: team, actor: actor)
        case 59..<63:
            return .addNote(incident: incidentID(machine), text: chance(90) ? "note \(int(1...999))" : "", actor: actor)
        case 63..<67:
            return .changeSeverity(incident: incidentID(machine), severity: pick(Severity.allCases), reason: "triage", actor: actor)
        case 67..<69:
            let title: String? = pick([nil, "renamed", ""])
            return .updateIncident(incident: incidentID(machine), title: title, description: pick([nil, "details", ""]), actor: actor)
        case 69..<73:
            return .merge(incident: incidentID(machine), into: incidentID(machine), actor: actor)
        case 73..<86: return fireTimer(machine)
        case 86..<96: return recordDelivery(machine)
        case 96..<98:
            return .purgeClosedIncidents(closedBefore: now.adding(milliseconds: -Int64(int(0...2)) * Milliseconds.hour), limit: int(-1...3), actor: .system)
        default: return slaPolicy()
        }
    }

    private mutating func ingest() -> Command {
        let count = chance(3) ? 0 : int(1...3)
        var events: [Event] = []
        for _ in 0..<count { events.append(event()) }
        return .ingest(events: events, actor: Actor(.source, pick(Self.sources)))
    }

    mutating func event() -> Event {
        var labels: [String: String] = [:]
        if chance(50) { labels["cluster"] = pick(["eu-1", "us-1"]) }
        if chance(30) { labels["alertname"] = pick(["HighLatency", "ModelDown"]) }
        let resourceID = pick(Self.resources)
        let action: EventAction = chance(70) ? .trigger : pick([.acknowledge, .resolve])
        var event = Event(
            eventID: chance(30) ? "evt-\(int(1...50))" : nil, source: pick(Self.sources),
            timestamp: now.adding(milliseconds: -Int64(int(0...60_000))), eventType: pick(["anomaly", "alert", "violation"]),
            category: pick(EventCategory.allCases), title: pick(Self.titles), rawSeverity: pick(Self.rawSeverities),
            resource: Resource(type: "service", id: resourceID, name: resourceID), tags: chance(30) ? ["svc": pick(["chat", "embed"])] : [:],
            labels: labels, environment: pick(Self.environments), dedupKey: pick(["", "", "", "", "dk-1", "dk-2"]), action: action)
        if resourceID.isEmpty && !labels.isEmpty && chance(50) { event.title = "" }  // Alertmanager style
        if chance(4) { corrupt(&event) }
        return event
    }

    /// Makes an event invalid, so its whole batch must be refused.
    private mutating func corrupt(_ event: inout Event) {
        switch int(0...3) {
        case 0: event.source = ""
        case 1:
            event.title = ""
            event.labels = [:]
            event.dedupKey = ""
        case 2:
            // Two bad entries: which one the error names must not depend on dictionary order.
            let long = String(repeating: "x", count: TextLimits.titleBytes + 1)
            event.labels = ["a": long, "b": long, "c": long]
        default: event.metrics = ["latency_ms": .infinity]
        }
    }

    private mutating func manualIncident(_ machine: IncidentStateMachine) -> ManualIncident {
        ManualIncident(
            title: chance(95) ? pick(Self.titles) : "", severity: pick(Severity.allCases), category: pick(EventCategory.allCases),
            team: chance(40) ? reference(.team, machine) : nil, escalationPolicy: chance(30) ? reference(.escalationPolicy, machine) : nil,
            environment: pick(Self.environments), labels: chance(30) ? ["cluster": "eu-1"] : [:], dedupKey: pick(["", "", "dk-1", "dk-2"]))
    }

    /// Mostly an existing incident, sometimes one that does not exist (wrong day or number).
    private mutating func incidentID(_ machine: IncidentStateMachine) -> IncidentID {
        let known = machine.incidents(limit: 40).map(\.id)
        if known.isEmpty || chance(5) {
            return IncidentID(number: UInt64(int(1...60)), createdAt: now.adding(milliseconds: -Int64(int(0...2)) * Milliseconds.day))
        }
        return pick(known)
    }

    private mutating func fireTimer(_ machine: IncidentStateMachine) -> Command {
        let armed = machine.armedTimers()
        let due = machine.dueTimers(at: now)
        var id = TimerID(incident: UInt64(int(1...60)), kind: pick(TimerKind.allCases), generation: UInt32(int(1...9)))
        let roll = int(0...99)
        if roll < 60, !due.isEmpty {
            id = pick(due).id
        } else if roll < 80, !armed.isEmpty {
            id = pick(armed).id  // often not yet due
        } else if roll < 95, !armed.isEmpty {
            var stale = pick(armed).id
            stale.generation = stale.generation &+ (chance(50) ? 1 : UInt32.max)  // next or previous arming
            id = stale
        }
        return .fireTimer(id, actor: .system)
    }

    private mutating func recordDelivery(_ machine: IncidentStateMachine) -> Command {
        let live = machine.liveNotifications().map(\.id)
        let id = live.isEmpty || chance(10) ? UInt64(int(1...200)) : pick(live)
        let report: DeliveryReport =
            switch int(0...3) {
            case 0: .dispatched
            case 1: .delivered
            case 2: .failed(error: "HTTP 503", retryable: true)
            default: .failed(error: "HTTP 404", retryable: false)
            }
        return .recordDelivery(notification: id, report: report, actor: .system)
    }

    private mutating func slaPolicy() -> Command {
        var policy = SLAPolicy.default
        switch int(0...2) {
        case 0: break
        case 1: policy.acknowledgeWithinMilliseconds = policy.acknowledgeWithinMilliseconds.map { $0 * 2 }
        default: policy.resolveWithinMilliseconds.removeLast()  // invalid: one value short
        }
        return .setSLAPolicy(policy, actor: .user("root"))
    }
}
