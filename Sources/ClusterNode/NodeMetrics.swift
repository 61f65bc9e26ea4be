import CoreMetrics
import Foundation
import IncidentCore

/// The node's Prometheus series (exported through swift-metrics by the executable).
struct NodeMetrics: Sendable {
    let appendLatency = Timer(label: "incidentd_log_append_seconds")
    let appendedEntries = Counter(label: "incidentd_log_entries_total")
    let batchCommands = Recorder(label: "incidentd_batch_commands")
    let commandsApplied = Counter(label: "incidentd_commands_total", dimensions: [("result", "ok")])
    let commandsRejected = Counter(label: "incidentd_commands_total", dimensions: [("result", "rejected")])

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
