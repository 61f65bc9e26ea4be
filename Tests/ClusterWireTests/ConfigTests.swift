@testable import ClusterWire
import XCTest

/// Config and limits validation, and the backoff schedule.
final class ConfigTests: XCTestCase {
    func testDefaultsAreValid() throws {
        try WireLimits.default.validate()
        XCTAssertEqual(WireLimits.default.maxFrameBytes, 16 << 20)
    }

    func testInvalidLimitsAreRejected() {
        var cases: [WireLimits] = []
        var limits = WireLimits.default
        limits.maxFrameBytes = 100
        cases.append(limits)
        limits = .default
        limits.maxQueuedBytesPerPeer = limits.maxFrameBytes - 1
        cases.append(limits)
        limits = .default
        limits.idleTimeoutMilliseconds = limits.pingIntervalMilliseconds
        cases.append(limits)
        limits = .default
        limits.reconnectBackoffMaxMilliseconds = 1
        cases.append(limits)
        limits = .default
        limits.maxPendingRequestsPerPeer = 0
        cases.append(limits)
        for limits in cases {
            XCTAssertThrowsError(try limits.validate()) { XCTAssertEqual(($0 as? WireError)?.code, .invalidConfig) }
        }
    }

    func testInvalidConfigIsRejected() {
        let listen = PeerAddress(host: "127.0.0.1", port: 0)
        let bad: [WireConfig] = [
            WireConfig(identity: WireIdentity(clusterID: "c", nodeID: 0, region: "", zone: ""), listen: listen, peers: [:]),
            WireConfig(identity: WireIdentity(clusterID: "", nodeID: 1, region: "", zone: ""), listen: listen, peers: [:]),
            WireConfig(
                identity: WireIdentity(clusterID: "c", nodeID: 1, region: String(repeating: "r", count: 256), zone: ""), listen: listen,
                peers: [:]),
            WireConfig(identity: identity(1), listen: PeerAddress(host: "", port: 1), peers: [:]),
            WireConfig(identity: identity(1), listen: listen, peers: [2: PeerAddress(host: "127.0.0.1", port: 0)]),
            WireConfig(identity: identity(1), listen: listen, peers: [2: PeerAddress(host: "127.0.0.1", port: 70_000)]),
        ]
        var delayed = [WireConfig(identity: identity(1), listen: listen, peers: [:]), WireConfig(identity: identity(1), listen: listen, peers: [:])]
        delayed[0].sendDelays = ["eu-west": -1]
        delayed[1].sendDelays = ["eu-west": WireConfig.maxSendDelayMilliseconds + 1]
        for config in bad + delayed {
            XCTAssertThrowsError(try config.validate()) { XCTAssertEqual(($0 as? WireError)?.code, .invalidConfig) }
        }
    }

    func testBindFailureIsTyped() async throws {
        let first = try await startNode(1)
        let clash = try ClusterWire(
            config: WireConfig(identity: identity(2), listen: first.address, peers: [:]), delegate: RecordingDelegate(),
            logger: .init(label: "clash"))
        await assertWireError(.bindFailed) { try await clash.start() }
        await clash.shutdown()
        await first.wire.shutdown()
    }

    func testBackoffDoublesWithJitterUpToTheMaximum() {
        var backoff = ReconnectBackoff(minimumMilliseconds: 50, maximumMilliseconds: 2_000)
        var random = SystemRandomNumberGenerator()
        let ceilings = [50, 100, 200, 400, 800, 1_600, 2_000, 2_000]
        for ceiling in ceilings {
            let delay = backoff.nextDelayMilliseconds(using: &random)
            XCTAssertTrue((ceiling / 2)...ceiling ~= delay, "\(delay) outside \(ceiling / 2)...\(ceiling)")
        }
        backoff.reset()
        XCTAssertLessThanOrEqual(backoff.nextDelayMilliseconds(using: &random), 50)
        XCTAssertEqual(ReconnectBackoff.ceiling(min: 1 << 40, max: Int.max, failures: 100), Int.max)
    }

    func testPeerAddressDescription() {
        XCTAssertEqual(PeerAddress(host: "::1", port: 7).description, "[::1]:7")
        XCTAssertEqual(PeerAddress(host: "10.0.0.1", port: 7).description, "10.0.0.1:7")
    }
}
