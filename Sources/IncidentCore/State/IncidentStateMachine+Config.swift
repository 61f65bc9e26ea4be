/// Configuration commands: create, update and delete with validation and referential integrity.
///
/// An item may only name items that exist (a routing rule's policy, a policy's channels, …),
/// and an item that others name cannot be deleted until they stop naming it.
extension IncidentStateMachine {
    mutating func createConfig(_ item: ConfigItem, by actor: Actor, at: Timestamp) -> Result<CommandResult, CommandError> {
        var entity = item.entity
        // Assign a deterministic id from the log-ordered sequence, skipping any already taken. The
        // sequence only advances if the item is stored: a rejected command changes nothing.
        var sequence = nextConfigSequence
        if entity.id.isEmpty {
            repeat {
                entity.id = "\(item.kind.idPrefix)-\(sequence)"
                sequence += 1
            } while config.item(item.kind, entity.id) != nil
        }
        if var key = entity as? APIKey {
            key.createdAt = at
            key.createdBy = actor
            entity = key
        }
        guard config.item(item.kind, entity.id) == nil else {
            return .failure(CommandError(.conflict, "\(item.kind.name) '\(entity.id)' already exists", field: "id"))
        }
        guard config.count(item.kind) < Configuration.maxItemsPerKind else {
            return .failure(CommandError(.limitExceeded, "at most \(Configuration.maxItemsPerKind) items of kind \(item.kind.name)"))
        }
        let result = store(ConfigItem(entity))
        if case .success = result { nextConfigSequence = sequence }
        return result
    }

    mutating func updateConfig(_ item: ConfigItem, by actor: Actor) -> Result<CommandResult, CommandError> {
        guard let existing = config.item(item.kind, item.id) else {
            return .failure(CommandError(.notFound, "\(item.kind.name) '\(item.id)' not found"))
        }
        var entity = item.entity
        if var key = entity as? APIKey, let old = existing as? APIKey {
            // Creation facts are immutable; the secret hash may be rotated.
            key.createdAt = old.createdAt
            key.createdBy = old.createdBy
            entity = key
        }
        return store(ConfigItem(entity))
    }

    private mutating func store(_ item: ConfigItem) -> Result<CommandResult, CommandError> {
        let entity = item.entity
        do { try entity.validate() } catch { return .failure(.invalid(error)) }
        for ref in entity.references where config.item(ref.kind, ref.id) == nil {
            return .failure(CommandError(.invalid, "\(ref.kind.name) '\(ref.id)' does not exist", field: ref.field))
        }
        if case .apiKey(let key) = item, let holder = config.apiKeyByHash[key.secretHash], holder != key.id {
            return .failure(CommandError(.conflict, "another API key has the same secret", field: "secret_hash"))
        }
        config.put(item)
        return .success(.configChanged(item.kind, id: item.id))
    }

    mutating func deleteConfig(_ kind: ConfigKind, _ id: String) -> Result<CommandResult, CommandError> {
        guard config.item(kind, id) != nil else {
            return .failure(CommandError(.notFound, "\(kind.name) '\(id)' not found"))
        }
        let referrers = config.referrers(of: kind, id)
        guard referrers.isEmpty else {
            return .failure(CommandError(.inUse, "\(kind.name) '\(id)' is used by \(referrers.joined(separator: ", "))", references: referrers))
        }
        config.remove(kind, id)
        return .success(.configChanged(kind, id: id))
    }
}
