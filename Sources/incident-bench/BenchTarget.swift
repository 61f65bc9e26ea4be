/// The service behind `--endpoints`: it decides the request body, the headers and the answer
/// that counts as valid. Pacing, the spread over endpoints, timing and the report are the same
/// for every target, so that figures taken against two targets compare.
enum BenchTarget: Sendable {
    /// `incidentd`'s native ingest (`POST /api/v1/events` with `X-API-Key`): valid on 202 with
    /// `accepted` in the body, sent once the event is durable on a majority and applied.
    case incidentd
    /// etcd v3's JSON gateway (grpc-gateway inside etcd; 3.4 serves it under `/v3/`), one put
    /// per request and no credentials: valid on 200 with a `"header"` (cluster id, member,
    /// revision, raft term) in the body, sent once the put is committed and applied.
    case etcd(EtcdPutBodies)

    /// `--target`.
    enum Kind: String, CaseIterable, Sendable {
        case incidentd
        case etcd
    }

    var kind: Kind {
        switch self {
        case .incidentd: .incidentd
        case .etcd: .etcd
        }
    }

    /// The request path when `--path` is not given.
    var defaultPath: String {
        switch self {
        case .incidentd: "/api/v1/events"
        case .etcd: "/v3/kv/put"
        }
    }

    /// The one status that can make an answer valid.
    var successStatus: UInt {
        switch self {
        case .incidentd: 202
        case .etcd: 200
        }
    }

    /// Bytes a valid answer's body must contain (searched in its first 64 KiB).
    var marker: String {
        switch self {
        case .incidentd: "accepted"
        case .etcd: #""header""#
        }
    }

    /// Whether requests carry `X-API-Key` (etcd runs without authentication here).
    var sendsAPIKey: Bool {
        switch self {
        case .incidentd: true
        case .etcd: false
        }
    }
}
