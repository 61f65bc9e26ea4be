/// An append-only list that keeps its first `headCapacity` and latest `tailCapacity` elements and
/// counts the rest, so a flapping alert or a chatty integration cannot grow an incident's state
/// without limit while the beginning (how it started) and the end (what is happening now) stay.
public struct BoundedLog<Element: Sendable & Equatable>: Sendable, Equatable {
    public let headCapacity: Int
    public let tailCapacity: Int
    public private(set) var head: [Element] = []
    public private(set) var tail: [Element] = []
    /// Every element ever appended, kept or not.
    public private(set) var totalCount: UInt64 = 0

    public init(headCapacity: Int, tailCapacity: Int) {
        precondition(headCapacity >= 0 && tailCapacity >= 1)
        self.headCapacity = headCapacity
        self.tailCapacity = tailCapacity
    }

    /// Elements dropped from the middle.
    public var omittedCount: UInt64 { totalCount - UInt64(head.count + tail.count) }

    /// The kept elements, oldest first.
    public var elements: [Element] { head + tail }

    public var last: Element? { tail.last ?? head.last }

    public mutating func append(_ element: Element) {
        totalCount += 1
        if head.count < headCapacity {
            head.append(element)
            return
        }
        if tail.count == tailCapacity { tail.removeFirst() }
        tail.append(element)
    }

    /// Changes kept elements in place (e.g. to update a notification record's state).
    public mutating func updateLast(where predicate: (Element) -> Bool, _ change: (inout Element) -> Void) {
        if let i = tail.lastIndex(where: predicate) { change(&tail[i]); return }
        if let i = head.lastIndex(where: predicate) { change(&head[i]) }
    }
}

extension BoundedLog: BinaryCodable where Element: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(varint: UInt64(headCapacity))
        writer.write(varint: UInt64(tailCapacity))
        writer.write(varint: totalCount)
        head.encode(to: &writer)
        tail.encode(to: &writer)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        let headCapacity = try reader.narrow(try reader.readVarint(), to: UInt16.self, at: start)
        let tailCapacity = try reader.narrow(try reader.readVarint(), to: UInt16.self, at: start)
        let total = try reader.readVarint()
        let head = try [Element](from: &reader)
        let tail = try [Element](from: &reader)
        guard tailCapacity >= 1, head.count <= headCapacity, tail.count <= tailCapacity,
            UInt64(head.count + tail.count) <= total, tail.isEmpty || head.count == headCapacity
        else { throw DecodingError(.invalidValue, at: start, "bounded log shape") }
        self.init(headCapacity: Int(headCapacity), tailCapacity: Int(tailCapacity))
        self.head = head
        self.tail = tail
        self.totalCount = total
    }
}
