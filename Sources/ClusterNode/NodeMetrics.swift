import CoreMetrics
import Foundation
import IncidentCore

/// The node's Prometheus series (exported through swift-metrics by the executable).
struct NodeMetrics: Sendable {
    let appendLatency = Timer(label: "incidentd_log_append_seconds")
    /// How long the consensus loop's turns take (everything a turn does: stepping, proposing,
    /// the log append, sending, applying, answering), for diagnosing stalls.
    let turnDuration = Timer(label: "incidentd_loop_turn_seconds")
    let appendedEntries = Counter(label: "incidentd_log_entries_total")
    /// Commits a follower learnt from the leader's answers to writes it forwarded (`Raft.learnCommitted`).
    let commitsLearnedFromAnswers = Counter(label: "incidentd_commits_learned_from_answers_total")
    let batchCommands = Recorder(label: "incidentd_batch_commands")
    let commandsApplied = Counter(label: "incidentd_commands_total", dimensions: [("result", "ok")])
    let commandsRejected = Counter(label: "incidentd_commands_total", dimensions: [("result", "rejected")])
    let logBytes = Gauge(label: "incidentd_log_bytes")
    let snapshotBytes = Gauge(label: "incidentd_snapshot_bytes")
    let appliedIndex = Gauge(label: "incidentd_applied_index")
    let outboxDepth = Gauge(label: "incidentd_outbox_depth")
    let pendingTimers = Gauge(label: "incidentd_pending_timers")
    let isLeader = Gauge(label: "incidentd_is_leader")
    let archiveLagEntries = Gauge(label: "incidentd_archive_lag_entries")
    let archiveLagSeconds = Gauge(label: "incidentd_archive_lag_seconds")

    /// Updates the state gauges (cheap: called once per loop turn at most every tick).
    func observe(_ status: NodeStatus) {
        logBytes.record(status.logBytes)
        snapshotBytes.record(status.snapshotBytes)
        appliedIndex.record(Int(status.appliedIndex))
        outboxDepth.record(status.outboxDepth)
        pendingTimers.record(status.pendingTimers)
        isLeader.record(status.role == .leader ? 1 : 0)
        if status.archiveEnabled {
            archiveLagEntries.record(Int(status.archiveLagEntries))
            archiveLagSeconds.record(Double(status.archiveLagMilliseconds) / 1_000)
        }
    }

    func appended(entries: Int, nanoseconds: UInt64) {
        appendLatency.recordNanoseconds(Int64(nanoseconds))
        appendedEntries.increment(by: entries)
    }

    func batchProposed(commands: Int, bytes: Int) { batchCommands.record(commands) }

    func applied(_ outcome: Outcome) {
        switch outcome {
        case .success: commandsApplied.increment()
        case .failure: commandsRejected.increment()
        }
    }
}
