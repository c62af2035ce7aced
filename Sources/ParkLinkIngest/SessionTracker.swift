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
///   the gateway sent is lost for want of a HELLO;
/// - after a run that did not stop cleanly (killed, power lost), the first gap of each
///   session the appliance already knew (one in `resume`) is `GapReason.applianceRestart`:
///   the readings between the stored or spooled resume point and the first seq heard now
///   were received by the dead process and died in its memory: the link did not lose
///   them;
/// - at most `Config.maxSessions` sessions are kept: past it, a new session is refused and
///   its readings are dropped and counted (`droppedSessionLimit`), so a faulty gateway that
///   keeps changing its id or boot id cannot grow the appliance's memory without bound.
public struct SessionTracker {
    public struct Config: Sendable {
        /// How long readings may wait for a HELLO before a synthetic session takes them.
        public var helloTimeoutMs: Int64 = 2_000
        /// At most this many readings wait for a HELLO; more are dropped and counted.
        public var maxPending: Int = 200_000
        /// The gateway id for a synthetic session when no HELLO was ever seen.
        public var fallbackGatewayId: String = "unknown"
        /// At most this many sessions in the session table (see `SessionTable` for why it
        /// refuses rather than evicts). A healthy gateway adds one per boot, so the default
        /// is years of daily reboots; only a faulty one reaches it.
        public var maxSessions: Int = 4_096
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
        /// Link gaps (`GapReason.link`) and the readings they miss.
        public var gaps = 0
        public var missingReadings = 0
        /// Gaps of readings that died with the last run (`GapReason.applianceRestart`).
        public var restartGaps = 0
        public var restartMissingReadings = 0
        public var unannouncedReboots = 0
        /// Readings dropped because too many waited for a HELLO.
        public var droppedNoSession = 0
        /// Readings dropped because their session was refused at `Config.maxSessions`.
        public var droppedSessionLimit = 0
        /// Sessions refused at `Config.maxSessions` (a HELLO, or a synthetic session).
        public var sessionsRefused = 0
        public init() {}

        public mutating func clear() {
            ready.removeAll(keepingCapacity: true)
            events.removeAll(keepingCapacity: true)
            wantsPing = false
            gaps = 0
            missingReadings = 0
            restartGaps = 0
            restartMissingReadings = 0
            unannouncedReboots = 0
            droppedNoSession = 0
            droppedSessionLimit = 0
            sessionsRefused = 0
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
        /// The last run did not stop cleanly and this session is one it knew: its next gap
        /// (if the first thing heard of it is not `expected`) is the readings it lost.
        var restartGapPending = false
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
    /// HELLO for a boot we already stored does not look like a gap from 0; and where each
    /// session of this run was when another took over, so a HELLO naming it again goes on
    /// from there. Besides those given at start, one entry per admitted session at most:
    /// bounded by `maxSessions`.
    private var resume: [SessionKey: UInt64]
    /// Sessions of `resume` not yet begun, after a run that did not stop cleanly: the first
    /// gap of each is an appliance-restart gap. Taken out as each begins.
    private var restartGapSessions: Set<SessionKey>
    /// The session the last HELLO (or synthetic session) named, refused at the limit: its
    /// readings are dropped and counted until a HELLO names a session that is admitted.
    private var refused: SessionKey?

    /// - Parameter lastRunStoppedCleanly: false when the previous run was killed (or the
    ///   power went): the readings it had in memory are then recorded as an
    ///   appliance-restart gap, not a link gap.
    public init(sessions: SessionTable, config: Config = Config(), resume: [SessionKey: UInt64] = [:],
                lastRunStoppedCleanly: Bool = true) {
        self.sessions = sessions
        self.config = config
        self.resume = resume
        restartGapSessions = lastRunStoppedCleanly ? [] : Set(resume.keys)
    }

    /// The session readings currently go to, if any.
    public var currentSession: SessionKey? { current?.key }
    /// The session refused at the limit whose readings are being dropped now, if any.
    public var refusedSession: SessionKey? { refused }
    public var pendingCount: Int { pending.count }
    /// Readings the gateway said it dropped itself (`HB.tx_dropped`), over all sessions.
    public var gatewayTxDropped: UInt64 { txDroppedClosed + UInt64(current?.txDropped ?? 0) }

    public mutating func hello(_ h: Hello, atMs: Int64, effects: inout Effects) {
        let key = SessionKey(gatewayId: h.gatewayId, bootId: h.bootId)
        let continuing = current?.key == key
        var index = current?.index ?? 0
        if !continuing {
            guard let admitted = sessions.admit(key, limit: config.maxSessions) else {
                refuse(key, effects: &effects)
                return
            }
            index = admitted
        }
        refused = nil
        effects.events.append(.session(key, hello: h, atMs: atMs))
        if let c = current, c.synthetic, !awaitingHello {
            // The late HELLO names the boot the synthetic session stood in for: carry on
            // from its seq (the readings before are stored under the synthetic id) and
            // keep its tx_dropped running total, which the gateway keeps counting.
            current = Current(key: key, index: index, expected: max(c.expected, resume[key] ?? 0),
                              txDropped: c.txDropped,
                              restartGapPending: restartGapSessions.remove(key) != nil)
        } else if !continuing {
            begin(key, index: index)
        }
        awaitingHello = false
        flushPending(effects: &effects)
    }

    public mutating func reading(_ r: Reading, atMs: Int64, effects: inout Effects) {
        if refused != nil {
            effects.droppedSessionLimit += 1
            return
        }
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
            recordGap(key: c.key, from: c.expected, count: next - c.expected, atMs: atMs,
                      reason: c.restartGapPending ? .applianceRestart : .link, effects: &effects)
            c.expected = next
        }
        if next >= c.expected {
            c.restartGapPending = false
        } else {
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

    /// `index`: the session's place in the table, already admitted.
    private mutating func begin(_ key: SessionKey, index: UInt32) {
        end()
        current = Current(key: key, index: index, expected: resume[key] ?? 0,
                          restartGapPending: restartGapSessions.remove(key) != nil)
    }

    /// The current session (if any) gives way to another: its tx_dropped total is kept, and
    /// where it was, should a HELLO name it again.
    private mutating func end() {
        guard let c = current else { return }
        txDroppedClosed += UInt64(c.txDropped)
        resume[c.key] = c.expected
    }

    /// The limit is reached and `key` is new: nothing of it is kept. The session before it
    /// has ended (the gateway moved on), and readings held for a HELLO go with the refused
    /// session, counted, as do the readings that follow until a HELLO names a session the
    /// table knows (or there is room again: never, in one process, as the table does not
    /// shrink). No PING: the gateway announces its next boot itself.
    private mutating func refuse(_ key: SessionKey, effects: inout Effects) {
        end()
        current = nil
        if refused != key { effects.sessionsRefused += 1 }
        refused = key
        awaitingHello = false
        effects.droppedSessionLimit += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    private mutating func accept(_ r: Reading, atMs: Int64, effects: inout Effects) {
        let seq = UInt64(r.seq)
        if seq > current!.expected {
            recordGap(key: current!.key, from: current!.expected, count: seq - current!.expected, atMs: atMs,
                      reason: current!.restartGapPending ? .applianceRestart : .link, effects: &effects)
        }
        current!.restartGapPending = false
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
        guard let index = sessions.admit(key, limit: config.maxSessions) else {
            refuse(key, effects: &effects)
            return
        }
        refused = nil
        effects.events.append(.session(key, hello: nil, atMs: nowMs))
        begin(key, index: index)
        current!.synthetic = true
        awaitingHello = false
        flushPending(effects: &effects)
    }

    private func recordGap(key: SessionKey, from: UInt64, count: UInt64, atMs: Int64, reason: GapReason,
                           effects: inout Effects) {
        switch reason {
        case .link:
            effects.gaps += 1
            effects.missingReadings += Int(count)
        case .applianceRestart:
            effects.restartGaps += 1
            effects.restartMissingReadings += Int(count)
        }
        effects.events.append(.gap(key, firstMissing: UInt32(truncatingIfNeeded: from),
                                   count: UInt32(clamping: count), atMs: atMs, reason: reason))
    }
}
