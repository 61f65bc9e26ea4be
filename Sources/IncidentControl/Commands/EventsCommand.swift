import ArgumentParser
import Foundation

/// `incidentctl events ...`.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Send events.", subcommands: [EventsSend.self])
}

/// `events send`: `POST /api/v1/events` with one event built from the flags, or the JSON of
/// `--file` (an event or an array of events; `-` reads standard input) with the flags set on
/// top of it. Prints each event's outcome and incident id.
struct EventsSend: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "send", abstract: "Send an event (or a batch from a file).")

    /// Larger files are refused before anything is sent (the server's own limit is 1 MiB).
    static let maxFileBytes = 8 << 20

    @OptionGroup var global: GlobalOptions
    @Option(help: "The event's title.") var title: String?
    @Option(help: "Who sends it (e.g. llm-sentinel).") var source: String?
    @Option(help: "Severity: P0–P4, critical/error/warning/info, ...") var severity: String?
    @Option(help: "The affected service (the event's resource).") var service: String?
    @Option(name: .customLong("dedup-key"), help: "Events with the same key count as one incident.") var dedupKey: String?
    @Option(help: "A JSON file holding an event or an array of events; - reads standard input.") var file: String?

    func validate() throws {
        if file == nil {
            guard source?.isEmpty == false else { throw ValidationError("--source is required (or give --file)") }
            guard title?.isEmpty == false else { throw ValidationError("--title is required (or give --file)") }
        }
    }

    /// The fields the flags set, as they appear in an event.
    var flagFields: [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if let title { fields["title"] = .string(title) }
        if let source { fields["source"] = .string(source) }
        if let severity { fields["severity"] = .string(severity) }
        if let service { fields["resource"] = ["type": "service", "id": .string(service), "name": .string(service)] }
        if let dedupKey { fields["dedup_key"] = .string(dedupKey) }
        return fields
    }

    /// The request body: `fileBytes` as they are when no flag is given, else the file's event(s)
    /// (or an empty event) with the flags' fields set.
    func body(fileBytes: [UInt8]?) throws(ControlError) -> [UInt8] {
        let fields = flagFields
        guard let fileBytes else { return JSONValue.object(fields).bytes }
        guard let parsed = JSONValue(parsing: fileBytes) else { throw .file(file ?? "-", "is not valid JSON") }
        if fields.isEmpty { return fileBytes }
        switch parsed {
        case .object(let event): return JSONValue.object(event.merging(fields) { $1 }).bytes
        case .array(let events):
            var merged: [JSONValue] = []
            for event in events {
                guard case .object(let object) = event else { throw .file(file ?? "-", "holds an array with a non-object element") }
                merged.append(.object(object.merging(fields) { $1 }))
            }
            return JSONValue.array(merged).bytes
        default: throw .file(file ?? "-", "must hold an event object or an array of events")
        }
    }

    /// The file's bytes (`-`: standard input), nil without `--file`.
    func readFile(_ console: Console) throws(ControlError) -> [UInt8]? {
        guard let file else { return nil }
        let bytes: [UInt8]
        if file == "-" {
            do { bytes = try console.readInput() } catch { throw .file("-", "cannot read standard input: \(error)") }
        } else {
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int else { throw .file(file, "cannot be read") }
            guard size <= Self.maxFileBytes else { throw .file(file, "is larger than \(Self.maxFileBytes) bytes") }
            guard let data = FileManager.default.contents(atPath: file) else { throw .file(file, "cannot be read") }
            bytes = Array(data)
        }
        guard bytes.count <= Self.maxFileBytes else { throw .file(file, "is larger than \(Self.maxFileBytes) bytes") }
        return bytes
    }

    func request(body: [UInt8]) -> APIRequest {
        APIRequest(.POST, "/api/v1/events", body: body, idempotencyKey: UUID().uuidString.lowercased())
    }

    func execute(_ session: Session) async throws(ControlError) {
        let response = try await session.client.send(request(body: try body(fileBytes: try readFile(session.console))))
        let answer = try response.json()
        switch session.output {
        case .json: session.printJSON(answer)
        case .table: session.printTable(IncidentViews.eventResultsTable(answer))
        }
    }
}
