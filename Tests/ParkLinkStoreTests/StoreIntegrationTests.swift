import Foundation
import Synchronization
import ParkLinkProtocol
import Testing

@testable import ParkLinkStore

// Integration tests against a real MariaDB started by `TestServer` (see TestServer.swift).

@Suite("Schema migrations")
struct SchemaTests {
    @Test func migrateIsIdempotent() throws {
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("mig"))
        defer { c.close() }
        #expect(try Schema.appliedVersions(c) == [])
        #expect(try Schema.migrate(c) == Schema.migrations.map(\.version))
        #expect(try Schema.migrate(c) == [])
        #expect(try Schema.appliedVersions(c) == Schema.migrations.map(\.version))
        #expect(Schema.currentVersion == Schema.migrations.last?.version)
        let tables = try c.query("SHOW TABLES").compactMap { $0[0] }
        for t in ["readings", "link_gaps", "gateway_sessions", "schema_migrations"] {
            #expect(tables.contains(t), "missing \(t)")
        }
    }

    /// A restart (or, on a cluster, a connection to another node after a failover) runs no
    /// DDL at all on a current database: on Galera every DDL pauses the cluster's commits.
    @Test func aCurrentDatabaseIsMigratedWithoutAStatementOrALock() throws {
        let dsn = try TestServer.newDatabase("mig_current")
        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        try Schema.migrate(c)
        func ddlCount() throws -> Int {
            try c.query("SHOW SESSION STATUS WHERE Variable_name IN ('Com_create_table', 'Com_alter_table', 'Com_create_index', 'Com_create_view', 'Com_insert')")
                .reduce(0) { $0 + (Int($1[1] ?? "") ?? 0) }
        }
        let before = try ddlCount()
        let other = try MariaDBConnection(dsn: dsn)
        defer { other.close() }
        // Another connection holds the migration lock: a current database does not wait for it.
        #expect(try other.queryValue("SELECT GET_LOCK(LEFT(CONCAT('parklink.schema.', DATABASE()), 64), 0)") == "1")
        #expect(try Schema.migrate(c, lockTimeout: .seconds(1)) == [])
        #expect(try ddlCount() == before)
    }

    @Test func readingsTableIsThePublishedContract() throws {
        let c = try TestServer.migratedConnection("contract")
        defer { c.close() }
        let columns = try c.query("""
            SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings' ORDER BY ORDINAL_POSITION
            """).map { $0.map { $0 ?? "" } }
        #expect(columns == [
            ["gateway_id", "varchar(32)", "NO"], ["boot_id", "int(10) unsigned", "NO"],
            ["seq", "int(10) unsigned", "NO"], ["sensor_id", "smallint(5) unsigned", "NO"],
            ["received_at", "datetime(3)", "NO"], ["gateway_ms", "int(10) unsigned", "NO"],
            ["occupied", "tinyint(1)", "NO"], ["distance_cm", "smallint(5) unsigned", "YES"],
            ["voltage_dv", "smallint(5) unsigned", "YES"], ["current_ma", "smallint(5) unsigned", "YES"],
            ["power_factor_pct", "tinyint(3) unsigned", "YES"],
        ])
        let keys = try c.query("""
            SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings' GROUP BY INDEX_NAME ORDER BY INDEX_NAME
            """).map { $0.map { $0 ?? "" } }
        #expect(keys == [["PRIMARY", "gateway_id,boot_id,seq,received_at"]], "a new database's readings: the key alone (migration 8)")
        #expect(try indexNames(c, "occupancy_events") == ["PRIMARY", "occupancy_events_time"])
        #expect(try c.queryValue("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings'") == "InnoDB")
    }

    /// A migration may run far longer than the opening profile's read timeout (DDL that
    /// builds an index over a table's rows): it runs on a connection of its own and is
    /// waited for to its end. Here migration 7's index build waits 3 s behind a reader's
    /// transaction, against a profile that gives up on a read after 1 s.
    @Test func aMigrationOutlastingTheProfilesReadTimeoutRunsToItsEnd() throws {
        let dsn = try TestServer.newDatabase("miglong")
        let setup = try MariaDBConnection(dsn: dsn)
        defer { setup.close() }
        try setup.execute(Schema.createMigrationsTable)
        for migration in SchemaMigrations.all where migration.version <= 6 {
            for statement in migration.statements { try setup.execute(statement) }
            try setup.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), 'test', UTC_TIMESTAMP(3))")
        }
        // A reader's open transaction on `readings` holds the table's metadata lock for 3 s;
        // the migration's index build cannot finish before it commits.
        let holding = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let releasingAt = Mutex<ContinuousClock.Instant?>(nil)
        Thread {
            MariaDB.threadInit()
            defer {
                MariaDB.threadEnd()
                done.signal()
            }
            var held = false
            defer { if !held { holding.signal() } }
            guard let reader = try? MariaDBConnection(dsn: dsn) else { return }
            defer { reader.close() }
            guard (try? reader.execute("START TRANSACTION")) != nil, (try? reader.query("SELECT COUNT(*) FROM readings")) != nil else { return }
            held = true
            holding.signal()
            Thread.sleep(forTimeInterval: 3)
            releasingAt.withLock { $0 = ContinuousClock.now }
            _ = try? reader.execute("COMMIT")
        }.start()
        holding.wait()
        let impatient = Connections.Profile(name: "impatient", connectTimeout: .seconds(5), readTimeout: .seconds(1),
                                            writeTimeout: .seconds(5), migrates: true)
        let c = try ClusterConnector(dsn: dsn).open(profile: impatient)
        defer { c.close() }
        let returnedAt = ContinuousClock.now
        done.wait()
        let releasing = try #require(releasingAt.withLock { $0 }, "the reader held readings for 3 s")
        #expect(returnedAt > releasing, "the migration waited for the reader's commit, 3 s past the profile's 1-s read timeout")
        #expect(try Schema.appliedVersions(c) == Schema.migrations.map(\.version))
        #expect(try indexNames(c, "readings") == ["PRIMARY"])
    }

    @Test func concurrentMigrationsApplyEachVersionOnce() throws {
        for _ in 0..<3 {
            let dsn = try TestServer.newDatabase("migc")
            let all = onConcurrentConnections(3, dsn: dsn) { c in try Schema.migrate(c) }
            let applied = try all.map { try $0.get() }
            #expect(applied.flatMap { $0 }.sorted() == Schema.migrations.map(\.version))
            let c = try MariaDBConnection(dsn: dsn)
            defer { c.close() }
            #expect(try c.queryValue("SELECT COUNT(*) FROM schema_migrations") == String(Schema.migrations.count))
        }
    }
}

/// Runs `body` on `count` plain threads at once, each with its own connection (a MariaDB
/// connection stays on the thread that opened it), and returns every thread's result: how
/// two appliances (or two upkeeps) meet on one server.
func onConcurrentConnections<T: Sendable>(
    _ count: Int, dsn: DSN, _ body: @escaping @Sendable (MariaDBConnection) throws -> T
) -> [Result<T, any Error>] {
    let results = ConcurrentResults<T>()
    let threads = (0..<count).map { _ in
        Thread {
            MariaDB.threadInit()
            defer { MariaDB.threadEnd() }
            do {
                let c = try MariaDBConnection(dsn: dsn)
                defer { c.close() }
                results.append(.success(try body(c)))
            } catch {
                results.append(.failure(error))
            }
        }
    }
    threads.forEach { $0.start() }
    return results.wait(for: count)
}

/// Collects results from plain threads.
final class ConcurrentResults<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access goes through `condition`'s lock.
    private let condition = NSCondition()
    private var results: [Result<T, any Error>] = []

    func append(_ r: Result<T, any Error>) {
        condition.lock()
        results.append(r)
        condition.broadcast()
        condition.unlock()
    }

    func wait(for count: Int) -> [Result<T, any Error>] {
        condition.lock()
        defer { condition.unlock() }
        while results.count < count { condition.wait() }
        return results
    }
}

@Suite("Reading inserters")
struct InserterTests {
    static let gw = SessionKey(gatewayId: "GW-north_01", bootId: 0xDEAD_BEEF)
    static let gw2 = SessionKey(gatewayId: "gw-south-02", bootId: 7)

    /// Extreme and ordinary rows: NULLs, maxima, minima, UTC times with milliseconds.
    static func edgeRows() -> [StampedReading] {
        [
            StampedReading(session: 0, receivedAtMs: 0, reading: Reading(
                seq: 0, sensor: 0, gatewayMs: 0, occupied: false)),
            StampedReading(session: 0, receivedAtMs: 951_868_799_999, reading: Reading(  // 2000-02-29 23:59:59.999
                seq: 1, sensor: 65535, gatewayMs: UInt32.max, occupied: true,
                distanceCm: 65535, voltageDv: 65535, currentMa: 65535, powerFactorPct: 255)),
            StampedReading(session: 0, receivedAtMs: 2_147_483_648_001, reading: Reading(  // past 2038-01-19
                seq: UInt32.max, sensor: 1, gatewayMs: 1, occupied: true,
                distanceCm: 0, voltageDv: 0, currentMa: 0, powerFactorPct: 0)),
            StampedReading(session: 1, receivedAtMs: 1_760_000_000_010, reading: Reading(
                seq: 42, sensor: 12, gatewayMs: 123_456, occupied: false,
                distanceCm: 250, voltageDv: nil, currentMa: 1200, powerFactorPct: nil)),
            StampedReading(session: 0, receivedAtMs: 4_102_444_799_999, reading: Reading(  // 2099-12-31 23:59:59.999
                seq: 2, sensor: 3, gatewayMs: 5, occupied: false,
                distanceCm: nil, voltageDv: 2301, currentMa: nil, powerFactorPct: 99)),
        ]
    }

    static func expectStored(_ c: MariaDBConnection, _ rows: [StampedReading], _ sessions: TestSessions) throws {
        let expected = rows.map { expectedText($0, sessions.key(for: $0.session)) }.sorted { a, b in
            (a[0]!, UInt64(a[1]!)!, UInt64(a[2]!)!) < (b[0]!, UInt64(b[1]!)!, UInt64(b[2]!)!)
        }
        let stored = try c.query(selectReadings)
        #expect(stored.count == expected.count)
        for (s, e) in zip(stored, expected) {
            #expect(s == e)
        }
    }

    @Test(arguments: InserterKind.allCases)
    func storesEveryColumnExactly(_ kind: InserterKind) throws {
        let c = try TestServer.migratedConnection("exact", allowLocalInfile: true)
        defer { c.close() }
        let sessions = TestSessions([Self.gw, Self.gw2])
        let rows = Self.edgeRows()
        let inserter = try kind.make(c)
        try insertInTransaction(inserter, rows, sessions)
        #expect(inserter.lastInsertedCount == rows.count)
        try Self.expectStored(c, rows, sessions)
        // UTC both ways: the server's own epoch conversion agrees to the millisecond.
        let epochs = try c.query("SELECT seq, UNIX_TIMESTAMP(received_at) FROM readings WHERE gateway_id = 'GW-north_01' ORDER BY seq")
        let bySeq = Dictionary(uniqueKeysWithValues: rows.filter { $0.session == 0 }.map { ($0.reading.seq, $0.receivedAtMs) })
        for row in epochs {
            let ms = bySeq[UInt32(row[0]!)!]!
            guard ms < Int64(Int32.max) * 1000 else { continue }  // UNIX_TIMESTAMP stops at 2038 in 10.11
            let text = String(format: "%lld.%03lld", ms / 1000, ms % 1000)
            #expect(row[1] == text)
        }
    }

    @Test(arguments: InserterKind.allCases)
    func replayedBatchStoresNothingTwice(_ kind: InserterKind) throws {
        let c = try TestServer.migratedConnection("replay", allowLocalInfile: true)
        defer { c.close() }
        let sessions = TestSessions([Self.gw])
        let rows = sampleRows(count: 300)
        let inserter = try kind.make(c, batch: 128)
        try insertInTransaction(inserter, rows, sessions)
        #expect(inserter.lastInsertedCount == 300)
        try insertInTransaction(inserter, rows, sessions)
        #expect(inserter.lastInsertedCount == 0)
        // A batch overlapping the stored rows stores only the new ones. The replayed rows
        // carry the stamps they had (the reader stamps a reading once; the key holds
        // received_at since readings is partitioned by it: README "Storage").
        let overlapping = Array(rows[250...]) + sampleRows(count: 50, firstSeq: 300, startMs: 1_760_000_100_000)
        try insertInTransaction(inserter, overlapping, sessions)
        #expect(inserter.lastInsertedCount == 50)
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "350")
        try Self.expectStored(c, Array(rows) + Array(overlapping.suffix(50)), sessions)
    }

    @Test func arrayBindingPartialBatchesResetTheArraySize() throws {
        let c = try TestServer.migratedConnection("partial")
        defer { c.close() }
        let sessions = TestSessions([Self.gw, Self.gw2])
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 100)
        // 250 = 100 + 100 + 50; then a full 100 after the partial one; then 7; then 1.
        var all: [StampedReading] = []
        let first = sampleRows(count: 250)
        let second = sampleRows(count: 100, session: 1, firstSeq: 0, startMs: 1_700_000_000_000)
        // Flip the NULL pattern so stale indicators from the previous batch would show.
        let third = sampleRows(count: 7, firstSeq: 250).map { r -> StampedReading in
            var r = r
            r.reading.distanceCm = r.reading.distanceCm == nil ? 77 : nil
            r.reading.powerFactorPct = r.reading.powerFactorPct == nil ? 100 : nil
            return r
        }
        let fourth = sampleRows(count: 1, session: 1, firstSeq: 100)
        for batch in [first, second, third, fourth] {
            try insertInTransaction(inserter, batch, sessions)
            #expect(inserter.lastInsertedCount == batch.count)
            all += batch
        }
        try Self.expectStored(c, all, sessions)
    }

    @Test(arguments: [InserterKind.arrayBinding, .multiRow, .loadData])
    func largeBatchOf5000(_ kind: InserterKind) throws {
        let c = try TestServer.migratedConnection("large", allowLocalInfile: true)
        defer { c.close() }
        let sessions = TestSessions([Self.gw])
        let rows = sampleRows(count: 5000)
        let inserter = try kind.make(c, batch: kind == .multiRow ? 1000 : 5000)
        try insertInTransaction(inserter, rows, sessions)
        #expect(inserter.lastInsertedCount == 5000)
        let sums = try c.query("""
            SELECT COUNT(*), SUM(seq), SUM(distance_cm), COUNT(distance_cm), SUM(power_factor_pct),
                   MIN(received_at), MAX(received_at) FROM readings
            """)[0]
        let distances = rows.compactMap { $0.reading.distanceCm.map(Int.init) }
        #expect(sums[0] == "5000")
        #expect(sums[1] == String(rows.reduce(0) { $0 + Int($1.reading.seq) }))
        #expect(sums[2] == String(distances.reduce(0, +)))
        #expect(sums[3] == String(distances.count))
        #expect(sums[4] == String(rows.compactMap { $0.reading.powerFactorPct.map(Int.init) }.reduce(0, +)))
        #expect(sums[5] == utcText(rows.first!.receivedAtMs))
        #expect(sums[6] == utcText(rows.last!.receivedAtMs))
    }

    @Test func transactionHelperCommitsOrRollsBack() throws {
        let c = try TestServer.migratedConnection("txn")
        defer { c.close() }
        let inserter = MultiRowInserter(connection: c, rowsPerStatement: 10)
        let sessions = TestSessions([Self.gw])
        try c.transaction { try inserter.insert(sampleRows(count: 25), sessions: sessions) }
        #expect(throws: MariaDBError.self) {
            try c.transaction {
                try inserter.insert(sampleRows(count: 30, firstSeq: 100), sessions: sessions)
                try c.execute("SELECT * FROM no_such_table")
            }
        }
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "25")
    }

    @Test func rollbackDiscardsTheBatch() throws {
        let c = try TestServer.migratedConnection("rollback")
        defer { c.close() }
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 64)
        try c.begin()
        try inserter.insert(sampleRows(count: 100), sessions: TestSessions([Self.gw]))
        try c.rollback()
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "0")
    }

    @Test(arguments: InserterKind.allCases)
    func invalidGatewayIdIsRejectedBeforeSending(_ kind: InserterKind) throws {
        let c = try TestServer.migratedConnection("badgw", allowLocalInfile: true)
        defer { c.close() }
        let inserter = try kind.make(c)
        for bad in ["", String(repeating: "x", count: 33), "gw'; DROP TABLE readings; --", "gw\t1"] {
            #expect(throws: StoreError.invalidGatewayId(bad)) {
                try inserter.insert(sampleRows(count: 3), sessions: TestSessions([SessionKey(gatewayId: bad, bootId: 1)]))
            }
        }
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "0")
    }

    @Test func loadDataNeedsLocalInfile() throws {
        let c = try TestServer.migratedConnection("noinfile")
        defer { c.close() }
        #expect(throws: StoreError.localInfileDisabled) { try LoadDataInserter(connection: c) }
    }

    @Test(arguments: [InserterKind.arrayBinding, .multiRow])
    func reconnectRepreparesAndReplaysSafely(_ kind: InserterKind) throws {
        let c = try TestServer.migratedConnection("reconnect")
        defer { c.close() }
        let sessions = TestSessions([Self.gw])
        let inserter = try kind.make(c, batch: 50)
        try insertInTransaction(inserter, sampleRows(count: 120), sessions)
        let generation = c.generation
        // The server kills the connection: the next insert fails as "connection lost".
        let id = try #require(try c.queryValue("SELECT CONNECTION_ID()"))
        let killer = try MariaDBConnection(dsn: c.dsn)
        try killer.execute("KILL \(id)")
        killer.close()
        let error = #expect(throws: MariaDBError.self) {
            try insertInTransaction(inserter, sampleRows(count: 200), sessions)
        }
        #expect(error?.isConnectionLost == true, "\(String(describing: error))")
        #expect(error?.isRetryable == true)
        try c.reconnect()
        #expect(c.generation == generation + 1)
        try insertInTransaction(inserter, sampleRows(count: 200), sessions)
        #expect(inserter.lastInsertedCount == 80)
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "200")
    }
}

@Suite("Sessions and gaps")
struct SessionRecorderTests {
    @Test func helloUpsertsAndSyntheticBootsBecomeReal() throws {
        let c = try TestServer.migratedConnection("sessions")
        defer { c.close() }
        let recorder = SessionRecorder(connection: c)
        let key = SessionKey(gatewayId: "gw-1", bootId: 0xABCD)
        try c.begin()
        try recorder.recordSession(synthetic: key, firstSeenAtMs: 1_000_000)
        try recorder.recordSession(synthetic: key, firstSeenAtMs: 2_000_000)
        try c.commit()
        #expect(try c.query("SELECT firmware, sensor_count, first_seen_at, last_hello_at, synthetic FROM gateway_sessions")
            == [[nil, nil, "1970-01-01 00:16:40.000", nil, "1"]])

        let hello = Hello(gatewayId: "gw-1", bootId: 0xABCD, firmware: FirmwareVersion(major: 1, minor: 2, patch: 3), sensorCount: 16)
        try c.begin()
        try recorder.recordSession(hello: hello, seenAtMs: 3_000_123)
        try c.commit()
        var upgraded = hello
        upgraded.firmware = FirmwareVersion(major: 1, minor: 3, patch: 0)
        upgraded.sensorCount = 24
        try recorder.recordSession(hello: upgraded, seenAtMs: 4_000_456)
        #expect(try c.query("SELECT gateway_id, boot_id, firmware, sensor_count, first_seen_at, last_hello_at, synthetic FROM gateway_sessions")
            == [["gw-1", "43981", "1.3.0", "24", "1970-01-01 00:16:40.000", "1970-01-01 01:06:40.456", "0"]])
    }

    @Test func gapsAreRecordedOnce() throws {
        let c = try TestServer.migratedConnection("gaps")
        defer { c.close() }
        let recorder = SessionRecorder(connection: c)
        let key = SessionKey(gatewayId: "gw-1", bootId: 9)
        try c.begin()
        try recorder.recordGap(session: key, firstMissingSeq: 100, missingCount: 5, detectedAtMs: 1_700_000_000_001)
        try recorder.recordGap(session: key, firstMissingSeq: 100, missingCount: 5, detectedAtMs: 1_700_000_000_002)
        try recorder.recordGap(session: key, firstMissingSeq: UInt32.max, missingCount: UInt32.max, detectedAtMs: 1_700_000_000_003)
        try c.commit()
        #expect(try c.query("SELECT first_missing_seq, missing_count, detected_at FROM link_gaps ORDER BY first_missing_seq") == [
            ["100", "5", "2023-11-14 22:13:20.001"], ["4294967295", "4294967295", "2023-11-14 22:13:20.003"],
        ])
        // Survives a reconnect (statements re-prepared).
        try c.reconnect()
        try recorder.recordGap(session: key, firstMissingSeq: 200, missingCount: 1, detectedAtMs: 0)
        #expect(try c.queryValue("SELECT COUNT(*) FROM link_gaps") == "3")
        // Why they are missing: the link unless said otherwise.
        try recorder.recordGap(session: key, firstMissingSeq: 300, missingCount: 40, detectedAtMs: 0, reason: .applianceRestart)
        #expect(try c.query("SELECT first_missing_seq, reason FROM link_gaps ORDER BY first_missing_seq") == [
            ["100", "link"], ["200", "link"], ["300", "appliance_restart"], ["4294967295", "link"],
        ])
    }

    @Test("migration 3 gives link_gaps rows stored before it the reason `link`")
    func gapReasonMigration() throws {
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("gapreason"))
        defer { c.close() }
        // A database as version 2 left it, with a gap in it.
        try c.execute(Schema.createMigrationsTable)
        for m in Schema.migrations where m.version <= 2 {
            for statement in m.statements { try c.execute(statement) }
            try c.execute("INSERT INTO schema_migrations VALUES (\(m.version), 'old', UTC_TIMESTAMP(3))")
        }
        try c.execute("INSERT INTO link_gaps VALUES ('gw-1', 9, 100, 5, UTC_TIMESTAMP(3))")
        #expect(try Schema.migrate(c) == Schema.migrations.map(\.version).filter { $0 > 2 })
        #expect(try c.query("SELECT first_missing_seq, missing_count, reason FROM link_gaps") == [["100", "5", "link"]])
    }
}

@Suite("Connection and errors")
struct ConnectionTests {
    @Test func sessionIsUTCAndUTF8MB4() throws {
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("session"))
        defer { c.close() }
        #expect(try c.query("SELECT @@session.time_zone, @@character_set_client, @@character_set_connection, @@character_set_results")
            == [["+00:00", "utf8mb4", "utf8mb4", "utf8mb4"]])
        #expect(try c.queryValue("SELECT CONCAT('Å', '🚗')") == "Å🚗")
        #expect(try c.query("SELECT NULL, 1") == [[nil, "1"]])
        #expect(try c.query("DO 1") == [])
        #expect(!c.serverVersion.isEmpty)
        try c.ping()
    }

    @Test func syntaxErrorCarriesServerNumberAndMessage() throws {
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("errors"))
        defer { c.close() }
        let error = #expect(throws: MariaDBError.self) { try c.execute("SELEC 1 FROM nowhere") }
        #expect(error?.code == .syntaxError)
        #expect(error?.sqlState == "42000")
        #expect(error?.message.contains("SQL syntax") == true)
        #expect(error?.statement == "SELEC 1 FROM nowhere")
        #expect(error?.description.contains("1064") == true)
        #expect(error?.isRetryable == false)
        #expect(error?.isConnectionLost == false)

        let missing = #expect(throws: MariaDBError.self) { _ = try c.query("SELECT * FROM no_such_table") }
        #expect(missing?.code == .noSuchTable)

        try c.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        try c.execute("INSERT INTO t VALUES (1)")
        let duplicate = #expect(throws: MariaDBError.self) { try c.execute("INSERT INTO t VALUES (1)") }
        #expect(duplicate?.code == .duplicateEntry)
        #expect(duplicate?.sqlState == "23000")

        let prepare = #expect(throws: MariaDBError.self) { _ = try c.prepare("INSERT INTO t VALUES (?, ?") }
        #expect(prepare?.code == .syntaxError)
        #expect(prepare?.operation == .prepare)
        // The connection is still usable after errors.
        #expect(try c.queryValue("SELECT COUNT(*) FROM t") == "1")
    }

    @Test func statementsInErrorsAreShortAndWithoutPasswords() throws {
        let long = MariaDBError(code: .syntaxError, message: "x", operation: .query, statement: String(repeating: "A", count: 1000))
        #expect(long.statement!.count <= MariaDBError.statementPrefixLength + 1)
        let secret = MariaDBError(code: .syntaxError, message: "x", operation: .query,
                                  statement: "CREATE USER 'a'@'%' IDENTIFIED BY 'hunter2'")
        #expect(!secret.description.contains("hunter2"))
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("pwerr"))
        defer { c.close() }
        let error = #expect(throws: MariaDBError.self) { try c.execute("ALTER USER nobody@nowhere IDENTIFIED BY 'hunter2'") }
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func wrongPasswordIsAccessDeniedAndNeverPrinted() throws {
        let base = try TestServer.newDatabase("auth")
        let admin = try MariaDBConnection(dsn: base)
        defer { admin.close() }
        let user = "u\(UInt32.random(in: 0...999_999))"
        try admin.execute("CREATE USER '\(user)'@'localhost' IDENTIFIED BY 'Right:P@ss/word%'")
        try admin.execute("GRANT ALL ON `\(base.database!)`.* TO '\(user)'@'localhost'")
        let socket = try #require(base.socketPath)
        let good = try DSN.parse(
            "mysql://\(user):Right%3AP%40ss%2Fword%25@localhost/\(base.database!)?socket=\(socket)", environment: [:])
        let c = try MariaDBConnection(dsn: good)
        #expect(try c.queryValue("SELECT CURRENT_USER()") == "\(user)@localhost")
        c.close()
        // Password from the environment.
        let viaEnv = try DSN.parse("mysql://\(user)@localhost/\(base.database!)?socket=\(socket)",
                                   environment: [DSN.passwordEnvironmentVariable: "Right:P@ss/word%"])
        try MariaDBConnection(dsn: viaEnv).close()

        var bad = good
        bad.password = "WrongHunter2"
        let error = #expect(throws: MariaDBError.self) { _ = try MariaDBConnection(dsn: bad) }
        #expect(error?.code == .accessDenied)
        #expect(error?.operation == .connect)
        #expect(error?.description.contains("WrongHunter2") == false)
        #expect(error?.isConnectionLost == false)
    }

    @Test func deadSocketIsAConnectionError() throws {
        let dsn = DSN(user: "root", transport: .unixSocket(path: "/tmp/parklink-no-such-\(UInt32.random(in: 0...UInt32.max)).sock"), database: "x")
        let error = #expect(throws: MariaDBError.self) { _ = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(2)) }
        #expect(error?.code == .connectionError)
        #expect(error?.isConnectionLost == true)
        #expect(error?.isRetryable == true)
    }

    @Test func closedPortIsAConnectionError() throws {
        let port = try PrivateMariaDBServer.freeLoopbackPort()
        let dsn = DSN(user: "root", transport: .tcp(host: "127.0.0.1", port: port), database: "x")
        let error = #expect(throws: MariaDBError.self) { _ = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(2)) }
        #expect(error?.isConnectionLost == true, "\(String(describing: error))")
    }

    @Test func closeHappensExactlyOnce() throws {
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("close"))
        let statement = try c.prepare("SELECT ?")
        #expect(statement.parameterCount == 1)
        try statement.execute([.int(1)])
        try statement.execute([.string("again")])
        #expect(try c.queryValue("SELECT 'still in sync'") == "still in sync")
        #expect(c.isOpen)
        c.close()
        c.close()
        #expect(!c.isOpen)
        #expect(!statement.isValid)
        statement.close()
        statement.close()
        let error = #expect(throws: MariaDBError.self) { try c.execute("SELECT 1") }
        #expect(error?.isConnectionLost == true)
        #expect(throws: MariaDBError.self) { try c.commit() }
        #expect(throws: MariaDBError.self) { try statement.execute([.int(1)]) }
        // A statement outliving its connection is freed safely in deinit.
        let d = try MariaDBConnection(dsn: c.dsn)
        let orphan = try d.prepare("SELECT 1")
        d.close()
        _ = orphan
        // deinit of a connection that was never closed closes it.
        do { _ = try MariaDBConnection(dsn: c.dsn) }
    }

    @Test func preparedStatementValues() throws {
        let c = try MariaDBConnection(dsn: try TestServer.newDatabase("values"))
        defer { c.close() }
        try c.execute("CREATE TABLE v (a BIGINT NULL, b BIGINT UNSIGNED NULL, c DOUBLE NULL, d VARCHAR(20) NULL, e DATETIME(3) NULL)")
        let insert = try c.prepare("INSERT INTO v VALUES (?, ?, ?, ?, ?)")
        #expect(try insert.execute([.int(-5), .uint(UInt64.max), .double(1.5), .string("héllo"), .dateTime(millisecondsSinceEpoch: 1_700_000_000_007)]) == 1)
        try insert.execute([.null, .null, .null, .null, .null])
        #expect(throws: MariaDBError.self) { try insert.execute([.null]) }
        #expect(try c.query("SELECT * FROM v ORDER BY a IS NULL") == [
            ["-5", "18446744073709551615", "1.5", "héllo", "2023-11-14 22:13:20.007"], [nil, nil, nil, nil, nil],
        ])
        #expect(try c.quoted("it's \\ \"x\"") == "'it\\'s \\\\ \\\"x\\\"'")
    }
}

@Suite("Private MariaDB server")
struct PrivateMariaDBServerTests {
    @Test func startIsIdempotentAndStatusReports() throws {
        let base = try TestServer.dsn()
        let db = try TestServer.server()
        let status = db.status()
        #expect(status.running)
        #expect(status.initialized)
        #expect(status.pid != nil)
        #expect(status.socketPath == base.socketPath)
        #expect(try db.start() == base)
        #expect(db.status().pid == status.pid)
        #expect(base.description.hasPrefix("mysql://root@localhost/parklink?socket="))
    }

    @Test func socketPathTooLongIsAClearError() throws {
        let deep = "/tmp/" + String(repeating: "d", count: 100)
        let db = PrivateMariaDBServer(stateDirectory: deep)
        let error = #expect(throws: PrivateMariaDBServerError.self) { try db.start() }
        #expect(error?.description.contains("107") == true)
        #expect(!FileManager.default.fileExists(atPath: deep))
        #expect(!db.status().running)
    }

    /// A second private server on a loopback port: TCP with a password, kill -9, restart,
    /// committed rows survive, stop, destroy.
    @Test func tcpKillRestartStop() throws {
        var options = PrivateMariaDBServer.Options(
            port: 0, bufferPoolSize: "64M", logFileSize: "48M",
            stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true)
        options.databaseName = "crash"
        let db = try PrivateMariaDBServer.temporary(options: options)
        defer { try? db.destroy() }
        let socketDSN = try db.start()
        let port = try #require(db.port)
        let admin = try MariaDBConnection(dsn: socketDSN)
        try admin.execute("CREATE USER 'tcp'@'127.0.0.1' IDENTIFIED BY 'pw@tcp'")
        try admin.execute("GRANT ALL ON crash.* TO 'tcp'@'127.0.0.1'")
        admin.close()

        let tcp = try DSN.parse("mysql://tcp:pw%40tcp@127.0.0.1:\(port)/crash", environment: [:])
        let c = try MariaDBConnection(dsn: tcp)
        try Schema.migrate(c)
        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 500)
        let sessions = TestSessions([SessionKey(gatewayId: "gw", bootId: 1)])
        try insertInTransaction(inserter, sampleRows(count: 1000), sessions)

        let pid = try #require(db.pid)
        try db.killServer()
        #expect(!db.status().running)
        let lost = #expect(throws: MariaDBError.self) { try insertInTransaction(inserter, sampleRows(count: 1500), sessions) }
        #expect(lost?.isConnectionLost == true, "\(String(describing: lost))")

        #expect(try db.start() == socketDSN)
        #expect(db.pid != pid)
        #expect(db.port == port)
        try c.reconnect()
        try insertInTransaction(inserter, sampleRows(count: 1500), sessions)
        #expect(inserter.lastInsertedCount == 500)
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "1500")
        c.close()

        try db.stop()
        #expect(!db.status().running)
        try db.stop()  // stopping a stopped server does nothing
        try db.destroy()
        #expect(!FileManager.default.fileExists(atPath: db.stateDirectory))
    }
}
