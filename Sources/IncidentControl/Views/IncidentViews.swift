/// Incidents and event results as tables and text, from the API's JSON (read leniently).
public enum IncidentViews {
    /// `incidents list`: newest first, as the API answers.
    public static func listTable(_ incidents: [JSONValue]) -> Table {
        Table(
            headers: ["id", "severity", "status", "team", "alerts", "created", "title"],
            rows: incidents.map { i in
                [
                    i["id"].cell, i["severity"].cell, i["status"].cell, i["team"].cell, i["alert_count"].cell, i["created_at"].cell,
                    truncated(i["title"]?.string ?? "-", to: 60),
                ]
            })
    }

    /// `incidents show`: the incident's fields, one per line, then its timeline as a table.
    public static func detailText(_ incident: JSONValue, timeline: JSONValue) -> String {
        var fields: [(String, String)] = [
            ("ID", incident["id"].cell), ("Title", incident["title"].cell), ("Status", incident["status"].cell),
            ("Severity", incident["severity"].cell), ("Category", incident["category"].cell), ("Team", incident["team"].cell),
            ("Assignee", incident["assignee"].cell), ("Source", incident["source"].cell), ("Environment", incident["environment"].cell),
            ("Resource", incident["resource"]?["id"].cell ?? "-"), ("Occurrences", incident["occurrence_count"].cell),
            ("Alerts", incident["alert_count"].cell), ("Escalation level", incident["escalation_level"].cell),
            ("Created", incident["created_at"].cell), ("Acknowledged", actedText(incident["acknowledged_at"], incident["acknowledged_by"])),
            ("Resolved", actedText(incident["resolved_at"], incident["resolution"]?["resolved_by"])),
        ]
        if let rootCause = incident["resolution"]?["root_cause"]?.string, !rootCause.isEmpty { fields.append(("Root cause", rootCause)) }
        if let description = incident["description"]?.string, !description.isEmpty { fields.append(("Description", description)) }
        let width = fields.map(\.0.count).max() ?? 0
        var text = fields.map { Table.pad($0.0 + ":", width: width + 1) + " " + Table.clean($0.1) }.joined(separator: "\n") + "\n"
        let entries = timeline["entries"]?.array ?? []
        text += "\nTimeline (\(entries.count) of \(timeline["total_count"].cell)):\n"
        text += Table(
            headers: ["at", "actor", "kind", "change", "reason"],
            rows: entries.map { [$0["at"].cell, $0["actor"].cell, $0["kind"].cell, $0["change"].cell, $0["reason"].cell] }
        ).rendered()
        return text
    }

    /// `2026-11-25T06:04:00.000Z by user:alice`, or `-`.
    static func actedText(_ at: JSONValue?, _ by: JSONValue?) -> String {
        guard let at = at?.string, !at.isEmpty else { return "-" }
        guard let by = by?.string, !by.isEmpty else { return at }
        return "\(at) by \(by)"
    }

    /// `events send`: one row per event result (`{"results": [...]}` for a batch, else one).
    public static func eventResultsTable(_ answer: JSONValue) -> Table {
        let results = answer["results"]?.array ?? [answer]
        return Table(
            headers: ["outcome", "incident", "event", "message"],
            rows: results.map { [$0["outcome"].cell, $0["incident_id"].cell, $0["event_id"].cell, $0["message"].cell] })
    }
}
