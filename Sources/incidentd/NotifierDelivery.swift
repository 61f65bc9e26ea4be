import ClusterNode
import IncidentCore
import Notifier

/// Connects the node's dispatcher to the Notifier: one attempt per call; the replicated outbox
/// counts attempts and the dispatcher schedules retries.
struct NotifierDelivery: NotificationDelivery {
    let notifier: Notifier

    func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        let notification = OutboundNotification(intent: request.intent, channel: request.channel, incident: request.incident)
        return await notifier.deliver(notification).report
    }

    /// `POST /api/v1/channels/{id}/test`: a synthetic incident through the real channel.
    func test(_ channel: NotificationChannel, now: Timestamp) async -> DeliveryReport {
        let id = IncidentID(number: 0, createdAt: now)
        let intent = NotificationIntent(
            id: 0, incident: id, channel: channel.id, target: .channel, address: "", kind: .triggered, level: 0,
            createdAt: now, updatedAt: now)
        let incident = IncidentSummary(
            id: "\(id)", title: "Test notification from incidentd", description: "A channel test: no incident was opened.",
            severity: .p4, status: .new, source: "incidentd", createdAt: now, updatedAt: now)
        return await notifier.deliver(OutboundNotification(intent: intent, channel: channel, incident: incident)).report
    }
}
