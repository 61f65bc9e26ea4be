import CoreMetrics
import IncidentCore

/// Delivery counters and latency, through whatever swift-metrics backend the node bootstrapped.
///
/// - `incidentd_deliveries_total{channel, result}`: one per attempt; `result` is `delivered`,
///   `retryable_failure` or `permanent_failure`.
/// - `incidentd_delivery_seconds{channel}`: attempt duration (fast-failed attempts included).
///
/// Handlers are made once per label set at start (4 channel types × 3 results), so recording
/// allocates nothing.
struct DeliveryMetrics: Sendable {
    static let deliveriesLabel = "incidentd_deliveries_total"
    static let durationLabel = "incidentd_delivery_seconds"

    private let counters: [ChannelType: [String: any CounterHandler]]
    private let timers: [ChannelType: any TimerHandler]

    init(factory: any MetricsFactory) {
        var counters: [ChannelType: [String: any CounterHandler]] = [:]
        var timers: [ChannelType: any TimerHandler] = [:]
        for type in ChannelType.allCases {
            var byResult: [String: any CounterHandler] = [:]
            for result in ["delivered", "retryable_failure", "permanent_failure"] {
                byResult[result] = factory.makeCounter(
                    label: Self.deliveriesLabel, dimensions: [("channel", type.name), ("result", result)])
            }
            counters[type] = byResult
            timers[type] = factory.makeTimer(label: Self.durationLabel, dimensions: [("channel", type.name)])
        }
        self.counters = counters
        self.timers = timers
    }

    func record(_ type: ChannelType, _ result: Result<Void, DeliveryError>, nanoseconds: Int64) {
        let name: String
        switch result {
        case .success: name = "delivered"
        case .failure(let error): name = error.isRetryable ? "retryable_failure" : "permanent_failure"
        }
        counters[type]?[name]?.increment(by: 1)
        timers[type]?.recordNanoseconds(nanoseconds)
    }
}
