import ClusterWire
import DevCertificates
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import WireFormat
import XCTest

/// TLS and mutual TLS with DevCertificates: accepted with the cluster CA, refused without a
/// certificate, with a certificate of another CA, and for plain TCP.
final class TLSTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "clusterwire-tls-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// CA + node certificates for ids 1...3 under `directory/name`.
    private func material(_ name: String, requireClientCertificate: Bool = true) throws -> [NodeID: WireTLS] {
        let folder = directory + "/" + name
        let ca = try DevCertificates.makeCA(commonName: "\(name) CA", validDays: 1)
        let caFiles = try ca.writePEM(to: folder)
        var result: [NodeID: WireTLS] = [:]
        for id in NodeID(1)...3 {
            let node = try ca.issueNodeCertificate(nodeName: "node-\(id)", hosts: ["127.0.0.1", "localhost"], validDays: 1)
            let files = try node.writePEM(to: folder)
            result[id] = WireTLS(
                caCertificatePath: caFiles.certificatePath, certificatePath: files.certificatePath,
                privateKeyPath: files.privateKeyPath, requireClientCertificate: requireClientCertificate)
        }
        return result
    }

    func testMutualTLSClusterExchangesMessagesAndRequests() async throws {
        let nodes = try await startCluster(3, tls: try material("cluster"))
        await eventually("mesh over mTLS") { nodes[0].wire.isConnected(to: 3) && nodes[1].wire.isConnected(to: 3) }
        nodes[2].wire.send([Message(from: 3, to: 1, term: 1, body: .heartbeat(commit: 0, context: [1]))])
        await eventually("delivered") { nodes[0].delegate.messages.count == 1 }
        let answer = try await nodes[2].wire.request(.forward, payload: [4], to: 1, timeoutMilliseconds: 5_000)
        XCTAssertEqual(answer, Array("re:".utf8) + [4])
        await shutdownAll(nodes)
    }

    func testBulkReplicationOverMutualTLSArrivesCompleteAndInOrder() async throws {
        let nodes = try await startCluster(2, tls: try material("bulk"))
        await eventually("connected") { nodes[0].wire.isConnected(to: 2) }
        var sent: [Message] = []
        for batch in 0..<100 {
            let messages = (0..<20).map { i -> Message in
                let index = UInt64(batch * 20 + i + 1)
                let data = Array("entry \(index) ".utf8) + Array(repeating: UInt8(truncatingIfNeeded: index), count: 1_000)
                return Message(
                    from: 1, to: 2, term: 1,
                    body: .append(prevIndex: index - 1, prevTerm: 1, entries: [Entry(term: 1, index: index, data: data)], commit: index))
            }
            sent += messages
            nodes[0].wire.send(messages)
        }
        await eventually("all 2,000 delivered") { nodes[1].delegate.messages.count == sent.count }
        XCTAssertEqual(nodes[1].delegate.messages, sent)
        let status = try XCTUnwrap(nodes[0].wire.status(of: 2))
        XCTAssertEqual(status.droppedFrames, 0)
        XCTAssertGreaterThan(status.compressedFrames, 0, "20 KB batches of repetitive entries compress")
        await shutdownAll(nodes)
    }

    func testServerOnlyTLSWorksWithoutClientCertificateRequirement() async throws {
        let nodes = try await startCluster(2, tls: try material("server-only", requireClientCertificate: false))
        await eventually("connected over TLS") { nodes[0].wire.isConnected(to: 2) }
        await shutdownAll(nodes)
    }

    func testCertificateFromAnotherCAIsRefused() async throws {
        let ours = try material("ours")
        let theirs = try material("theirs")
        let two = try await startNode(2, tls: ours[2])
        let one = try await startNode(1, peers: [2: two.address], tls: theirs[1])
        await eventually("TLS failure recorded") { one.wire.status(of: 2)?.lastError != nil }
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertFalse(one.wire.isConnected(to: 2))
        XCTAssertTrue(two.delegate.connectionEvents.isEmpty)
        await shutdownAll([one, two])
    }

    func testDialerWithoutCertificateIsRefused() async throws {
        let tls = try material("no-client-cert")
        let two = try await startNode(2, tls: tls[2])
        // A TLS client that trusts the CA but presents no certificate of its own.
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(tls[2]!.caCertificatePath)
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                }
            }
            .connect(host: loopback, port: two.port).get()
        let hello = WireFrame.handshake(
            Hello(versions: 1...1, nodeID: 1, expectedPeer: 2, clusterID: "test-cluster", region: "", zone: ""))
        channel.writeAndFlush(channel.allocator.buffer(bytes: hello.encoded(compressionThresholdBytes: .max).bytes), promise: nil)
        await eventually("closed by the server") { !channel.isActive }
        XCTAssertTrue(two.delegate.connectionEvents.isEmpty)
        await two.wire.shutdown()
    }

    func testPlainTCPToATLSPortIsRefused() async throws {
        let tls = try material("plain")
        let two = try await startNode(2, tls: tls[2])
        let one = try await startNode(1, peers: [2: two.address])
        await eventually("failure recorded") { one.wire.status(of: 2)?.lastError != nil }
        XCTAssertFalse(one.wire.isConnected(to: 2))
        XCTAssertTrue(two.delegate.connectionEvents.isEmpty)
        await shutdownAll([one, two])
    }

    func testMissingTLSFileIsNamedInTheError() throws {
        let tls = try material("missing")[1]!
        var broken = tls
        broken.privateKeyPath = directory + "/nope-key.pem"
        let config = WireConfig(
            identity: identity(1), listen: PeerAddress(host: loopback, port: 0), peers: [:], tls: broken)
        XCTAssertThrowsError(try ClusterWire(config: config, delegate: RecordingDelegate(), logger: .init(label: "t"))) { error in
            let wireError = error as? WireError
            XCTAssertEqual(wireError?.code, .invalidConfig)
            XCTAssertTrue(wireError?.message.contains("nope-key.pem") == true, "\(String(describing: wireError))")
        }
        var notPEM = tls
        notPEM.caCertificatePath = tls.privateKeyPath
        let config2 = WireConfig(identity: identity(1), listen: PeerAddress(host: loopback, port: 0), peers: [:], tls: notPEM)
        XCTAssertThrowsError(try ClusterWire(config: config2, delegate: RecordingDelegate(), logger: .init(label: "t"))) { error in
            XCTAssertTrue((error as? WireError)?.message.contains(tls.privateKeyPath) == true, "\(error)")
        }
    }

    func testDevCertificatesRoundTripThroughPEM() throws {
        let ca = try DevCertificates.makeCA(commonName: "round trip", validDays: 2)
        let loaded = try CertificateAuthority(certificatePEM: ca.certificatePEM, privateKeyPEM: ca.privateKeyPEM)
        XCTAssertEqual(loaded.certificate, ca.certificate)
        let node = try loaded.issueNodeCertificate(nodeName: "n", hosts: ["::1", "node.example"], validDays: 1)
        XCTAssertEqual(node.certificate.issuer, ca.certificate.subject)
        XCTAssertTrue(node.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertThrowsError(try ca.issueNodeCertificate(nodeName: "n", hosts: [], validDays: 1))
        XCTAssertThrowsError(try DevCertificates.makeCA(commonName: "x", validDays: 0))
        let other = try DevCertificates.makeCA(commonName: "other", validDays: 1)
        XCTAssertThrowsError(try CertificateAuthority(certificatePEM: ca.certificatePEM, privateKeyPEM: other.privateKeyPEM))
    }
}
