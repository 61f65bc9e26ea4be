import IncidentCore
import Locking

/// Recently used API keys by secret hash, so authenticating a request does not cost a trip to
/// the consensus loop. An entry is valid only while the node's `accessRevision` is the one it was
/// read at: any configuration write or snapshot install empties it in effect, and the revision is
/// published before such a write is answered, so a revoked or re-roled key is never served from
/// here once its change has been acknowledged. Unknown secrets are not cached (a flood of wrong
/// keys cannot push out the real ones); the cache is emptied when it reaches `capacity`.
final class APIKeyCache: Sendable {
    private struct Entry: Sendable {
        var revision: UInt64
        var key: APIKey
    }

    private let entries = Lock<[String: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 4_096) { self.capacity = capacity }

    func key(forHash hash: String, revision: UInt64) -> APIKey? {
        entries.withLock { entries in
            guard let entry = entries[hash], entry.revision == revision else { return nil }
            return entry.key
        }
    }

    func remember(_ key: APIKey, forHash hash: String, revision: UInt64) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[hash] == nil { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(revision: revision, key: key)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
