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

    @Test("a flapping storm: every reading's change is an event, written in the same transaction, more than a statement's capacity",
          arguments: [BatchTransaction.Statements.automatic, .text])
    func stormOfEvents(statements: BatchTransaction.Statements) throws {
        MariaDB.initializeLibrary()
        let dsn = try TestServer.newDatabase("storm")
        // Array binding on a single server; the text a Galera node gets must store the same
        // rows (a zone id that needs escaping too). Not ASCII either: array binding sends
        // strings as binary, which the utf8mb4 column must store as the same characters.
        let zone = statements == .text ? "É'V\\EN" : "Étage Süd"
        let t = BatchTransaction(dsn: dsn, method: .arrayBinding, maxRows: 100, sessions: TestSessions([key]),
                                 zoneOf: { $0 % 2 == 0 ? zone : nil })
        t.statements = statements
        try t.connect()
        #expect(!t.onGalera)
        // 250 readings of 4 sensors, each flipping its bay: 246 changes, 2.5× the recorder's capacity.
        let rows: [StampedReading] = (0..<250).map { (i: Int) -> StampedReading in
            let r = Reading(seq: UInt32(i), sensor: UInt16(i % 4), gatewayMs: UInt32(i), occupied: (i / 4) % 2 == 1)
            return StampedReading(session: 0, receivedAtMs: 1_764_000_000_000 + Int64(i), reading: r)
        }
        #expect(try write(t, rows) == 250)
        #expect(t.occupancyTally.written == 246)
        // Written again (an unknown commit outcome): nothing more.
        t.disconnect()
        let again = BatchTransaction(dsn: dsn, method: .arrayBinding, maxRows: 100, sessions: TestSessions([key]), zoneOf: { _ in nil })
        try again.connect()
        #expect(try write(again, rows) == 0)

        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        let events = try c.query("SELECT seq, sensor_id, zone_id, event, at FROM occupancy_events ORDER BY seq")
        #expect(events.count == 246)
        for (n, e) in events.enumerated() {
            let i = n + 4
            #expect(e[0] == String(i) && e[1] == String(i % 4))
            #expect(e[2] == (i % 2 == 0 ? zone : nil))
            #expect(e[3] == ((i / 4) % 2 == 1 ? "arrival" : "departure"))
            #expect(e[4] == utcText(1_764_000_000_000 + Int64(i)))
        }
    }

    @Test("debounce: a flap within it writes nothing and is counted; a lasting change is written with its own seq and time, also when the line goes quiet")
    func debounced() throws {
        MariaDB.initializeLibrary()
        let dsn = try TestServer.newDatabase("debounce")
        let t = BatchTransaction(dsn: dsn, method: .arrayBinding, maxRows: 100, sessions: TestSessions([key]),
                                 debounceMs: 2_000, zoneOf: { _ in "A" })
        try t.connect()
        #expect(try write(t, [reading(0, occupied: false, atMs: 0)]) == 1)
        // A flap (arrival and departure within 2 s), then a car that stays.
        #expect(try write(t, [reading(1, occupied: true, atMs: 1_000), reading(2, occupied: false, atMs: 1_500),
                              reading(3, occupied: true, atMs: 5_000)]) == 3)
        #expect(t.occupancyTally.suppressed == 2 && t.occupancyTally.written == 0 && t.occupancyTally.held == 1)
        // Nothing else comes: not yet due at 6,999 ms, due at 7,000.
        #expect(!t.releaseHeld(upToMs: 1_764_000_000_000 + 6_999))
        #expect(t.releaseHeld(upToMs: 1_764_000_000_000 + 7_000))
        #expect(try write(t, []) == 0)
        #expect(t.occupancyTally.written == 1 && t.occupancyTally.held == 0)

        let c = try MariaDBConnection(dsn: dsn)
        defer { c.close() }
        let events = try c.query("SELECT seq, event, at FROM occupancy_events").map { $0.map { $0 ?? "" } }
        #expect(events == [["3", "arrival", utcText(1_764_000_000_000 + 5_000)]])
        #expect(try c.queryValue("SELECT COUNT(*) FROM readings") == "4", "readings are stored whatever the debounce")
    }
}
