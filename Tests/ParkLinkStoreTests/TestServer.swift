import Foundation
import ParkLinkProtocol
import ParkLinkTestSupport
import Testing

@testable import ParkLinkStore

/// The shared test server lives in ParkLinkTestSupport (the end-to-end tests use it too).
typealias TestServer = TestDatabase

/// A fixed session table for tests.
struct TestSessions: SessionResolving {
    var keys: [SessionKey]
    init(_ keys: [SessionKey]) { self.keys = keys }
    func key(for index: UInt32) -> SessionKey { keys[Int(index)] }
}

/// Readings with a deterministic mix of values and NULLs.
func sampleRows(count: Int, session: UInt32 = 0, firstSeq: UInt32 = 0, startMs: Int64 = 1_760_000_000_123) -> [StampedReading] {
    var rows: [StampedReading] = []
    rows.reserveCapacity(count)
    for i in 0..<count {
        let distance: UInt16? = i % 5 == 0 ? nil : UInt16(i % 400)
        let voltage: UInt16? = i % 6 == 0 ? nil : UInt16(2300 + i % 50)
        let current: UInt16? = i % 7 == 0 ? nil : UInt16(i % 3000)
        let powerFactor: UInt8? = i % 8 == 0 ? nil : UInt8(i % 101)
        let reading = Reading(
            seq: firstSeq + UInt32(i), sensor: UInt16(i % 50), gatewayMs: UInt32(i) &* 1000,
            occupied: i % 2 == 0, distanceCm: distance, voltageDv: voltage, currentMa: current,
            powerFactorPct: powerFactor)
        rows.append(StampedReading(session: session, receivedAtMs: startMs + Int64(i) * 7, reading: reading))
    }
    return rows
}

/// Independent oracle for DATETIME(3) text: Foundation's formatter in UTC.
func utcText(_ ms: Int64) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

/// The row as the server should print it (SELECT of the readings columns).
func expectedText(_ row: StampedReading, _ key: SessionKey) -> [String?] {
    let r = row.reading
    return [
        key.gatewayId, String(key.bootId), String(r.seq), String(r.sensor), utcText(row.receivedAtMs),
        String(r.gatewayMs), r.occupied ? "1" : "0", r.distanceCm.map { String($0) }, r.voltageDv.map { String($0) },
        r.currentMa.map { String($0) }, r.powerFactorPct.map { String($0) },
    ]
}

let selectReadings = """
    SELECT gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied,
           distance_cm, voltage_dv, current_ma, power_factor_pct
    FROM readings ORDER BY gateway_id, boot_id, seq
    """

/// The inserter kinds under test.
enum InserterKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case arrayBinding, multiRow, singleRow, loadData

    var testDescription: String { rawValue }

    func make(_ c: MariaDBConnection, batch: Int = 1000) throws -> any ReadingBatchInserter {
        switch self {
        case .arrayBinding: ArrayBindingInserter(connection: c, maxBatchSize: batch)
        case .multiRow: MultiRowInserter(connection: c, rowsPerStatement: batch)
        case .singleRow: SingleRowInserter(connection: c)
        case .loadData: try LoadDataInserter(connection: c)
        }
    }
}

/// Inserts in one transaction, as the writer does.
func insertInTransaction(_ inserter: any ReadingBatchInserter, _ rows: [StampedReading], _ sessions: TestSessions) throws {
    let c = inserter.connection
    try c.begin()
    do {
        try inserter.insert(rows, sessions: sessions)
        try c.commit()
    } catch {
        try? c.rollback()
        throw error
    }
}
