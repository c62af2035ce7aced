import ParkLinkAnalytics
import ParkLinkProtocol
import ParkLinkStore

/// What the sampler shares with the live side of the daemon (LEDs, `parklink watch`,
/// notifications) and takes from it (overrides, how often bays change). Every closure is
/// called on the sampler thread and must only hand things on: the sampler waits for
/// nobody.
public struct SamplerHooks: Sendable {
    /// The overrides in force; the sampler counts bays by them and ends expired ones.
    public var overrides: OverrideBook?
    /// Changes per bay in the last minute (SENSOR_FLAPPING's input), at a time.
    public var bayChangesLastMinute: (@Sendable (_ nowMs: Int64) -> [SensorKey: Int])?
    /// The alerts that opened or resolved in a cycle (after the book changed).
    public var alertTransitions: (@Sendable ([AlertTransition]) -> Void)?
    /// Every reporting bay's condition at the end of a cycle (for the LEDs).
    public var bays: (@Sendable ([SensorKey: BayCondition]) -> Void)?

    public init() {}
}

extension Sampler {
    /// Resumes the overrides from the database the first time it answers, then ends those
    /// whose time has run out, whether or not the database answers (their end is written
    /// now, or on a later cycle). Returns the database's error, if any.
    func maintainOverrides(_ store: SamplerDatabase, nowMs: Int64, databaseUsable: Bool) -> String? {
        guard let book = hooks.overrides else { return nil }
        var failure: String?
        if !overridesLoaded && databaseUsable {
            do {
                book.resume(try store.activeOverrides().compactMap(BayOverride.init(record:)))
                overridesLoaded = true
            } catch {
                failure = "\(error)"
            }
        }
        let expired = book.expire(nowMs: nowMs)
        for o in expired {
            logger.notice("override expired: the bay follows its sensor again", metadata: [
                "override.id": "\(o.id)", "override.bay": "\(o.bay)", "override.state": "\(o.state)",
            ])
        }
        pendingOverrideEnds.withLock { $0 += expired.map { ($0.id, nowMs) } }
        let pending = pendingOverrideEnds.withLock { $0 }
        guard failure == nil, databaseUsable, !pending.isEmpty else { return failure }
        do {
            try store.endOverrides(pending)
            pendingOverrideEnds.withLock { $0.removeFirst(pending.count) }
        } catch {
            failure = "\(error)"
        }
        return failure
    }

    /// Zone-level and bay-level conditions of the live rules: ZONE_FULL from the counts
    /// (overrides included), SENSOR_FLAPPING from how often each bay changed.
    func liveConditions(occupiedByZone: [String: Int], nowMs: Int64) -> [AlertCondition] {
        var out: [AlertCondition] = []
        for zone in config.zones.zones {
            out += config.alertRules.conditions(forZone: zone.id, occupied: occupiedByZone[zone.id] ?? 0, capacity: zone.capacity)
        }
        for (bay, n) in hooks.bayChangesLastMinute?(nowMs) ?? [:] {
            out += config.alertRules.conditions(forBay: bay.gatewayId, sensor: bay.sensor, changesLastMinute: n)
        }
        return out
    }

    /// Overridden bays that have never reported (a dead sensor is a reason to override):
    /// they count in their zone too.
    func unreportedOverrides(reported: Set<SensorKey>) -> [BayOverride] {
        (hooks.overrides?.all ?? []).filter { !reported.contains($0.bay) }
    }

    /// The `overrides` status section: what is in force, by whom, until when.
    func overridesSection() -> JSONValue {
        .array((hooks.overrides?.all ?? []).map { o in
            .object([
                "id": .number(Double(o.id)), "sensor": .string(o.bay.description), "zone": o.zone.map(JSONValue.string) ?? .null,
                "state": .string(o.state), "reason": o.reason.map(JSONValue.string) ?? .null, "set_by": .string(o.setBy),
                "set_at": .string(Timestamps.iso(ms: o.setAtMs) ?? ""),
                "expires_at": o.expiresAtMs.flatMap(Timestamps.iso).map(JSONValue.string) ?? .null,
            ])
        })
    }
}

extension SamplerDatabase {
    func activeOverrides() throws -> [OverrideRecord] {
        try OverrideRepository(connection: try connection.get(), appliance: appliance).active()
    }

    func endOverrides(_ ends: [(id: UInt64, atMs: Int64)]) throws {
        let repository = OverrideRepository(connection: try connection.get(), appliance: appliance)
        for e in ends { try repository.end(id: e.id, atMs: e.atMs, reason: OverrideEnd.expired.rawValue) }
    }
}
