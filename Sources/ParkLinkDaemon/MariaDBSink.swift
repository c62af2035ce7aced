import Logging
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore

/// The writer's sink over the store's `BatchTransaction`: the one place the data path
/// (Ingest) meets the database (Store), so neither module knows the other.
final class MariaDBSink: BatchSink {
    private let transaction: BatchTransaction
    private var dsn: DSN { transaction.dsn }

    init(_ transaction: BatchTransaction) {
        self.transaction = transaction
    }

    func connect(within limit: Duration?) throws { try transaction.connect(within: limit) }

    func makeInterrupt() -> @Sendable () -> Void {
        let interrupter = transaction.interrupter
        return { interrupter.interrupt() }
    }

    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
        try transaction.write(rows, events: events)
    }

    func disconnect() { transaction.disconnect() }

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
        // The writer's node choice, shared with `status` (which node, how many failovers).
        let connector = ClusterConnector(dsn: dsn, logger: logger)
        let pipeline = try Pipeline(options: o, logger: logger) { sessions in
            MariaDBSink(BatchTransaction(dsn: dsn, method: method, maxRows: maxRows, sessions: sessions,
                                         zoneOf: { zones.zoneId(of: $0) }, connector: connector))
        }
        pipeline.databaseNodes = connector
        return pipeline
    }

    /// Where the stored sessions left off. Best effort: an unreachable database yields
    /// nothing (the tracker then starts fresh).
    static func resumePoints(dsn: DSN) -> [SessionKey: UInt64] {
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        guard let c = try? Connections.open(dsn, profile: .interactive) else { return [:] }
        defer { c.close() }
        return (try? ReadingHistory(connection: c).resumePoints()) ?? [:]
    }
}
