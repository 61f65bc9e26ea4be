import ArgumentParser
import DevCertificates
import Foundation

/// `incidentctl certs`: a development certificate authority and one certificate per node (PEM),
/// for the peer port's TLS and mutual TLS (`--tls-ca`, `--tls-cert`, `--tls-key`). Local only:
/// it talks to no node. For production, issue node certificates from your own CA.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create a development CA and node certificates (PEM) for mutual TLS between nodes.",
        discussion: """
            Writes ca.pem and ca-key.pem (unless --reuse-ca finds them in --out) and, per node name, \
            <name>.pem and <name>-key.pem (keys mode 0600). Every node certificate serves and dials \
            (server and client auth) and names the --hosts as subject alternative names. Existing node \
            files are not overwritten without --force.
            """)

    @Option(help: "Directory to write into (created if missing).") var out = "./certs"
    @Option(help: "Comma-separated node names; each gets <name>.pem and <name>-key.pem.") var nodes = "node-1,node-2,node-3"
    @Option(help: "Comma-separated host names and IP addresses every node certificate is valid for.") var hosts = "127.0.0.1,localhost"
    @Option(name: .customLong("valid-days"), help: "Validity of node certificates, in days.") var validDays = 365
    @Option(name: .customLong("ca-valid-days"), help: "Validity of a new CA, in days.") var caValidDays = 3_650
    @Flag(name: .customLong("reuse-ca"), help: "Sign with ca.pem/ca-key.pem already in --out instead of making a new CA.") var reuseCA = false
    @Flag(help: "Overwrite existing node certificate files.") var force = false

    func validate() throws {
        let names = nodeNames
        guard !names.isEmpty else { throw ValidationError("--nodes names no node") }
        for name in names where !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
            throw ValidationError("node name \"\(name)\" may contain only letters, digits, '-', '_' and '.'")
        }
        guard !hostList.isEmpty else { throw ValidationError("--hosts names no host") }
        guard (1...3_650).contains(validDays), (1...36_500).contains(caValidDays) else { throw ValidationError("validity out of range") }
    }

    var nodeNames: [String] { nodes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    var hostList: [String] { hosts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    func run() throws {
        let fm = FileManager.default
        let caPath = (out as NSString).appendingPathComponent("ca.pem")
        let caKeyPath = (out as NSString).appendingPathComponent("ca-key.pem")
        let ca: CertificateAuthority
        if reuseCA {
            guard let certificate = fm.contents(atPath: caPath), let key = fm.contents(atPath: caKeyPath) else {
                throw ValidationError("--reuse-ca: \(caPath) and \(caKeyPath) must both exist")
            }
            ca = try CertificateAuthority(certificatePEM: String(decoding: certificate, as: UTF8.self), privateKeyPEM: String(decoding: key, as: UTF8.self))
            print("using the CA in \(caPath)")
        } else {
            if !force, fm.fileExists(atPath: caPath) { throw ValidationError("\(caPath) exists; pass --reuse-ca to sign with it or --force to replace it") }
            ca = try DevCertificates.makeCA(commonName: "incidentd development CA", validDays: caValidDays)
            let files = try ca.writePEM(to: out)
            print("wrote \(files.certificatePath) and \(files.privateKeyPath)")
        }
        for name in nodeNames {
            let path = (out as NSString).appendingPathComponent("\(name).pem")
            if !force, fm.fileExists(atPath: path) { throw ValidationError("\(path) exists; pass --force to replace it") }
            let files = try ca.issueNodeCertificate(nodeName: name, hosts: hostList, validDays: validDays).writePEM(to: out)
            print("wrote \(files.certificatePath) and \(files.privateKeyPath) (valid for \(hostList.joined(separator: ", ")))")
        }
    }
}
