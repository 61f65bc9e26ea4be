/// Routing: which team, policy and channels a new incident gets.
extension IncidentStateMachine {
    struct RoutingDecision {
        var team: String?
        var policy: String?
        var channels: [String] = []
        var suppressedBy: String?
        var rules: [String] = []
    }

    /// Evaluates routing rules in order at time `at`; the first match wins unless it says
    /// `continue` (later matches then add channels and fill what is still unset).
    func route(_ subject: MatchSubject, at: Timestamp) -> RoutingDecision {
        var decision = RoutingDecision()
        for rule in config.routingRules.ordered where rule.enabled {
            guard rule.match.matches(subject) else { continue }
            if let window = rule.activeWindow, !window.contains(at) { continue }
            decision.rules.append(rule.id)
            if decision.team == nil { decision.team = rule.team }
            if decision.policy == nil { decision.policy = rule.escalationPolicy }
            for channel in rule.channels where !decision.channels.contains(channel) { decision.channels.append(channel) }
            if rule.suppress && decision.suppressedBy == nil { decision.suppressedBy = rule.id }
            if !rule.continue { break }
        }
        return decision
    }
}
