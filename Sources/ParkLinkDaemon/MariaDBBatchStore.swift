import ParkLinkIngest
import ParkLinkStore

/// The writer's `BatchStore` over MariaDB: one transaction per batch holding the
/// readings (array binding or multi-row INSERT IGNORE) and the link events.
///
/// Created on the writer thread and used only there (a Connector/C connection belongs to
/// one thread); `MariaDB.threadInit()`/`threadEnd()` bracket its life for that reason.
final class MariaDBBatchStore: BatchStore {
    let dsn: DSN
    let method: ApplianceConfig.InsertMethod
    let maxRows: Int
    let sessions: SessionResolving
    private var connection: MariaDBConnection?
    private var inserter: ReadingBatchInserter?
    private var recorder: SessionRecorder?
    private var migrated = false

    init(dsn: DSN, method: ApplianceConfig.InsertMethod, maxRows: Int, sessions: SessionResolving) {
        self.dsn = dsn
        self.method = method
        self.maxRows = maxRows
        self.sessions = sessions
        MariaDB.threadInit()
    }

    deinit {
        disconnect()
        MariaDB.threadEnd()
    }

    func connect() throws {
        disconnect()
        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(5), readTimeout: .seconds(30), writeTimeout: .seconds(30))
        if !migrated {
            _ = try Schema.migrate(c)
            migrated = true
        }
        connection = c
        switch method {
        case .arrayBinding: inserter = ArrayBindingInserter(connection: c, maxBatchSize: maxRows)
        case .multiRow: inserter = MultiRowInserter(connection: c)
        }
        recorder = SessionRecorder(connection: c)
    }

    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int {
        guard let c = connection, let inserter, let recorder else { throw MariaDBError.notConnected }
        try c.begin()
        do {
            var inserted = 0
            if rows.count > 0 {
                try inserter.insert(rows, sessions: sessions)
                inserted = inserter.lastInsertedCount
            }
            for e in events {
                switch e {
                case .session(let key, let hello?, let at):
                    precondition(key.gatewayId == hello.gatewayId && key.bootId == hello.bootId)
                    try recorder.recordSession(hello: hello, seenAtMs: at)
                case .session(let key, nil, let at):
                    try recorder.recordSession(synthetic: key, firstSeenAtMs: at)
                case .gap(let key, let first, let count, let at):
                    try recorder.recordGap(session: key, firstMissingSeq: first, missingCount: count, detectedAtMs: at)
                }
            }
            try c.commit()
            return inserted
        } catch {
            try? c.rollback()
            throw error
        }
    }

    func disconnect() {
        inserter = nil
        recorder = nil
        connection?.close()
        connection = nil
    }
}

extension MariaDBError {
    static var notConnected: MariaDBError {
        MariaDBError(code: .serverGone, message: "not connected", operation: .connect)
    }
}
