import Foundation
import RaftCore
import RaftStorage

#if canImport(Glibc)
import Glibc
#endif

/// The disk's own fsync rate: 4 KiB written in place and `fdatasync`ed, for `seconds`.
func measureFsyncRate(directory: String, seconds: Double) throws -> Double {
    let path = directory + "/fsync-probe"
    let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
    guard fd >= 0 else { throw BenchError("cannot create \(path): errno \(errno)") }
    defer {
        close(fd)
        unlink(path)
    }
    let block = [UInt8](repeating: 0x5A, count: 4_096)
    var syncs = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    while elapsed < seconds {
        _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard fdatasync(fd) == 0 else { throw BenchError("fdatasync failed: errno \(errno)") }
        syncs += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    return Double(syncs) / elapsed
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Three members, each persisting every Ready to its own `RaftLogStore` (one write and one
/// fdatasync per Ready: group commit) before sending its messages. On one machine the three
/// members' fsyncs run one after another on the same disk.
struct DiskCluster {
    var members: [Raft]
    var stores: [RaftLogStore]
    var inbox: [Message] = []
    var fsyncs = 0

    init(directory: String) throws {
        let ids: [NodeID] = [1, 2, 3]
        let (hard, boot) = Raft.bootstrap(voters: Set(ids))
        var members: [Raft] = []
        var stores: [RaftLogStore] = []
        for id in ids {
            let (store, recovered) = try RaftLogStore.open(directory: "\(directory)/member-\(id)")
            precondition(recovered.entries.isEmpty, "benchmark directories must start empty")
            try store.append(boot, hardState: hard)
            var config = RaftConfig(id: id)
            config.maxSizePerMessageBytes = 4 << 20
            config.maxUncommittedEntriesBytes = 0
            members.append(try Raft(config: config, hardState: hard, snapshot: Snapshot(), entries: boot, randomSeed: id))
            stores.append(store)
        }
        self.members = members
        self.stores = stores
        try drain()
        self.members[0].campaignNow()
        try drain()
        precondition(self.members[0].isLeader, "member 1 did not win the election")
    }

    /// Proposes batches of `batch` fresh entries for `seconds`; returns (entries committed, seconds, fsyncs).
    mutating func run(batch: Int, entryBytes: Int, seconds: Double) throws -> (entries: Int, seconds: Double, fsyncs: Int) {
        let startApplied = members[0].appliedIndex
        let startSyncs = fsyncs
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        var sequence = 0
        while elapsed < seconds {
            let proposals = (0..<batch).map { i in [UInt8](repeating: UInt8(truncatingIfNeeded: sequence + i), count: entryBytes) }
            sequence += batch
            try members[0].propose(batch: proposals)
            try drain()
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return (Int(members[0].appliedIndex - startApplied), elapsed, fsyncs - startSyncs)
    }

    mutating func drain() throws {
        var busy = true
        while busy {
            busy = false
            for i in members.indices where members[i].hasReady {
                try process(i)
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

    private mutating func process(_ i: Int) throws {
        let ready = members[i].ready()
        // A leader's appends leave before its own write (thesis §10.2.1).
        inbox.append(contentsOf: ready.earlyMessages)
        // Everything else is durable before it leaves. A commit-index-only change needs no fsync: it is
        // written with the next batch (a restart re-learns the commit index from the leader).
        if ready.mustSync {
            try stores[i].append(ready.entries, hardState: ready.hardState ?? members[i].hardState)
            fsyncs += 1
        }
        inbox.append(contentsOf: ready.messages)
        members[i].advance(ready)
    }

    func close() { for store in stores { store.close() } }
}

/// Times `count` single-entry appends to a fresh `RaftLogStore` under `directory` (one record and
/// one fdatasync each). Returns the wall time of each append in microseconds and the process's
/// CPU time (user + system) per append.
func timeAppends(directory: String, config: StorageConfig, count: Int, entryBytes: Int) throws -> (latencies: [Double], cpuMicroseconds: Double) {
    let (store, _) = try RaftLogStore.open(directory: directory, config: config)
    defer { store.close() }
    let payload = [UInt8](repeating: 0x5A, count: entryBytes)
    var latencies: [Double] = []
    latencies.reserveCapacity(count)
    let cpuBefore = processCPUMicroseconds()
    for i in 1...count {
        let entry = Entry(term: 1, index: LogIndex(i), data: payload)
        let start = DispatchTime.now().uptimeNanoseconds
        try store.append([entry], hardState: nil)
        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
    }
    return (latencies, (processCPUMicroseconds() - cpuBefore) / Double(count))
}

/// User + system CPU time of this process so far, in microseconds.
func processCPUMicroseconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func micros(_ time: timeval) -> Double { Double(time.tv_sec) * 1e6 + Double(time.tv_usec) }
    return micros(usage.ru_utime) + micros(usage.ru_stime)
}
