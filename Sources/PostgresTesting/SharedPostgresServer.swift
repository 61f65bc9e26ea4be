import Foundation
import Locking
import Synchronization

/// One throwaway server shared by the tests of a class: started on first use, stopped by
/// `stop()` (a class's `tearDown`). Tests share it through separate databases or cluster ids.
///
/// When the PostgreSQL binaries are missing `get()` throws a `PostgresServerError` with
/// `binariesMissing`; a test must then fail under `CI=true` (`isRequired`: CI installs the
/// server and must run these tests) and may skip elsewhere.
public final class SharedPostgresServer: Sendable {
    private let options: PostgresServer.Options
    private let server = Lock<PostgresServer?>(nil)
    private let databaseCounter = Atomic<Int>(0)

    public init(options: PostgresServer.Options = PostgresServer.Options()) {
        self.options = options
    }

    /// Whether a missing server is a failure here (CI) rather than a reason to skip.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    public func get() throws -> PostgresServer {
        try server.withLock { server in
            if let server { return server }
            let started = try PostgresServer.start(options: options)
            server = started
            return started
        }
    }

    /// A new, empty database on the shared server; returns its URL.
    public func freshDatabase(prefix: String = "test") throws -> String {
        let number = databaseCounter.wrappingAdd(1, ordering: .relaxed).newValue
        return try get().createDatabase("\(prefix)_\(ProcessInfo.processInfo.processIdentifier)_\(number)")
    }

    public func stop() {
        server.withLock { server in
            server?.cleanup()
            server = nil
        }
    }
}
