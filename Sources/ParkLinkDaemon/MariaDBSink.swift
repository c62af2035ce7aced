import Logging
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore

/// The writer's sink over the store's `BatchTransaction`: the one place the data path
/// (Ingest) meets the database (Store), so neither module knows the other.
final class MariaDBSink: BatchSink {
    private let transaction: BatchTransaction

    init(_ transaction: BatchTransaction) {
        self.transaction = transaction
    }

    func connect() throws { try transaction.connect() }

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
        return try Pipeline(options: o, logger: logger) { sessions in
            MariaDBSink(BatchTransaction(dsn: dsn, method: method, maxRows: maxRows, sessions: sessions,
                                         zoneOf: { zones.zoneId(of: $0) }))
        }
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
