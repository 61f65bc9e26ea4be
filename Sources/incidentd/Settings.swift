import Foundation

/// Every setting of `incidentd`, resolved in this order: command-line flag, then environment
/// variable (`INCIDENTD_` + the name in upper case, e.g. `INCIDENTD_DATA_DIR`), then the JSON
/// configuration file (`--config`; keys are the snake_case names below), then the default.
/// `incidentd --help` lists them with their defaults; docs/CONFIGURATION.md explains each.
struct Settings: Sendable, Equatable {
    var dataDir = "./data"
    var host = "127.0.0.1"
    var port = 8080
    var logLevel = "info"
    var logFormat = "text"
    var tickIntervalMs = 100
    var snapshotEveryEntries = 50_000
    var maxBatchCommands = 1_024
    var maxBodyBytes = 1 << 20
    var rateLimitRps = 100.0
    var rateLimitBurst = 200.0
    var dashboardUrl = ""
    var deliveryTimeoutMs = 5_000
    var maxDeliveryConcurrency = 64
    var openapiPath = ""
    /// Drill/testing only: the node's clock is the wall clock plus the milliseconds in this file
    /// (`DrillClock`). Empty = the wall clock.
    var clockOffsetFile = ""

    /// Keys accepted in the configuration file (and, upper-cased, after `INCIDENTD_`).
    static let keys = [
        "data_dir", "host", "port", "log_level", "log_format", "tick_interval_ms", "snapshot_every_entries",
        "max_batch_commands", "max_body_bytes", "rate_limit_rps", "rate_limit_burst", "dashboard_url",
        "delivery_timeout_ms", "max_delivery_concurrency", "openapi_path", "clock_offset_file",
    ]

    /// Applies one named value (from the file or the environment); throws naming the source.
    mutating func set(_ key: String, _ value: String, source: String) throws {
        func int() throws -> Int {
            guard let n = Int(value) else { throw SettingsError("\(source): \(key) must be an integer, got \"\(value)\"") }
            return n
        }
        func double() throws -> Double {
            guard let n = Double(value) else { throw SettingsError("\(source): \(key) must be a number, got \"\(value)\"") }
            return n
        }
        switch key {
        case "data_dir": dataDir = value
        case "host": host = value
        case "port": port = try int()
        case "log_level": logLevel = value
        case "log_format": logFormat = value
        case "tick_interval_ms": tickIntervalMs = try int()
        case "snapshot_every_entries": snapshotEveryEntries = try int()
        case "max_batch_commands": maxBatchCommands = try int()
        case "max_body_bytes": maxBodyBytes = try int()
        case "rate_limit_rps": rateLimitRps = try double()
        case "rate_limit_burst": rateLimitBurst = try double()
        case "dashboard_url": dashboardUrl = value
        case "delivery_timeout_ms": deliveryTimeoutMs = try int()
        case "max_delivery_concurrency": maxDeliveryConcurrency = try int()
        case "openapi_path": openapiPath = value
        case "clock_offset_file": clockOffsetFile = value
        default: throw SettingsError("\(source): unknown setting \"\(key)\" (known: \(Self.keys.joined(separator: ", ")))")
        }
    }

    /// Reads a JSON object of settings; values may be strings, numbers or booleans.
    mutating func load(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw SettingsError("cannot read configuration file \(path)") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw SettingsError("\(path): not valid JSON: \(error.localizedDescription)")
        }
        guard let settings = object as? [String: Any] else { throw SettingsError("\(path): the top level must be a JSON object") }
        for key in settings.keys.sorted() {
            let raw = settings[key]!
            let text: String
            switch raw {
            case let s as String: text = s
            case let n as NSNumber: text = n.stringValue
            default: throw SettingsError("\(path): \(key) must be a string or a number")
            }
            try set(key, text, source: path)
        }
    }

    mutating func loadEnvironment(_ environment: [String: String]) throws {
        for key in Self.keys {
            if let value = environment["INCIDENTD_" + key.uppercased()] { try set(key, value, source: "INCIDENTD_\(key.uppercased())") }
        }
    }

    func validate() throws {
        guard (1...65_535).contains(port) else { throw SettingsError("port must be 1–65535, got \(port)") }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw SettingsError("log_level must be trace|debug|info|notice|warning|error|critical, got \(logLevel)")
        }
        guard ["text", "json"].contains(logFormat) else { throw SettingsError("log_format must be text or json, got \(logFormat)") }
        guard deliveryTimeoutMs > 0, maxDeliveryConcurrency > 0 else { throw SettingsError("delivery settings must be positive") }
    }
}

/// A configuration problem, reported before anything starts.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
