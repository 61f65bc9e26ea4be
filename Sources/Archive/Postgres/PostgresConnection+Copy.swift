import CLibPQ

extension PostgresConnection {
    /// Runs `sql` (a `COPY table (columns) FROM STDIN` statement, text format) and streams
    /// `data` to it in chunks of `options.copyChunkBytes`. Returns the number of rows copied.
    ///
    /// A row the server rejects fails the whole COPY (nothing of it is stored); the error
    /// carries the server's SQLSTATE and, in `detail`/`message`, the offending line.
    @discardableResult
    public func copyIn(_ sql: String, data: CopyBuffer) throws -> Int {
        let handle = try openHandle()
        let deadline = makeDeadline()
        guard PQsendQuery(handle, sql) == 1 else { throw failure(.unexpectedResponse) }
        try flush(handle, deadline: deadline)
        try enterCopyMode(handle, deadline: deadline)
        try data.bytes.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { characters in
                var offset = 0
                while offset < characters.count {
                    let length = min(options.copyChunkBytes, characters.count - offset)
                    switch PQputCopyData(handle, characters.baseAddress! + offset, Int32(length)) {
                    case 1: offset += length
                    case 0: try waitToSend(handle, deadline: deadline)  // output buffer full: retry the chunk
                    default: throw failure(.connectionLost)
                    }
                }
            }
        }
        while true {
            switch PQputCopyEnd(handle, nil) {
            case 1: break
            case 0:
                try waitToSend(handle, deadline: deadline)
                continue
            default: throw failure(.connectionLost)
            }
            break
        }
        try flush(handle, deadline: deadline)
        return try copyOutcome(handle, deadline: deadline)
    }

    /// `copyIn` for rows already held as strings (nil is NULL).
    @discardableResult
    public func copyIn(_ sql: String, rows: [[String?]]) throws -> Int {
        var buffer = CopyBuffer()
        for row in rows {
            for field in row { buffer.append(field) }
            buffer.endRow()
        }
        return try copyIn(sql, data: buffer)
    }

    /// Reads the first result after sending a COPY: it must say the server awaits data.
    private func enterCopyMode(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws {
        guard let first = try nextResult(handle, deadline: deadline) else {
            throw PostgresError(code: .unexpectedResponse, message: "no result for the COPY statement", isConnectionBroken: closeIfBroken())
        }
        let status = PQresultStatus(first)
        guard status != PGRES_COPY_IN else {
            PQclear(first)
            return
        }
        var error =
            status == PGRES_FATAL_ERROR
            ? serverError(first)
            : PostgresError(
                code: .unexpectedResponse, message: "expected COPY FROM STDIN, got \(String(cString: PQresStatus(status)))",
                isConnectionBroken: false)
        PQclear(first)
        if status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
            close()  // mid-copy in the other direction: the protocol state is not ours to fix
        } else {
            while let more = try nextResult(handle, deadline: deadline) { PQclear(more) }
        }
        error.isConnectionBroken = closeIfBroken()
        throw error
    }

    /// Waits until libpq can take more data, reading whatever the server sent meanwhile.
    private func waitToSend(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws {
        try waitForSocket(handle, writing: true, deadline: deadline)
        guard PQconsumeInput(handle) == 1 else { throw failure(.connectionLost) }
        guard PQflush(handle) >= 0 else { throw failure(.connectionLost) }
    }

    /// The COPY's final result: the row count, or the server's error.
    private func copyOutcome(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws -> Int {
        var rows = 0
        var firstError: PostgresError?
        while let result = try nextResult(handle, deadline: deadline) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if status == PGRES_COPY_IN {
                // Only after a lost connection does libpq stay in COPY mode here; never loop on it.
                close()
                throw PostgresError(code: .connectionLost, message: "\(redactedURL): COPY did not end", isConnectionBroken: true)
            } else if firstError == nil {
                firstError = serverError(result)
            }
        }
        if var firstError {
            firstError.isConnectionBroken = closeIfBroken()
            throw firstError
        }
        return rows
    }
}
