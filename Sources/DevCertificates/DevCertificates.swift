import Crypto
import Foundation
import SwiftASN1
import X509

/// A development certificate authority and node certificates for ClusterWire's mutual TLS
/// (and `incidentctl certs`): ECDSA P-256 keys, SHA-256 signatures, PEM files.
///
///     let ca = try DevCertificates.makeCA(commonName: "incident-dev CA", validDays: 365)
///     let node = try ca.issueNodeCertificate(nodeName: "node-1", hosts: ["127.0.0.1", "localhost"], validDays: 30)
///     let files = try node.writePEM(to: "/etc/incidentd/tls")
///
/// Node certificates carry the given hosts as subject alternative names (IP literals as IP
/// addresses, everything else as DNS names) and both TLS server and client usage, since every
/// node accepts and dials. Not for production PKI: no revocation, keys written unencrypted.
public enum DevCertificates {
    /// A new self-signed CA valid from one hour ago (clock skew) for `validDays` days.
    public static func makeCA(commonName: String, validDays: Int = 3_650) throws(DevCertificateError) -> CertificateAuthority {
        guard !commonName.isEmpty else { throw DevCertificateError(.invalidInput, "the CA needs a common name") }
        guard validDays > 0 else { throw DevCertificateError(.invalidInput, "validDays must be positive, is \(validDays)") }
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let name = DevCertificateError.wrap("CA name") { try DistinguishedName { CommonName(commonName) } }
        let certificate = DevCertificateError.wrap("CA certificate") {
            try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: Date().addingTimeInterval(-3_600),
                notValidAfter: Date().addingTimeInterval(Double(validDays) * 86_400),
                issuer: try name.get(),
                subject: try name.get(),
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
        }
        return CertificateAuthority(certificate: try certificate.get(), privateKey: Certificate.PrivateKey(key))
    }
}

/// A CA that can sign node certificates. Create one with `DevCertificates.makeCA` or load a
/// saved one with `init(certificatePEM:privateKeyPEM:)`.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads a CA written by `writePEM` (P-256 key only).
    public init(certificatePEM: String, privateKeyPEM: String) throws(DevCertificateError) {
        let certificate = DevCertificateError.wrap("CA certificate PEM") { try Certificate(pemEncoded: certificatePEM) }
        let key = DevCertificateError.wrap("CA private key PEM") { try Certificate.PrivateKey(pemEncoded: privateKeyPEM) }
        self.init(certificate: try certificate.get(), privateKey: try key.get())
        guard self.certificate.publicKey == privateKey.publicKey else {
            throw DevCertificateError(.invalidInput, "the CA private key does not belong to the CA certificate")
        }
    }

    public var certificatePEM: String {
        // Serialising a certificate we hold in memory cannot fail.
        (try? certificate.serializeAsPEM().pemString) ?? ""
    }

    public var privateKeyPEM: String {
        // A P-256 key we generated always serialises.
        (try? privateKey.serializeAsPEM().pemString) ?? ""
    }

    /// A certificate for one node, signed by this CA, for TLS server and client use.
    /// `hosts` become subject alternative names; at least one is required.
    public func issueNodeCertificate(nodeName: String, hosts: [String], validDays: Int = 365) throws(DevCertificateError) -> NodeCertificate {
        guard !nodeName.isEmpty else { throw DevCertificateError(.invalidInput, "the node certificate needs a name") }
        guard !hosts.isEmpty else { throw DevCertificateError(.invalidInput, "the node certificate needs at least one host") }
        guard validDays > 0 else { throw DevCertificateError(.invalidInput, "validDays must be positive, is \(validDays)") }
        let names = hosts.map(Self.generalName)
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let issuerKeyID = SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        let authority = self
        let result = DevCertificateError.wrap("node certificate") {
            try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: Date().addingTimeInterval(-3_600),
                notValidAfter: Date().addingTimeInterval(Double(validDays) * 86_400),
                issuer: authority.certificate.subject,
                subject: try DistinguishedName { CommonName(nodeName) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: issuerKeyID)
                },
                issuerPrivateKey: authority.privateKey)
        }
        return NodeCertificate(nodeName: nodeName, certificate: try result.get(), privateKey: Certificate.PrivateKey(key))
    }

    /// Writes `ca.pem` and `ca-key.pem` (mode 0600) into `directory`, creating it if needed.
    @discardableResult
    public func writePEM(to directory: String) throws(DevCertificateError) -> PEMFiles {
        let files = PEMFiles(
            certificatePath: (directory as NSString).appendingPathComponent("ca.pem"),
            privateKeyPath: (directory as NSString).appendingPathComponent("ca-key.pem"))
        try PEMFiles.write(files, certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, directory: directory)
        return files
    }

    static func generalName(_ host: String) -> GeneralName {
        if let bytes = IPAddressBytes.parse(host) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
        return .dnsName(host)
    }
}
