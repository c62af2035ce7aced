import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// A slow line, where the reader pauses between reads and the writer lingers: the
/// readings are still all stored, in few transactions, and a cable pulled while the
/// reader is pausing is noticed and the replugged port reopened.
@Suite("End to end: a slow line")
struct SlowLineTests {
    @Test("200 readings/s: every reading stored in a handful of transactions a second; an unplug mid-pause is seen and the port reopened")
    func slowLineAndUnplug() throws {
        let dsn = try TestDatabase.newDatabase("slowline")
        let dir = Repository.temporaryDirectory("slowline")
        var sc = GatewaySimulator.Config(sensors: 10, ratePerSensor: 20)
        sc.gatewayId = "SLOW-GW"
        sc.linkPath = dir + "/gw"
        let sim = try GatewaySimulator(config: sc)
        defer { sim.close() }
        let pipeline = try makePipeline(device: sim.devicePath, framing: .text, dsn: dsn) { c in
            c.batchLingerMs = 20
        }
        sim.start()
        try pipeline.start()
        var stopped = false
        defer { if !stopped { _ = pipeline.stop() } }

        // Two seconds: the reader has seen a slow line for more than a second and pauses.
        #expect(eventually(timeoutSeconds: 10) { pipeline.snapshot().store.rows_committed >= 300 })
        let quiet = pipeline.snapshot().store
        Clock.sleep(milliseconds: 2_000)
        let later = pipeline.snapshot().store
        let batchesPerSecond = Double(later.batches - quiet.batches) / 2
        #expect(later.rows_committed - quiet.rows_committed >= 300)
        #expect(batchesPerSecond <= 20, "the writer lingers on a slow line: \(batchesPerSecond) transactions/s (50 at a 20 ms linger)")

        sim.unplug(forSeconds: 0.3)
        #expect(eventually(timeoutSeconds: 5) {
            let l = pipeline.snapshot().link
            return l.hangups >= 1 && l.opens >= 2 && l.connected
        }, "the hang-up is seen although the reader was pausing, and the new port is opened")
        let afterReplug = pipeline.snapshot().store.rows_committed
        #expect(eventually(timeoutSeconds: 5) { pipeline.snapshot().store.rows_committed >= afterReplug + 200 })

        sim.stop()
        let ledger = sim.ledger
        #expect(eventually(timeoutSeconds: 10) { pipeline.snapshot().store.rows_committed >= ledger.mustArrive })
        _ = pipeline.stop()
        stopped = true
        let stored = try query(dsn, "SELECT COUNT(*) FROM readings").first?.first ?? nil
        #expect(stored == String(ledger.mustArrive), "every reading sent intact is stored")
        #expect(ledger.lost == 0 && ledger.uncertain == 0)
    }
}
