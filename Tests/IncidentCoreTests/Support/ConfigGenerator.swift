@testable import IncidentCore

/// Configuration commands for `CommandGenerator`: create (new or taken ids, sometimes left empty
/// for the machine to assign), update (known or unknown ids) and delete, of every kind, with
/// references to items that exist most of the time and to ones that do not now and then, and
/// about one item in ten invalid on its own.
extension CommandGenerator {
    static let idPools: [ConfigKind: [String]] = [
        .user: ["alice", "bob", "carol"], .channel: ["hook", "slack", "mail"], .escalationPolicy: ["pol-a", "pol-b"],
        .team: ["sre", "ml"], .schedule: ["primary"], .classificationRule: ["cls-a", "cls-b", "cls-c"],
        .routingRule: ["rte-a", "rte-b", "rte-c"], .groupingRule: ["grp-a", "grp-b"], .maintenanceWindow: ["mnt-a", "mnt-b"],
        .apiKey: ["key-a", "key-b"],
    ]
    static let zones = ["UTC", "Europe/Berlin", "America/New_York"]
    static let secretHashes = [String(repeating: "ab", count: 32), String(repeating: "0f", count: 32), String(repeating: "AB", count: 32)]

    /// What the first commands create, in dependency order, so that incidents soon meet
    /// policies, teams and rules (each may still come out invalid).
    static let bootstrap: [ConfigKind] = [
        .user, .user, .channel, .channel, .schedule, .escalationPolicy, .escalationPolicy, .team, .routingRule, .classificationRule,
        .groupingRule,
    ]

    mutating func configCommand(_ machine: IncidentStateMachine, step: Int) -> Command {
        let admin = Actor.user("root")
        let bootstrapping = step <= Self.bootstrap.count
        // Users and channels more often: everything else names them.
        let kind: ConfigKind =
            bootstrapping ? Self.bootstrap[step - 1] : chance(30) ? pick([.user, .channel]) : pick(ConfigKind.allCases)
        let existing = ids(kind, machine)
        let pool = Self.idPools[kind]!
        switch bootstrapping ? 0 : int(0...9) {
        case 0..<6:
            let id = chance(8) ? "" : pick(pool)
            return .createConfig(item(kind, id: id, machine), actor: admin)
        case 6..<8:
            let id = existing.isEmpty || chance(15) ? pick(pool) : pick(existing)
            return .updateConfig(item(kind, id: id, machine), actor: admin)
        default:
            let id = existing.isEmpty || chance(15) ? pick(pool) : pick(existing)
            return .deleteConfig(kind: kind, id: id, actor: admin)
        }
    }

    private func ids(_ kind: ConfigKind, _ machine: IncidentStateMachine) -> [String] {
        machine.config.allItems.filter { $0.kindOfSelf == kind }.map(\.id)
    }

    /// An existing id of `kind` most of the time; else one from the pool, which may not exist.
    mutating func reference(_ kind: ConfigKind, _ machine: IncidentStateMachine) -> String {
        let existing = ids(kind, machine)
        return existing.isEmpty || chance(5) ? pick(Self.idPools[kind]!) : pick(existing)
    }

    private mutating func item(_ kind: ConfigKind, id: String, _ machine: IncidentStateMachine) -> ConfigItem {
        switch kind {
        case .user:
            return .user(User(id: id, name: "User \(id)", email: chance(92) ? "\(id)@example.com" : "not-an-email", slackID: "U\(int(1...9))", timeZone: pick(Self.zones)))
        case .channel: return .channel(channel(id))
        case .escalationPolicy: return .escalationPolicy(policy(id, machine))
        case .team:
            let members = subset(ids(.user, machine))
            let channels = subset(ids(.channel, machine), percent: 30)
            return .team(Team(id: id, name: "Team \(id)", members: members, escalationPolicy: chance(80) ? reference(.escalationPolicy, machine) : nil, channels: channels))
        case .schedule: return .schedule(schedule(id, machine))
        case .classificationRule:
            return .classificationRule(ClassificationRule(
                id: id, name: "classify \(id)", position: int(-2...2), enabled: chance(90), match: matcher(),
                setSeverity: chance(50) ? pick(Severity.allCases) : nil, setCategory: chance(30) ? pick(EventCategory.allCases) : nil,
                setTeam: chance(25) ? reference(.team, machine) : nil, continue: chance(40)))
        case .routingRule:
            let window = ZonedTimeWindow(timeZone: pick(Self.zones), range: DailyTimeRange(days: Set(subset(Weekday.allCases, percent: 70)), startMinute: 9 * 60, endMinute: 17 * 60))
            return .routingRule(RoutingRule(
                id: id, name: "route \(id)", position: int(-2...2), enabled: chance(90), match: matcher(), activeWindow: chance(20) ? window : nil,
                team: chance(70) ? reference(.team, machine) : nil, escalationPolicy: chance(30) ? reference(.escalationPolicy, machine) : nil,
                channels: chance(30) ? [reference(.channel, machine)] : [], suppress: chance(10), continue: chance(40)))
        case .groupingRule:
            let fields: [GroupField] = [.source, .label("cluster"), .environment, .tag("svc"), .resourceID, .eventType, .category]
            let groupBy = chance(5) ? [] : [pick(fields)] + subset(fields, percent: 15)
            return .groupingRule(GroupingRule(
                id: id, name: "group \(id)", position: int(-2...2), enabled: chance(90),
                match: chance(50) ? EventMatcher(sources: [pick(Self.sources)]) : EventMatcher(),
                groupBy: groupBy, windowMilliseconds: pick([5 * Milliseconds.minute, 30 * Milliseconds.minute, 2 * Milliseconds.hour])))
        case .maintenanceWindow: return .maintenanceWindow(maintenanceWindow(id))
        case .apiKey:
            return .apiKey(APIKey(id: id, name: "key \(id)", role: pick(Role.allCases), secretHash: pick(Self.secretHashes), owner: chance(40) ? reference(.user, machine) : nil))
        }
    }

    private mutating func channel(_ id: String) -> NotificationChannel {
        let type = pick(ChannelType.allCases)
        var channel = NotificationChannel(id: id, name: "channel \(id)", type: type, enabled: chance(90))
        switch type {
        case .webhook, .slack: channel.url = "https://hooks.example.com/\(id)"
        case .pagerduty: channel.routingKey = "R0UT1NG"
        case .email:
            channel.url = "smtp://mail.example.com:25"
            channel.emailFrom = "incidentd@example.com"
        }
        if chance(25) { channel.notifyOn = Set(subset(NotificationKind.allCases)) }
        if chance(8) { channel.url = "ftp://example.com" }  // invalid for every type
        return channel
    }

    private mutating func policy(_ id: String, _ machine: IncidentStateMachine) -> EscalationPolicy {
        var levels: [EscalationLevel] = []
        for _ in 0..<int(1...3) {
            var targets: [EscalationTarget] = []
            for _ in 0..<int(1...2) {
                // Schedules and teams only once they exist (a missing one is one refusal in many).
                switch int(0...9) {
                case 7..<9 where !ids(.schedule, machine).isEmpty: targets.append(.schedule(reference(.schedule, machine)))
                case 9 where !ids(.team, machine).isEmpty: targets.append(.team(reference(.team, machine)))
                case 5..<7: targets.append(.channel(reference(.channel, machine)))
                default: targets.append(.user(reference(.user, machine)))
                }
            }
            let delay = chance(2) ? 0 : Int64(pick([1, 5, 10])) * Milliseconds.minute
            levels.append(EscalationLevel(delayMilliseconds: delay, targets: targets, channels: [reference(.channel, machine)]))
        }
        return EscalationPolicy(
            id: id, name: "policy \(id)", levels: levels, repeatCount: int(0...2),
            acknowledgeTimeoutMilliseconds: pick([nil, 10 * Milliseconds.minute, 30 * Milliseconds.minute]))
    }

    private mutating func schedule(_ id: String, _ machine: IncidentStateMachine) -> OnCallSchedule {
        var users = subset(ids(.user, machine), percent: 70)
        if users.isEmpty { users = [reference(.user, machine)] }
        let start = CivilDateTime(utcMilliseconds: now.millisecondsSinceEpoch).date.adding(days: -Int64(int(0...3)))
        let layer = ScheduleLayer(name: "primary", users: users, rotation: pick([.daily, .weekly, .hours(8)]), handoffMinute: pick([0, 540]), startDate: start)
        var overrides: [ScheduleOverride] = []
        if chance(30) { overrides.append(ScheduleOverride(user: reference(.user, machine), start: now, end: now.adding(milliseconds: Milliseconds.hour))) }
        return OnCallSchedule(id: id, name: "schedule \(id)", timeZone: chance(95) ? pick(Self.zones) : "BST", layers: [layer], overrides: overrides)
    }

    private mutating func maintenanceWindow(_ id: String) -> MaintenanceWindow {
        let match = pick([EventMatcher(services: ["chat-api"]), EventMatcher(labels: [Self.clusterEU]), EventMatcher()])
        let schedule: MaintenanceSchedule
        if chance(60) {
            let start = now.adding(milliseconds: -Int64(int(0...60)) * Milliseconds.minute)
            // Sometimes ends before it starts: invalid.
            schedule = .oneOff(start: start, end: start.adding(milliseconds: Int64(int(-10...120)) * Milliseconds.minute))
        } else {
            let range = DailyTimeRange(days: Set(subset(Weekday.allCases)), startMinute: int(0...1439), endMinute: int(0...1440))
            let from: Timestamp? = chance(50) ? now.adding(milliseconds: -Milliseconds.day) : nil
            let until: Timestamp? = chance(50) ? now.adding(milliseconds: Milliseconds.day) : nil
            schedule = .weekly(window: ZonedTimeWindow(timeZone: pick(Self.zones), range: range), from: from, until: until)
        }
        return MaintenanceWindow(id: id, name: "maintenance \(id)", match: match, schedule: schedule)
    }

    /// A fixture built from constants: it cannot fail unless this file is wrong, and then the
    /// message says which constant.
    static func constant<T>(_ what: String, _ make: () throws -> T) -> T {
        do { return try make() } catch { preconditionFailure("invalid test constant \(what): \(error)") }
    }

    static let clusterEU = constant("cluster=eu-1") { try LabelMatcher(key: "cluster", value: "eu-1") }
    static let titleRegexes = ["(?i)gpu|cuda", "latency", "^error", "(a+)+$"].map { pattern in constant(pattern) { try SafeRegex(pattern) } }
    static let serviceMatchers = [LabelMatcher.Operator.equals, .present, .absent].map { op in
        constant("svc \(op)") { try LabelMatcher(key: "svc", op: op, value: "chat") }
    }
    static let alertnameMatcher = constant("alertname =~ ^High") { try LabelMatcher(key: "alertname", op: .matchesRegex, value: "^High") }

    /// Zero to two conditions of any sort.
    mutating func matcher() -> EventMatcher {
        var matcher = EventMatcher()
        for _ in 0..<int(0...2) {
            switch int(0...8) {
            case 0: matcher.sources = [pick(Self.sources)]
            case 1: matcher.eventTypes = [pick(["anomaly", "alert"])]
            case 2: matcher.categories = subset(EventCategory.allCases)
            case 3: matcher.severities = [pick(Severity.allCases), pick(Severity.allCases)]
            case 4: matcher.environments = [pick(["production", "staging"])]
            case 5: matcher.services = ["chat-api"]
            case 6: matcher.tags = [pick(Self.serviceMatchers)]
            case 7: matcher.labels = [pick([Self.clusterEU, Self.alertnameMatcher])]
            default: matcher.title = pick(Self.titleRegexes)
            }
        }
        return matcher
    }
}
