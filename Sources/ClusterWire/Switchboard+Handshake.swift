import NIOCore
import RaftCore
import WireFormat

/// A handshake refusal: the code sent to the dialer and the text both sides log.
struct Refusal: Error {
    var reason: RefusalReason
    var text: String
}

/// Handshake decisions (docs/PROTOCOL.md §2.4).
extension Switchboard {
    func hello(to peer: NodeID) -> Hello {
        Hello(
            versions: versions, nodeID: localID, expectedPeer: peer, clusterID: identity.clusterID,
            region: identity.region, zone: identity.zone)
    }

    /// The acceptor's checks, in this order: shutting down, version ranges overlap, same
    /// cluster, not our own id, we are the node the dialer expected, the dialer is a known peer
    /// (when we have a peer list), and the dialer's id is lower than ours (the lower id dials).
    func evaluate(_ hello: Hello, remote: String, remoteHost: String, certificateNames: [String]? = nil) -> Result<PeerLink, Refusal> {
        func refuse(_ reason: RefusalReason, _ text: String) -> Result<PeerLink, Refusal> {
            logger.warning(
                "refused a peer handshake",
                metadata: ["dialer": "\(hello.nodeID)", "remote": "\(remote)", "reason": "\(reason)", "detail": "\(text)"])
            if let link = links[hello.nodeID] { recordError("refused its handshake: \(text)", for: link) }
            return .failure(Refusal(reason: reason, text: text))
        }
        if isShuttingDown { return refuse(.shuttingDown, "node \(localID) is shutting down") }
        guard Hello.negotiate(versions, hello.versions) != nil else {
            return refuse(
                .versionMismatch,
                "protocol versions \(hello.versions) do not overlap node \(localID)'s \(versions)")
        }
        guard hello.clusterID == identity.clusterID else {
            return refuse(.clusterMismatch, "cluster id '\(hello.clusterID)' is not '\(identity.clusterID)'")
        }
        guard hello.nodeID != localID else { return refuse(.sameNodeID, "the dialer claims node id \(localID), which is ours") }
        if let expected = tlsConfig?.expectedName(for: hello.nodeID), !(certificateNames ?? []).contains(expected) {
            return refuse(
                .certificateMismatch,
                "node \(hello.nodeID)'s certificate names \((certificateNames ?? []).joined(separator: ", ")), not \(expected)")
        }
        guard hello.expectedPeer == 0 || hello.expectedPeer == localID else {
            return refuse(.wrongNode, "the dialer expected node \(hello.expectedPeer) at this address, this is node \(localID)")
        }
        let known = links[hello.nodeID]
        if hasConfiguredPeers, known == nil || known?.isLearned == true {
            return refuse(.unknownNode, "node \(hello.nodeID) is not a peer of node \(localID)")
        }
        guard hello.nodeID < localID else {
            return refuse(.wrongDirection, "node \(hello.nodeID) must wait for node \(localID) to dial it (the lower id dials)")
        }
        if let known { return .success(known) }
        // No peer list: learn the dialer (its listen address is unknown; the remote one stands in).
        let link = PeerLink(
            id: hello.nodeID, address: PeerAddress(host: remoteHost, port: 0), localID: localID, limits: limits, isLearned: true)
        links[link.id] = link
        publish(link)
        return .success(link)
    }

    func answer(accepting hello: Hello) -> HelloAnswer {
        HelloAnswer(
            accepted: true, version: Hello.negotiate(versions, hello.versions) ?? 0, nodeID: localID,
            clusterID: identity.clusterID, region: identity.region, zone: identity.zone)
    }

    func answer(refusing refusal: Refusal) -> HelloAnswer {
        HelloAnswer(
            accepted: false, version: 0, nodeID: localID, clusterID: identity.clusterID, region: identity.region,
            zone: identity.zone, reason: refusal.reason, reasonText: refusal.text)
    }

    /// The dialer's checks of an answer; nil when the connection may be used, else the reason to
    /// close it (also recorded as the peer's `lastError`).
    func checkAnswer(_ answer: HelloAnswer, expected peer: NodeID) -> String? {
        guard answer.accepted else {
            let text = "refused by node \(answer.nodeID) (\(answer.reason)): \(answer.reasonText)"
            logger.warning("peer refused our handshake", metadata: ["peer": "\(peer)", "reason": "\(answer.reason)", "detail": "\(answer.reasonText)"])
            return text
        }
        guard answer.nodeID == peer else { return "expected node \(peer) but node \(answer.nodeID) answered" }
        guard answer.clusterID == identity.clusterID else {
            return "node \(peer) answered for cluster '\(answer.clusterID)', not '\(identity.clusterID)'"
        }
        guard versions.contains(answer.version) else { return "node \(peer) chose protocol version \(answer.version), outside \(versions)" }
        return nil
    }
}
