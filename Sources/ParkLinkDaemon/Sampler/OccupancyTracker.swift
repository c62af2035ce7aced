import ParkLinkAnalytics
import ParkLinkStore

/// Turns changes of `occupied` into arrivals and departures, on the writer thread.
///
/// State per (gateway, sensor) is committed only with the transaction that carried the
/// change: `events(for:)` computes against the committed state and returns the new
/// states separately, `commit(_:)` applies them after the database commit, so a failed
/// and retried batch yields the same events again (and the key makes them harmless).
/// The first reading of a sensor the appliance knows nothing about yields no event: its
/// state before is unknown. Seeded from the `sensors` table after a restart.
struct OccupancyTracker {
    private(set) var occupied: [SensorKey: Bool] = [:]

    mutating func seed(_ states: [SensorKey: Bool]) {
        occupied.merge(states) { current, _ in current }
    }

    func events(for rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving, zones: ZoneMap)
        -> (events: [OccupancyEvent], newStates: [SensorKey: Bool])
    {
        var events: [OccupancyEvent] = []
        var changed: [SensorKey: Bool] = [:]
        var lastSession = UInt32.max
        var session = SessionKey(gatewayId: "", bootId: 0)
        for row in rows {
            if row.session != lastSession {
                lastSession = row.session
                session = sessions.key(for: row.session)
            }
            let key = SensorKey(gatewayId: session.gatewayId, sensor: row.reading.sensor)
            let now = row.reading.occupied
            let before = changed[key] ?? occupied[key]
            if let before, before != now {
                events.append(OccupancyEvent(
                    gatewayId: session.gatewayId, bootId: session.bootId, seq: row.reading.seq,
                    sensor: row.reading.sensor, zoneId: zones.zoneId(of: row.reading.sensor),
                    arrival: now, atMs: row.receivedAtMs))
            }
            if before != now { changed[key] = now }
        }
        return (events, changed)
    }

    mutating func commit(_ newStates: [SensorKey: Bool]) {
        occupied.merge(newStates) { _, new in new }
    }
}
