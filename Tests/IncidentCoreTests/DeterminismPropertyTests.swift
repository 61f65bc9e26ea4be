import Foundation
import XCTest

@testable import IncidentCore

/// Seeded random command sequences (see `CommandGenerator`) against the state machine contract:
/// replicas agree to the byte, snapshots restore to the same future, commands survive the log
/// codec, invariants hold after every command, and corrupt bytes are refused, never trapped on.
///
///     INCIDENTCORE_PROPERTY_SEEDS=5000 swift test --filter DeterminismPropertyTests   # more seeds
///     INCIDENTCORE_SEED=<seed> swift test --filter DeterminismPropertyTests           # one seed
///
/// A failure prints its seed and the command that replays it.
final class DeterminismPropertyTests: XCTestCase {
    /// Small enough that the class runs in a few seconds in a debug build.
    static let defaultSeedCount = 12
    static let commandsPerSeed = 150
    /// 2026-11-25T06:00:00Z, a Wednesday.
    static let start = Timestamp(millisecondsSinceEpoch: 1_795_586_400_000)

    /// Seeds 1...N (N from `INCIDENTCORE_PROPERTY_SEEDS`), or the one `INCIDENTCORE_SEED` names;
    /// nil when a variable is not a number.
    static var seeds: [UInt64]? {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["INCIDENTCORE_SEED"] { return UInt64(text).map { [$0] } }
        guard let count = environment["INCIDENTCORE_PROPERTY_SEEDS"].map({ Int($0) }) ?? defaultSeedCount, count > 0 else { return nil }
        return Array(1...UInt64(count))
    }

    // MARK: - Properties

    func testReplicasApplyingTheSameLogHoldIdenticalSnapshots() {
        forEachSeed { seed in
            var generator = CommandGenerator(seed: seed, start: Self.start)
            var leader = IncidentStateMachine()
            var follower = IncidentStateMachine()
            var replays = TestRNG(seed: seed ^ 0xA11C_E5ED)
            var before = leader.snapshot()
            for index in 1...UInt64(Self.commandsPerSeed) {
                let (command, at) = generator.next(for: leader)
                // The follower decodes the command from its log bytes, as a real replica does.
                guard let logged = try? Command(binary: command.binaryEncoded()) else { return "command \(index) does not decode: \(brief(command))" }
                let outcome = leader.apply(command, at: at, index: index)
                let followerOutcome = follower.apply(logged, at: at, index: index)
                guard outcome == followerOutcome else { return "command \(index) \(brief(command)): outcomes differ:\n  \(outcome)\n  \(followerOutcome)" }
                let after = leader.snapshot()
                guard after == follower.snapshot() else { return "command \(index) \(brief(command)): snapshots differ" }
                if let violation = leader.invariantViolation() ?? Self.fingerprintOwnershipViolation(leader) {
                    return "command \(index) \(brief(command)): \(violation)"
                }
                if case .failure(let error) = outcome, !Self.unchangedByRejection(before: before, after: after, index: index, at: at) {
                    return "command \(index) \(brief(command)) was rejected (\(error)) but changed state"
                }
                // A driver replaying an applied entry is refused and changes nothing.
                if Int.random(in: 0..<100, using: &replays) < 5 {
                    guard case .failure(let error) = follower.apply(logged, at: at, index: index), error.code == .alreadyApplied,
                        follower.snapshot() == after
                    else { return "replaying index \(index) was not refused as already applied" }
                }
                before = after
            }
            return nil
        }
    }

    func testSnapshotRestoreContinueEqualsNeverSnapshotting() {
        forEachSeed { seed in
            var generator = CommandGenerator(seed: seed, start: Self.start)
            var uninterrupted = IncidentStateMachine()
            var restarted = IncidentStateMachine()
            var cuts = TestRNG(seed: seed ^ 0x5AAB_5407)
            var restores = 0
            for index in 1...UInt64(Self.commandsPerSeed) {
                let (command, at) = generator.next(for: uninterrupted)
                if Int.random(in: 0..<100, using: &cuts) < 8 {
                    let bytes = restarted.snapshot()
                    let restored: IncidentStateMachine
                    do { restored = try IncidentStateMachine(snapshot: bytes) } catch { return "snapshot before command \(index) does not restore: \(error)" }
                    guard restored.snapshot() == bytes else { return "snapshot before command \(index) restores to different bytes" }
                    restarted = restored
                    restores += 1
                }
                let expected = uninterrupted.apply(command, at: at, index: index)
                let actual = restarted.apply(command, at: at, index: index)
                guard expected == actual else { return "command \(index) \(brief(command)) after \(restores) restore(s):\n  \(expected)\n  \(actual)" }
            }
            guard uninterrupted.snapshot() == restarted.snapshot() else { return "final snapshots differ after \(restores) restore(s)" }
            guard uninterrupted.armedTimers() == restarted.armedTimers(), uninterrupted.liveNotifications() == restarted.liveNotifications() else {
                return "timers or outbox differ after \(restores) restore(s)"
            }
            return nil
        }
    }

    /// Whatever the commands, a snapshot that reuses the encodings an earlier one kept (of a copy
    /// taken before later writes, as a node's snapshot thread gets) has the bytes of one that
    /// encodes everything: every write path drops its incident's kept encoding.
    func testSnapshotsReusingKeptEncodingsMatchFullEncodings() {
        forEachSeed { seed in
            var generator = CommandGenerator(seed: seed, start: Self.start)
            var machine = IncidentStateMachine()
            var cuts = TestRNG(seed: seed ^ 0x0E4C_0D35)
            // Some seeds with a budget too small for every incident.
            let budget = seed % 3 == 0 ? 3_000 : 1 << 30
            var pending: (copy: IncidentStateMachine, bytes: [UInt8], index: UInt64)?
            for index in 1...UInt64(Self.commandsPerSeed) {
                let (command, at) = generator.next(for: machine)
                _ = machine.apply(command, at: at, index: index)
                if let taken = pending, Int.random(in: 0..<100, using: &cuts) < 30 {
                    var stats = SnapshotEncodingStats()
                    guard taken.copy.snapshot(reusingEncodingsUpTo: budget, stats: &stats) == taken.bytes else {
                        return "snapshot of the copy taken after command \(taken.index), encoded after command \(index), differs"
                    }
                    pending = nil
                }
                if pending == nil, Int.random(in: 0..<100, using: &cuts) < 20 {
                    pending = (machine, machine.snapshot(), index)
                }
            }
            var stats = SnapshotEncodingStats()
            guard machine.snapshot(reusingEncodingsUpTo: budget, stats: &stats) == machine.snapshot() else { return "final snapshots differ" }
            return nil
        }
    }

    func testEveryGeneratedCommandRoundTripsThroughTheLogCodec() {
        forEachSeed { seed in
            var generator = CommandGenerator(seed: seed, start: Self.start)
            var machine = IncidentStateMachine()
            for index in 1...UInt64(Self.commandsPerSeed) {
                let (command, at) = generator.next(for: machine)
                let bytes = command.binaryEncoded()
                guard bytes.first == Command.formatVersion else { return "command \(index) lacks the format version byte" }
                let decoded: Command
                do { decoded = try Command(binary: bytes) } catch { return "command \(index) \(brief(command)): \(error)" }
                guard decoded == command, decoded.binaryEncoded() == bytes else { return "command \(index) \(brief(command)) does not round-trip" }
                _ = machine.apply(decoded, at: at, index: index)
            }
            return nil
        }
    }

    func testTruncatedAndCorruptedBytesThrowDecodingErrorsAndNeverTrap() {
        forEachSeed { seed in
            var generator = CommandGenerator(seed: seed, start: Self.start)
            var machine = IncidentStateMachine()
            var noise = TestRNG(seed: seed ^ 0xB17F_11B5)
            for index in 1...UInt64(Self.commandsPerSeed) {
                let (command, at) = generator.next(for: machine)
                let bytes = command.binaryEncoded()
                // Every prefix of short commands; a sample of longer ones (events), to stay fast.
                let prefixes: Prefixes = bytes.count <= 160 ? .all : .sample(48)
                if let failure = Self.checkCorruption(of: bytes, prefixes: prefixes, mutations: 4, noise: &noise, decode: Self.commandDecodingError) {
                    return "command \(index) \(brief(command)): \(failure)"
                }
                _ = machine.apply(command, at: at, index: index)
                if index % 50 == 0 || index == UInt64(Self.commandsPerSeed) {
                    if let failure = Self.checkCorruption(of: machine.snapshot(), prefixes: .sample(24), mutations: 24, noise: &noise, decode: Self.snapshotDecodingError) {
                        return "snapshot after command \(index): \(failure)"
                    }
                }
            }
            // Random bytes, bare and behind a valid snapshot header.
            for length in 0..<64 {
                let random = (0..<length).map { _ in UInt8.random(in: 0...255, using: &noise) }
                _ = Self.commandDecodingError(random)
                _ = Self.snapshotDecodingError([0x49, 0x4E, 0x43, 0x53, 0x01] + random)
            }
            return nil
        }
    }

    // MARK: - Support

    /// Runs `check` for every seed; a non-nil answer is a failure, reported with its replay command.
    private func forEachSeed(_ check: (UInt64) -> String?, file: StaticString = #filePath, line: UInt = #line) {
        guard let seeds = Self.seeds else {
            return XCTFail("INCIDENTCORE_SEED must be an unsigned integer and INCIDENTCORE_PROPERTY_SEEDS a positive count", file: file, line: line)
        }
        var failures = 0
        for seed in seeds {
            guard let failure = check(seed) else { continue }
            let replay = "INCIDENTCORE_SEED=\(seed) swift test --filter DeterminismPropertyTests"
            print("\(name) failed for seed \(seed): \(failure)\nreplay: \(replay)")
            XCTFail("seed \(seed): \(failure)\nreplay: \(replay)", file: file, line: line)
            failures += 1
            if failures == 3 { return }
        }
    }

    /// Whether a rejected command left everything but the applied index and time as it was.
    private static func unchangedByRejection(before: [UInt8], after: [UInt8], index: UInt64, at: Timestamp) -> Bool {
        guard var expected = try? IncidentStateMachine(snapshot: before) else { return false }
        expected.appliedIndex = index
        if at > expected.appliedAt { expected.appliedAt = at }
        return expected.snapshot() == after
    }

    /// The dedup promise seen from the incidents' side: every alert still firing in an open
    /// incident is the one its fingerprint deduplicates into, so no fingerprint can have firing
    /// alerts in two open incidents.
    private static func fingerprintOwnershipViolation(_ machine: IncidentStateMachine) -> String? {
        for incident in machine.incidents(limit: .max, where: { $0.status.isOpen }) {
            for alert in incident.alerts where !alert.resolved {
                let owner = machine.openIncident(fingerprint: alert.fingerprint)?.id
                if owner != incident.id { return "\(alert.fingerprint) fires in \(incident.id) but deduplicates into \(owner.map(\.description) ?? "nothing")" }
            }
        }
        return nil
    }

    private static func commandDecodingError(_ bytes: [UInt8]) -> DecodingError? {
        do {
            _ = try Command(binary: bytes)
            return nil
        } catch { return error }
    }

    private static func snapshotDecodingError(_ bytes: [UInt8]) -> DecodingError? {
        do {
            let machine = try IncidentStateMachine(snapshot: bytes)
            _ = machine.snapshot()  // whatever decodes must encode again
            return nil
        } catch { return error }
    }

    enum Prefixes {
        case all
        case sample(Int)
    }

    /// Every (or a sample of) strict prefix must fail to decode; bit flips and byte changes may
    /// decode to something else or fail, but must not trap. Errors must point inside the input.
    private static func checkCorruption(
        of bytes: [UInt8], prefixes: Prefixes, mutations: Int, noise: inout TestRNG, decode: ([UInt8]) -> DecodingError?
    ) -> String? {
        var lengths: [Int]
        switch prefixes {
        case .all: lengths = Array(0..<bytes.count)
        case .sample(let count):
            lengths = Array(0..<min(8, bytes.count)) + [bytes.count - 1]
            for _ in 0..<count { lengths.append(Int.random(in: 0..<bytes.count, using: &noise)) }
        }
        for length in lengths {
            guard let error = decode(Array(bytes[..<length])) else { return "a \(length)-byte prefix of \(bytes.count) decoded" }
            guard (0...length).contains(error.offset) else { return "error offset \(error.offset) outside a \(length)-byte input" }
        }
        for _ in 0..<mutations {
            var corrupt = bytes
            let position = Int.random(in: 0..<bytes.count, using: &noise)
            if Bool.random(using: &noise) {
                corrupt[position] ^= 1 << UInt8.random(in: 0...7, using: &noise)
            } else {
                corrupt[position] = UInt8.random(in: 0...255, using: &noise)
            }
            if let error = decode(corrupt), !(0...corrupt.count).contains(error.offset) {
                return "error offset \(error.offset) outside a \(corrupt.count)-byte input"
            }
        }
        return nil
    }
}

/// A command described briefly enough for a failure message.
private func brief(_ command: Command) -> String {
    let text = "\(command)"
    return text.count <= 240 ? text : String(text.prefix(240)) + "…"
}
