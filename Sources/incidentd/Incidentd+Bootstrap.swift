import ClusterNode
import Foundation
import IncidentAPI
import IncidentCore
import Logging

extension Incidentd {
    static func bootstrapLogging(_ settings: Settings) -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let json = settings.logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "incidentd")
        logger.logLevel = level
        return logger
    }

    /// The wall clock, or the drill clock when `--clock-offset-file` is set (announced loudly:
    /// a node whose time can be moved must never run in production by accident).
    static func nodeClock(_ settings: Settings, logger: Logger) -> @Sendable () -> Int64 {
        guard !settings.clockOffsetFile.isEmpty else { return { Int64(Date().timeIntervalSince1970 * 1_000) } }
        let drill = DrillClock(path: settings.clockOffsetFile, logger: logger)
        logger.warning(
            "drill clock: this node's time is the wall clock plus the offset in the clock offset file (testing only)",
            metadata: ["path": "\(settings.clockOffsetFile)", "offset_ms": "\(drill.offsetMilliseconds())"])
        return { drill.now() }
    }

    /// First start: create an admin API key, print it once (only its hash is stored).
    /// `INCIDENTD_BOOTSTRAP_ADMIN_KEY` sets (or rotates to) a known secret for automation.
    static func bootstrapAdminKey(node: IncidentNode, logger: Logger) async throws {
        if let secret = ProcessInfo.processInfo.environment["INCIDENTD_BOOTSTRAP_ADMIN_KEY"], !secret.isEmpty {
            let changed = try await provisionAPIKey(on: node, id: "bootstrap-admin", name: "bootstrap admin", role: .admin, secret: secret)
            if changed { logger.info("admin API key set from INCIDENTD_BOOTSTRAP_ADMIN_KEY (id bootstrap-admin)") }
            return
        }
        let keys = try await node.read { $0.state.machine.config.count(.apiKey) }
        guard keys == 0 else { return }
        let secret = APIKeySecret.generate()
        _ = try await provisionAPIKey(on: node, id: "bootstrap-admin", name: "bootstrap admin", role: .admin, secret: secret)
        // Printed once, on standard output, so scripts can capture it; it is not stored anywhere.
        let notice = "incidentd: created the first admin API key (shown only now, store it safely):\n\n    \(secret)\n\n"
        FileHandle.standardOutput.write(Data(notice.utf8))
    }

    /// The OpenAPI document: the configured path, or docs/api/openapi.json found from the working
    /// directory or from the executable's directory upwards (a source checkout).
    static func findOpenAPIDocument(_ configured: String) -> String? {
        let fm = FileManager.default
        if !configured.isEmpty { return configured }
        var candidates = [fm.currentDirectoryPath + "/docs/api/openapi.json"]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent("docs/api/openapi.json").path)
            directory = directory.deletingLastPathComponent()
        }
        return candidates.first { fm.fileExists(atPath: $0) }
    }
}
