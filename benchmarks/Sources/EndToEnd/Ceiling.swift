// The store's ceilings, measured in the same run as the end-to-end steps.

import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

/// Rows/s the store alone takes on the same server, just before a step: array binding
/// (the writer's method, one connection, batches of the pipeline's `batch_max_rows` in one
/// transaction each) and
/// LOAD DATA LOCAL INFILE (writing its file included). An end-to-end figure next to
/// these, measured minutes apart on a shared machine, says how close the pipeline comes
/// to what the database can take at that moment; the Store harness suite measures the
/// same methods in isolation.
enum StoreCeiling {
    struct Result: Codable {
        var arrayBindingRowsPerSecond: Int
        var loadDataRowsPerSecond: Int
    }

    static let batch = ApplianceConfig().batchMaxRows
    static let database = "bench_ceiling"

    /// Each method in a fresh `readings` (the schema's migrations), `rows` rows each.
    static func measure(serverDSN: DSN, admin: MariaDBConnection, scratch: String, rows: Int) throws -> Result {
        let batches = max(1, rows / batch)
        let ab = try run(serverDSN: serverDSN, admin: admin, batches: batches, loadData: false, scratch: scratch)
        let ld = try run(serverDSN: serverDSN, admin: admin, batches: batches, loadData: true, scratch: scratch)
        try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        return Result(arrayBindingRowsPerSecond: ab, loadDataRowsPerSecond: ld)
    }

    /// Array binding through `connections` connections at once, each on its own thread
    /// with its own gateway id (so their keys do not interleave), `rows` rows in all: would
    /// a second writer connection let the server use the second core?
    static func parallelArrayBinding(serverDSN: DSN, admin: MariaDBConnection, rows: Int, connections: Int) throws -> Int {
        try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        try admin.execute("CREATE DATABASE `\(database)` CHARACTER SET utf8mb4")
        let setup = try MariaDBConnection(dsn: serverDSN.withDatabase(database))
        try Schema.migrate(setup)
        setup.close()
        let batches = max(1, rows / batch / connections)
        let failures = Locked<[String]>([])
        let start = Clock.monotonicNanoseconds()
        let threads = (0..<connections).map { index in
            NamedThread(name: "ceiling-\(index)") {
                MariaDB.threadInit()
                do {
                    _ = try run(serverDSN: serverDSN, admin: nil, batches: batches, loadData: false, scratch: "",
                                gateway: "CEILING-GW\(index)")
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        for t in threads { t.join() }
        let elapsed = Clock.monotonicNanoseconds() - start
        if let f = failures.withLock({ $0.first }) { throw CeilingError.failed(f) }
        return Int(Double(batches * batch * connections) * 1e9 / Double(max(elapsed, 1)))
    }

    enum CeilingError: Error { case failed(String) }

    private static func run(serverDSN: DSN, admin: MariaDBConnection?, batches: Int, loadData: Bool,
                            scratch: String, gateway: String = "CEILING-GW") throws -> Int {
        if let admin {
            try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
            try admin.execute("CREATE DATABASE `\(database)` CHARACTER SET utf8mb4")
        }
        let c = try MariaDBConnection(dsn: serverDSN.withDatabase(database), allowLocalInfile: loadData)
        defer { c.close() }
        if admin != nil { try Schema.migrate(c) }
        let inserter: ReadingBatchInserter = loadData
            ? try LoadDataInserter(connection: c, directory: scratch)
            : ArrayBindingInserter(connection: c, maxBatchSize: batch)
        let sessions = CeilingSession(gateway: gateway)
        let rows = UnsafeMutablePointer<StampedReading>.allocate(capacity: batch)
        defer { rows.deallocate() }
        var elapsed: UInt64 = 0
        var seq: UInt32 = 0
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        for _ in 0..<batches {
            for i in 0..<batch {
                let index = Int(seq) % 500
                var r = Reading(seq: seq, sensor: UInt16(index + 1), gatewayMs: seq &* 2, occupied: seq % 3 == 0)
                if index % 8 != 5 { r.distanceCm = UInt16(40 + seq % 200) }
                if index % 8 != 6 {
                    r.voltageDv = UInt16(2200 + seq % 220)
                    r.currentMa = UInt16(30 + seq % 5970)
                    r.powerFactorPct = UInt8(50 + seq % 50)
                }
                (rows + i).initialize(to: StampedReading(session: 0, receivedAtMs: now + Int64(seq) / 200, reading: r))
                seq &+= 1
            }
            let start = Clock.monotonicNanoseconds()
            try c.begin()
            try inserter.insert(UnsafeBufferPointer(start: rows, count: batch), sessions: sessions)
            try c.commit()
            elapsed += Clock.monotonicNanoseconds() - start
            rows.deinitialize(count: batch)
        }
        return Int(Double(batches * batch) * 1e9 / Double(max(elapsed, 1)))
    }
}

private struct CeilingSession: SessionResolving {
    var gateway: String
    func key(for index: UInt32) -> SessionKey { SessionKey(gatewayId: gateway, bootId: 0x5EED_0001) }
}

/// The cost of the `readings` key's shape on the server alone: the same rows, generated by
/// the server (`INSERT … SELECT` from the Sequence engine, so no client protocol is in the
/// figure), into the schema's shape (a VARCHAR gateway id first in the primary key of every
/// row) and into one with a 2-byte numeric gateway key, in transactions of the writer's
/// batch size. Would a numeric key be worth what it costs users (a join to a gateways table
/// in every query by gateway)?
enum KeyShapeCeiling {
    static let database = "bench_keys"

    static func measure(admin: MariaDBConnection, rows: Int) throws -> [(shape: String, rowsPerSecond: Int)] {
        try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        try admin.execute("CREATE DATABASE `\(database)` CHARACTER SET utf8mb4")
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS `\(database)`") }
        let columns = """
              boot_id INT UNSIGNED NOT NULL, seq INT UNSIGNED NOT NULL, sensor_id SMALLINT UNSIGNED NOT NULL,
              received_at DATETIME(3) NOT NULL, gateway_ms INT UNSIGNED NOT NULL, occupied TINYINT(1) NOT NULL,
              distance_cm SMALLINT UNSIGNED NULL, voltage_dv SMALLINT UNSIGNED NULL, current_ma SMALLINT UNSIGNED NULL,
              power_factor_pct TINYINT UNSIGNED NULL,
            """
        let shapes: [(String, String, String)] = [
            ("VARCHAR(32) gateway_id (the schema's)", "gateway_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,", "'STRESS-0123ABCD'"),
            ("SMALLINT gateway_key", "gateway_key SMALLINT UNSIGNED NOT NULL,", "7"),
        ]
        var results: [(String, Int)] = []
        for (index, (name, keyColumn, keyValue)) in shapes.enumerated() {
            let table = "`\(database)`.t\(index)"
            let key = index == 0 ? "gateway_id" : "gateway_key"
            try admin.execute("""
                CREATE TABLE \(table) (\(keyColumn) \(columns)
                  PRIMARY KEY (\(key), boot_id, seq)
                ) ENGINE=InnoDB
                """)
            let batch = StoreCeiling.batch
            let start = Clock.monotonicNanoseconds()
            var first = 0
            while first < rows {
                let last = min(rows, first + batch) - 1
                try admin.begin()
                try admin.execute("""
                    INSERT INTO \(table) SELECT \(keyValue), 1, seq, seq % 500 + 1,
                      TIMESTAMPADD(MICROSECOND, seq * 5000, '2026-11-28 00:00:00'), seq * 2, seq % 3 = 0,
                      40 + seq % 200, 2200 + seq % 220, 30 + seq % 5970, 50 + seq % 50
                    FROM `\(database)`.seq_\(first)_to_\(last)
                    """)
                try admin.commit()
                first = last + 1
            }
            let elapsed = Clock.monotonicNanoseconds() - start
            results.append((name, Int(Double(rows) * 1e9 / Double(max(elapsed, 1)))))
        }
        return results
    }
}
