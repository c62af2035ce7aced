import Foundation
import ParkLinkProtocol
import Testing

@testable import ParkLinkStore

/// The writer's transaction against the real MariaDB: arrivals and departures come from
/// the readings as they happened, never from a replay, across a restart too.
@Suite("Batch transaction: occupancy events")
struct BatchTransactionTests {
    let key = SessionKey(gatewayId: "GW-PH", bootId: 7)

    func reading(_ seq: UInt32, occupied: Bool, atMs: Int64) -> StampedReading {
        StampedReading(session: 0, receivedAtMs: 1_764_000_000_000 + atMs,
                       reading: Reading(seq: seq, sensor: 5, gatewayMs: seq, occupied: occupied))
    }

    func transaction(_ dsn: DSN) throws -> BatchTransaction {
        let t = BatchTransaction(dsn: dsn, method: .arrayBinding, maxRows: 100, sessions: TestSessions([key]),
                                 zoneOf: { _ in "A" })
        try t.connect()
        return t
    }

    func write(_ t: BatchTransaction, _ rows: [StampedReading]) throws -> Int {
        try rows.withUnsafeBufferPointer { try t.write($0, events: []) }
    }

    @Test("after a restart, a replayed older reading neither flips the bay nor makes the next one an arrival")
    func noPhantomArrivalAfterRestart() throws {
        MariaDB.initializeLibrary()
        let dsn = try TestServer.newDatabase("phantom")
        let first = try transaction(dsn)
        #expect(try write(first, [reading(0, occupied: false, atMs: 1_000), reading(1, occupied: true, atMs: 2_000)]) == 2)
        first.disconnect()

        // The next run replays what it had read back (seq 1, already stored, and an older
        // seq 0), then goes on: the car stays, then leaves.
        let second = try transaction(dsn)
        let inserted = try write(second, [
            reading(1, occupied: true, atMs: 2_000), reading(0, occupied: false, atMs: 1_000),
            reading(2, occupied: true, atMs: 3_000), reading(3, occupied: false, atMs: 4_000),
        ])
        #expect(inserted == 2, "seq 0 and 1 were stored by the first run")
        second.disconnect()

        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        let events = try c.query("SELECT seq, event FROM occupancy_events ORDER BY seq").map { "\($0[0] ?? "")/\($0[1] ?? "")" }
        #expect(events == ["1/arrival", "3/departure"], "one stay: no phantom arrival at seq 2")
    }
}
