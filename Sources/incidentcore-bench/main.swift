// Release-mode micro-benchmark of IncidentCore's apply path and snapshots.
//
//   swift run -c release incidentcore-bench [--runs 5] [--incidents 100000] [--only dedup|create|snapshot|copy]
//
// Each figure is the median of `runs` repetitions on one core (the benchmark is single-threaded).
// Results and the machine they were taken on live in docs/BENCHMARKS.md.
import Foundation
import IncidentCore

struct Options {
    var runs = 5
    var incidents = 100_000
    var commands = 300_000
    var only: String?

    init(_ arguments: [String]) {
        var i = 1
        while i < arguments.count {
            let value = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil
            switch (arguments[i], value) {
            case ("--runs", let v?): runs = v
            case ("--incidents", let v?): incidents = v
            case ("--commands", let v?): commands = v
            case ("--only", _) where i + 1 < arguments.count: only = arguments[i + 1]
            default:
                FileHandle.standardError.write(Data("usage: incidentcore-bench [--runs N] [--incidents N] [--commands N] [--only dedup|create|snapshot|copy]\n".utf8))
                exit(2)
            }
            i += 2
        }
    }
}

let options = Options(CommandLine.arguments)
let start = Timestamp(millisecondsSinceEpoch: 1_795_586_400_000)
let source = Actor(.source, "bench")
let admin = Actor.user("admin")

func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Resident memory of this process. The snapshot phase runs first, before anything has been
/// freed, so its RSS growth is the memory the incidents hold.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
        let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A realistic configuration: users, channels, a two-level policy, a team, three
/// classification rules (one with a title regex), two routing rules, a grouping rule that
/// does not match the benchmark's events.
func configured() -> (IncidentStateMachine, UInt64) {
    var machine = IncidentStateMachine()
    var index: UInt64 = 0
    func put(_ item: ConfigItem) {
        index += 1
        if case .failure(let error) = machine.apply(.createConfig(item, actor: admin), at: start, index: index) {
            fatalError("benchmark setup: \(error)")
        }
    }
    put(.user(User(id: "alice", name: "Alice", email: "alice@example.com")))
    put(.user(User(id: "bob", name: "Bob", email: "bob@example.com")))
    put(.channel(NotificationChannel(id: "hook", name: "hook", type: .webhook, url: "http://127.0.0.1:9/hook")))
    put(.channel(NotificationChannel(id: "slack", name: "slack", type: .slack, url: "http://127.0.0.1:9/slack")))
    put(.escalationPolicy(EscalationPolicy(id: "default", name: "default", levels: [
        EscalationLevel(delayMilliseconds: 5 * Milliseconds.minute, targets: [.user("alice")], channels: ["hook"]),
        EscalationLevel(delayMilliseconds: 10 * Milliseconds.minute, targets: [.user("bob"), .channel("slack")], channels: ["hook"]),
    ])))
    put(.team(Team(id: "sre", name: "SRE", members: ["alice", "bob"], escalationPolicy: "default")))
    put(.classificationRule(ClassificationRule(
        id: "shield", name: "shield", position: 1, match: EventMatcher(sources: ["llm-shield"]), setSeverity: .p0, setCategory: .security)))
    put(.classificationRule(ClassificationRule(
        id: "gpu", name: "gpu", position: 2, match: EventMatcher(title: try! SafeRegex("(?i)gpu|cuda")), setTeam: "sre")))  // constant pattern
    put(.classificationRule(ClassificationRule(
        id: "staging", name: "staging", position: 3, match: EventMatcher(environments: ["staging"]), setSeverity: .p4)))
    put(.routingRule(RoutingRule(id: "prod", name: "prod", position: 1, match: EventMatcher(environments: ["production"]), team: "sre")))
    put(.routingRule(RoutingRule(id: "p0", name: "p0", position: 0, match: EventMatcher(severities: [.p0]), channels: ["slack"], continue: true)))
    put(.groupingRule(GroupingRule(id: "cluster", name: "cluster", match: EventMatcher(sources: ["alertmanager"]), groupBy: [.label("cluster")], windowMilliseconds: Milliseconds.hour)))
    return (machine, index)
}

func event(_ n: Int) -> Event {
    Event(
        source: "llm-sentinel", timestamp: start, eventType: "anomaly", category: .performance,
        title: "p95 latency above threshold on model-\(n)", rawSeverity: "high",
        resource: Resource(type: "model", id: "model-\(n)", name: "model-\(n)"), labels: ["region": "eu-west-1"],
        environment: "production")
}

/// Applies `commands` one log entry each; returns the elapsed seconds.
func run(_ commands: [Command], on machine: inout IncidentStateMachine, from index: inout UInt64, check: (Outcome) -> Bool) -> Double {
    var t = start
    return seconds {
        for command in commands {
            index += 1
            t = t.adding(milliseconds: 1)
            let outcome = machine.apply(command, at: t, index: index)
            precondition(check(outcome), "unexpected outcome \(outcome)")
        }
    }
}

func isDisposition(_ outcome: Outcome, _ expected: EventDisposition) -> Bool {
    guard case .success(let applied) = outcome, case .ingested(let results) = applied.result else { return false }
    return results.allSatisfy { $0.disposition == expected }
}

print("IncidentCore micro-benchmark: \(options.runs) runs, medians; one core")

// 1. Snapshots and memory (first: see residentBytes) with `incidents` open incidents.
var encodeTimes: [Double] = []
var decodeTimes: [Double] = []
var snapshotBytes = 0
var reusingTimes: [Double] = []
var reuseStats = SnapshotEncodingStats()
var bytesPerIncident = 0
if selected("snapshot") {
    let creates = (0..<options.incidents).map { Command.ingest(events: [event(1_000_000 + $0)], actor: source) }
    let before = residentBytes()
    var (machine, index) = configured()
    _ = run(creates, on: &machine, from: &index) { isDisposition($0, .created) }
    bytesPerIncident = (residentBytes() - before) / options.incidents
    precondition(machine.openIncidentCount == options.incidents)
    for _ in 0..<options.runs {
        var bytes: [UInt8] = []
        encodeTimes.append(seconds { bytes = machine.snapshot() })
        snapshotBytes = bytes.count
        var restored: IncidentStateMachine?
        decodeTimes.append(seconds { restored = try? IncidentStateMachine(snapshot: bytes) })
        precondition(restored?.snapshot() == bytes, "snapshot did not restore identically")
    }
    // As a node's snapshot thread does it: each snapshot of a copy taken before 1,000 of the
    // incidents got a deduplicated event, reusing the encodings the previous one kept.
    let hot = (0..<1_000).map { Command.ingest(events: [event(1_000_000 + $0 * max(1, options.incidents / 1_000))], actor: source) }
    var stats = SnapshotEncodingStats()
    _ = machine.snapshot(reusingEncodingsUpTo: Int.max, stats: &stats)
    for _ in 0..<options.runs {
        _ = run(hot, on: &machine, from: &index) { isDisposition($0, .deduplicated) }
        let copy = machine
        stats = SnapshotEncodingStats()
        var bytes: [UInt8] = []
        reusingTimes.append(seconds { bytes = copy.snapshot(reusingEncodingsUpTo: Int.max, stats: &stats) })
        precondition(bytes == machine.snapshot(), "a snapshot reusing encodings differs")
        reuseStats = stats
    }
}
if selected("snapshot") {
    print(String(format: "snapshot:     %d open incidents, %.1f MB, encode %.3f s, decode %.3f s", options.incidents, Double(snapshotBytes) / 1e6, median(encodeTimes), median(decodeTimes)))
    print(String(format: "snapshot:     encode %.3f s reusing kept encodings, 1,000 changed (%d encoded, %d reused, %.1f MB kept)",
                  median(reusingTimes), reuseStats.encodedIncidents, reuseStats.reusedIncidents, Double(reuseStats.keptEncodingBytes) / 1e6))
    print("memory:       \(bytesPerIncident) bytes RSS per open incident (with its indexes, outbox entry and 3 timers)")
}

// 2. Dedup path: repeats of 10,000 open incidents, one event per command.
func selected(_ name: String) -> Bool { options.only == nil || options.only == name }

var dedupRates: [Double] = []
var batchedRates: [Double] = []
if selected("dedup") {
    let events = (0..<10_000).map(event)
    let repeats = (0..<options.commands).map { Command.ingest(events: [events[$0 % events.count]], actor: source) }
    let batches = stride(from: 0, to: options.commands, by: 64).map { base in
        Command.ingest(events: (base..<base + 64).map { events[$0 % events.count] }, actor: source)
    }
    for _ in 0..<options.runs {
        var (machine, index) = configured()
        _ = run(events.map { .ingest(events: [$0], actor: source) }, on: &machine, from: &index) { isDisposition($0, .created) }
        dedupRates.append(Double(repeats.count) / run(repeats, on: &machine, from: &index) { isDisposition($0, .deduplicated) })
        batchedRates.append(Double(batches.count * 64) / run(batches, on: &machine, from: &index) { isDisposition($0, .deduplicated) })
    }
}
if selected("dedup") {
    print(String(format: "dedup path:   %10.0f commands/s (1 event each)", median(dedupRates)))
    print(String(format: "dedup path:   %10.0f events/s (64 events per command)", median(batchedRates)))
}

// 3. Create path: every event opens an incident (routing, policy, first page, three timers).
var createRates: [Double] = []
var bareCreateRates: [Double] = []
if selected("create") {
    let creates = (0..<options.incidents).map { Command.ingest(events: [event(10_000 + $0)], actor: source) }
    for _ in 0..<options.runs {
        var (machine, index) = configured()
        createRates.append(Double(creates.count) / run(creates, on: &machine, from: &index) { isDisposition($0, .created) })
        var bare = IncidentStateMachine()
        var bareIndex: UInt64 = 0
        bareCreateRates.append(Double(creates.count) / run(creates, on: &bare, from: &bareIndex) { isDisposition($0, .created) })
    }
}
if selected("create") {
    print(String(format: "create path:  %10.0f commands/s (routing + escalation policy + page + 3 timers)", median(createRates)))
    print(String(format: "create path:  %10.0f commands/s (no configuration)", median(bareCreateRates)))
}


// 4. Writes while a snapshot's copy of the state lives: with `incidents` open incidents, a copy
// is taken (as the node does before encoding a snapshot off its loop), then 1,000 of the
// incidents get one deduplicated event each. Copy-on-write makes the first write after the copy
// pay for whatever it shares with the copy, and each incident's first write pay for that
// incident; without a copy, the same commands mutate in place.
var firstWriteTimes: [Double] = []
var hotWithCopyTimes: [Double] = []
var hotWithoutCopyTimes: [Double] = []
if selected("copy") {
    let creates = (0..<options.incidents).map { Command.ingest(events: [event(1_000_000 + $0)], actor: source) }
    var (machine, index) = configured()
    _ = run(creates, on: &machine, from: &index) { isDisposition($0, .created) }
    // Every hot incident has a history (alerts, timeline) before the measured writes.
    let hot = (0..<1_000).map { Command.ingest(events: [event(1_000_000 + $0 * (options.incidents / 1_000))], actor: source) }
    for _ in 0..<5 { _ = run(hot, on: &machine, from: &index) { isDisposition($0, .deduplicated) } }
    for _ in 0..<options.runs {
        let copy = machine
        firstWriteTimes.append(run(Array(hot.prefix(1)), on: &machine, from: &index) { isDisposition($0, .deduplicated) })
        hotWithCopyTimes.append(run(Array(hot.dropFirst()), on: &machine, from: &index) { isDisposition($0, .deduplicated) })
        withExtendedLifetime(copy) {}
        hotWithoutCopyTimes.append(run(Array(hot.dropFirst()), on: &machine, from: &index) { isDisposition($0, .deduplicated) })
    }
}
if selected("copy") {
    print(String(format: "after a copy: first write %.2f ms with %d open incidents", median(firstWriteTimes) * 1e3, options.incidents))
    print(String(format: "after a copy: 999 hot incidents' first writes %.2f ms (%.2f ms without a copy)", median(hotWithCopyTimes) * 1e3, median(hotWithoutCopyTimes) * 1e3))
}
