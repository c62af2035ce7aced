import Logging
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

/// The writer's sink over the store's `BatchTransaction`: the one place the data path
/// (Ingest) meets the database (Store), so neither module knows the other.
final class MariaDBSink: BatchSink {
    private let transaction: BatchTransaction
    private let committed: (@Sendable ([OccupancyEvent]) -> Void)?
    private var dsn: DSN { transaction.dsn }

    /// - Parameter committed: the bay changes of each committed batch (on the writer
    ///   thread: it must only hand them on, see `LiveDesk.bayChanged`); nil: nobody
    ///   follows them, and the transaction does not make them.
    init(_ transaction: BatchTransaction, committed: (@Sendable ([OccupancyEvent]) -> Void)? = nil) {
        self.transaction = transaction
        self.committed = committed
        transaction.wantsCommittedEvents = committed != nil
    }

    func connect(within limit: Duration?) throws { try transaction.connect(within: limit) }

    func makeInterrupt() -> @Sendable () -> Void {
        let interrupter = transaction.interrupter
        return { interrupter.interrupt() }
    }

    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
        let inserted = try transaction.write(rows, events: events)
        if let committed {
            let changes = transaction.lastCommittedEvents
            if !changes.isEmpty { committed(changes) }
        }
        return inserted
    }

    func disconnect() { transaction.disconnect() }

    func releaseHeld(upToMs: Int64?) -> Bool { transaction.releaseHeld(upToMs: upToMs) }

    func occupancyEventCounts() -> (written: Int, suppressed: Int, held: Int) {
        let t = transaction.occupancyTally
        return (t.written, t.suppressed, t.held)
    }

    func storedResumePoints() throws -> [SessionKey: UInt64] { try transaction.resumePoints() }

    func classify(_ error: any Error) -> WriteFailure {
        switch BatchTransaction.classify(error) {
        case .connectionLost: .connectionLost
        case .transient: .transient
        case .permanent: .permanent
        }
    }

    func fix(for error: any Error) -> String? {
        let underlying = (error as? BatchTransaction.StepError)?.underlying ?? error
        guard let e = underlying as? MariaDBError else { return nil }
        let who = "'\(dsn.user)'@'<its host>'"
        let db = dsn.database.map { "`\($0)`" } ?? "the database"
        switch e.code.rawValue {
        case 1142, 1143, 1044:
            return "give the appliance's user its privileges back: GRANT SELECT, INSERT, UPDATE ON \(db).* TO \(who)"
        case 1045:
            return "the user or password is wrong: check the DSN's user and the password (--db-password-file, PARKLINK_DB_PASSWORD)"
        case 1049:
            return "the database does not exist: CREATE DATABASE \(db), or fix the DSN's database name"
        case 1146:
            return "a table is missing: restart parklink to run the schema migrations, or restore the table"
        case 1290:
            return "the server is read-only (read_only or a replica): point the DSN at the primary"
        case 1406, 1264, 1366:
            return "a value does not fit its column: the schema was changed by hand; restore it from the README's schema"
        default:
            return nil
        }
    }

    func signature(of error: any Error) -> String {
        let step = (error as? BatchTransaction.StepError)?.step ?? ""
        let underlying = (error as? BatchTransaction.StepError)?.underlying ?? error
        if let e = underlying as? MariaDBError { return "\(step) \(e.code)" }
        return "\(step) \(underlying)"
    }
}

extension Pipeline {
    /// A pipeline writing to MariaDB at `dsn`, resuming seq tracking from what is stored.
    /// `MariaDB.initializeLibrary()` must have been called.
    public static func overMariaDB(options: Options, dsn: DSN, logger: Logger) throws -> Pipeline {
        var o = options
        if o.resume.isEmpty { o.resume = resumePoints(dsn: dsn) }
        let method = o.config.insertMethod, maxRows = o.config.batchMaxRows, zones = o.config.zones
        let debounceMs = o.config.occupancyDebounceMs
        // The writer's node choice, shared with `status` (which node, how many failovers).
        let connector = ClusterConnector(dsn: dsn, logger: logger)
        // The sink is made on the writer thread once the pipeline runs, so the live desk it
        // reports to exists by then.
        let live = Locked<LiveDesk?>(nil)
        let pipeline = try Pipeline(options: o, logger: logger) { sessions in
            let transaction = BatchTransaction(dsn: dsn, method: method, maxRows: maxRows, sessions: sessions,
                                               debounceMs: debounceMs, zoneOf: { zones.zoneId(of: $0) }, connector: connector)
            guard let desk = live.withLock({ $0 }) else { return MariaDBSink(transaction) }
            return MariaDBSink(transaction, committed: { desk.bayChanged($0) })
        }
        pipeline.databaseNodes = connector
        live.withLock { $0 = pipeline.live }
        return pipeline
    }

    /// Where the stored sessions left off. Best effort: an unreachable database yields
    /// nothing (the tracker then starts fresh).
    static func resumePoints(dsn: DSN) -> [SessionKey: UInt64] {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        guard let c = try? Connections.open(dsn, profile: .startup) else { return [:] }
        defer { c.close() }
        return (try? ReadingHistory(connection: c).resumePoints()) ?? [:]
    }
}
