import ParkLinkProtocol

/// How readings go into `readings` (chosen in the configuration).
public enum ReadingInsertMethod: String, Sendable, CaseIterable {
    /// A prepared INSERT with MariaDB array binding (measured fastest: the default).
    case arrayBinding = "array-binding"
    /// Multi-row INSERT text statements.
    case multiRow = "multi-row"
}

/// One batch of the writer, as one MariaDB transaction: the readings, the occupancy
/// events their changes of `occupied` carry, and the link events (sessions, gaps).
///
/// Read top to bottom, `write` is the whole transaction. The occupancy events are derived
/// here, where the rows are written, so that a failed batch undoes exactly what it
/// derived and a replay derives the same events again (their key, like the readings',
/// makes the replay harmless).
///
/// Created on the writer thread and used only there (a Connector/C connection belongs to
/// one thread); `MariaDB.threadInit()`/`threadEnd()` bracket its life for that reason.
public final class BatchTransaction {
    /// A step of the transaction that failed, and the server's error: the writer logs the
    /// step by name and asks the error what it means (`BatchTransaction.classify`).
    public struct StepError: Error, CustomStringConvertible {
        public var step: String
        public var underlying: any Error
        public var description: String { "\(step): \(underlying)" }
    }

    /// What a failed write means for the next attempt.
    public enum FailureKind: Sendable, Equatable {
        /// The connection is gone (or could not be made), or its node does not take writes
        /// (a Galera node without quorum): reconnect with backoff, to the next node that does.
        case connectionLost
        /// Deadlock, lock wait, Galera certification conflict: write the batch again.
        case transient
        /// The server refuses the batch (a revoked privilege, a data error): it will keep
        /// refusing until somebody acts.
        case permanent
    }

    /// Occupancy events written and held back (debounce) by committed batches, this run.
    public struct OccupancyTally: Sendable, Equatable {
        public var written = 0
        /// Changes held back and then reverted within the debounce (two per flap).
        public var suppressed = 0
        /// Changes held now, waiting for their debounce to end.
        public var held = 0
        public init() {}
    }

    public let dsn: DSN
    /// Picks the node (when the DSN names several) and keeps what `status` shows of it.
    public let connector: ClusterConnector
    public let method: ReadingInsertMethod
    public let maxRows: Int
    private let sessions: SessionResolving
    private let zoneOf: @Sendable (UInt16) -> String?
    private var occupancy: OccupancyTracker
    private var changes: [OccupancyChange] = []
    /// Held changes due by this time go into the next write (see `releaseHeld`).
    private var releaseUpToMs: Int64?
    public private(set) var occupancyTally = OccupancyTally()
    private var seeded = false
    private var connection: MariaDBConnection?
    private var eventRecorder: OccupancyEventRecorder?
    private var inserter: ReadingBatchInserter?
    private var recorder: SessionRecorder?
    /// On a Galera node, the session's last written GTID after the last verified commit
    /// (see `checkReplicated`); nil on any other server.
    private var lastWrittenGTID: String?
    private var lastWrittenGTIDStale = false
    /// Whether the connection is to a Galera node (known after `connect`). There the
    /// statements are text, not array-bound (see `OccupancyEventRecorder`), and every
    /// transaction that changed rows is checked to be alive before COMMIT and to have
    /// replicated after it: two queries a batch.
    public var onGalera: Bool { lastWrittenGTID != nil }
    /// Transactions a Galera node aborted without an error, caught and written again.
    public private(set) var unreportedAborts = 0
    /// Which statements carry the rows: `automatic` is array binding but on a Galera node.
    /// Tests choose: array binding on Galera (to show that the checks catch the aborts
    /// MariaDB does not report), text on a single server (the Galera statements' rows).
    enum Statements { case automatic, bulk, text }
    var statements = Statements.automatic
    /// The occupancy events of the last batch `write` committed (empty after a failure):
    /// the bay changes the LEDs and `parklink watch` follow, known only once durable.
    public private(set) var lastCommittedEvents: [OccupancyEvent] = []
    /// Whether anyone reads `lastCommittedEvents` (the live desk): otherwise the writer does
    /// not spend a row per change on them.
    public var wantsCommittedEvents = false

    /// - Parameters:
    ///   - zoneOf: the zone of a sensor id, recorded with its occupancy events.
    ///   - debounceMs: hold a bay's change back until it has lasted this long; a bay that
    ///     reverts sooner yields no event (0: every change is an event at once).
    ///   - connector: shared with whoever shows the writer's node (`status`); by default one of its own.
    public init(dsn: DSN, method: ReadingInsertMethod, maxRows: Int, sessions: SessionResolving,
                debounceMs: Int = 0, zoneOf: @escaping @Sendable (UInt16) -> String?, connector: ClusterConnector? = nil) {
        occupancy = OccupancyTracker(debounceMs: debounceMs)
        changes.reserveCapacity(maxRows)
        self.dsn = dsn
        self.connector = connector ?? ClusterConnector(dsn: dsn)
        self.method = method
        self.maxRows = maxRows
        self.sessions = sessions
        self.zoneOf = zoneOf
        MariaDB.threadInit()
    }

    deinit {
        disconnect()
        MariaDB.threadEnd()
    }

    /// Cuts the connection from another thread (the shutdown deadline; see
    /// `ConnectionInterrupter`). Lives as long as the transaction, across reconnects.
    public let interrupter = ConnectionInterrupter()

    /// Connects to a node that takes writes (migrating the schema once per process) and
    /// prepares the statements.
    /// - Parameter limit: at most this long to connect (the time a shutdown has left).
    public func connect(within limit: Duration? = nil) throws {
        disconnect()
        var profile = Connections.Profile.writer
        if let limit { profile.connectTimeout = min(profile.connectTimeout, limit) }
        let c = try connector.open(profile: profile, within: limit, interrupter: interrupter)
        connection = c
        interrupter.attach(c.socketDescriptor)
        // The connector asked the node's wsrep status when it chose it.
        lastWrittenGTID = connector.isGalera ? try Self.lastWrittenGTID(on: c) : nil
        lastWrittenGTIDStale = false
        let bulk = switch statements {
        case .automatic: lastWrittenGTID == nil
        case .bulk: true
        case .text: false
        }
        switch method {
        case .arrayBinding where bulk: inserter = ArrayBindingInserter(connection: c, maxBatchSize: maxRows)
        case .arrayBinding, .multiRow: inserter = MultiRowInserter(connection: c)
        }
        recorder = SessionRecorder(connection: c)
        eventRecorder = OccupancyEventRecorder(connection: c, capacity: maxRows, bulk: bulk, zoneOf: zoneOf)
        if !seeded {
            // Where each bay stood when the appliance last ran, so the first reading after
            // a restart is not taken for an arrival or a departure.
            occupancy.seed(try SensorRepository(connection: c).lastKnownOccupancy())
            seeded = true
        }
    }

    /// Writes and commits one batch; returns how many readings were new (the rest were
    /// replays). On any error nothing is committed, the derived occupancy state is put
    /// back, and the error names the step that failed.
    public func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
        guard let c = connection, let inserter, let recorder, let eventRecorder else {
            throw StepError(step: "connect", underlying: MariaDBError.notConnected)
        }
        lastCommittedEvents = []
        changes.removeAll(keepingCapacity: true)
        occupancy.apply(rows, sessions: sessions, releaseUpToMs: releaseUpToMs, into: &changes)
        var step = "begin"
        do {
            if lastWrittenGTIDStale {
                // A failed transaction's statements may have committed on their own (see
                // `checkStillInTransaction`): the next check compares with where the
                // session is now.
                step = "read the last written GTID"
                lastWrittenGTID = try Self.lastWrittenGTID(on: c)
                lastWrittenGTIDStale = false
                step = "begin"
            }
            try c.begin()
            var inserted = 0
            if rows.count > 0 {
                step = "insert readings"
                try inserter.insert(rows, sessions: sessions)
                inserted = inserter.lastInsertedCount
            }
            step = "insert occupancy_events"
            var changed = inserted + (try eventRecorder.record(changes, sessions: sessions))
            for e in events {
                switch e {
                case .session(let key, let hello?, let at):
                    precondition(key.gatewayId == hello.gatewayId && key.bootId == hello.bootId)
                    step = "record gateway_sessions"
                    changed += Int(try recorder.recordSession(hello: hello, seenAtMs: at))
                case .session(let key, nil, let at):
                    step = "record gateway_sessions"
                    changed += Int(try recorder.recordSession(synthetic: key, firstSeenAtMs: at))
                case .gap(let key, let first, let count, let at, let reason):
                    step = "record link_gaps"
                    changed += Int(try recorder.recordGap(session: key, firstMissingSeq: first, missingCount: count,
                                                          detectedAtMs: at, reason: reason))
                }
            }
            if lastWrittenGTID != nil, changed > 0 {
                step = "check transaction"
                try checkStillInTransaction(on: c)
            }
            step = "commit"
            try c.commit()
            if let before = lastWrittenGTID, changed > 0 {
                step = "check commit"
                try checkReplicated(on: c, before: before)
            }
            releaseUpToMs = nil
            occupancyTally.written += changes.count
            occupancyTally.suppressed += occupancy.lastSuppressed
            occupancyTally.held = occupancy.heldBays
            if wantsCommittedEvents { lastCommittedEvents = occupancyEvents(of: changes) }
            return inserted
        } catch {
            // An unknown commit outcome is treated as not committed: the batch is written
            // again, and the same events with it (their key makes the replay harmless).
            occupancy.revert()
            try? c.rollback()
            lastWrittenGTIDStale = lastWrittenGTID != nil
            let failure = StepError(step: step, underlying: error)
            // The next connect tries another node first.
            if Self.classify(failure) == .connectionLost { connector.nodeFailed(error, reason: "\(failure)") }
            throw failure
        }
    }

    /// Held occupancy changes whose debounce ends by `upToMs` (all of them when nil: a clean
    /// stop) go into the next `write`, with or without readings. Returns whether there are
    /// any, so an idle writer knows to write. Time runs on the readings' receive times; the
    /// caller passes a time no reading still on its way can be older than.
    public func releaseHeld(upToMs: Int64?) -> Bool {
        guard let due = occupancy.nextReleaseMs() else { return false }
        let to = upToMs ?? .max
        guard due <= to else { return false }
        releaseUpToMs = to
        return true
    }

    /// The committed changes as the rows `occupancy_events` holds (gateway, boot, zone).
    private func occupancyEvents(of changes: [OccupancyChange]) -> [OccupancyEvent] {
        changes.map { c in
            let key = sessions.key(for: c.session)
            return OccupancyEvent(gatewayId: key.gatewayId, bootId: key.bootId, seq: c.seq, sensor: c.sensor,
                                  zoneId: zoneOf(c.sensor), arrival: c.arrival, atMs: c.atMs)
        }
    }

    /// Where the stored sessions end (see `ReadingHistory.resumePoints`), on this connection.
    public func resumePoints() throws -> [SessionKey: UInt64] {
        guard let c = connection else { throw StepError(step: "connect", underlying: MariaDBError.notConnected) }
        return try ReadingHistory(connection: c).resumePoints()
    }

    /// The session's last written GTID, on a Galera node.
    static func lastWrittenGTID(on c: MariaDBConnection) throws -> String {
        try c.queryValue("SELECT WSREP_LAST_WRITTEN_GTID()") ?? ""
    }

    /// After an abort nobody reported, later statements run outside the transaction
    /// (autocommit) and commit on their own, so the check after COMMIT alone would see a
    /// write set. A text statement also reports an abort still pending (1213).
    private func checkStillInTransaction(on c: MariaDBConnection) throws {
        guard try c.queryValue("SELECT @@in_transaction") == "1" else {
            unreportedAborts += 1
            throw StoreError.unreportedAbort(evidence: "the transaction had ended before COMMIT")
        }
    }

    /// A transaction that changed rows makes a write set, and the session's last written
    /// GTID moves. If it did not, COMMIT "succeeded" on a transaction the node had already
    /// aborted.
    private func checkReplicated(on c: MariaDBConnection, before: String) throws {
        let after = try Self.lastWrittenGTID(on: c)
        guard after != before else {
            unreportedAborts += 1
            throw StoreError.unreportedAbort(evidence: "COMMIT returned success, WSREP_LAST_WRITTEN_GTID() still \(before)")
        }
        lastWrittenGTID = after
    }

    public func disconnect() {
        inserter = nil
        recorder = nil
        eventRecorder = nil
        interrupter.detach()
        connection?.close()
        connection = nil
        connector.disconnected()
    }

    /// What an error from `connect` or `write` means for the next attempt.
    public static func classify(_ error: any Error) -> FailureKind {
        let underlying = (error as? StepError)?.underlying ?? error
        if case StoreError.unreportedAbort = underlying { return .transient }
        guard let e = underlying as? MariaDBError else {
            // A row the store refused before sending (an invalid gateway id) will be refused
            // again; anything else unknown is treated as a lost connection.
            return underlying is StoreError ? .permanent : .connectionLost
        }
        if e.isConnectionLost || e.isNodeUnavailable { return .connectionLost }
        if e.isRetryable { return .transient }
        return .permanent
    }
}

extension MariaDBError {
    static var notConnected: MariaDBError {
        MariaDBError(code: .serverGone, message: "not connected", operation: .connect)
    }
}
