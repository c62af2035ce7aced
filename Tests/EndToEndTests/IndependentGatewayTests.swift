import Foundation
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkTestSupport
import Testing

/// The product's promise, checked against a gateway written from PROTOCOL.md alone:
/// every valid reading is stored exactly once with the right values, nothing else is
/// stored, and every reading that was not stored is accounted for.
@Suite("End to end: independent gateway → pty → pipeline → MariaDB", .serialized, .timeLimit(.minutes(5)))
struct IndependentGatewayTests {
    @Test("5,000 readings/s with 1% corrupt frames, noise, a link gap, an announced and an unannounced reboot",
          arguments: [FrameEncoding.text, .binary])
    func everyValidReadingStoredExactlyOnce(framing: FrameEncoding) throws {
        let dsn = try TestDatabase.newDatabase("e2e_\(framing.rawValue)")
        let gateway = try IndependentGateway(arguments: [
            "--framing", framing.rawValue, "--rate", "5000", "--count", "25000", "--sensors", "500",
            "--corrupt", "0.01", "--garbage", "0.01", "--gap-at", "4000", "--gap-len", "37",
            "--reboot-at", "12000", "--unannounced-reboot-at", "6000", "--seed", "7",
        ])
        let pipeline = try makePipeline(device: gateway.devicePath, framing: framing, dsn: dsn)
        try pipeline.start()
        let manifest = try gateway.finish()
        #expect(manifest.drained, "the gateway saw the host read everything it sent")

        // Quiescent: everything decoded is committed.
        #expect(eventually(timeoutSeconds: 20) {
            let s = pipeline.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced
        })
        // The technician's view, over the real status socket, adds up.
        let status = try StatusClient.status(socket: pipeline.options.state.statusSocket)
        #expect(pipeline.stop() == 0)

        let expected = manifest.readings.sorted { $0.sortKey < $1.sortKey }
        let stored = try storedReadings(dsn)
        #expect(stored.count == expected.count)
        #expect(Set(stored).count == stored.count, "no reading stored twice")
        let mismatches = zip(stored, expected).filter { $0 != $1 }
        #expect(mismatches.isEmpty, "first mismatch: \(String(describing: mismatches.first))")
        #expect(Set(stored) == Set(expected), "nothing else is stored")

        // Accounting: accepted = committed; the corrupt frames are rejects, and every seq
        // not stored (corrupt or skipped on the wire) is covered by a recorded gap.
        let corrupted = manifest.sessions.reduce(0) { $0 + $1.corrupted_seqs.count }
        let skipped = manifest.sessions.reduce(0) { $0 + $1.skipped_seqs.count }
        #expect(corrupted > 100)
        #expect(status.link.readings == expected.count)
        #expect(status.accounting.readings_accepted == status.accounting.rows_committed + status.accounting.rows_duplicate)
        #expect(status.store.rows_committed == expected.count)
        #expect(status.link.rejects_total >= corrupted)
        #expect(status.link.unannounced_reboots == 1)
        let missing = try query(dsn, "SELECT COALESCE(SUM(missing_count), 0) FROM link_gaps")[0][0].flatMap { Int($0) }
        #expect(missing == corrupted + skipped, "gaps account exactly for corrupt and skipped seqs")
        for s in manifest.sessions {
            for seq in s.corrupted_seqs + s.skipped_seqs {
                let covered = try query(dsn, """
                    SELECT COUNT(*) FROM link_gaps WHERE gateway_id = '\(s.gateway_id)' AND boot_id = \(s.boot_id)
                    AND \(seq) >= first_missing_seq AND \(seq) < first_missing_seq + missing_count
                    """)[0][0]
                #expect(covered == "1", "seq \(seq) of boot \(s.boot_id) is in exactly one gap")
            }
        }
        let sessions = try query(dsn, "SELECT gateway_id, boot_id, synthetic FROM gateway_sessions ORDER BY first_seen_at")
        #expect(Set(sessions.map { UInt32($0[1]!)! }) == Set(manifest.sessions.map(\.boot_id)))
        #expect(sessions.allSatisfy { $0[2] == "0" }, "every boot was named by a HELLO (the unannounced one after our PING)")
    }
}
