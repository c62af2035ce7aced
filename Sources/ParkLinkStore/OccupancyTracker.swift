import ParkLinkProtocol

/// A change of a bay's `occupied` as the writer derives it: a car arrived or left. Keyed,
/// like the reading that carried it, by (session, seq); the recorder resolves the session
/// to its gateway id and boot when it writes the row.
struct OccupancyChange: Equatable {
    var session: UInt32
    var seq: UInt32
    var sensor: UInt16
    var arrival: Bool
    /// The reading's receive time: when the change happened, even if it is written later.
    var atMs: Int64
}

/// Turns changes of `occupied` into arrivals and departures, on the writer thread.
///
/// `apply` computes a batch's changes and updates the state in place, logging what it
/// overwrote; `revert` undoes the last `apply` if the transaction fails, so a retried batch
/// yields the same changes again (and their key makes a replay harmless). The first reading
/// of a sensor the appliance knows nothing about yields no change: its state before is
/// unknown.
///
/// Only a reading newer than the last one applied for its sensor moves the state: a replay
/// of older readings (a batch read back from the spool after a crash, a gateway repeating
/// itself) must not flip a bay back and make the next reading look like an arrival. After a
/// restart the state is seeded from the last stored reading of each sensor, with its time.
///
/// Debounce (`debounceMs` > 0): a change is held back until the bay has kept its new state
/// for `debounceMs` (a later reading of the bay, or the batch's newest reading, or the
/// writer's idle clock, that far after it); a bay that reverts within it yields neither
/// change, and both are counted as suppressed. A confirmed change is written with the seq
/// and time of the reading that began it, in the transaction of the batch that confirmed it.
///
/// State per gateway: one 32-byte `Bay` per sensor id, in an array that grows to the
/// highest id seen: one index per reading, whatever the number of sensors.
struct OccupancyTracker {
    struct Bay {
        /// The state the last change (or the seed, or the first reading) left: 0 unknown,
        /// 1 free, 2 occupied.
        var stable: UInt8 = 0
        /// The newest applied reading's state (differs from `stable` while a change is held).
        var latest: UInt8 = 0
        var atMs = Int64.min
        /// The held change (debounce): when it began (`.min`: none), and its reading.
        var heldSinceMs = Int64.min
        var heldSeq: UInt32 = 0
        var heldSession: UInt32 = 0
    }

    /// A held change, in the order they began, for confirming those whose time has come.
    private struct Held {
        var block: Int32
        var sensor: UInt16
        var sinceMs: Int64
    }

    let debounceMs: Int64
    private var blockIndex: [String: Int32] = [:]
    private var blocks: [[Bay]] = []
    private var held: [Held] = []
    private var heldHead = 0
    private var undo: [(block: Int32, sensor: UInt16, old: Bay)] = []
    private var undoHeldHead = 0
    private var undoHeldCount = 0
    /// Changes held back and then reverted (two per flap), by the last `apply`.
    private(set) var lastSuppressed = 0
    /// Bays whose change is held now.
    private(set) var heldBays = 0
    private var undoHeldBays = 0

    init(debounceMs: Int = 0) {
        self.debounceMs = Int64(max(0, debounceMs))
    }

    /// When the oldest held change's debounce ends (nil: none is held).
    mutating func nextReleaseMs() -> Int64? {
        while heldHead < held.count {
            let h = held[heldHead]
            if blocks[Int(h.block)][Int(h.sensor)].heldSinceMs == h.sinceMs { return h.sinceMs + debounceMs }
            heldHead += 1  // reverted or confirmed since: nothing to release
        }
        return nil
    }

    /// Where each bay stood, and since when, as the database last knew it.
    mutating func seed(_ known: [SensorKey: (occupied: Bool, atMs: Int64)]) {
        for (key, last) in known {
            let b = block(for: key.gatewayId)
            let s = Int(key.sensor)
            grow(b, to: s)
            if last.atMs >= blocks[Int(b)][s].atMs {
                let state: UInt8 = last.occupied ? 2 : 1
                blocks[Int(b)][s] = Bay(stable: state, latest: state, atMs: last.atMs)
            }
        }
    }

    /// Applies a batch (rows in receive order) and appends the changes it confirms to
    /// `changes`: those the readings carry, then held changes whose debounce ends by
    /// `releaseUpToMs` or by the batch's newest reading, whichever is later.
    mutating func apply(_ rows: UnsafeBufferPointer<StampedReading>, sessions: SessionResolving,
                        releaseUpToMs: Int64? = nil, into changes: inout [OccupancyChange]) {
        compactHeld()
        undo.removeAll(keepingCapacity: true)
        undoHeldHead = heldHead
        undoHeldCount = held.count
        undoHeldBays = heldBays
        lastSuppressed = 0
        var newest = releaseUpToMs ?? .min
        var i = 0
        while i < rows.count {
            let sessionIndex = rows[i].session
            let b = block(for: sessions.key(for: sessionIndex).gatewayId)
            // Taken out of the array so it is uniquely referenced and changed in place.
            var bays = blocks[Int(b)]
            blocks[Int(b)] = []
            while i < rows.count && rows[i].session == sessionIndex {
                let row = rows[i]
                i += 1
                let s = Int(row.reading.sensor)
                if s >= bays.count { bays += repeatElement(Bay(), count: Self.capacity(for: s) - bays.count) }
                let at = row.receivedAtMs
                guard at >= bays[s].atMs else { continue }
                newest = max(newest, at)
                undo.append((b, UInt16(s), bays[s]))
                step(&bays[s], sensor: UInt16(s), state: row.reading.occupied ? 2 : 1, at: at, seq: row.reading.seq,
                     session: sessionIndex, block: b, changes: &changes)
            }
            blocks[Int(b)] = bays
        }
        if debounceMs > 0 && newest != .min { release(upTo: newest, into: &changes) }
    }

    /// One reading of one bay.
    @inline(__always)
    private mutating func step(_ bay: inout Bay, sensor: UInt16, state: UInt8, at: Int64, seq: UInt32, session: UInt32,
                               block b: Int32, changes: inout [OccupancyChange]) {
        defer {
            bay.latest = state
            bay.atMs = at
        }
        if bay.stable == 0 {
            bay.stable = state
            return
        }
        if debounceMs == 0 {
            if state != bay.stable {
                changes.append(OccupancyChange(session: session, seq: seq, sensor: sensor, arrival: state == 2, atMs: at))
                bay.stable = state
            }
            return
        }
        if bay.heldSinceMs != .min && at - bay.heldSinceMs >= debounceMs {
            confirm(&bay, sensor: sensor, into: &changes)
        }
        if state != bay.stable {
            if bay.heldSinceMs == .min {
                bay.heldSinceMs = at
                bay.heldSeq = seq
                bay.heldSession = session
                held.append(Held(block: b, sensor: sensor, sinceMs: at))
                heldBays += 1
            }
        } else if bay.heldSinceMs != .min {
            // Back where it was within the debounce: neither change is written.
            bay.heldSinceMs = .min
            heldBays -= 1
            lastSuppressed += 2
        }
    }

    private mutating func confirm(_ bay: inout Bay, sensor: UInt16, into changes: inout [OccupancyChange]) {
        changes.append(OccupancyChange(session: bay.heldSession, seq: bay.heldSeq, sensor: sensor,
                                       arrival: bay.latest == 2, atMs: bay.heldSinceMs))
        bay.stable = bay.latest
        bay.heldSinceMs = .min
        heldBays -= 1
    }

    /// Confirms the held changes that began `debounceMs` or more before `upToMs` (all of
    /// them when `upToMs` is `.max`: a clean stop).
    private mutating func release(upTo upToMs: Int64, into changes: inout [OccupancyChange]) {
        while heldHead < held.count {
            let h = held[heldHead]
            guard upToMs == .max || upToMs - h.sinceMs >= debounceMs else { break }
            heldHead += 1
            let b = Int(h.block), s = Int(h.sensor)
            // Reverted or confirmed since (and perhaps held again, later): not this one.
            guard blocks[b][s].heldSinceMs == h.sinceMs else { continue }
            var bay = blocks[b][s]
            undo.append((h.block, h.sensor, bay))
            confirm(&bay, sensor: h.sensor, into: &changes)
            blocks[b][s] = bay
        }
    }

    /// Puts back what the last `apply` changed.
    mutating func revert() {
        for e in undo.reversed() {
            blocks[Int(e.block)][Int(e.sensor)] = e.old
        }
        undo.removeAll(keepingCapacity: true)
        held.removeSubrange(undoHeldCount...)
        heldHead = undoHeldHead
        heldBays = undoHeldBays
        lastSuppressed = 0
    }

    private mutating func compactHeld() {
        if heldHead > 4_096 && heldHead * 2 > held.count {
            held.removeSubrange(..<heldHead)
            heldHead = 0
        }
    }

    private mutating func block(for gatewayId: String) -> Int32 {
        if let b = blockIndex[gatewayId] { return b }
        let b = Int32(blocks.count)
        blocks.append([])
        blockIndex[gatewayId] = b
        return b
    }

    private mutating func grow(_ b: Int32, to sensor: Int) {
        let n = blocks[Int(b)].count
        if sensor >= n { blocks[Int(b)] += repeatElement(Bay(), count: Self.capacity(for: sensor) - n) }
    }

    /// Room for sensor ids up to `sensor`, in powers of two (at most 65,536).
    private static func capacity(for sensor: Int) -> Int {
        var c = 64
        while c <= sensor { c *= 2 }
        return c
    }
}
