/// Incidents by number, each kept in its own copy-on-write box.
///
/// Why: an `Incident` has some forty fields, many of them reference-counted. Read out of a
/// `[UInt64: Incident]`, every `incidents[n].status` copied the whole struct (a retain and a
/// release per field), which dominated the ingest path. Boxed, a read costs one retain and a
/// mutation happens in place. Copying the whole state (for a background snapshot, say) is O(1);
/// the first later write copies the table's dictionary of boxes (a pointer and a retain per
/// incident, not the incidents), and each incident written while the copy lives is copied alone.
struct IncidentTable: Sendable {
    /// Mutable only through `IncidentTable`'s `_modify`, which first makes the box unique
    /// (`isKnownUniquelyReferenced`): a box that two table values share is never written, so
    /// concurrent readers of a shared box only ever read. That is the proof behind
    /// `@unchecked Sendable`.
    final class Box: @unchecked Sendable {
        var value: Incident
        init(_ value: Incident) { self.value = value }
    }

    private var boxes: [UInt64: Box] = [:]

    var count: Int { boxes.count }

    /// The incident numbered `number`, which must exist (use `find` when it may not).
    subscript(number: UInt64) -> Incident {
        get { boxes[number]!.value }
        _modify {
            if !isKnownUniquelyReferenced(&boxes[number]!) { boxes[number] = Box(boxes[number]!.value) }
            yield &boxes[number]!.value
        }
    }

    func find(_ number: UInt64) -> Incident? { boxes[number]?.value }

    /// Runs `body` on the incident in place, with one lookup.
    mutating func update<R>(_ number: UInt64, _ body: (inout Incident) -> R) -> R {
        body(&self[number])
    }

    func contains(_ number: UInt64) -> Bool { boxes[number] != nil }

    mutating func insert(_ incident: Incident) {
        precondition(boxes[incident.id.number] == nil, "incident \(incident.id) inserted twice")
        boxes[incident.id.number] = Box(incident)
    }

    mutating func remove(_ number: UInt64) { boxes[number] = nil }

    mutating func reserveCapacity(_ capacity: Int) { boxes.reserveCapacity(capacity) }

    /// Every incident, in no particular order: callers must sort before results leave the state.
    var unordered: some Sequence<Incident> { boxes.values.lazy.map(\.value) }

    var sortedNumbers: [UInt64] { boxes.keys.sorted() }
}
