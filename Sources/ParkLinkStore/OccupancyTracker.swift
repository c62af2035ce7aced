import ParkLinkProtocol

/// Turns changes of `occupied` into arrivals and departures, on the writer thread.
///
/// `apply` computes a batch's events and updates the state in place, returning an undo
/// log; the caller reverts it if the transaction fails, so a retried batch yields the
/// same events again (and their key makes a replay harmless). The first reading of a
/// sensor the appliance knows nothing about yields no event: its state before is unknown.
///
/// Only a reading newer than the last one applied for its sensor moves the state: a
/// replay of older readings (a batch read back from the spool after a crash, a gateway
/// repeating itself) must not flip a bay back and make the next reading look like an
/// arrival. After a restart the state is seeded from the last stored reading of each
/// sensor, with its time, for the same reason.
///
/// State per gateway: a byte per sensor id (0 unknown, 1 free, 2 occupied) and the receive
/// time of the reading that set it: one index per reading, whatever the number of sensors.
struct OccupancyTracker {
    private struct Block {
        var state = [UInt8](repeating: 0, count: 65_536)
        var atMs = [Int64](repeating: .min, count: 65_536)
    }

    private var blocks: [String: Block] = [:]

    struct Undo {
        fileprivate var entries: [(gateway: String, sensor: UInt16, old: UInt8, oldAtMs: Int64)] = []
    }

    /// Where each bay stood, and since when, as the database last knew it.
    mutating func seed(_ known: [SensorKey: (occupied: Bool, atMs: Int64)]) {
        for (key, last) in known {
            var b = blocks.removeValue(forKey: key.gatewayId) ?? Block()
            let i = Int(key.sensor)
            if last.atMs >= b.atMs[i] {
                b.state[i] = last.occupied ? 2 : 1
                b.atMs[i] = last.atMs
            }
            blocks[key.gatewayId] = b
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
            // Taken out of the dictionary so it is uniquely referenced and changed in place.
            var b = blocks.removeValue(forKey: session.gatewayId) ?? Block()
            while i < rows.count && rows[i].session == sessionIndex {
                let r = rows[i].reading
                let at = rows[i].receivedAtMs
                let s = Int(r.sensor)
                if at >= b.atMs[s] {
                    let now: UInt8 = r.occupied ? 2 : 1
                    let before = b.state[s]
                    if before != now && before != 0 {
                        events.append(OccupancyEvent(
                            gatewayId: session.gatewayId, bootId: session.bootId, seq: r.seq, sensor: r.sensor,
                            zoneId: zoneOf(r.sensor), arrival: r.occupied, atMs: at))
                    }
                    undo.entries.append((session.gatewayId, r.sensor, before, b.atMs[s]))
                    b.state[s] = now
                    b.atMs[s] = at
                }
                i += 1
            }
            blocks[session.gatewayId] = b
        }
        return (events, undo)
    }

    mutating func revert(_ undo: Undo) {
        for e in undo.entries.reversed() {
            blocks[e.gateway]?.state[Int(e.sensor)] = e.old
            blocks[e.gateway]?.atMs[Int(e.sensor)] = e.oldAtMs
        }
    }
}
