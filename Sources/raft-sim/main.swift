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
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while let i = tally.nextSeedNumber(below: seeds) {
                tally.add(Simulator.run(config(seed: first + UInt64(i))))
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
