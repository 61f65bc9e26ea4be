import RaftCore

/// The fault mix and size of one simulated run. Every probability is per simulation step.
public struct SimulationConfig: Sendable {
    public var seed: UInt64
    public var voters = 3
    /// Steps of faulty operation, followed by `settleSteps` of a healed, quiet network.
    public var steps = 3_000
    public var settleSteps = 1_500
    /// A member ticks every `stepsPerTick` steps (messages are delivered every step).
    public var stepsPerTick = 2
    public var proposalProbability = 0.3
    public var readProbability = 0.05
    /// Each run draws its loss rate uniformly from `0...maxDropProbability`.
    public var maxDropProbability = 0.3
    public var duplicateProbability = 0.02
    /// Each directed link delays by a fixed 0...maxDelaySteps steps, plus jitter; duplicates
    /// take any delay, so messages are reordered.
    public var maxDelaySteps = 4
    /// Rarely a message is held up much longer (a stuck buffer); it may arrive after its
    /// receiver restarted, or after its sender lost leadership.
    public var longDelayProbability = 0.01
    public var maxLongDelaySteps = 80
    public var crashProbability = 0.002
    /// Chance that a member crashes right after granting a vote (and restarts a step
    /// later): the moment a forgotten vote would let it vote twice in one term.
    public var crashAfterVoteProbability = 0.1
    /// Chance that a crash tears the Ready being written.
    public var tornWriteProbability = 0.5
    public var restartAfterSteps = 200
    public var partitionProbability = 0.002
    public var healAfterSteps = 300
    /// Share of partitions that cut one direction only.
    public var asymmetricPartitionShare = 0.3
    /// Chance that a member stops (no ticks, no messages) for up to `maxPauseSteps`.
    public var pauseProbability = 0.002
    public var maxPauseSteps = 100
    /// Chance that one member's clock jumps ahead by up to an election timeout of ticks.
    public var clockJumpProbability = 0.002
    /// Chance of a leadership transfer request or a membership change (learner add/promote/remove).
    public var transferProbability = 0.001
    public var membershipProbability = 0.004
    public var snapshotInterval: LogIndex = 64
    public var retainedEntries: LogIndex = 8
    public var snapshotPadding = 3_000
    /// Members release snapshot data and reload it on demand, as ClusterNode does (every other
    /// seed, so both ways are simulated).
    public var releasesSnapshotData: Bool
    /// Members sync each log write later and keep stepping meanwhile, as ClusterNode does (half
    /// the seeds, crossed with `releasesSnapshotData`).
    public var defersSyncs: Bool
    /// With `defersSyncs`: members hold the next Ready back after each sync and apply meanwhile
    /// what committed and is durable, as ClusterNode does under load (half of those seeds).
    public var holdsReadies: Bool
    /// Leaders leave commit announcements to the driver (`RaftConfig.deferCommitAnnouncements`),
    /// which makes them after a random delay, as ClusterNode does after a fixed one (half the
    /// seeds, crossed with the two above).
    public var defersCommitAnnouncements: Bool

    /// A deliberately broken disk that forgets votes: the checker must catch the double votes
    /// this allows (it proves the checker can fail).
    public var skipVotePersistence = false
    /// A deliberately broken driver that sends every message before its write is durable, not
    /// only a leader's `earlyMessages`: votes and acknowledgements of torn writes get out, and
    /// the checker must catch what that allows.
    public var sendEverythingBeforeWriting = false
    /// Pre-vote on the members (on by default, as in production).
    public var preVote = true

    /// Print every fault, leader change and configuration change as it happens.
    public var trace = false

    public init(seed: UInt64) {
        self.seed = seed
        releasesSnapshotData = seed % 2 == 1
        defersSyncs = seed / 2 % 2 == 1
        defersCommitAnnouncements = seed / 4 % 2 == 1
        holdsReadies = defersSyncs && seed / 8 % 2 == 1
    }

    /// RaftConfig tweaks: small chunks so snapshot transfers span several messages.
    var configure: @Sendable (inout RaftConfig) -> Void {
        let preVote = self.preVote
        let defersCommitAnnouncements = self.defersCommitAnnouncements
        return { config in
            config.preVote = preVote
            config.deferCommitAnnouncements = defersCommitAnnouncements
            config.snapshotChunkBytes = 1_024
            config.maxInflightBytes = 4_096
            config.maxSizePerMessageBytes = 256
            config.maxInflightMessages = 8
        }
    }
}

/// What a simulated run did and found.
public struct SimulationReport: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var violations: [String]
    public var proposed = 0
    public var acknowledged = 0
    public var committedIndex: LogIndex = 0
    public var leaderTerms = 0
    public var crashes = 0
    public var pauses = 0
    public var dropProbability = 0.0
    public var tornWrites = 0
    public var partitions = 0
    public var snapshotsInstalled = 0
    public var readsServed = 0
    public var membershipChanges = 0
    public var messagesDelivered = 0
    /// Commit hints (`Raft.learnCommitted`) that moved a member's commit index.
    public var commitsLearnedFromHints = 0

    public var isSafe: Bool { violations.isEmpty }

    public var description: String {
        var lines = [
            "seed \(seed): loss \(Int(dropProbability * 100))%, proposed \(proposed), acknowledged \(acknowledged), committed index \(committedIndex), "
                + "\(leaderTerms) leader terms, \(crashes) crashes (\(tornWrites) torn), \(partitions) partitions, \(pauses) pauses, \(readsServed) reads, "
                + "\(membershipChanges) membership changes, \(snapshotsInstalled) snapshot transfers, \(messagesDelivered) messages, "
                + "\(commitsLearnedFromHints) commits learnt from hints"
        ]
        lines += violations.map { "  VIOLATION: \($0)" }
        return lines.joined(separator: "\n")
    }
}
