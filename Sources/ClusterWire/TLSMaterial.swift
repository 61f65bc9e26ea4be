import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two TLS contexts of a node, built once from `WireTLS` PEM files (docs/PROTOCOL.md §2.10).
///
/// TLS 1.3 only. The acceptor presents its certificate and, with `requireClientCertificate`,
/// demands one from the dialer, verified against the cluster CA alone (no system roots). The
/// dialer always verifies the acceptor against the cluster CA, including the host name or IP in
/// the certificate's subject alternative names.
struct TLSMaterial: Sendable {
    let server: NIOSSLContext
    let client: NIOSSLContext

    init(_ tls: WireTLS) throws(WireError) {
        let ca = try Self.certificates(tls.caCertificatePath, what: "CA certificate")
        let chain = try Self.certificates(tls.certificatePath, what: "certificate")
        let key = try Self.privateKey(tls.privateKeyPath)
        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        server.minimumTLSVersion = .tlsv13
        server.trustRoots = .certificates(ca)
        server.certificateVerification = tls.requireClientCertificate ? .noHostnameVerification : .none
        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv13
        client.trustRoots = .certificates(ca)
        client.certificateChain = chain.map { .certificate($0) }
        client.privateKey = .privateKey(key)
        client.certificateVerification = .fullVerification
        do {
            self.server = try NIOSSLContext(configuration: server)
            self.client = try NIOSSLContext(configuration: client)
        } catch {
            throw WireError(.invalidConfig, "TLS material (\(tls.certificatePath), \(tls.privateKeyPath)) is unusable: \(error)")
        }
    }

    /// The client handler for dialing `host`: SNI and name verification use the host name; for
    /// an IP literal NIOSSL checks the connected address against the certificate's IP SANs.
    func clientHandler(host: String) throws -> NIOSSLClientHandler {
        let isIPLiteral = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: client, serverHostname: isIPLiteral ? nil : host)
    }

    private static func checkReadable(_ path: String, what: String) throws(WireError) {
        guard access(path, R_OK) == 0 else {
            throw WireError(.invalidConfig, "cannot read the TLS \(what) file \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func certificates(_ path: String, what: String) throws(WireError) -> [NIOSSLCertificate] {
        try checkReadable(path, what: what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw WireError(.invalidConfig, "the TLS \(what) file \(path) is not PEM certificates: \(error)")
        }
        guard !certificates.isEmpty else { throw WireError(.invalidConfig, "the TLS \(what) file \(path) holds no certificate") }
        return certificates
    }

    private static func privateKey(_ path: String) throws(WireError) -> NIOSSLPrivateKey {
        try checkReadable(path, what: "private key")
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw WireError(.invalidConfig, "the TLS private key file \(path) is not a PEM private key: \(error)")
        }
    }
}
