import Crypto
import Foundation
import X509

/// A node's certificate and private key, issued by a `CertificateAuthority`.
public struct NodeCertificate: Sendable {
    public let nodeName: String
    public let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    public var certificatePEM: String {
        // Serialising a certificate we hold in memory cannot fail.
        (try? certificate.serializeAsPEM().pemString) ?? ""
    }

    public var privateKeyPEM: String {
        // A P-256 key we generated always serialises.
        (try? privateKey.serializeAsPEM().pemString) ?? ""
    }

    /// Writes `<nodeName>.pem` and `<nodeName>-key.pem` (mode 0600) into `directory`, creating
    /// it if needed.
    @discardableResult
    public func writePEM(to directory: String) throws(DevCertificateError) -> PEMFiles {
        let files = PEMFiles(
            certificatePath: (directory as NSString).appendingPathComponent("\(nodeName).pem"),
            privateKeyPath: (directory as NSString).appendingPathComponent("\(nodeName)-key.pem"))
        try PEMFiles.write(files, certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, directory: directory)
        return files
    }
}

/// Where `writePEM` put a certificate and its key.
public struct PEMFiles: Sendable, Equatable {
    public var certificatePath: String
    public var privateKeyPath: String

    static func write(_ files: PEMFiles, certificatePEM: String, privateKeyPEM: String, directory: String) throws(DevCertificateError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data((certificatePEM + "\n").utf8).write(to: URL(fileURLWithPath: files.certificatePath), options: .atomic)
            try Data((privateKeyPEM + "\n").utf8).write(to: URL(fileURLWithPath: files.privateKeyPath), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: files.privateKeyPath)
        } catch {
            throw DevCertificateError(.io, "cannot write PEM files into \(directory): \(error)")
        }
    }
}

/// Why a certificate could not be made, loaded or written.
public struct DevCertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A name, host list, validity or PEM input is not acceptable.
        case invalidInput
        /// swift-certificates could not build or sign the certificate.
        case encoding
        /// A file could not be written.
        case io
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// Runs a throwing swift-certificates call, turning its error into `.encoding`.
    static func wrap<T>(_ what: String, _ body: () throws -> T) -> Result<T, DevCertificateError> {
        do {
            return .success(try body())
        } catch {
            return .failure(DevCertificateError(.encoding, "\(what): \(error)"))
        }
    }
}

/// IP literals to the bytes of an IP-address subject alternative name.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
