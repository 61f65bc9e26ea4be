/// Binary forms of command answers, so the runtime can remember the answer to a request id in
/// replicated state and return it again on a retry (exactly-once effect under retries).
extension EventResult: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(eventID)
        writer.write(incident)
        writer.write(fingerprint)
        writer.write(disposition)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        eventID = try reader.read()
        incident = try reader.read()
        fingerprint = try reader.read()
        disposition = try reader.read()
    }
}

extension CommandError: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        writer.write(code)
        writer.write(message)
        writer.write(field)
        writer.write(status)
        writer.write(allowed)
        writer.write(references)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(
            try reader.read(), try reader.read(), field: try reader.read(), status: try reader.read(),
            allowed: try reader.read(), references: try reader.read())
    }
}

extension CommandResult: BinaryCodable {
    public func encode(to writer: inout BinaryWriter) {
        switch self {
        case .ingested(let results):
            writer.write(UInt8(0))
            writer.write(results)
        case .incident(let id, let created):
            writer.write(UInt8(1))
            writer.write(id)
            writer.write(bool: created)
        case .configChanged(let kind, let id):
            writer.write(UInt8(2))
            writer.write(kind)
            writer.write(id)
        case .slaPolicyUpdated:
            writer.write(UInt8(3))
        case .timerFired(let fired):
            writer.write(UInt8(4))
            writer.write(bool: fired)
        case .deliveryRecorded(let recorded):
            writer.write(UInt8(5))
            writer.write(bool: recorded)
        case .purged(let count):
            writer.write(UInt8(6))
            writer.write(count)
        }
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .ingested(try reader.read())
        case 1: self = .incident(try reader.read(), created: try reader.read())
        case 2: self = .configChanged(try reader.read(), id: try reader.read())
        case 3: self = .slaPolicyUpdated
        case 4: self = .timerFired(try reader.read())
        case 5: self = .deliveryRecorded(try reader.read())
        case 6: self = .purged(count: try reader.read())
        default: throw DecodingError(.invalidTag, at: start, "CommandResult")
        }
    }
}
