// Throughput of RaftCore alone: three members in one process, in-memory storage, messages
// handed over directly, 256-byte entries proposed in batches at the leader.
//
//   swift run -c release raft-bench [--entries 2000000] [--batch 1024] [--runs 5]
//   swift run -c release raft-bench --disk /var/tmp/raft-bench [--seconds 5]
//   swift run -c release raft-bench --disk /var/tmp --append-probe [--appends 20000] [--runs 5]
//
// Prints committed entries per second (median of the runs): an entry counts once the leader
// has applied it, which needs a quorum of members to have appended it. With --disk, each
// member persists to RaftStorage in its own directory under the given one (which is created
// and removed), at batch sizes 1, 64 and 1024, after measuring the disk's raw fsync rate.
// With --append-probe, it times single-entry RaftLogStore appends (one record and one
// fdatasync each) into preallocated segments against growing ones, alternating the two.
import ArgumentParser
import Foundation
import RaftCore
import RaftStorage

struct RaftBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "raft-bench", abstract: "Measures RaftCore commit throughput in memory.")

    @Option(help: "Entries committed per run.") var entries = 2_000_000
    @Option(help: "Entries per proposal batch.") var batch = 1_024
    @Option(help: "Entry payload size in bytes.") var entryBytes = 256
    @Option(help: "Runs; the median is reported.") var runs = 5
    @Option(help: "Benchmark RaftStorage on disk under this directory instead of memory.") var disk: String?
    @Option(help: "Seconds per disk measurement.") var seconds = 5.0
    @Flag(help: "With --disk: time single appends, preallocated segments against growing ones.") var appendProbe = false
    @Option(help: "Appends per --append-probe run.") var appends = 20_000

    func run() throws {
        if let disk, appendProbe {
            try probeAppends(root: disk)
            return
        }
        if let disk {
            try runOnDisk(root: disk)
            return
        }
        var rates: [Double] = []
        for _ in 0..<runs {
            var cluster = try InMemoryCluster(members: 3)
            let start = DispatchTime.now().uptimeNanoseconds
            let committed = try cluster.commit(entries: entries, batch: batch, entryBytes: entryBytes)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(committed) / seconds)
        }
        rates.sort()
        let median = rates[rates.count / 2]
        print(String(format: "raftcore in-memory, 3 members, %d-byte entries, batch %d: %.0f entries/s committed (median of %d; min %.0f, max %.0f)",
            entryBytes, batch, median, runs, rates.first!, rates.last!))
    }
}

extension RaftBench {
    /// Runs `body` with a fresh directory of this process's under `root`, removed afterwards.
    func withScratchDirectory(under root: String, _ body: (String) throws -> Void) throws {
        let base = root + "/raft-bench-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try body(base)
    }

    func runOnDisk(root: String) throws {
        try withScratchDirectory(under: root) { base in try runOnDisk(root: root, base: base) }
    }

    private func runOnDisk(root: String, base: String) throws {
        let fm = FileManager.default
        let fsyncRate = try measureFsyncRate(directory: base, seconds: seconds)
        print("disk under \(root): " + String(format: "%.0f", fsyncRate) + " fdatasync/s (4 KiB written in place)")
        for size in [1, 64, 1_024] {
            var rates: [Double] = []
            var syncRates: [Double] = []
            for run in 0..<runs {
                let directory = base + "/batch-\(size)-run-\(run)"
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
                var cluster = try DiskCluster(directory: directory)
                let result = try cluster.run(batch: size, entryBytes: entryBytes, seconds: seconds)
                cluster.close()
                try fm.removeItem(atPath: directory)
                rates.append(Double(result.entries) / result.seconds)
                syncRates.append(Double(result.fsyncs) / result.seconds)
            }
            rates.sort()
            syncRates.sort()
            print(String(format: "raftcore + raftstorage, 3 members on one disk, %d-byte entries, batch %4d: %9.0f entries/s committed, %6.0f fsyncs/s (median of %d)",
                entryBytes, size, rates[rates.count / 2], syncRates[syncRates.count / 2], runs))
        }
    }
}

extension RaftBench {
    /// Single appends into preallocated segments against growing ones (`preallocationBytes` 0),
    /// alternating the two in each run so both see the same disk weather.
    func probeAppends(root: String) throws {
        try withScratchDirectory(under: root) { base in try probeAppends(base: base) }
    }

    private func probeAppends(base: String) throws {
        let fm = FileManager.default
        let modes = [("preallocated", StorageConfig.default), ("growing", StorageConfig(preallocationBytes: 0))]
        var results: [String: (means: [Double], p99s: [Double], cpu: [Double])] = [:]
        for run in 0..<runs {
            for (name, config) in modes {
                let directory = base + "/\(name)-\(run)"
                let (latencies, cpu) = try timeAppends(directory: directory, config: config, count: appends, entryBytes: entryBytes)
                try fm.removeItem(atPath: directory)
                let sorted = latencies.sorted()
                var result = results[name] ?? ([], [], [])
                result.means.append(latencies.reduce(0, +) / Double(latencies.count))
                result.p99s.append(sorted[sorted.count * 99 / 100])
                result.cpu.append(cpu)
                results[name] = result
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        for (name, _) in modes {
            let result = results[name]!
            print(String(format: "raftstorage single appends, %@, %d-byte entries, %d appends: mean %.1f µs, p99 %.1f µs, CPU %.1f µs per append (medians of %d runs)",
                name, entryBytes, appends, median(result.means), median(result.p99s), median(result.cpu), runs))
        }
    }
}

/// Three `Raft` members whose Ready output is "persisted" by dropping it (the log lives in
/// RaftCore's memory) and whose messages are delivered synchronously.
struct InMemoryCluster {
    var members: [Raft]
    var inbox: [Message] = []
    var appliedAtLeader = 0

    init(members count: Int) throws {
        let ids = Set((1...count).map { NodeID($0) })
        let (hard, boot) = Raft.bootstrap(voters: ids)
        members = try ids.sorted().map { id in
            var config = RaftConfig(id: id)
            config.maxSizePerMessageBytes = 4 << 20
            config.maxUncommittedEntriesBytes = 0
            return try Raft(config: config, hardState: hard, snapshot: Snapshot(), entries: boot, randomSeed: id)
        }
        for i in members.indices { process(i) }
        members[0].campaignNow()
        drain()
        precondition(members[0].isLeader, "member 1 did not win the election")
    }

    /// Proposes `entries` fresh payloads (one allocation each, as requests would bring them).
    mutating func commit(entries: Int, batch: Int, entryBytes: Int) throws -> Int {
        let startApplied = members[0].appliedIndex
        var proposed = 0
        while proposed < entries {
            let proposals = (0..<batch).map { i in [UInt8](repeating: UInt8(truncatingIfNeeded: proposed + i), count: entryBytes) }
            try members[0].propose(batch: proposals)
            proposed += batch
            drain()
            compactIfLarge()
        }
        return Int(members[0].appliedIndex - startApplied)
    }

    /// Processes every Ready and delivers every message until the cluster is quiet.
    mutating func drain() {
        var busy = true
        while busy {
            busy = false
            for i in members.indices where members[i].hasReady {
                process(i)
                busy = true
            }
            while !inbox.isEmpty {
                let messages = inbox
                inbox = []
                for message in messages { members[Int(message.to) - 1].step(message) }
                busy = true
            }
        }
    }

    private mutating func process(_ i: Int) {
        let ready = members[i].ready()
        inbox.append(contentsOf: ready.earlyMessages)
        inbox.append(contentsOf: ready.messages)
        members[i].advance(ready)
    }

    /// Keeps memory flat: snapshot (empty data) and compact every member's log.
    private mutating func compactIfLarge() {
        for i in members.indices where members[i].appliedIndex - members[i].firstIndex > 200_000 {
            let meta = members[i].snapshotMetadataAtApplied
            members[i].setSnapshot(Snapshot(metadata: meta))
            members[i].compactLog(through: meta.index)
        }
    }
}

RaftBench.main()
