/// Schedules are configuration: they are stored, validated and name users that must exist.
extension OnCallSchedule: ConfigEntity {
    public static let kind = ConfigKind.schedule

    public var references: [ConfigReference] {
        var refs: [ConfigReference] = []
        for (i, layer) in layers.enumerated() {
            for (j, user) in layer.users.enumerated() { refs.append(ConfigReference(.user, user, field: "layers[\(i)].users[\(j)]")) }
        }
        for (i, override) in overrides.enumerated() { refs.append(ConfigReference(.user, override.user, field: "overrides[\(i)].user")) }
        return refs
    }
}
