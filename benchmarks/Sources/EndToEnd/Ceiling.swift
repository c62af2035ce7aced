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

    private static func run(serverDSN: DSN, admin: MariaDBConnection, batches: Int, loadData: Bool,
                            scratch: String) throws -> Int {
        try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        try admin.execute("CREATE DATABASE `\(database)` CHARACTER SET utf8mb4")
        let c = try MariaDBConnection(dsn: serverDSN.withDatabase(database), allowLocalInfile: loadData)
        defer { c.close() }
        try Schema.migrate(c)
        let inserter: ReadingBatchInserter = loadData
            ? try LoadDataInserter(connection: c, directory: scratch)
            : ArrayBindingInserter(connection: c, maxBatchSize: batch)
        let sessions = CeilingSession()
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
    func key(for index: UInt32) -> SessionKey { SessionKey(gatewayId: "CEILING-GW", bootId: 0x5EED_0001) }
}
