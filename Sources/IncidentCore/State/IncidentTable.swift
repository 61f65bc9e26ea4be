/// Incidents by number, each kept in its own copy-on-write box, in dictionaries split by number.
///
/// Why boxes: an `Incident` has some forty fields, many of them reference-counted. Read out of a
/// `[UInt64: Incident]`, every `incidents[n].status` copied the whole struct (a retain and a
/// release per field), which dominated the ingest path. Boxed, a read costs one retain and a
/// mutation happens in place. Copying the whole state (for a background snapshot, say) is O(1),
/// and each incident written while the copy lives is copied alone.
///
/// Why shards: with one dictionary, the first write after such a copy copied the whole
/// dictionary of boxes (a pointer and a retain per incident) on the consensus loop: 6 ms at
/// 200,000 open incidents (`incidentcore-bench --only copy`), once per snapshot on every node.
/// Split by the number's low bits (numbers are sequential, so the shards fill evenly), a write
/// copies only its own shard, 1/512 of the table.
struct IncidentTable: Sendable {
    /// `value` is mutable only through `IncidentTable`'s `_modify`, which first makes the box
    /// unique (`isKnownUniquelyReferenced`): a box that two table values share never has its
    /// value written, so concurrent readers of a shared box only ever read it. `encoding` is
    /// cleared there too, on a unique box only, and otherwise read and written only by
    /// `encodeByNumber` with a budget, which one thread alone may call on the copies of a state
    /// (a node's snapshot thread; `IncidentStateMachine.snapshot(reusingEncodingsUpTo:stats:)`).
    /// That is the proof behind `@unchecked Sendable`.
    final class Box: @unchecked Sendable {
        var value: Incident
        /// `value`'s encoding, kept by the last snapshot that encoded it, for the next one to
        /// copy while the value is unchanged.
        var encoding: [UInt8]?
        init(_ value: Incident) { self.value = value }
    }

    private static let shardBits = 9
    private static let shardMask = UInt64(1 << shardBits - 1)

    /// Empty dictionaries share one storage, so an empty table allocates nothing per shard.
    private var shards = [[UInt64: Box]](repeating: [:], count: 1 << shardBits)
    private(set) var count = 0

    private static func shard(_ number: UInt64) -> Int { Int(truncatingIfNeeded: number & shardMask) }

    /// The incident numbered `number`, which must exist (use `find` when it may not).
    subscript(number: UInt64) -> Incident {
        get { shards[Self.shard(number)][number]!.value }
        _modify {
            // One mutable access to the dictionary's slot makes the box unique and hands it out;
            // the incident is then written through the (now unshared) box.
            let box = Self.unique(&shards[Self.shard(number)][number]!)
            box.encoding = nil
            yield &box.value
        }
    }

    /// `box`, replaced by a copy first when another table value shares it.
    private static func unique(_ box: inout Box) -> Box {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
        return box
    }

    func find(_ number: UInt64) -> Incident? { shards[Self.shard(number)][number]?.value }

    /// Runs `body` on the incident in place, with one lookup.
    mutating func update<R>(_ number: UInt64, _ body: (inout Incident) -> R) -> R {
        body(&self[number])
    }

    func contains(_ number: UInt64) -> Bool { shards[Self.shard(number)][number] != nil }

    mutating func insert(_ incident: Incident) {
        let number = incident.id.number
        let shard = Self.shard(number)
        precondition(shards[shard][number] == nil, "incident \(incident.id) inserted twice")
        shards[shard][number] = Box(incident)
        count += 1
    }

    mutating func remove(_ number: UInt64) {
        if shards[Self.shard(number)].removeValue(forKey: number) != nil { count -= 1 }
    }

    /// Room for `capacity` incidents in all (spread evenly over the shards).
    mutating func reserveCapacity(_ capacity: Int) {
        guard capacity >= shards.count else { return }  // not 512 allocations for a handful
        let each = (capacity + shards.count - 1) / shards.count
        for shard in shards.indices { shards[shard].reserveCapacity(each) }
    }

    /// Every incident, in no particular order: callers must sort before results leave the state.
    var unordered: some Sequence<Incident> { shards.lazy.flatMap { $0.values.lazy.map(\.value) } }

    /// Encodes every incident in ascending number order (a snapshot's incidents): the boxes are
    /// sorted by number rather than each number looked up. (Reading `box.value` for the call
    /// still copies the incident, about 5 % of a full encoding; a method on the box did too.)
    ///
    /// With a `budget` above 0, an incident whose box kept its encoding from an earlier call (and
    /// was not written since: `_modify` drops it) is copied rather than encoded again, and the
    /// encodings made here are kept in their boxes while all kept encodings together stay within
    /// `budget` bytes, lower numbers first. Most open incidents of a large state are idle between
    /// two snapshots, so a snapshot then encodes only what changed. Only one thread may ever pass
    /// a budget for the copies of one state (see `Box`); a budget of 0 touches no encoding.
    func encodeByNumber(to writer: inout BinaryWriter, reusingEncodingsUpTo budget: Int, stats: inout SnapshotEncodingStats) {
        var boxes: [(number: UInt64, box: Box)] = []
        boxes.reserveCapacity(count)
        for shard in shards {
            for (number, box) in shard { boxes.append((number, box)) }
        }
        boxes.sort { $0.number < $1.number }
        guard budget > 0 else {
            for entry in boxes { entry.box.value.encode(to: &writer) }
            stats.encodedIncidents += boxes.count
            return
        }
        var kept = 0
        for entry in boxes {
            let box = entry.box
            if let encoding = box.encoding {
                writer.write(raw: encoding[...])
                kept += encoding.count
                stats.reusedIncidents += 1
                continue
            }
            let start = writer.bytes.count
            box.value.encode(to: &writer)
            stats.encodedIncidents += 1
            let length = writer.bytes.count - start
            if kept + length <= budget {
                box.encoding = Array(writer.bytes[start...])
                kept += length
            }
        }
        stats.keptEncodingBytes = kept
    }
}

/// What `IncidentStateMachine.snapshot(reusingEncodingsUpTo:stats:)` did with the incidents.
public struct SnapshotEncodingStats: Sendable, Equatable {
    /// Incidents copied from the encoding an earlier snapshot kept.
    public var reusedIncidents = 0
    /// Incidents encoded afresh.
    public var encodedIncidents = 0
    /// Bytes of encodings kept in the incidents' boxes for the next snapshot.
    public var keptEncodingBytes = 0

    public init() {}
}
