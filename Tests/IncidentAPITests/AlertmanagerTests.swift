import HTTPTypes
import IncidentCore
import XCTest

@testable import IncidentAPI

/// The Alertmanager webhook receiver (payload version 4) and Alertmanager's own
/// `POST /api/v2/alerts`, with payloads shaped like Alertmanager's and Prometheus's docs.
final class AlertmanagerTests: XCTestCase {
    static let labels = #"{"alertname":"HighRequestLatency","severity":"critical","service":"chat-api","instance":"10.0.0.7:9090","job":"llm-gateway"}"#

    static func webhook(status: String, alertStatus: String, endsAt: String = "0001-01-01T00:00:00Z", fingerprint: String? = nil) -> String {
        let fingerprintField = fingerprint.map { #","fingerprint":"\#($0)""# } ?? ""
        return #"""
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
                  "status": "\#(alertStatus)",
                  "labels": \#(labels),
                  "annotations": {"summary": "High request latency on chat-api", "description": "p99 latency is 4.2s (threshold 2s)"},
                  "startsAt": "2026-11-25T06:00:00.000Z",
                  "endsAt": "\#(endsAt)",
                  "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=latency"\#(fingerprintField)
                }
              ]
            }
            """#
    }

    func testTheFingerprintIsAlertmanagers() {
        // prometheus/common model tests: this label set has fingerprint 5799056148416392346.
        let expected = String(UInt64(5_799_056_148_416_392_346), radix: 16)
        XCTAssertEqual(Endpoints.alertmanagerFingerprint(["name": "garland, briggs", "fear": "love is not enough"]), expected)
        XCTAssertEqual(Endpoints.alertmanagerFingerprint([:]), String(UInt64(14_695_981_039_346_656_037), radix: 16))
        XCTAssertEqual(Endpoints.alertmanagerFingerprint(["a": "1"]).count, 16, "zero-padded to 16 hex digits")
    }

    func testAFiringAlertOpensAnIncidentRepeatsDeduplicateAndResolvedResolves() async throws {
        try await withAPI { client, harness in
            let fired = try await client.post("/api/v1/integrations/alertmanager", as: .ingest, Self.webhook(status: "firing", alertStatus: "firing"))
            XCTAssertEqual(fired.status, .accepted, fired.text)
            XCTAssertEqual(fired.json["results"]?[0]?["outcome"]?.string, "created")
            let id = try XCTUnwrap(IncidentID(fired.json["results"]?[0]?["incident_id"]?.string ?? ""))
            let incident = try await harness.node.read { $0.state.machine.incident(id) }
            XCTAssertEqual(incident?.title, "High request latency on chat-api")
            XCTAssertEqual(incident?.description, "p99 latency is 4.2s (threshold 2s)")
            XCTAssertEqual(incident?.severity, .p0)
            XCTAssertEqual(incident?.source, "alertmanager")
            XCTAssertEqual(incident?.labels["instance"], "10.0.0.7:9090")
            XCTAssertEqual(incident?.resource.id, "chat-api")

            // Alertmanager re-sends firing alerts every repeat interval.
            let repeated = try await client.post("/api/v1/integrations/alertmanager", as: .ingest, Self.webhook(status: "firing", alertStatus: "firing"))
            XCTAssertEqual(repeated.json["results"]?[0]?["outcome"]?.string, "deduplicated")

            let resolved = try await client.post(
                "/api/v1/integrations/alertmanager", as: .ingest,
                Self.webhook(status: "resolved", alertStatus: "resolved", endsAt: "2026-11-25T06:30:00.000Z"))
            XCTAssertEqual(resolved.json["results"]?[0]?["outcome"]?.string, "resolved")
            let status = try await harness.node.read { $0.state.machine.incident(id)?.status }
            XCTAssertEqual(status, .resolved)
        }
    }

    func testTheWebhookFingerprintIsTheDedupKeyWhenPresent() async throws {
        try await withAPI { client, harness in
            _ = try await client.post(
                "/api/v1/integrations/alertmanager", as: .ingest, Self.webhook(status: "firing", alertStatus: "firing", fingerprint: "c6f1a2e4d3b2a190"))
            let incident = try await harness.node.read { $0.state.machine.openIncident(fingerprint: .key("alertmanager:c6f1a2e4d3b2a190")) }
            XCTAssertNotNil(incident)
        }
    }

    func testPrometheusPostingToApiV2AlertsGets200AndTheSameIncident() async throws {
        try await withAPI { client, harness in
            // As Prometheus sends them: endsAt in the future while firing.
            let firing = #"[{"labels":\#(Self.labels),"annotations":{"summary":"High request latency on chat-api"},"startsAt":"2026-11-25T06:00:00Z","endsAt":"2099-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph"}]"#
            let response = try await client.post("/api/v2/alerts", as: .ingest, firing)
            XCTAssertEqual(response.status, .ok, response.text)
            XCTAssertEqual(response.bytes, [])
            let labels: [String: String] = [
                "alertname": "HighRequestLatency", "severity": "critical", "service": "chat-api", "instance": "10.0.0.7:9090", "job": "llm-gateway",
            ]
            let key = Fingerprint.key("alertmanager:" + Endpoints.alertmanagerFingerprint(labels))
            let opened = try await harness.node.read { $0.state.machine.openIncident(fingerprint: key) }
            let incident = try XCTUnwrap(opened)

            // The same alert through the webhook lands in the same incident.
            let viaWebhook = try await client.post("/api/v1/integrations/alertmanager", as: .ingest, Self.webhook(status: "firing", alertStatus: "firing"))
            XCTAssertEqual(viaWebhook.json["results"]?[0]?["incident_id"]?.string, incident.id.description)

            let resolvedAlert = #"[{"labels":\#(Self.labels),"startsAt":"2026-11-25T06:00:00Z","endsAt":"2026-11-25T06:10:00Z"}]"#
            let resolved = try await client.post("/api/v2/alerts", as: .ingest, resolvedAlert)
            XCTAssertEqual(resolved.status, .ok)
            let status = try await harness.node.read { $0.state.machine.incident(incident.id)?.status }
            XCTAssertEqual(status, .resolved, "an endsAt in the past resolves")
        }
    }

    func testAlertsWithoutAnAlertnameAreRefused() async throws {
        try await withAPI { client, harness in
            let response = try await client.post("/api/v2/alerts", as: .ingest, #"[{"labels":{"alertname":"A"}},{"labels":{"severity":"warning"}}]"#)
            XCTAssertEqual(response.status, .badRequest)
            XCTAssertEqual(response.errorField, "[1].labels.alertname")
            let notArray = try await client.post("/api/v2/alerts", as: .ingest, #"{"labels":{"alertname":"A"}}"#)
            XCTAssertEqual(notArray.status, .badRequest)
            let noAlerts = try await client.post("/api/v1/integrations/alertmanager", as: .ingest, #"{"version":"4","alerts":[]}"#)
            XCTAssertEqual(noAlerts.status, .badRequest)
            XCTAssertEqual(noAlerts.errorField, "alerts")
            let count = try await harness.node.read { $0.state.machine.incidentCount }
            XCTAssertEqual(count, 0)
        }
    }
}
