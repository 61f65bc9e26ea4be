/// An on-call schedule: rotation layers in one IANA zone plus one-off overrides, answering
/// "who is on call at this instant?" the way PagerDuty does.
///
/// Later layers take precedence over earlier ones wherever they cover an instant ("higher layer
/// wins"), and an override beats every layer. Evaluation is a pure function of the schedule and
/// the instant: no clock, no I/O, no iteration over unordered collections.
public struct OnCallSchedule: Sendable, Equatable, BinaryCodable {
    public var id: String
    public var name: String
    /// IANA zone in which layer dates, handoff times and restrictions are read.
    public var timeZone: String
    /// Rotation layers, lowest precedence first.
    public var layers: [ScheduleLayer]
    /// One-off shifts; where several cover an instant, the latest-listed wins.
    public var overrides: [ScheduleOverride]

    public init(
        id: String = "", name: String, timeZone: String,
        layers: [ScheduleLayer] = [], overrides: [ScheduleOverride] = []
    ) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.layers = layers
        self.overrides = overrides
    }

    /// Who is on call at `instant`: the latest-listed override covering it; else the user of the
    /// highest layer that covers it (active, started, not ended, inside a restriction if it has
    /// any); else nil. An unknown zone (rejected by `validate()`) or an instant outside years
    /// 1...9999 leaves only the overrides.
    public func onCall(at instant: Timestamp) -> String? {
        if let override = overrides.last(where: { $0.covers(instant) }) { return override.user }
        guard TimeZoneRules.civilInstants.contains(instant.millisecondsSinceEpoch),
            let rules = TimeZoneRules(identifier: timeZone)
        else { return nil }
        let local = rules.localTime(at: instant)
        for layer in layers.reversed() {
            if let user = layer.user(at: instant, local: local, rules: rules) { return user }
        }
        return nil
    }

    public func validate() throws(ValidationError) {
        try Self.checkIdentity(id: id, name: name)
        guard TimeZoneRules(identifier: timeZone) != nil else {
            throw ValidationError(field: "time_zone", reason: "unknown time zone")
        }
        guard layers.count <= ScheduleLimits.maxLayers else {
            throw ValidationError(field: "layers", reason: "more than \(ScheduleLimits.maxLayers) layers")
        }
        guard overrides.count <= ScheduleLimits.maxOverrides else {
            throw ValidationError(field: "overrides", reason: "more than \(ScheduleLimits.maxOverrides) overrides")
        }
        for (index, layer) in layers.enumerated() {
            do { try layer.validate() } catch { throw error.nested(under: "layers[\(index)]") }
        }
        for (index, override) in overrides.enumerated() {
            do { try override.validate() } catch { throw error.nested(under: "overrides[\(index)]") }
        }
    }
}

/// Bounds on the size of a schedule, so one schedule cannot grow replicated state or the cost of
/// an `onCall` evaluation without limit.
public enum ScheduleLimits {
    /// Layers per schedule. Each costs a few zone look-ups per evaluation.
    public static let maxLayers = 20
    /// Overrides per schedule; callers prune ended ones.
    public static let maxOverrides = 1_000
    /// Users in one layer's rotation.
    public static let maxUsersPerLayer = 100
    /// Restriction ranges on one layer (7 days × a few ranges each is plenty).
    public static let maxRestrictionsPerLayer = 50
    /// Longest `Rotation.days` shift, in days.
    public static let maxRotationDays = 365
    /// Longest `Rotation.hours` shift, in hours (a year).
    public static let maxRotationHours = 8_760
}

/// One rotation of users through shifts of equal length, optionally limited to parts of the day
/// or week ("weekdays 09:00–17:00").
///
/// Day-based rotations count local calendar days in the schedule's zone, so the handoff stays at
/// the same wall time across DST and the shift spanning a change is 23 or 25 hours long.
/// Hour-based rotations count elapsed time and drift against the wall clock across DST instead.
public struct ScheduleLayer: Sendable, Equatable, BinaryCodable {
    public var name: String
    /// Rotation order; shift `k` goes to `users[k % users.count]`. 1…100 identifiers, repeats
    /// allowed (`[a, b, a, c]`).
    public var users: [String]
    public var rotation: Rotation
    /// Local minute of day of the handoff, `0..<1440`. Also where the layer starts and ends.
    public var handoffMinute: Int
    /// Local date on which the first user's first shift starts, at `handoffMinute`.
    public var startDate: CivilDate
    /// Exclusive: the layer covers nothing from `endDate` at `handoffMinute` on. Nil runs forever.
    public var endDate: CivilDate?
    /// Empty covers all the time; otherwise only instants inside one of these ranges, read in
    /// the schedule's zone. The rotation keeps advancing through restricted time, as PagerDuty.
    public var restrictions: [DailyTimeRange]

    public init(
        name: String, users: [String], rotation: Rotation, handoffMinute: Int = 0,
        startDate: CivilDate, endDate: CivilDate? = nil, restrictions: [DailyTimeRange] = []
    ) {
        self.name = name
        self.users = users
        self.rotation = rotation
        self.handoffMinute = handoffMinute
        self.startDate = startDate
        self.endDate = endDate
        self.restrictions = restrictions
    }

    public func validate() throws(ValidationError) {
        try TextLimits.check(name, field: "name", max: TextLimits.titleBytes)
        guard (1...ScheduleLimits.maxUsersPerLayer).contains(users.count) else {
            throw ValidationError(field: "users", reason: "must list 1...\(ScheduleLimits.maxUsersPerLayer) users")
        }
        for (index, user) in users.enumerated() {
            try TextLimits.check(user, field: "users[\(index)]", max: TextLimits.identifierBytes)
        }
        try rotation.validate()
        guard (0..<DailyTimeRange.minutesPerDay).contains(handoffMinute) else {
            throw ValidationError(field: "handoff_minute", reason: "must be in 0..<1440")
        }
        guard startDate.isValid else { throw ValidationError(field: "start_date", reason: "not a valid date") }
        if let endDate {
            guard endDate.isValid else { throw ValidationError(field: "end_date", reason: "not a valid date") }
            guard endDate > startDate else { throw ValidationError(field: "end_date", reason: "must be after start_date") }
        }
        guard restrictions.count <= ScheduleLimits.maxRestrictionsPerLayer else {
            throw ValidationError(
                field: "restrictions", reason: "more than \(ScheduleLimits.maxRestrictionsPerLayer) restrictions")
        }
        for (index, range) in restrictions.enumerated() {
            do { try range.validate() } catch { throw error.nested(under: "restrictions[\(index)]") }
        }
    }
}

/// How long each shift of a layer lasts.
public enum Rotation: Sendable, Hashable, BinaryCodable {
    /// One local calendar day, the same as `days(1)`.
    case daily
    /// Seven local calendar days, the same as `days(7)`.
    case weekly
    /// Every n local calendar days (1...365), handing off at the layer's `handoffMinute`.
    case days(Int)
    /// Every n elapsed hours (1...8760) from the layer's first handoff; DST-invariant in elapsed
    /// time, so the wall-clock handoff moves by an hour across a change.
    case hours(Int)

    public func validate() throws(ValidationError) {
        switch self {
        case .daily, .weekly: return
        case .days(let n):
            guard (1...ScheduleLimits.maxRotationDays).contains(n) else {
                throw ValidationError(field: "rotation", reason: "days must be in 1...\(ScheduleLimits.maxRotationDays)")
            }
        case .hours(let n):
            guard (1...ScheduleLimits.maxRotationHours).contains(n) else {
                throw ValidationError(field: "rotation", reason: "hours must be in 1...\(ScheduleLimits.maxRotationHours)")
            }
        }
    }
}

/// One user on call from `start` (inclusive) to `end` (exclusive), above every layer.
public struct ScheduleOverride: Sendable, Equatable, BinaryCodable {
    public var user: String
    public var start: Timestamp
    public var end: Timestamp

    public init(user: String, start: Timestamp, end: Timestamp) {
        self.user = user
        self.start = start
        self.end = end
    }

    public func covers(_ instant: Timestamp) -> Bool { start <= instant && instant < end }

    public func validate() throws(ValidationError) {
        try TextLimits.check(user, field: "user", max: TextLimits.identifierBytes)
        guard end > start else { throw ValidationError(field: "end", reason: "must be after start") }
    }
}

// MARK: - Shift arithmetic

extension ScheduleLayer {
    /// The user this layer puts on call at `instant` (whose wall clock in `rules` is `local`),
    /// or nil where the layer does not cover it.
    func user(at instant: Timestamp, local: CivilDateTime, rules: TimeZoneRules) -> String? {
        guard isEvaluable else { return nil }
        if !restrictions.isEmpty && !restrictions.contains(where: { $0.contains(local) }) { return nil }
        guard let shift = shiftIndex(at: instant, local: local, rules: rules) else { return nil }
        return users[Int(shift % Int64(users.count))]
    }

    /// Index of the shift in progress at `instant` (0 is the first user's first shift), or nil
    /// before the layer starts or from its end on. Ignores restrictions.
    func shiftIndex(at instant: Timestamp, local: CivilDateTime, rules: TimeZoneRules) -> Int64? {
        let start = startDate.daysSinceEpoch
        switch rotation.shiftLength {
        case .calendarDays(let n):
            let day = effectiveDay(at: instant, local: local, rules: rules)
            if let endDate, day >= endDate.daysSinceEpoch { return nil }
            guard day >= start else { return nil }
            return (day - start) / Int64(n)
        case .elapsedHours(let n):
            let elapsed = instant.milliseconds(since: handoffInstant(onDay: start, rules: rules))
            guard elapsed >= 0 else { return nil }
            if let endDate, effectiveDay(at: instant, local: local, rules: rules) >= endDate.daysSinceEpoch {
                return nil
            }
            return elapsed / (Int64(n) * Milliseconds.hour)
        }
    }

    /// The local day (days since epoch) whose handoff most recently happened at or before
    /// `instant`.
    ///
    /// Usually the local date, minus one before the handoff time of day. Around a clock change
    /// it is defined through `handoffInstant(onDay:rules:)`, which only ever moves forward: in a
    /// fall-back overlap the handoff happens at the first pass of the wall time and the repeated
    /// hour does not hand the shift back.
    func effectiveDay(at instant: Timestamp, local: CivilDateTime, rules: TimeZoneRules) -> Int64 {
        // Handoffs are increasing in the day, and at most one clock change sits between the
        // local date and its neighbours, so the answer is within a day of the local date. The
        // day after is possible only where a fall-back crosses midnight.
        var day = local.date.daysSinceEpoch + 1
        while day >= local.date.daysSinceEpoch, handoffInstant(onDay: day, rules: rules) > instant { day -= 1 }
        return day
    }

    /// When the handoff of local day `day` happens: the first instant the clock shows the
    /// handoff time on that day, or, if a spring-forward gap skips it, the moment the clock
    /// jumps past it.
    func handoffInstant(onDay day: Int64, rules: TimeZoneRules) -> Timestamp {
        let wall = CivilDateTime(
            date: CivilDate(daysSinceEpoch: day), hour: handoffMinute / 60, minute: handoffMinute % 60)
        return rules.firstInstant(reaching: wall)
    }

    /// Whether evaluation can run without trapping; `validate()` guarantees it, but a decoded or
    /// hand-built layer might not have been validated.
    private var isEvaluable: Bool {
        guard !users.isEmpty, (0..<DailyTimeRange.minutesPerDay).contains(handoffMinute),
            startDate.isValid, endDate?.isValid ?? true
        else { return false }
        return (try? rotation.validate()) != nil
    }
}

extension Rotation {
    enum ShiftLength {
        case calendarDays(Int)
        case elapsedHours(Int)
    }

    var shiftLength: ShiftLength {
        switch self {
        case .daily: .calendarDays(1)
        case .weekly: .calendarDays(7)
        case .days(let n): .calendarDays(n)
        case .hours(let n): .elapsedHours(n)
        }
    }
}

extension TimeZoneRules {
    /// Instants from 0001-01-01 to the end of 9999 (UTC): the span where calendar arithmetic on
    /// local times cannot overflow. Schedules and windows cover nothing outside it.
    static let civilInstants: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// The first instant at which the local clock shows `local` or later.
    ///
    /// That is the wall time itself when it happens (its earlier pass in a fall-back overlap, as
    /// `instant(of:)`), and the end of the gap when a spring-forward skips it: a 02:30 handoff
    /// in a 02:00→03:00 jump happens at 03:00, when the clock passes it, not at the 03:30 that
    /// `instant(of:)` returns for the gap.
    func firstInstant(reaching local: CivilDateTime) -> Timestamp {
        let wallMs = local.secondsSinceEpochAsUTC * 1000
        let candidate = instant(of: local)
        let candidateMs = candidate.millisecondsSinceEpoch
        func reached(_ ms: Int64) -> Bool {
            ms + Int64(offsetSeconds(at: Timestamp(millisecondsSinceEpoch: ms))) * 1000 >= wallMs
        }
        // Not in a gap: the clock shows exactly `local` at the candidate.
        if candidateMs + Int64(offsetSeconds(at: candidate)) * 1000 == wallMs { return candidate }
        // In a gap: the jump lies between the instant `local` would be at the later offset (the
        // clock there still shows an earlier time) and the candidate. Bisect to the millisecond.
        var low = wallMs - Int64(offsetSeconds(at: candidate)) * 1000
        var high = candidateMs
        guard low < high, !reached(low), reached(high) else { return candidate }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if reached(middle) { high = middle } else { low = middle }
        }
        return Timestamp(millisecondsSinceEpoch: high)
    }
}
