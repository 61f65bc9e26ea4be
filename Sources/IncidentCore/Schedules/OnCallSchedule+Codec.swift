// Binary encoding of schedules for the Raft log and snapshots: fields in declaration order, no
// versioning here (the command envelope and snapshot header carry the format version).

extension OnCallSchedule {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(timeZone)
        writer.write(layers)
        writer.write(overrides)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            id: try reader.read(), name: try reader.read(), timeZone: try reader.read(),
            layers: try reader.read(), overrides: try reader.read())
    }
}

extension ScheduleLayer {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(name)
        writer.write(users)
        writer.write(rotation)
        writer.write(handoffMinute)
        writer.write(EncodedDate(startDate))
        writer.write(endDate.map(EncodedDate.init))
        writer.write(restrictions)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            name: try reader.read(), users: try reader.read(), rotation: try reader.read(),
            handoffMinute: try reader.read(), startDate: try reader.read(EncodedDate.self).date,
            endDate: try reader.read(EncodedDate?.self)?.date, restrictions: try reader.read())
    }
}

extension Rotation {
    /// Tag bytes; never renumber, only append.
    private enum Tag: UInt8 {
        case daily = 0, weekly = 1, days = 2, hours = 3
    }

    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .daily: writer.write(Tag.daily.rawValue)
        case .weekly: writer.write(Tag.weekly.rawValue)
        case .days(let n):
            writer.write(Tag.days.rawValue)
            writer.write(n)
        case .hours(let n):
            writer.write(Tag.hours.rawValue)
            writer.write(n)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        guard let tag = Tag(rawValue: try reader.readByte()) else {
            throw DecodingError(.invalidTag, at: start, "Rotation")
        }
        switch tag {
        case .daily: self = .daily
        case .weekly: self = .weekly
        case .days: self = .days(try reader.read())
        case .hours: self = .hours(try reader.read())
        }
    }
}

extension ScheduleOverride {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(user)
        writer.write(start)
        writer.write(end)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(user: try reader.read(), start: try reader.read(), end: try reader.read())
    }
}

/// A `CivilDate` as year, month, day. Private to schedules so it cannot collide with a general
/// `CivilDate: BinaryCodable` conformance elsewhere; decoding does not check the date is real
/// (`ScheduleLayer.validate()` does).
private struct EncodedDate: BinaryCodable {
    var date: CivilDate

    init(_ date: CivilDate) { self.date = date }

    func encode(to writer: inout BinaryWriter) {
        writer.write(date.year)
        writer.write(date.month)
        writer.write(date.day)
    }

    init(from reader: inout BinaryReader) throws(DecodingError) {
        date = CivilDate(year: try reader.read(), month: try reader.read(), day: try reader.read())
    }
}
