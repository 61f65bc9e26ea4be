import Foundation
import IncidentdTesting
import Locking
import XCTest

/// What an operator sees when starting the process: the first admin key on standard output,
/// the drill option in `--help`, and a clear refusal naming the file when the configuration is
/// wrong. (A corrupt data directory: `CorruptDataDirectoryTests`.)
final class StartupTests: IncidentdTestCase {
    func testAnInvalidConfigurationFileIsRefusedNamingTheFile() async throws {
        let node = try IncidentdNode(cleanup: cleanup)
        let cases: [(name: String, contents: String, expected: String)] = [
            ("broken.json", #"{"port": 8080, "data_dir": "#, "not valid JSON"),
            ("wrong-type.json", #"{"port": "eighty"}"#, #"port must be an integer, got "eighty""#),
            ("unknown-key.json", #"{"prot": 8080}"#, #"unknown setting "prot""#),
            ("not-an-object.json", #"[8080]"#, "the top level must be a JSON object"),
        ]
        for (name, contents, expected) in cases {
            let file = "\(node.root)/\(name)"
            try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
            let run = try node.launch(arguments: ["--config", file, "--data-dir", node.dataDirectory])
            let exited = await run.waitForExit(seconds: 20)
            XCTAssertTrue(exited, "\(name): the node started with an invalid configuration file")
            XCTAssertNotEqual(run.exitStatus, 0, name)
            let message = run.standardError
            XCTAssertTrue(message.contains(file), "\(name): the message does not name the file: \(message)")
            XCTAssertTrue(message.contains(expected), "\(name): expected \"\(expected)\" in: \(message)")
        }
        let missing = "\(node.root)/absent.json"
        let run = try node.launch(arguments: ["--data-dir", node.dataDirectory], environment: ["INCIDENTD_CONFIG": missing])
        _ = await run.waitForExit(seconds: 20)
        XCTAssertNotEqual(run.exitStatus, 0)
        XCTAssertTrue(run.standardError.contains("cannot read configuration file \(missing)"), run.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: node.dataDirectory + "/raft"), "nothing is created before the settings are valid")
    }

    func testBadClusterSettingsAreRefusedNamingTheSetting() async throws {
        let node = try IncidentdNode(cleanup: cleanup)
        let peer = try IncidentdProcess.freeLoopbackPort()
        let cases: [(arguments: [String], environment: [String: String], expected: String)] = [
            (["--peers", "1=127.0.0.1:\(peer)@eu"], [:], "peer_listen is required"),
            (["--peer-listen", "127.0.0.1:\(peer)", "--peers", "2=127.0.0.1:9@eu"], [:], "peers must include this node"),
            (["--peer-listen", "127.0.0.1:\(peer)", "--peers", "1=nohost@eu"], [:], "is not id=host:port@region"),
            (["--peer-listen", "127.0.0.1:\(peer)", "--tls-ca", "/nonexistent/ca.pem"], [:], "tls_ca, tls_cert and tls_key go together"),
            (["--peer-listen", "127.0.0.1:\(peer)"], ["INCIDENTD_WIRE_MAX_FRAME_BYTES": "12"], "maxFrameBytes"),
            (["--peer-listen", "127.0.0.1:\(peer)", "--tls-ca", "/nonexistent/ca.pem", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"], [:], "/nonexistent/"),
            (["--snapshot-nice", "25"], [:], "snapshot_nice must be 0–19, got 25"),
            ([], ["INCIDENTD_SNAPSHOT_REUSE_BYTES": "-1"], "snapshot_reuse_bytes must be 0–17179869184 (16 GiB), got -1"),
            ([], ["INCIDENTD_SNAPSHOT_LOG_RATIO": "-1"], "snapshot_log_ratio must be 0–100, got -1"),
            (["--snapshot-every-entries", "0"], [:], "snapshot_every_entries must be positive, got 0"),
            ([], ["INCIDENTD_SNAPSHOT_EVERY_BYTES": "4096"], "snapshot_every_bytes must be at least 1048576 (1 MiB), got 4096"),
            (["--commit-announcement-delay-us", "100001"], [:], "commit_announcement_delay_us must be 0–100000, got 100001"),
            (["--peer-send-delay-ms", "eu=40"], [:], "peer_send_delay_ms needs peer_listen (a cluster)"),
            (["--forward-batches-in-flight", "0"], [:], "forward_batches_in_flight must be 1–64, got 0"),
            ([], ["INCIDENTD_FORWARD_WAIT_US": "1000001"], "forward_wait_us must be 0–1000000, got 1000001"),
            (["--peer-listen", "127.0.0.1:\(peer)", "--peer-send-delay-ms", "eu:40"], [:], "peer_send_delay_ms: \"eu:40\" is not region=milliseconds"),
            (["--peer-listen", "127.0.0.1:\(peer)"], ["INCIDENTD_PEER_SEND_DELAY_MS": "eu=1001"], "peer_send_delay_ms: eu must be 0–1000 ms, got 1001"),
            (["--peer-listen", "127.0.0.1:\(peer)", "--peer-send-delay-ms", "eu=4,eu=5"], [:], "peer_send_delay_ms: eu is listed twice"),
        ]
        for (arguments, environment, expected) in cases {
            let run = try node.launch(arguments: ["--data-dir", node.dataDirectory, "--port", String(node.port)] + arguments, environment: environment)
            let exited = await run.waitForExit(seconds: 20)
            XCTAssertTrue(exited, "\(arguments): started")
            XCTAssertNotEqual(run.exitStatus, 0, "\(arguments)")
            XCTAssertTrue(run.standardError.contains(expected), "\(arguments): expected \"\(expected)\" in: \(run.standardError.suffix(1_000))")
        }
    }

    func testTheFirstStartPrintsAnAdminKeyThatWorksAndLaterStartsDoNot() async throws {
        let node = try IncidentdNode(cleanup: cleanup)
        try await node.start(environment: [:])
        let output = try XCTUnwrap(node.process?.standardOutput)
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let key = try XCTUnwrap(lines.first { !$0.isEmpty && !$0.contains(" ") && !$0.hasPrefix("incidentd") }, "no key in: \(output)")
        XCTAssertTrue(output.contains("created the first admin API key"), output)
        let cluster = try await node.client(key: key).get("/api/v1/cluster")
        XCTAssertEqual(cluster.status, 200, "the printed key does not work: \(cluster)")

        await node.stop()
        try await node.start(environment: [:])
        XCTAssertEqual(node.process?.standardOutput, "", "a second start printed another key")
        let again = try await node.client(key: key).get("/api/v1/cluster")
        XCTAssertEqual(again.status, 200, "the first key stopped working after a restart")
    }

    func testTheNodeReportsJemallocAsItsAllocator() async throws {
        // The incidentd next to tests built with --sanitize=thread (scripts/tsan.sh) is built so
        // too, and ThreadSanitizer's runtime serves malloc itself.
        try XCTSkipIf(ThreadSanitizer.isActive, "under ThreadSanitizer, whose runtime replaces malloc")
        let node = try IncidentdNode(cleanup: cleanup)
        try await node.start(environment: ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": IncidentdNode.adminKey, "MALLOC_CONF": ""])
        XCTAssertTrue(
            node.logs.contains("allocator: jemalloc 5.") && node.logs.contains("(dirty_decay_ms 1000, muzzy_decay_ms 0, background_thread true)"),
            node.logs.suffix(2_000).description)
        await node.stop()

        // An operator's MALLOC_CONF overrides the compiled-in options.
        try await node.start(environment: ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": IncidentdNode.adminKey, "MALLOC_CONF": "dirty_decay_ms:5000"])
        XCTAssertTrue(node.logs.contains("(dirty_decay_ms 5000, muzzy_decay_ms 0, background_thread true)"), node.logs.suffix(2_000).description)
    }

    func testJSONLogLinesCarryMillisecondsAndSnapshotsSayWhereTheirTimeWent() async throws {
        let node = try await startedNode(["--log-format", "json", "--snapshot-every-entries", "4"])
        for i in 0..<8 {
            let posted = try await node.admin.post("/api/v1/events", #"{"source": "log-test", "title": "event \#(i)"}"#)
            XCTAssertEqual(posted.status, 202, "\(posted)")
        }
        let lines = await eventually { node.logs.contains("snapshot taken") } ? node.logs.split(separator: "\n") : []
        let objects = lines.compactMap { line -> [String: String]? in
            guard line.hasPrefix("{") else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        }
        XCTAssertFalse(objects.isEmpty, node.logs.suffix(2_000).description)
        for object in objects {
            let stamp = object["ts"] ?? ""
            XCTAssertNotNil(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/), "no milliseconds: \(stamp)")
        }
        let snapshot = try XCTUnwrap(objects.first { $0["msg"] == "snapshot taken" }, node.logs.suffix(2_000).description)
        let field = { (name: String) in UInt64(snapshot[name] ?? "") }
        let encode = try XCTUnwrap(field("encode_ms"), "\(snapshot)")
        let write = try XCTUnwrap(field("write_ms"), "\(snapshot)")
        let cpu = try XCTUnwrap(field("cpu_ms"), "\(snapshot)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(field("encode_cpu_ms"), "\(snapshot)"), cpu, "\(snapshot)")
        // Each part is truncated to whole milliseconds; the whole is at least their sum.
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(field("since_start_ms"), "\(snapshot)"), encode + write, "\(snapshot)")
    }

    /// A node's later snapshots copy the incidents an earlier one encoded, unless
    /// `snapshot_reuse_bytes` is 0; the state restores from them either way.
    func testLaterSnapshotsReuseUnchangedIncidentsEncodingsUnlessTurnedOff() async throws {
        for reuse in [true, false] {
            let node = try await startedNode(["--log-format", "json", "--snapshot-every-entries", "3"] + (reuse ? [] : ["--snapshot-reuse-bytes", "0"]))
            for i in 0..<12 {
                let posted = try await node.admin.post("/api/v1/events", #"{"source": "reuse-test", "title": "incident \#(i)"}"#)
                XCTAssertEqual(posted.status, 202, "\(posted)")
            }
            let snapshots = { () -> [[String: String]] in
                node.logs.split(separator: "\n").compactMap { line -> [String: String]? in
                    guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] else { return nil }
                    return object["msg"] == "snapshot taken" ? object : nil
                }
            }
            let enough = await eventually { snapshots().count >= 3 }
            XCTAssertTrue(enough, node.logs.suffix(3_000).description)
            let counts = snapshots().map {
                (reused: Int($0["incidents_reused"] ?? "") ?? -1, encoded: Int($0["incidents_encoded"] ?? "") ?? -1, kept: Int($0["kept_bytes"] ?? "") ?? -1)
            }
            XCTAssertFalse(counts.contains { $0.reused < 0 || $0.encoded < 0 || $0.kept < 0 }, "\(snapshots())")
            if reuse {
                let last = try XCTUnwrap(counts.last)
                XCTAssertGreaterThan(last.reused, 0, "a later snapshot reused earlier incidents: \(counts)")
                XCTAssertTrue(counts.allSatisfy { $0.reused + $0.encoded == 0 || $0.kept > 0 }, "every snapshot with incidents kept encodings: \(counts)")
                // Each event opened a new incident and changed no earlier one: a snapshot reuses
                // every incident the one before it held, and encodes only the new ones.
                for (before, after) in zip(counts, counts.dropFirst()) {
                    XCTAssertEqual(after.reused, before.reused + before.encoded, "\(counts)")
                }
            } else {
                XCTAssertTrue(counts.allSatisfy { $0.reused == 0 && $0.kept == 0 }, "nothing reused or kept: \(counts)")
            }
            await node.stop()
            try await node.start()
            let listed = try await node.admin.get("/api/v1/incidents?source=reuse-test&limit=100")
            XCTAssertEqual(listed.json["incidents"]?.array?.count, 12, "after a restart from the snapshots: \(listed)")
        }
    }

    func testHelpDocumentsTheClockOffsetDrillOption() async throws {
        let node = try IncidentdNode(cleanup: cleanup)
        let run = try node.launch(arguments: ["--help"])
        _ = await run.waitForExit(seconds: 20)
        XCTAssertEqual(run.exitStatus, 0)
        let help = run.standardOutput
        XCTAssertTrue(help.contains("--clock-offset-file"), help)
        XCTAssertTrue(help.contains("Drill/testing only"), help)
    }

    func testTheDrillClockMovesTheTimeTheNodeStampsOnEvents() async throws {
        // Set through the environment this time (the other tests pass --clock-offset-file).
        let node = try IncidentdNode(cleanup: cleanup)
        let arguments = ["--host", "127.0.0.1", "--port", String(node.port), "--data-dir", node.dataDirectory]
        try await node.start(
            arguments: arguments,
            environment: ["INCIDENTD_BOOTSTRAP_ADMIN_KEY": IncidentdNode.adminKey, "INCIDENTD_CLOCK_OFFSET_FILE": node.clockOffsetFile])
        XCTAssertTrue(node.logs.contains("drill clock"), "the drill clock is not announced: \(node.logs)")
        let threeDays: Int64 = 3 * 24 * 3_600_000
        try node.advanceClock(byMilliseconds: threeDays)
        try await Task.sleep(nanoseconds: 150_000_000)  // past the 50 ms re-read interval
        let posted = try await node.admin.post("/api/v1/events", #"{"source": "llm-sentinel", "title": "stamped in the future"}"#)
        let id = try XCTUnwrap(posted.json["incident_id"]?.string, "\(posted)")
        let incident = try await node.admin.get("/api/v1/incidents/\(id)")
        let created = try XCTUnwrap(incident.json["created_at"]?.string)
        let firstSeen = try XCTUnwrap(incident.json["first_seen"]?.string)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for stamp in [created, firstSeen] {
            let date = try XCTUnwrap(formatter.date(from: stamp), stamp)
            let skew = abs(Int64(date.timeIntervalSince1970 * 1_000) - node.nodeTimeMilliseconds)
            XCTAssertLessThan(skew, 60_000, "\(stamp) is not the node's drill time")
        }
    }
}
