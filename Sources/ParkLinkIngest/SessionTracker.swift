import ParkLinkProtocol

/// Follows `seq` per (gateway, boot) and decides which session each reading belongs to.
///
/// Pure logic, owned by the reader thread (no locks, no I/O): it is fed decoded
/// messages and says, through `Effects`, what to store, what to record and when to
/// PING. The rules, from PROTOCOL.md:
/// - a boot's `seq` starts at 0 and rises by exactly 1; a jump is a link gap, recorded
///   with its first missing seq and count (so a session's first reading at seq 40 means
///   0…39 never reached us);
/// - a smaller `seq` without a new HELLO means the gateway rebooted unannounced: the
///   readings are held and a PING asks the gateway to name its new boot;
/// - `HB.next_seq` reveals loss at the tail of a quiet stream;
/// - readings that no HELLO names within `helloTimeoutMs` are not dropped: they get a
///   session the appliance names itself (`synthetic`, recorded as such), so nothing
///   the gateway sent is lost for want of a HELLO.
public struct SessionTracker {
    public struct Config: Sendable {
        /// How long readings may wait for a HELLO before a synthetic session takes them.
        public var helloTimeoutMs: Int64 = 2_000
        /// At most this many readings wait for a HELLO; more are dropped and counted.
        public var maxPending: Int = 200_000
        /// The gateway id for a synthetic session when no HELLO was ever seen.
        public var fallbackGatewayId: String = "unknown"
        public init() {}
    }

    /// What the reader must do after feeding the tracker.
    public struct Effects {
        /// Readings ready for the ring, in arrival order.
        public var ready: [StampedReading] = []
        /// Sessions and gaps for the writer to record.
        public var events: [LinkEvent] = []
        /// The gateway should be asked (PING) to announce itself.
        public var wantsPing = false
        public var gaps = 0
        public var missingReadings = 0
        public var unannouncedReboots = 0
        /// Readings dropped because too many waited for a HELLO.
        public var droppedNoSession = 0
        public init() {}

        public mutating func clear() {
            ready.removeAll(keepingCapacity: true)
            events.removeAll(keepingCapacity: true)
            wantsPing = false
            gaps = 0
            missingReadings = 0
            unannouncedReboots = 0
            droppedNoSession = 0
        }
    }

    private struct Current {
        var key: SessionKey
        var index: UInt32
        /// The seq we expect next (64-bit: a boot may reach seq 2^32 − 1).
        var expected: UInt64
        var txDropped: UInt32 = 0
        /// Named by the appliance because no HELLO came: a HELLO that comes later (one
        /// link, one gateway) names that boot, which goes on where this one left off.
        var synthetic = false
    }

    public let config: Config
    private let sessions: SessionTable
    private var current: Current?
    /// The gateway rebooted without a HELLO: readings wait in `pending` until one comes.
    private var awaitingHello = false
    private var pending: [(receivedAtMs: Int64, reading: Reading)] = []
    private var pendingSinceMs: Int64 = 0
    /// `tx_dropped` of sessions that have ended, plus the current one's latest.
    private var txDroppedClosed: UInt64 = 0
    /// Where each known session left off, e.g. from the database after a restart, so a
    /// HELLO for a boot we already stored does not look like a gap from 0.
    private var resume: [SessionKey: UInt64]

    public init(sessions: SessionTable, config: Config = Config(), resume: [SessionKey: UInt64] = [:]) {
        self.sessions = sessions
        self.config = config
        self.resume = resume
    }

    /// The session readings currently go to, if any.
    public var currentSession: SessionKey? { current?.key }
    public var pendingCount: Int { pending.count }
    /// Readings the gateway said it dropped itself (`HB.tx_dropped`), over all sessions.
    public var gatewayTxDropped: UInt64 { txDroppedClosed + UInt64(current?.txDropped ?? 0) }

    public mutating func hello(_ h: Hello, atMs: Int64, effects: inout Effects) {
        let key = SessionKey(gatewayId: h.gatewayId, bootId: h.bootId)
        effects.events.append(.session(key, hello: h, atMs: atMs))
        if let c = current, c.synthetic, !awaitingHello {
            // The late HELLO names the boot the synthetic session stood in for: carry on
            // from its seq (the readings before are stored under the synthetic id) and
            // keep its tx_dropped running total, which the gateway keeps counting.
            current = Current(key: key, index: sessions.index(for: key), expected: max(c.expected, resume[key] ?? 0),
                              txDropped: c.txDropped)
        } else if current?.key != key {
            begin(key, effects: &effects)
        }
        awaitingHello = false
        flushPending(effects: &effects)
    }

    public mutating func reading(_ r: Reading, atMs: Int64, effects: inout Effects) {
        guard current != nil, !awaitingHello else {
            hold(r, atMs: atMs, effects: &effects)
            return
        }
        if UInt64(r.seq) < current!.expected {
            // Seq went back with no HELLO: the gateway rebooted and its boot id is unknown.
            effects.unannouncedReboots += 1
            awaitingHello = true
            hold(r, atMs: atMs, effects: &effects)
            return
        }
        accept(r, atMs: atMs, effects: &effects)
    }

    public mutating func heartbeat(_ hb: Heartbeat, atMs: Int64, effects: inout Effects) {
        guard var c = current, !awaitingHello else { return }
        let next = UInt64(hb.nextSeq)
        // A heartbeat from a new boot must not overwrite the old boot's final count.
        if next >= c.expected { c.txDropped = hb.txDropped }
        if next > c.expected {
            recordGap(key: c.key, from: c.expected, count: next - c.expected, atMs: atMs, effects: &effects)
            c.expected = next
        } else if next < c.expected {
            effects.unannouncedReboots += 1
            awaitingHello = true
            pendingSinceMs = atMs
            effects.wantsPing = true
        }
        current = c
    }

    /// Housekeeping: readings that waited too long for a HELLO get a synthetic session.
    public mutating func tick(nowMs: Int64, effects: inout Effects) {
        if !pending.isEmpty || awaitingHello, nowMs - pendingSinceMs >= config.helloTimeoutMs {
            adoptSyntheticSession(nowMs: nowMs, effects: &effects)
        } else if !pending.isEmpty {
            effects.wantsPing = true
        }
    }

    /// At shutdown: nothing may stay behind waiting for a HELLO that will not be read.
    public mutating func flushForShutdown(nowMs: Int64, effects: inout Effects) {
        if !pending.isEmpty { adoptSyntheticSession(nowMs: nowMs, effects: &effects) }
    }

    // MARK: - Internals

    private mutating func begin(_ key: SessionKey, effects: inout Effects) {
        if let c = current { txDroppedClosed += UInt64(c.txDropped) }
        current = Current(key: key, index: sessions.index(for: key), expected: resume[key] ?? 0)
    }

    private mutating func accept(_ r: Reading, atMs: Int64, effects: inout Effects) {
        let seq = UInt64(r.seq)
        if seq > current!.expected {
            recordGap(key: current!.key, from: current!.expected, count: seq - current!.expected, atMs: atMs, effects: &effects)
        }
        if seq >= current!.expected { current!.expected = seq + 1 }
        effects.ready.append(StampedReading(session: current!.index, receivedAtMs: atMs, reading: r))
    }

    private mutating func hold(_ r: Reading, atMs: Int64, effects: inout Effects) {
        if pending.isEmpty { pendingSinceMs = atMs }
        if pending.count >= config.maxPending {
            effects.droppedNoSession += 1
        } else {
            pending.append((atMs, r))
        }
        effects.wantsPing = true
    }

    private mutating func flushPending(effects: inout Effects) {
        guard current != nil else { return }
        let held = pending
        pending.removeAll(keepingCapacity: true)
        for (at, r) in held {
            if UInt64(r.seq) < current!.expected {
                // Readings older than where this boot already is: a replay of ones
                // already taken; the store's key makes them harmless.
                effects.ready.append(StampedReading(session: current!.index, receivedAtMs: at, reading: r))
            } else {
                accept(r, atMs: at, effects: &effects)
            }
        }
    }

    private mutating func adoptSyntheticSession(nowMs: Int64, effects: inout Effects) {
        let gateway = current?.key.gatewayId ?? config.fallbackGatewayId
        // Random, like a real boot id, and never one this tracker already knows: a
        // repeated id would make new readings collide with stored keys.
        var key = SessionKey(gatewayId: gateway, bootId: UInt32.random(in: 1...UInt32.max))
        while key == current?.key || resume[key] != nil {
            key.bootId = UInt32.random(in: 1...UInt32.max)
        }
        effects.events.append(.session(key, hello: nil, atMs: nowMs))
        begin(key, effects: &effects)
        current!.synthetic = true
        awaitingHello = false
        flushPending(effects: &effects)
    }

    private func recordGap(key: SessionKey, from: UInt64, count: UInt64, atMs: Int64, effects: inout Effects) {
        effects.gaps += 1
        effects.missingReadings += Int(count)
        effects.events.append(.gap(key, firstMissing: UInt32(truncatingIfNeeded: from),
                                   count: UInt32(clamping: count), atMs: atMs))
    }
}
