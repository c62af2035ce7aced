import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// The database goes away and the readings keep coming: the spool takes what the ring
/// cannot, and everything the gateway sent is stored exactly once when it returns. Each
/// test has a MariaDB server of its own (the others share one that must not be killed).
@Suite("Spool: nothing lost while the database is away", .serialized, .timeLimit(.minutes(6)))
struct SpoolEndToEndTests {
    func expectEveryReadingStored(_ manifest: IndependentGateway.Manifest, _ dsn: DSN) throws {
        let expected = manifest.readings.sorted { $0.sortKey < $1.sortKey }
        let stored = try storedReadings(dsn)
        #expect(stored.count == expected.count, "nothing lost")
        #expect(Set(stored).count == stored.count, "no reading stored twice")
        #expect(stored == expected, "every reading exactly as sent")
    }

    @Test("the server killed for 8 s at 5,000 readings/s with a small ring: the reader never waits, 0 lost")
    func serverKilledAndRestarted() throws {
        let (server, dsn) = try privateServer("spool_kill")
        defer { try? server.destroy() }
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "5000", "--count", "75000", "--sensors", "500", "--seed", "21",
        ])
        // 16,384 readings of ring: 3 s of traffic, so the 8-s outage must go to disk.
        let pipeline = try makePipeline(device: gateway.devicePath, framing: .binary, dsn: dsn) { $0.ringCapacity = 16_384 }
        try pipeline.start()
        #expect(eventually(timeoutSeconds: 10) { pipeline.storeCounters.rowsCommitted.value > 5_000 })
        try server.killServer()
        Thread.sleep(forTimeInterval: 8)
        let spool = try #require(pipeline.spool)
        #expect(spool.pending > 10_000, "the outage's readings are on disk")
        #expect(pipeline.snapshot().spool?.active == true)
        _ = try server.start()

        let manifest = try gateway.finish()
        #expect(manifest.drained, "the gateway never had to wait for the host")
        #expect(eventually(timeoutSeconds: 60) {
            let s = pipeline.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced && s.spool?.readings == 0
        })
        let status = pipeline.snapshot()
        #expect(pipeline.stop() == 0)
        #expect(status.ring.reader_waits == 0, "the reader never waited for the writer")
        #expect(status.spool?.dropped_full == 0 && status.spool?.dropped_error == 0)
        #expect((status.spool?.drained ?? 0) > 10_000)
        #expect(status.spool?.active == false, "back to the ring once drained")
        try expectEveryReadingStored(manifest, dsn)
        let gaps = try query(dsn, "SELECT COUNT(*) FROM link_gaps")[0][0]
        #expect(gaps == "0", "no false gap")
    }

    @Test("SIGTERM with the database down: exit 0, the rest in the spool, written by the next start")
    func stopWithDatabaseDownThenRestart() throws {
        let (server, dsn) = try privateServer("spool_stop")
        defer { try? server.destroy() }
        let gateway = try IndependentGateway(arguments: [
            "--framing", "text", "--rate", "4000", "--count", "20000", "--sensors", "200", "--seed", "5",
        ])
        let state = Repository.temporaryDirectory("plspoolstop")
        func pipeline() throws -> Pipeline {
            try makePipeline(device: gateway.devicePath, framing: .text, dsn: dsn, stateDirectory: state)
        }
        let first = try pipeline()
        try first.start()
        #expect(eventually(timeoutSeconds: 10) { first.storeCounters.rowsCommitted.value > 2_000 })
        try server.killServer()
        // Let readings pile up in the ring and the spool, then stop as systemd would.
        Thread.sleep(forTimeInterval: 2)
        #expect(first.stop() == 0, "nothing abandoned")
        let left = first.spool?.pending ?? 0
        #expect(left > 0)
        #expect(first.writer.abandoned == 0)

        // The gateway goes on into a closed port; what it sends meanwhile is its own loss
        // and not ours, so compare with what the first run read plus nothing else.
        _ = try server.start()
        let second = try pipeline()
        #expect(second.spool?.recovery.readings == left, "the next start finds the spool")
        try second.start()
        #expect(eventually(timeoutSeconds: 60) { second.spool?.pending == 0 && second.snapshot().accounting.in_flight == 0 })
        let manifest = try gateway.finish()
        #expect(eventually(timeoutSeconds: 30) {
            let s = second.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced
        })
        #expect(second.stop() == 0)
        // Every reading either run accepted is stored exactly once.
        let accepted = first.linkCounters.readings.value + second.linkCounters.readings.value
        let stored = try storedReadings(dsn)
        #expect(stored.count == accepted, "stored \(stored.count) of \(accepted) accepted")
        #expect(Set(stored).count == stored.count)
        let sent = Set(manifest.readings)
        #expect(stored.allSatisfy { sent.contains($0) }, "every stored reading is one the gateway sent, unchanged")
    }

    @Test("started while the database is down: no false gap for what an earlier run stored, 0 lost")
    func startWithDatabaseDown() throws {
        let (server, dsn) = try privateServer("spool_start_down")
        defer { try? server.destroy() }
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "3000", "--count", "30000", "--sensors", "300", "--seed", "8",
        ])
        let state = Repository.temporaryDirectory("plstartdown")
        func pipeline() throws -> Pipeline {
            try makePipeline(device: gateway.devicePath, framing: .binary, dsn: dsn, stateDirectory: state)
        }
        // An earlier run stores part of the gateway's boot.
        let first = try pipeline()
        try first.start()
        #expect(eventually(timeoutSeconds: 10) { first.storeCounters.rowsCommitted.value > 3_000 })
        #expect(first.stop() == 0)

        // The database is down when the appliance starts again, and comes back later.
        try server.killServer()
        let second = try pipeline()
        try second.start()
        Thread.sleep(forTimeInterval: 4)
        #expect(second.storeCounters.rowsCommitted.value == 0)
        _ = try server.start()
        let manifest = try gateway.finish()
        #expect(eventually(timeoutSeconds: 60) {
            let s = second.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced
        })
        let status = second.snapshot()
        #expect(second.stop() == 0)
        #expect(status.link.missing_readings == 0, "no gap: what the first run stored is not missing")
        let gaps = try query(dsn, "SELECT COUNT(*) FROM link_gaps")[0][0]
        #expect(gaps == "0", "no false gap recorded")
        try expectEveryReadingStored(manifest, dsn)
    }

    @Test("the spool at its cap: SPOOL_FULL, every reading it could not keep counted, no crash, the rest stored")
    func spoolAtItsCap() throws {
        let (server, dsn) = try privateServer("spool_cap")
        defer { try? server.destroy() }
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "5000", "--count", "80000", "--sensors", "500", "--seed", "13",
        ])
        // 16,384 readings of ring and 1 MiB of spool (~38,000 readings): a 12-s outage at
        // 5,000/s (60,000 readings) cannot fit.
        let pipeline = try makePipeline(device: gateway.devicePath, framing: .binary, dsn: dsn) {
            $0.ringCapacity = 16_384
            $0.spoolMaxMegabytes = 1
        }
        var logger = Logger(label: "spool-cap")
        logger.logLevel = .error
        ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state,
                                      dsn: dsn, logger: logger) { s in
            s.intervalMs = 200
            s.forecasterStateFile = nil
        }
        try pipeline.start()
        #expect(eventually(timeoutSeconds: 10) { pipeline.storeCounters.rowsCommitted.value > 2_000 })
        try server.killServer()
        #expect(eventually(timeoutSeconds: 20) {
            pipeline.sampler?.activeAlerts().contains { $0.type == .spoolFull } == true
        }, "SPOOL_FULL while readings are being refused")
        let full = try #require(pipeline.spool)
        #expect(full.droppedFull > 0)
        #expect(full.bytes <= 1 << 20, "the cap holds")
        Thread.sleep(forTimeInterval: 2)
        _ = try server.start()

        let manifest = try gateway.finish()
        #expect(eventually(timeoutSeconds: 60) {
            let s = pipeline.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced && s.spool?.readings == 0
        })
        let status = pipeline.snapshot()
        #expect(pipeline.stop() == 0)
        let dropped = status.spool?.dropped_full ?? -1
        let stored = try storedReadings(dsn)
        #expect(status.accounting.spool_dropped == dropped)
        #expect(stored.count + dropped == manifest.readings.count, "every reading stored or counted as dropped_full")
        let sent = Set(manifest.readings)
        #expect(stored.allSatisfy { sent.contains($0) })
        #expect(Set(stored).count == stored.count)
    }
}
