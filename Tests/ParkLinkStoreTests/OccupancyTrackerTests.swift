import ParkLinkProtocol
import Testing

@testable import ParkLinkStore

/// Arrivals and departures as the writer derives them from a batch, with and without the
/// debounce, and what a failed transaction puts back. No database: the tracker alone.
@Suite("Occupancy tracker: changes, debounce, undo")
struct OccupancyTrackerTests {
    let sessions = TestSessions([SessionKey(gatewayId: "GW-A", bootId: 1), SessionKey(gatewayId: "GW-B", bootId: 2)])

    /// `(seq, sensor, occupied, atMs)` of session 0 unless given.
    func rows(_ specs: [(UInt32, UInt16, Bool, Int64)], session: UInt32 = 0) -> [StampedReading] {
        specs.map { seq, sensor, occupied, at in
            StampedReading(session: session, receivedAtMs: at, reading: Reading(seq: seq, sensor: sensor, gatewayMs: seq, occupied: occupied))
        }
    }

    func apply(_ t: inout OccupancyTracker, _ rows: [StampedReading], releaseUpToMs: Int64? = nil) -> [OccupancyChange] {
        var out: [OccupancyChange] = []
        rows.withUnsafeBufferPointer { t.apply($0, sessions: sessions, releaseUpToMs: releaseUpToMs, into: &out) }
        return out
    }

    func summary(_ changes: [OccupancyChange]) -> [String] {
        changes.map { "\($0.session)/\($0.seq)/\($0.sensor)/\($0.arrival ? "arrival" : "departure")@\($0.atMs)" }
    }

    @Test("without debounce every change is an event, keyed by the reading that carried it; a sensor's first reading is none")
    func everyChange() {
        var t = OccupancyTracker()
        let got = apply(&t, rows([(0, 7, false, 100), (1, 7, true, 110), (2, 8, true, 115), (3, 7, true, 120), (4, 7, false, 130)]))
        #expect(summary(got) == ["0/1/7/arrival@110", "0/4/7/departure@130"])
        // Another gateway's sensor 7 is another bay.
        let other = apply(&t, rows([(0, 7, true, 140), (1, 7, false, 150)], session: 1))
        #expect(summary(other) == ["1/1/7/departure@150"])
    }

    @Test("a reading older than the bay's last one moves nothing (a replay)")
    func olderReadingIgnored() {
        var t = OccupancyTracker()
        _ = apply(&t, rows([(5, 3, true, 500)]))
        #expect(apply(&t, rows([(4, 3, false, 400)])).isEmpty)
        #expect(summary(apply(&t, rows([(6, 3, false, 600)]))) == ["0/6/3/departure@600"])
    }

    @Test("debounce: a bay that flips back within it yields nothing, and both changes count as suppressed")
    func flapSuppressed() {
        var t = OccupancyTracker(debounceMs: 1_000)
        _ = apply(&t, rows([(0, 1, false, 0)]))
        let got = apply(&t, rows([(1, 1, true, 100), (2, 1, false, 300), (3, 1, true, 500), (4, 1, false, 700)]))
        #expect(got.isEmpty)
        #expect(t.lastSuppressed == 4)
        #expect(t.heldBays == 0)
    }

    @Test("debounce: a change that lasts is written with the seq and time of the reading that began it")
    func lastingChange() {
        var t = OccupancyTracker(debounceMs: 1_000)
        _ = apply(&t, rows([(0, 1, false, 0)]))
        // Held: the bay has not kept its state for a second yet.
        #expect(apply(&t, rows([(1, 1, true, 100), (2, 1, true, 600)])).isEmpty)
        #expect(t.heldBays == 1)
        // The bay's own reading a second later confirms it.
        #expect(summary(apply(&t, rows([(3, 1, true, 1_100)]))) == ["0/1/1/arrival@100"])
        #expect(t.heldBays == 0 && t.lastSuppressed == 0)
    }

    @Test("debounce: another bay's newer reading, or the idle clock, confirms a held change; a clean stop releases all")
    func releasedByTime() {
        var t = OccupancyTracker(debounceMs: 1_000)
        _ = apply(&t, rows([(0, 1, false, 0), (1, 2, false, 0), (2, 3, false, 0)]))
        #expect(apply(&t, rows([(3, 1, true, 100), (4, 2, true, 150), (5, 3, true, 1_000)])).isEmpty)
        // Sensor 9's reading at 1,120 ms is newer than 100 + 1,000: sensor 1's change is due.
        #expect(summary(apply(&t, rows([(6, 9, false, 1_120)]))) == ["0/3/1/arrival@100"])
        // Idle: no readings, the writer's clock at 1,150.
        #expect(summary(apply(&t, [], releaseUpToMs: 1_150)) == ["0/4/2/arrival@150"])
        #expect(t.nextReleaseMs() == 2_000)
        // A clean stop: whatever is held is written.
        #expect(summary(apply(&t, [], releaseUpToMs: .max)) == ["0/5/3/arrival@1000"])
        #expect(t.heldBays == 0 && t.nextReleaseMs() == nil)
    }

    @Test("revert puts back everything the last apply changed: the same batch gives the same changes again")
    func revertRepeats() {
        for debounce in [0, 1_000] {
            var t = OccupancyTracker(debounceMs: debounce)
            _ = apply(&t, rows([(0, 1, false, 0), (1, 2, true, 0)]))
            _ = apply(&t, rows([(2, 1, true, 100), (3, 2, false, 200)]))
            let batch = rows([(4, 1, true, 1_500), (5, 2, true, 1_600), (6, 1, false, 1_700), (7, 3, true, 2_500)])
            let first = apply(&t, batch)
            let suppressed = t.lastSuppressed, held = t.heldBays
            t.revert()
            #expect(apply(&t, batch) == first, "debounce \(debounce)")
            #expect(t.lastSuppressed == suppressed && t.heldBays == held)
        }
    }

    @Test("sensor ids up to 65535 and many gateways: state grows with the ids seen")
    func highSensorIds() {
        var t = OccupancyTracker()
        _ = apply(&t, rows([(0, 65_535, false, 0), (1, 0, true, 0)]))
        #expect(summary(apply(&t, rows([(2, 65_535, true, 10), (3, 0, false, 10)]))) == ["0/2/65535/arrival@10", "0/3/0/departure@10"])
    }
}
