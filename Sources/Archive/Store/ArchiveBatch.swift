/// Everything the archiver copies for the log range `firstIndex...lastIndex`, written with the
/// watermark move in one transaction.
///
/// Row kinds may be empty; a batch with no rows at all still moves the watermark (entries that
/// change nothing the archive keeps).
public struct ArchiveBatch: Sendable, Equatable {
    public var firstIndex: UInt64
    public var lastIndex: UInt64
    public var events: [ArchivedEvent]
    public var incidents: [ArchivedIncident]
    public var timeline: [ArchivedTimelineEntry]
    public var deliveries: [ArchivedDelivery]
    public var configChanges: [ArchivedConfigChange]
    public var gaps: [ArchiveGap]

    public init(
        firstIndex: UInt64, lastIndex: UInt64, events: [ArchivedEvent] = [], incidents: [ArchivedIncident] = [],
        timeline: [ArchivedTimelineEntry] = [], deliveries: [ArchivedDelivery] = [], configChanges: [ArchivedConfigChange] = [],
        gaps: [ArchiveGap] = []
    ) {
        self.firstIndex = firstIndex
        self.lastIndex = lastIndex
        self.events = events
        self.incidents = incidents
        self.timeline = timeline
        self.deliveries = deliveries
        self.configChanges = configChanges
        self.gaps = gaps
    }

    public var rowCount: Int { events.count + incidents.count + timeline.count + deliveries.count + configChanges.count + gaps.count }

    /// Checks that the batch continues an archive whose watermark is `expectedWatermark`:
    /// it starts at `expectedWatermark + 1`, or a gap of the batch covers everything between
    /// the two; every log index lies inside the batch; numbers fit their columns.
    func validate(expectedWatermark: UInt64, maxRows: Int) throws {
        func refuse(_ message: String) -> ArchiveError {
            ArchiveError(code: .invalidBatch, message: "batch \(firstIndex)...\(lastIndex) after watermark \(expectedWatermark): \(message)")
        }
        let maxIndex = UInt64(Int64.max)
        guard firstIndex >= 1, firstIndex <= lastIndex, lastIndex <= maxIndex else { throw refuse("the index range is empty or too large") }
        guard expectedWatermark < firstIndex else { throw refuse("it starts at or before the watermark") }
        if firstIndex != expectedWatermark + 1 {
            let hole = (expectedWatermark + 1)...(firstIndex - 1)
            guard gaps.contains(where: { $0.firstIndex <= hole.lowerBound && $0.lastIndex >= hole.upperBound }) else {
                throw refuse("indexes \(hole.lowerBound)...\(hole.upperBound) are neither in it nor covered by one of its gaps")
            }
        }
        guard rowCount <= maxRows else { throw refuse("\(rowCount) rows exceed the limit of \(maxRows)") }
        let inside = firstIndex...lastIndex
        guard events.allSatisfy({ inside.contains($0.logIndex) && (0...Int(Int32.max)).contains($0.position) }) else {
            throw refuse("an event's log index lies outside the batch (or its position is negative)")
        }
        guard deliveries.allSatisfy({ inside.contains($0.logIndex) && $0.notificationID <= maxIndex && Int32(exactly: $0.level) != nil }) else {
            throw refuse("a delivery's log index lies outside the batch (or a number does not fit)")
        }
        guard configChanges.allSatisfy({ inside.contains($0.logIndex) }) else { throw refuse("a config change's log index lies outside the batch") }
        // Incident rows may reflect state read after the batch's range (the archiver reads the
        // current row of each changed incident); the forward-only upsert keeps the newest.
        guard incidents.allSatisfy({ Int32(exactly: $0.escalationLevel) != nil }) else {
            throw refuse("an incident's escalation level does not fit")
        }
        guard gaps.allSatisfy({ $0.firstIndex <= $0.lastIndex && $0.firstIndex > expectedWatermark && $0.lastIndex <= lastIndex }) else {
            throw refuse("a gap is empty or lies outside the range the batch moves over")
        }
    }
}

/// What `ArchiveStore.write` did.
public enum WriteResult: Sendable, Equatable {
    /// The batch and the watermark move committed; `rows` were inserted or updated (rows already
    /// present, and incident versions older than the stored one, are not counted).
    case written(rows: Int)
    /// Nothing was written: the watermark is not where the caller expected. Another archiver
    /// wrote (this one lost its lease), or an earlier attempt of this same batch committed
    /// although its connection broke before the answer arrived (then `actual` is the batch's
    /// `lastIndex`). Continue from `actual`.
    case watermarkMoved(actual: UInt64)
}
