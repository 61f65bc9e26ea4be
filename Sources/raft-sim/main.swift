// Runs many seeds of the RaftCore fault simulator (ClusterTesting.Simulator) on all cores.
//
//   swift run -c release raft-sim --seeds 10000 [--first 1] [--voters 3|5|mixed] [--jobs 2]
//   swift run -c release raft-sim --replay SEED [--voters 3|5] --trace
//   swift run -c release raft-sim --seeds 500 --broken forget-votes        (must find violations)
//   swift run -c release raft-sim --seeds 500 --broken send-before-write   (must find violations)
import ArgumentParser
import ClusterTesting
import Dispatch
import Foundation
import Locking

struct RaftSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft-sim", abstract: "Runs seeds of the RaftCore fault simulator; exits 1 on any invariant violation.")

    @Option(help: "Number of seeds to run.") var seeds = 1_000
    @Option(help: "First seed.") var first: UInt64 = 1
    @Option(help: "Cluster size: 3, 5, or mixed (even seeds 5, odd seeds 3).") var voters = "mixed"
    @Option(help: "Parallel workers (default: all cores).") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Replay one seed and print its report.") var replay: UInt64?
    @Flag(help: "Print every fault and state change (with --replay).") var trace = false
    @Option(help: "Run a deliberately broken variant that must be caught: forget-votes, send-before-write.") var broken: String?

    func validate() throws {
        guard ["3", "5", "mixed"].contains(voters) else { throw ValidationError("--voters is 3, 5 or mixed") }
        guard broken == nil || ["forget-votes", "send-before-write"].contains(broken!) else {
            throw ValidationError("--broken takes forget-votes or send-before-write")
        }
        guard seeds > 0, jobs > 0 else { throw ValidationError("--seeds and --jobs must be positive") }
    }

    func config(seed: UInt64) -> SimulationConfig {
        var config = SimulationConfig(seed: seed)
        switch voters {
        case "5": config.voters = 5
        case "mixed": config.voters = seed % 2 == 0 ? 5 : 3
        default: config.voters = 3
        }
        config.trace = trace
        if broken == "forget-votes" {
            config.skipVotePersistence = true
            config.crashAfterVoteProbability = 0.5
        }
        if broken == "send-before-write" {
            config.sendEverythingBeforeWriting = true
            config.crashProbability = 0.01
            config.tornWriteProbability = 1
        }
        return config
    }

    func run() throws {
        if let seed = replay {
            let report = Simulator.run(config(seed: seed))
            print(report)
            if !report.isSafe { throw ExitCode(1) }
            return
        }
        let tally = Tally()
        let start = Date()
        CrashNote.install(jobs: jobs)
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            while let i = tally.nextSeedNumber(below: seeds) {
                let run = config(seed: first + UInt64(i))
                CrashNote.running(run.seed, voters: run.voters, broken: broken, job: job)
                tally.add(Simulator.run(run))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        for report in tally.totals.failures.sorted(by: { $0.seed < $1.seed }).prefix(20) {
            print(report)
            let size = voters == "mixed" ? (report.seed % 2 == 0 ? "5" : "3") : voters
            print("  replay: swift run -c release raft-sim --replay \(report.seed) --voters \(size)\(broken.map { " --broken \($0)" } ?? "") --trace")
        }
        let totals = tally.totals
        print(
            "\(totals.runs) seeds (\(voters) voters\(broken.map { ", broken: \($0)" } ?? "")) in "
                + String(format: "%.1f", seconds) + " s on \(jobs) jobs: \(totals.failures.count) violating, "
                + "\(totals.acknowledged) acknowledged writes, \(totals.messages) messages")
        if !tally.totals.failures.isEmpty { throw ExitCode(1) }
    }
}


/// Names the seeds in progress when a run traps (a precondition in RaftCore or the simulator
/// kills the whole process, and with it the report). Each worker writes its line into its own
/// fixed buffer before every seed; a handler for the crash signals writes the lines with
/// `write(2)` (async-signal-safe: no allocation, no locks), puts back the handler it replaced
/// (the Swift runtime's backtracer) and raises the signal again for it. A line torn by a worker
/// starting its next seed at that instant is possible and harmless.
enum CrashNote {
    private static let lineBytes = 192
    private static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]
    // Set once before the workers start and only read afterwards (by workers and the handler).
    nonisolated(unsafe) private static var lines: UnsafeMutablePointer<UInt8>?
    nonisolated(unsafe) private static var jobs = 0
    nonisolated(unsafe) private static var replaced = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)

    static func install(jobs count: Int) {
        jobs = count
        lines = UnsafeMutablePointer<UInt8>.allocate(capacity: count * lineBytes)
        lines!.initialize(repeating: 0, count: count * lineBytes)
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in CrashNote.crashed(signal) }
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, replaced + Int(signal))
        }
    }

    static func running(_ seed: UInt64, voters: Int, broken: String?, job: Int) {
        guard let lines, job < jobs else { return }
        let text = "raft-sim: crashed while running seed \(seed); replay: raft-sim --replay \(seed) --voters \(voters)"
            + (broken.map { " --broken \($0)" } ?? "") + " --trace\n"
        let bytes = Array(text.utf8.prefix(lineBytes - 1))
        let line = lines + job * lineBytes
        bytes.withUnsafeBufferPointer { line.update(from: $0.baseAddress!, count: bytes.count) }
        line[bytes.count] = 0
    }

    private static func crashed(_ signal: Int32) {
        if let lines {
            for job in 0..<jobs {
                let line = lines + job * lineBytes
                var length = 0
                while length < lineBytes - 1, line[length] != 0 { length += 1 }
                _ = write(STDERR_FILENO, line, length)
            }
        }
        sigaction(signal, replaced + Int(signal), nil)
        // Pending until this handler returns; then the replaced handler takes it, at the
        // faulting instruction for a fault, and a signal sent by `kill` is not lost.
        raise(signal)
    }
}

/// Results gathered from worker threads.
final class Tally: Sendable {
    struct Totals {
        var runs = 0
        var failures: [SimulationReport] = []
        var acknowledged = 0
        var messages = 0
        var position = 0
    }

    private let state = Lock(Totals())

    var totals: Totals { state.withLock { $0 } }

    func add(_ report: SimulationReport) {
        state.withLock { totals in
            totals.runs += 1
            totals.acknowledged += report.acknowledged
            totals.messages += report.messagesDelivered
            if !report.isSafe { totals.failures.append(report) }
        }
    }

    /// The next seed number to run, or nil when all were handed out.
    func nextSeedNumber(below limit: Int) -> Int? {
        state.withLock { totals in
            guard totals.position < limit else { return nil }
            totals.position += 1
            return totals.position - 1
        }
    }
}

RaftSim.main()
