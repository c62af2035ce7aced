import Foundation
import ParkLinkProtocol
import ParkLinkSystem
import Testing

@testable import ParkLinkIngest

/// The spool on a real file system: what goes in comes out, in order, exactly; what a
/// crash tears is cut and counted; the cap is a counted refusal, never a silent drop.
@Suite("Spool: readings on disk while the database is away")
final class SpoolTests {
    let sessions = SessionTable()
    /// The directories this test made, removed when it ends (Swift Testing makes one
    /// instance per test).
    private var made: [String] = []

    deinit {
        for path in made { try? FileManager.default.removeItem(atPath: path) }
    }

    func directory(_ label: String) -> String {
        let path = NSTemporaryDirectory() + "plspool-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        made.append(path)
        return path
    }

    /// `n` readings of one session, every optional field both present and absent.
    func readings(_ n: Int, gateway: String = "GW-01", boot: UInt32 = 0xB007, from seq: UInt32 = 0) -> [StampedReading] {
        let s = sessions.index(for: SessionKey(gatewayId: gateway, bootId: boot))
        return (0..<n).map { i in
            let q = seq + UInt32(i)
            return StampedReading(session: s, receivedAtMs: 1_764_000_000_000 + Int64(q), reading: Reading(
                seq: q, sensor: UInt16(q % 500), gatewayMs: q &* 7, occupied: q % 3 == 0,
                distanceCm: q % 2 == 0 ? UInt16(q % 400) : nil, voltageDv: q % 5 == 0 ? nil : 2_300,
                currentMa: q % 7 == 0 ? nil : UInt16(q % 9_000), powerFactorPct: q % 4 == 0 ? nil : 95))
        }
    }

    /// Everything the spool holds, drained and committed in batches of `max`.
    func drainAll(_ spool: Spool, max: Int = 5_000) -> [StampedReading] {
        let batch = UnsafeMutablePointer<StampedReading>.allocate(capacity: max)
        defer { batch.deallocate() }
        var out: [StampedReading] = []
        while true {
            let (n, end) = spool.read(into: batch, max: max, sessions: sessions)
            if n == 0 { break }
            out += UnsafeBufferPointer(start: batch, count: n)
            spool.commit(through: end, count: n, lastReceivedAtMs: batch[n - 1].receivedAtMs)
            batch.deinitialize(count: n)
        }
        return out
    }

    func segments(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".spool") }.sorted()
    }

    @Test("readings of several sessions come back in order, every field exact, and the files go once committed")
    func roundTrip() throws {
        let dir = directory("rt")
        let spool = try Spool(config: .init(directory: dir))
        let a = readings(2_500), b = readings(700, gateway: "GW-02", boot: 9), c = readings(10, from: 2_500)
        for part in [a, b, c] { part.withUnsafeBufferPointer { #expect(spool.append($0, sessions: sessions) == part.count) } }
        #expect(spool.pending == 3_210)
        #expect(spool.oldestReceivedAtMs == a[0].receivedAtMs)
        let out = drainAll(spool, max: 1_200)
        #expect(out == a + b + c)
        #expect(spool.pending == 0 && spool.drained == 3_210)
        #expect(segments(dir).count <= 1, "only the segment still open for appending remains")
    }

    @Test("what was appended and not committed survives a restart")
    func survivesRestart() throws {
        let dir = directory("restart")
        let rows = readings(4_000)
        do {
            let spool = try Spool(config: .init(directory: dir))
            rows.withUnsafeBufferPointer { _ = spool.append($0, sessions: sessions) }
            // Read some, commit only part: the rest must come back.
            let batch = UnsafeMutablePointer<StampedReading>.allocate(capacity: 1_000)
            defer { batch.deallocate() }
            let (n, end) = spool.read(into: batch, max: 1_000, sessions: sessions)
            #expect(n == 1_000)
            spool.commit(through: end, count: n, lastReceivedAtMs: nil)
            _ = spool.read(into: batch, max: 1_000, sessions: sessions)  // read, never committed
            spool.sync()
        }
        let again = try Spool(config: .init(directory: dir))
        #expect(again.recovery.readings == 4_000, "a segment goes only when wholly committed: a replay is harmless")
        #expect(again.recovery.tornBytes == 0)
        let key = SessionKey(gatewayId: "GW-01", bootId: 0xB007)
        #expect(again.recovery.first == [key: 0] && again.recovery.resume == [key: 4_000],
                "where each session's spooled readings begin and end")
        #expect(drainAll(again) == rows)
    }

    @Test("a torn tail (a crash mid-write) is cut at the last good record and counted", arguments: [1, 11, 12, 100, 700])
    func tornTail(keep: Int) throws {
        let dir = directory("torn")
        let rows = readings(3_000)
        do {
            let spool = try Spool(config: .init(directory: dir))
            rows.withUnsafeBufferPointer { _ = spool.append($0, sessions: sessions) }
            spool.sync()
        }
        // Half a record more, as a power cut leaves it.
        let extra = readings(50, from: 3_000)
        var record: [UInt8] = []
        extra.withUnsafeBufferPointer { SpoolRecord.encode($0, key: SessionKey(gatewayId: "GW-01", bootId: 0xB007), into: &record) }
        let path = dir + "/" + segments(dir).last!
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(record.prefix(keep)))
        handle.closeFile()

        let spool = try Spool(config: .init(directory: dir))
        #expect(spool.recovery.tornBytes == Int64(keep))
        #expect(spool.recovery.readings == 3_000)
        #expect(drainAll(spool) == rows)
    }

    @Test("a corrupt byte inside the last record cuts that record, and only that one")
    func corruptRecord() throws {
        let dir = directory("corrupt")
        let first = readings(1_000), second = readings(400, from: 1_000)
        do {
            let spool = try Spool(config: .init(directory: dir))
            first.withUnsafeBufferPointer { _ = spool.append($0, sessions: sessions) }
            second.withUnsafeBufferPointer { _ = spool.append($0, sessions: sessions) }
            spool.sync()
        }
        let path = dir + "/" + segments(dir).last!
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 30] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let spool = try Spool(config: .init(directory: dir))
        #expect(spool.recovery.readings == 1_000)
        let lastRecord: Int64 = 12 + 1 + 5 + 8 + 400 * 26  // header, gateway id "GW-01", boot and count, entries
        #expect(spool.recovery.tornBytes == lastRecord)
        #expect(drainAll(spool) == first)
    }

    @Test("at the cap, appends are refused and counted, and the spool keeps working")
    func capIsCounted() throws {
        let dir = directory("cap")
        var config = Spool.Config(directory: dir)
        config.maxBytes = 100_000
        let spool = try Spool(config: config)
        let rows = readings(10_000)
        let kept = rows.withUnsafeBufferPointer { spool.append($0, sessions: sessions) }
        #expect(kept > 0 && kept < rows.count)
        #expect(spool.droppedFull == rows.count - kept, "every reading not kept is counted")
        #expect(spool.bytes <= 100_000)
        #expect(drainAll(spool) == Array(rows.prefix(kept)))
        let more = readings(100, from: 20_000)
        #expect(more.withUnsafeBufferPointer { spool.append($0, sessions: sessions) } == 100, "room again once drained")
    }

    @Test("segments rotate, and a segment is deleted only after its last record is committed")
    func rotationAndDeletion() throws {
        let dir = directory("rotate")
        var config = Spool.Config(directory: dir)
        config.segmentBytes = 20_000  // one 1,000-reading record (26 KB) per segment
        let spool = try Spool(config: config)
        let rows = readings(6_000)
        rows.withUnsafeBufferPointer { _ = spool.append($0, sessions: sessions) }
        let before = segments(dir).count
        #expect(before >= 5)
        let batch = UnsafeMutablePointer<StampedReading>.allocate(capacity: 5_000)
        defer { batch.deallocate() }
        let (n, end) = spool.read(into: batch, max: 5_000, sessions: sessions)
        #expect(n == 5_000)
        #expect(segments(dir).count == before, "read is not committed: nothing deleted")
        spool.commit(through: end, count: n, lastReceivedAtMs: batch[n - 1].receivedAtMs)
        #expect(segments(dir).count < before)
        #expect(spool.pending == 1_000)
        batch.deinitialize(count: n)
        #expect(drainAll(spool) == Array(rows.suffix(1_000)))
    }
}
