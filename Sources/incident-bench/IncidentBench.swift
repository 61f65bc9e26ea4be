import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `incident-bench`: HTTP load for `incidentd` (or, `--target etcd`, etcd's v3 JSON gateway, for
/// a side-by-side comparison) on this machine. Posts requests over keep-alive HTTP/1.1
/// connections, closed loop (`--connections N`) or at a fixed rate (`--rate R`, latency from each
/// request's intended send time), checks every answer and prints throughput and latency percentiles.
@main
struct IncidentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident-bench",
        abstract: "Load generator for incidentd (or etcd): closed loop or fixed rate, every answer checked.",
        discussion: """
            Every request is POST <endpoint><path> with a native event (or, with --batch, an array of events). An \
            answer counts as valid when its status is 202 and its body contains "accepted"; anything else, a lost \
            connection, a timeout or (fixed rate) a request never sent is a failure. The exit status is 1 when failures \
            exceed --max-failures, 3 when the endpoints cannot be reached. Only loopback endpoints are accepted.

            Event i has key i % --distinct (in its title and resource id, with the run tag), so the first --distinct \
            events of a run open incidents and the rest repeat them (dedup); --distinct 0 makes every event new.

            --target etcd: every request is POST <endpoint>/v3/kv/put with {"key": base64("bench/<run-tag>/<i>"), \
            "value": base64(<--value-bytes bytes>)} and no API key; an answer is valid when its status is 200 and its \
            body contains "header". Every put writes a new key.
            """)

    @Option(help: "What the endpoints are: incidentd (native events) or etcd (v3 JSON gateway puts).")
    var target = BenchTarget.Kind.incidentd
    @Option(help: "Comma-separated loopback endpoints; connections are spread over them round-robin.")
    var endpoints = "http://127.0.0.1:8080"
    @Option(help: "Request path (default /api/v1/events; /v3/kv/put with --target etcd).") var path: String?
    @Option(name: .customLong("api-key"), help: "API key with the ingest role, sent as X-API-Key (env INCIDENT_BENCH_API_KEY).")
    var apiKey: String?
    @Option(name: [.customLong("connections"), .customLong("concurrency")], help: "Connections, each with at most one request in flight.")
    var connections = 64
    @Option(help: "Fixed rate in requests per second (open loop). Without it: closed loop.") var rate: Double?
    @Option(help: "Seconds to issue requests for (default 10 unless --requests is given).") var duration: Double?
    @Option(help: "Number of requests to send instead of a duration.") var requests: Int?
    @Option(help: "Events per request (1 sends an object, more an array; at most 1000; incidentd only).") var batch = 1
    @Option(help: "Distinct incident keys per run (0: every event opens an incident; incidentd only).") var distinct = 1_000
    @Option(name: .customLong("value-bytes"), help: "Bytes of every put's value before base64 (--target etcd only; default 256).")
    var valueBytes: Int?
    @Option(name: .customLong("run-tag"), help: "Tag in every key, [a-z0-9-] (default: random, so each run opens new incidents).")
    var runTag: String?
    @Option(name: .customLong("timeout-ms"), help: "Per-request timeout; a timed-out connection is closed and reopened.")
    var timeoutMs = 10_000
    @Option(name: .customLong("max-reconnects"), help: "Reopened connections allowed per thread during the run.")
    var maxReconnects = 100
    @Option(help: "Event-loop threads of the generator.") var threads = 1
    @Option(name: .customLong("max-failures"), help: "Failures tolerated before the exit status is 1.") var maxFailures = 0
    @Option(name: .customLong("webhook-listen"), help: ArgumentHelp(
        "End-to-end mode: run a webhook receiver at this loopback http://HOST:PORT and time each event to its incident's first page.",
        discussion: "incidentd must already page that URL for these events (see cluster/bench-webhook.sh). Needs --distinct 0."))
    var webhookListen: String?
    @Option(name: .customLong("webhook-wait"), help: "Seconds to wait for the last pages after the load ends.") var webhookWait = 30.0
    @Option(name: .customLong("acked-file"), help: "Write the key of every acknowledged event to this file, one per line (needs --distinct 0).")
    var ackedFile: String?
    @Option(name: .customLong("timeline-ms"), help: ArgumentHelp(
        "Also report the answers by window of this many milliseconds (of their intended send time): count, slow ones, max.",
        discussion: "Places bursts of slow answers in time; the report gives the wall-clock start of window 0."))
    var timelineMs: Int?
    @Option(name: .customLong("timeline-slow-ms"), help: "What counts as slow in --timeline-ms windows (default 20).") var timelineSlowMs = 20.0
    @Flag(help: "Print the report as JSON.") var json = false

    func makePlan() throws(BenchError) -> BenchPlan {
        guard duration == nil || requests == nil else { throw BenchError(.badArgument, "give --duration or --requests, not both") }
        let tag = runTag ?? String(UInt32.random(in: 0x10_0000...0xff_ffff), radix: 16)
        guard !tag.isEmpty, tag.count <= 32, tag.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
            throw BenchError(.badArgument, "--run-tag must be 1–32 characters of [a-z0-9-]")
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["INCIDENT_BENCH_API_KEY"] ?? ""
        let benchTarget: BenchTarget
        switch target {
        case .incidentd:
            guard valueBytes == nil else { throw BenchError(.badArgument, "--value-bytes applies to --target etcd only") }
            benchTarget = .incidentd
        case .etcd:
            benchTarget = .etcd(try EtcdPutBodies(runTag: tag, valueBytes: valueBytes ?? 256))
        }
        let plan = BenchPlan(
            target: benchTarget,
            pace: rate.map { .fixedRate(perSecond: $0) } ?? .closedLoop,
            stop: requests.map { .afterRequests($0) } ?? .afterSeconds(duration ?? 10),
            connections: connections, threads: threads,
            endpoints: try Endpoint.list(endpoints, maxCount: BenchPlan.maxEndpoints), path: path ?? benchTarget.defaultPath, apiKey: key,
            // etcd: every put has its own key, which the report shows as --distinct 0.
            bodies: EventBodies(distinct: target == .etcd ? 0 : distinct, batch: batch, runTag: tag),
            timeoutNanoseconds: UInt64(max(0, timeoutMs)) * 1_000_000, maxReconnects: maxReconnects)
        var checked = plan
        if let webhookListen { checked.webhookListen = try Endpoint(parsing: webhookListen) }
        checked.webhookWaitSeconds = webhookWait
        checked.ackedFile = ackedFile
        if let timelineMs {
            guard timelineMs > 0 else { throw BenchError(.badArgument, "--timeline-ms must be 1–60000") }
            checked.timelineWindowNanos = UInt64(timelineMs) * 1_000_000
            guard timelineSlowMs > 0, timelineSlowMs <= 600_000 else { throw BenchError(.badArgument, "--timeline-slow-ms must be in (0, 600000]") }
            checked.timelineSlowMicros = UInt64(timelineSlowMs * 1_000)
        }
        try checked.validate()
        return checked
    }

    func run() async throws {
        let plan: BenchPlan
        do { plan = try makePlan() } catch { throw ValidationError(error.message) }
        let tally: LoadTally
        let cpuBefore = Self.processCPUSeconds()
        var sink: WebhookSink?
        do {
            if let listen = plan.webhookListen { sink = try await WebhookSink.start(on: listen, bodies: plan.bodies) }
            tally = try await Self.drive(plan)
        } catch let error as BenchError {
            await sink?.stop()
            FileHandle.standardError.write(Data("incident-bench: \(error)\n".utf8))
            throw ExitCode(3)
        }
        var report = BenchReport(plan: plan, tally: tally, clientCPUSeconds: Self.processCPUSeconds() - cpuBefore)
        if let ackedFile = plan.ackedFile {
            let lines = tally.acknowledged.keys.sorted().map { "\(plan.bodies.runTag)-\($0)\n" }.joined()
            do { try lines.write(toFile: ackedFile, atomically: true, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("incident-bench: cannot write \(ackedFile): \(error)\n".utf8))
                throw ExitCode(3)
            }
        }
        if let sink {
            _ = await sink.waitForPages(of: tally.acknowledged.keys, upTo: plan.webhookWaitSeconds)
            // A moment more for duplicates that would follow the first pages.
            try? await Task.sleep(nanoseconds: 500_000_000)
            report.addWebhook(acknowledged: tally.acknowledged, arrivals: sink.current)
            await sink.stop()
        }
        print(json ? try report.json() : report.text)
        if report.failures > maxFailures {
            FileHandle.standardError.write(Data("incident-bench: \(report.failures) failures, more than --max-failures \(maxFailures)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// One driver per event-loop thread: connect them all, start them at one instant, merge.
    static func drive(_ plan: BenchPlan) async throws -> LoadTally {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        do {
            let loops = Array(group.makeIterator())
            var drivers: [NIOLoopBound<LoadDriver>] = []
            for (index, loop) in loops.enumerated() {
                let share = plan.share(index)
                drivers.append(try await loop.submit { NIOLoopBound(LoadDriver(plan: plan, share: share, loop: loop), eventLoop: loop) }.get())
            }
            for (driver, loop) in zip(drivers, loops) { try await loop.flatSubmit { driver.value.connectAll() }.get() }
            // A common start a little ahead, so every driver's schedule begins at the same instant.
            let now = NIODeadline.now().uptimeNanoseconds
            let wallClockMillis = Date().timeIntervalSince1970 * 1_000
            let start = now + 20_000_000
            let runs = zip(drivers, loops).map { driver, loop in loop.flatSubmit { driver.value.run(startNanos: start) } }
            var tally = LoadTally()
            for run in runs { tally.merge(try await run.get()) }
            tally.startUnixMillis = wallClockMillis + 20
            try await group.shutdownGracefully()
            return tally
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// CPU time of the whole process (all threads), to show the generator's own load.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

extension BenchTarget.Kind: ExpressibleByArgument {}
