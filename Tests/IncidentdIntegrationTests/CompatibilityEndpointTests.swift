import Foundation
import IncidentdTesting
import XCTest

/// Anything that can page PagerDuty or post to Alertmanager can page incidentd: the payloads
/// below are shaped like PagerDuty's Events API v2 and Alertmanager's webhook (v4) and
/// `POST /api/v2/alerts` documentation, and the answers must be exactly what those senders expect.
final class CompatibilityEndpointTests: IncidentdTestCase {
    /// An ingest-only key created over the API; PagerDuty senders use it as the routing key.
    private func ingestKey(_ node: IncidentdNode) async throws -> String {
        let created = try await node.admin.post("/api/v1/api-keys", #"{"name": "monitoring", "role": "ingest"}"#)
        XCTAssertEqual(created.status, 201, "\(created)")
        return try XCTUnwrap(created.json["secret"]?.string, "\(created)")
    }

    func testPagerDutyEventsV2TriggerAcknowledgeResolveFollowTheDedupKey() async throws {
        let node = try await startedNode()
        let routingKey = try await ingestKey(node)
        let anonymous = node.client(key: nil)

        // PagerDuty's documented trigger example (routing key aside).
        let trigger = #"""
            {
              "payload": {
                "summary": "Example alert on host1.example.com",
                "timestamp": "2015-07-17T08:42:58.315+0000",
                "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
                "severity": "critical",
                "component": "postgres",
                "group": "prod-datapipe",
                "class": "deploy",
                "custom_details": {"ping time": "1500ms", "load avg": 0.75}
              },
              "routing_key": "\#(routingKey)",
              "dedup_key": "samplekeyhere",
              "images": [{"src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png", "href": "https://example.com/", "alt": "Example text"}],
              "links": [{"href": "https://example.com/", "text": "Link text"}],
              "event_action": "trigger",
              "client": "Sample Monitoring Service",
              "client_url": "https://monitoring.example.com"
            }
            """#
        let triggered = try await anonymous.post("/v2/enqueue", trigger)
        XCTAssertEqual(triggered.status, 202, "\(triggered)")
        XCTAssertEqual(triggered.json, ["status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"])

        let open = try await node.admin.get("/api/v1/incidents?source=pagerduty&status=open")
        let incidents = open.json["incidents"]?.array ?? []
        XCTAssertEqual(incidents.count, 1, "\(open)")
        let incident = try XCTUnwrap(incidents.first)
        let id = try XCTUnwrap(incident["id"]?.string)
        XCTAssertEqual(incident["title"], "Example alert on host1.example.com")
        XCTAssertEqual(incident["severity"], "P0", "PagerDuty critical is P0")
        XCTAssertEqual(incident["fingerprint"], "k:samplekeyhere")
        XCTAssertEqual(incident["labels"], ["component": "postgres", "group": "prod-datapipe", "class": "deploy"])
        XCTAssertEqual(incident["first_seen"], "2015-07-17T08:42:58.315Z", "PagerDuty's +0000 offset is read")

        // A repeat of the trigger folds into the open incident.
        let repeated = try await anonymous.post("/v2/enqueue", trigger)
        XCTAssertEqual(repeated.status, 202)
        let afterRepeat = try await node.admin.get("/api/v1/incidents/\(id)")
        XCTAssertEqual(afterRepeat.json["occurrence_count"], 2)

        let acknowledge = #"{"routing_key": "\#(routingKey)", "dedup_key": "samplekeyhere", "event_action": "acknowledge"}"#
        let acknowledged = try await anonymous.post("/v2/enqueue", acknowledge)
        XCTAssertEqual(acknowledged.status, 202, "\(acknowledged)")
        XCTAssertEqual(acknowledged.json, ["status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"])
        let afterAck = try await node.admin.get("/api/v1/incidents/\(id)")
        XCTAssertEqual(afterAck.json["status"], "acknowledged")

        let resolve = #"{"routing_key": "\#(routingKey)", "dedup_key": "samplekeyhere", "event_action": "resolve"}"#
        let resolvedAnswer = try await anonymous.post("/v2/enqueue", resolve)
        XCTAssertEqual(resolvedAnswer.status, 202)
        XCTAssertEqual(resolvedAnswer.json, ["status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"])
        let afterResolve = try await node.admin.get("/api/v1/incidents/\(id)")
        XCTAssertEqual(afterResolve.json["status"], "resolved")

        // A trigger without a dedup_key gets a fresh one, in the answer.
        let fresh = try await anonymous.post(
            "/v2/enqueue",
            #"{"routing_key": "\#(routingKey)", "event_action": "trigger", "payload": {"summary": "Disk 95% full", "source": "db-2", "severity": "warning"}}"#)
        XCTAssertEqual(fresh.status, 202)
        XCTAssertEqual(fresh.json.keys, ["status", "message", "dedup_key"])
        XCTAssertFalse(fresh.json["dedup_key"]?.string?.isEmpty ?? true)

        // PagerDuty's 400: every problem listed, and an unknown routing key is an invalid event.
        let invalid = try await anonymous.post(
            "/v2/enqueue", #"{"routing_key": "\#(routingKey)", "event_action": "trigger", "payload": {"summary": "", "severity": "fatal"}}"#)
        XCTAssertEqual(invalid.status, 400, "\(invalid)")
        XCTAssertEqual(invalid.json["status"], "invalid event")
        XCTAssertEqual(invalid.json["message"], "Event object is invalid")
        XCTAssertEqual(invalid.json.keys, ["status", "message", "errors"])
        XCTAssertEqual(
            invalid.json["errors"],
            [
                "'payload.summary' is missing or blank", "'payload.source' is missing or blank",
                "'payload.severity' must be one of critical, error, warning, info",
            ])
        let unknownKey = try await anonymous.post("/v2/enqueue", trigger.replacingOccurrences(of: routingKey, with: "not-a-key"))
        XCTAssertEqual(unknownKey.status, 400)
        XCTAssertEqual(unknownKey.json, ["status": "invalid event", "message": "Event object is invalid", "errors": ["Invalid routing key"]])
    }

    static let labels = #"{"alertname": "HighRequestLatency", "severity": "critical", "service": "chat-api", "instance": "10.0.0.7:9090", "job": "llm-gateway"}"#

    static func webhook(status: String, endsAt: String = "0001-01-01T00:00:00Z") -> String {
        #"""
        {
          "version": "4",
          "groupKey": "{}:{alertname=\"HighRequestLatency\"}",
          "truncatedAlerts": 0,
          "status": "\#(status)",
          "receiver": "incidentd",
          "groupLabels": {"alertname": "HighRequestLatency"},
          "commonLabels": \#(labels),
          "commonAnnotations": {"summary": "High request latency on chat-api"},
          "externalURL": "http://alertmanager.example.com:9093",
          "alerts": [
            {
              "status": "\#(status)",
              "labels": \#(labels),
              "annotations": {"summary": "High request latency on chat-api", "description": "p99 latency is 4.2s (threshold 2s)"},
              "startsAt": "2026-11-25T06:00:00.000Z",
              "endsAt": "\#(endsAt)",
              "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=latency"
            }
          ]
        }
        """#
    }

    func testAlertmanagerWebhookAndV2AlertsOpenDeduplicateAndResolveOneIncident() async throws {
        let node = try await startedNode()
        let ingest = node.client(key: try await ingestKey(node))

        // Prometheus posting to us as one of its alertmanagers: 200 with an empty body.
        let alerts = #"""
            [{"labels": \#(Self.labels), "annotations": {"summary": "High request latency on chat-api"},
              "startsAt": "2026-11-25T06:00:00Z", "generatorURL": "http://prometheus.example.com:9090/graph"}]
            """#
        let posted = try await ingest.post("/api/v2/alerts", alerts)
        XCTAssertEqual(posted.status, 200, "\(posted)")
        XCTAssertEqual(posted.body, [], "Alertmanager answers an empty body")

        // The same alert through the webhook receiver is the same incident (Alertmanager's fingerprint).
        let fired = try await ingest.post("/api/v1/integrations/alertmanager", Self.webhook(status: "firing"))
        XCTAssertEqual(fired.status, 202, "\(fired)")
        XCTAssertEqual(fired.json.keys, ["status", "results"])
        XCTAssertEqual(fired.json["status"], "accepted")
        let result = try XCTUnwrap(fired.json["results"]?[0])
        XCTAssertEqual(result.keys, ["status", "event_id", "incident_id", "outcome", "fingerprint", "message", "links"])
        XCTAssertEqual(result["outcome"], "deduplicated", "\(result)")
        let id = try XCTUnwrap(result["incident_id"]?.string)
        XCTAssertEqual(result["links"], ["incident": .string("/api/v1/incidents/\(id)")])

        let incident = try await node.admin.get("/api/v1/incidents/\(id)")
        XCTAssertEqual(incident.json["title"], "High request latency on chat-api")
        XCTAssertEqual(incident.json["severity"], "P0")
        XCTAssertEqual(incident.json["source"], "alertmanager")
        XCTAssertEqual(incident.json["occurrence_count"], 2)
        XCTAssertEqual(incident.json["labels"]?["instance"], "10.0.0.7:9090")

        // Resolved through the webhook.
        let resolved = try await ingest.post(
            "/api/v1/integrations/alertmanager", Self.webhook(status: "resolved", endsAt: "2026-11-25T06:30:00.000Z"))
        XCTAssertEqual(resolved.status, 202, "\(resolved)")
        XCTAssertEqual(resolved.json["results"]?[0]?["outcome"], "resolved")
        let afterWebhookResolve = try await node.admin.get("/api/v1/incidents/\(id)")
        XCTAssertEqual(afterWebhookResolve.json["status"], "resolved")

        // Fires again via /api/v2/alerts (a new incident), then resolves there: endsAt in the past.
        _ = try await ingest.post("/api/v2/alerts", alerts)
        let reopened = try await node.admin.get("/api/v1/incidents?source=alertmanager&status=open")
        let newID = try XCTUnwrap(reopened.json["incidents"]?[0]?["id"]?.string, "\(reopened)")
        XCTAssertNotEqual(newID, id)
        let ended = #"[{"labels": \#(Self.labels), "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2020-01-01T00:10:00Z"}]"#
        let endedAnswer = try await ingest.post("/api/v2/alerts", ended)
        XCTAssertEqual(endedAnswer.status, 200)
        let afterEnded = try await node.admin.get("/api/v1/incidents/\(newID)")
        XCTAssertEqual(afterEnded.json["status"], "resolved", "an alert whose endsAt has passed resolves")

        // Alertmanager's own error for a bad alert: 400 naming the field, and nothing applied.
        let missingName = try await ingest.post("/api/v2/alerts", #"[{"labels": {"severity": "warning"}}]"#)
        XCTAssertEqual(missingName.status, 400, "\(missingName)")
        XCTAssertEqual(missingName.json["error"]?["details"]?["field"], "[0].labels.alertname")
    }
}
