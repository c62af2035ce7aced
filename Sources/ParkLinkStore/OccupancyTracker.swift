import ParkLinkProtocol

/// Turns changes of `occupied` into arrivals and departures, on the writer thread.
///
/// `apply` computes a batch's events and updates the state in place, returning an undo
/// log; the caller reverts it if the transaction fails, so a retried batch yields the
/// same events again (and their key makes a replay harmless). The first reading of a
/// sensor the appliance knows nothing about yields no event: its state before is unknown.
/// Seeded from the `sensors` table after a restart. State is a byte per sensor id per
/// gateway (0 unknown, 1 free, 2 occupied): one index per reading, whatever the number of
/// sensors.
struct OccupancyTracker {
    private var states: [String: [UInt8]] = [:]

    struct Undo {
        fileprivate var entries: [(gateway: String, sensor: UInt16, old: UInt8)] = []
    }

    mutating func seed(_ known: [SensorKey: Bool]) {
        for (key, occupied) in known {
            var s = states.removeValue(forKey: key.gatewayId) ?? [UInt8](repeating: 0, count: 65_536)
            if s[Int(key.sensor)] == 0 { s[Int(key.sensor)] = occupied ? 2 : 1 }
            states[key.gatewayId] = s
        }
    }

    mutating func apply(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving, zoneOf: (UInt16) -> String?)
        -> (events: [OccupancyEvent], undo: Undo)
    {
        var events: [OccupancyEvent] = []
        var undo = Undo()
        var i = 0
        while i < rows.count {
            let sessionIndex = rows[i].session
            let session = sessions.key(for: sessionIndex)
            var s = states.removeValue(forKey: session.gatewayId) ?? [UInt8](repeating: 0, count: 65_536)
            while i < rows.count && rows[i].session == sessionIndex {
                let r = rows[i].reading
                let now: UInt8 = r.occupied ? 2 : 1
                let before = s[Int(r.sensor)]
                if before != now {
                    if before != 0 {
                        events.append(OccupancyEvent(
                            gatewayId: session.gatewayId, bootId: session.bootId, seq: r.seq, sensor: r.sensor,
                            zoneId: zoneOf(r.sensor), arrival: r.occupied, atMs: rows[i].receivedAtMs))
                    }
                    undo.entries.append((session.gatewayId, r.sensor, before))
                    s[Int(r.sensor)] = now
                }
                i += 1
            }
            states[session.gatewayId] = s
        }
        return (events, undo)
    }

    mutating func revert(_ undo: Undo) {
        for e in undo.entries.reversed() {
            states[e.gateway]?[Int(e.sensor)] = e.old
        }
    }
}
