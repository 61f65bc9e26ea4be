import DevCertificates
import Foundation
import XCTest

/// `incidentctl certs`: a development CA and node certificates, files that incidentd loads
/// (the cluster integration tests run mutual TLS with certificates made the same way).
final class CertsCommandTests: XCTestCase {
    func testCreatesACAAndNodeCertificatesAndRefusesToOverwriteThem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-certs-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = await incidentctl(["certs", "--out", directory, "--nodes", "node-1,node-2", "--hosts", "127.0.0.1,db.example"])
        XCTAssertEqual(made.status, 0, "\(made)")
        for file in ["ca.pem", "ca-key.pem", "node-1.pem", "node-1-key.pem", "node-2.pem", "node-2-key.pem"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + file), file)
        }
        let keyMode = try FileManager.default.attributesOfItem(atPath: directory + "/node-1-key.pem")[.posixPermissions] as? Int
        XCTAssertEqual(keyMode, 0o600, "private keys are readable by their owner only")
        let ca = try CertificateAuthority(
            certificatePEM: try String(contentsOfFile: directory + "/ca.pem", encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: directory + "/ca-key.pem", encoding: .utf8))
        XCTAssertNotNil(ca.certificatePEM)

        let again = await incidentctl(["certs", "--out", directory, "--nodes", "node-1"])
        XCTAssertNotEqual(again.status, 0, "an existing CA is not replaced silently")
        XCTAssertTrue(again.error.contains("--reuse-ca"), again.error)
        let more = await incidentctl(["certs", "--out", directory, "--nodes", "node-3", "--reuse-ca"])
        XCTAssertEqual(more.status, 0, "\(more)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/node-3.pem"))
        let badName = await incidentctl(["certs", "--out", directory, "--nodes", "../escape", "--reuse-ca"])
        XCTAssertEqual(badName.status, 64, "\(badName)")
    }
}
