import ArgumentParser

/// `incidentctl snapshot ...`.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Snapshots of the replicated state.", subcommands: [SnapshotSave.self])
}

/// `snapshot save FILE`: `GET /api/v1/cluster/snapshot`, the binary body streamed to FILE
/// atomically (temporary file, fsync, rename); prints its size and the `X-Snapshot-Index` and
/// `X-Snapshot-Term` headers. FILE is untouched unless the whole snapshot arrived.
struct SnapshotSave: ControlCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save the node's latest snapshot to a file.")

    /// A whole snapshot may take this long to arrive (`--timeout-ms` bounds the connect).
    static let transferTimeoutMilliseconds = 3_600_000

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Where to write the snapshot; replaced atomically.") var file: String

    static let request = APIRequest(.GET, "/api/v1/cluster/snapshot")

    func execute(_ session: Session) async throws(ControlError) {
        let writer = try AtomicFileWriter(path: file)
        let response: ControlResponse
        do {
            response = try await session.client.download(
                Self.request, timeoutMilliseconds: max(Self.transferTimeoutMilliseconds, session.settings.requestTimeoutMilliseconds),
                limitBytes: session.settings.maxSnapshotBytes, into: writer.write)
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
        let index = response.headers.first(name: "X-Snapshot-Index")
        let term = response.headers.first(name: "X-Snapshot-Term")
        switch session.output {
        case .json:
            session.printJSON([
                "file": .string(file), "bytes": .int(writer.bytesWritten), "index": index.flatMap { Int64($0) }.map(JSONValue.int) ?? .null,
                "term": term.flatMap { Int64($0) }.map(JSONValue.int) ?? .null, "endpoint": .string(response.endpoint),
            ])
        case .table:
            session.console.print("saved snapshot at index \(index ?? "-") (term \(term ?? "-")) to \(file): \(writer.bytesWritten) bytes")
        }
    }
}
