import Logging

/// A PostgresConnection opened on first use and opened again after it broke. ArchiveStore and
/// ArchiveAnalytics each own one; neither retries a failed operation by itself (the caller
/// decides when to try again), but the next call after a broken connection reconnects.
final class ReconnectingConnection {
    let url: String
    let password: PostgresPassword?
    let options: PostgresConnection.Options
    let logger: Logger
    let redactedURL: String
    private var connection: PostgresConnection?

    init(url: String, password: PostgresPassword?, options: PostgresConnection.Options, logger: Logger) throws {
        try options.validate()
        self.url = url
        self.password = password
        self.options = options
        self.logger = logger
        redactedURL = ConnectionString.redacted(url)
    }

    /// Runs `body` on a live connection. When it fails with the connection broken, the
    /// connection is dropped so that the next call opens a new one.
    func use<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try current()
        do {
            return try body(connection)
        } catch {
            if !connection.isConnected {
                logger.warning("archive connection lost", metadata: ["url": "\(redactedURL)", "error": "\(error)"])
                self.connection = nil
            }
            throw error
        }
    }

    func close() {
        connection?.close()
        connection = nil
    }

    private func current() throws -> PostgresConnection {
        if let connection, connection.isConnected { return connection }
        connection = nil
        let opened = try PostgresConnection(url: url, password: password, options: options, logger: logger)
        logger.info("archive connected", metadata: ["url": "\(redactedURL)", "server_version": "\(opened.serverVersion)"])
        connection = opened
        return opened
    }
}
