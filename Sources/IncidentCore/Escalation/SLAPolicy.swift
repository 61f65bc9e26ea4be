/// Acknowledge and resolve targets per severity. Deadlines are armed as timers when an incident
/// is created and re-computed when its severity changes; a deadline that passes with the
/// incident still unacknowledged / open sets the breach flag.
public struct SLAPolicy: Sendable, Equatable, BinaryCodable {
    /// Indexed by `Severity.rawValue`.
    public var acknowledgeWithinMilliseconds: [Int64]
    public var resolveWithinMilliseconds: [Int64]

    public init(acknowledgeWithinMilliseconds: [Int64], resolveWithinMilliseconds: [Int64]) {
        self.acknowledgeWithinMilliseconds = acknowledgeWithinMilliseconds
        self.resolveWithinMilliseconds = resolveWithinMilliseconds
    }

    /// P0 5 min / 1 h, P1 15 min / 4 h, P2 1 h / 24 h, P3 4 h / 3 days, P4 24 h / 7 days.
    public static let `default` = SLAPolicy(
        acknowledgeWithinMilliseconds: [5, 15, 60, 240, 1_440].map { $0 * Milliseconds.minute },
        resolveWithinMilliseconds: [1, 4, 24, 72, 168].map { $0 * Milliseconds.hour })

    public func acknowledgeWithin(_ severity: Severity) -> Int64 { acknowledgeWithinMilliseconds[Int(severity.rawValue)] }
    public func resolveWithin(_ severity: Severity) -> Int64 { resolveWithinMilliseconds[Int(severity.rawValue)] }

    func deadlines(createdAt: Timestamp, severity: Severity) -> SLAState {
        SLAState(
            acknowledgeBy: createdAt.adding(milliseconds: acknowledgeWithin(severity)),
            resolveBy: createdAt.adding(milliseconds: resolveWithin(severity)))
    }

    public func validate() throws(ValidationError) {
        let count = Severity.allCases.count
        guard acknowledgeWithinMilliseconds.count == count, resolveWithinMilliseconds.count == count else {
            throw ValidationError(field: "sla", reason: "needs one value per severity P0…P4")
        }
        for (i, (ack, resolve)) in zip(acknowledgeWithinMilliseconds, resolveWithinMilliseconds).enumerated() {
            if ack < Milliseconds.minute || ack > 30 * Milliseconds.day {
                throw ValidationError(field: "sla.P\(i).acknowledge_within", reason: "must be between 1 minute and 30 days")
            }
            if resolve < ack || resolve > 365 * Milliseconds.day {
                throw ValidationError(field: "sla.P\(i).resolve_within", reason: "must be at least the acknowledge target and at most 365 days")
            }
        }
    }

    public func encode(to writer: inout BinaryWriter) {
        writer.write(acknowledgeWithinMilliseconds)
        writer.write(resolveWithinMilliseconds)
    }

    public init(from reader: inout BinaryReader) throws(DecodingError) {
        self.init(acknowledgeWithinMilliseconds: try reader.read(), resolveWithinMilliseconds: try reader.read())
    }
}
