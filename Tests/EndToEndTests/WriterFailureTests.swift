import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkSystem
import ParkLinkTestSupport
import Testing

/// What the writer does when the database is up but refuses the readings, against a real
/// MariaDB: the operator revokes the appliance's INSERT privilege on `readings` mid-run,
/// then gives it back.
@Suite("Writer: a database that refuses the readings", .serialized, .timeLimit(.minutes(5)))
struct WriterFailureTests {
    @Test("revoked INSERT: one clear log line, a DB_REJECTED alert, retries without flooding, and nothing lost once the grant returns")
    func revokedInsertIsReportedAndRecovered() throws {
        let dsn = try TestDatabase.newDatabase("revoke")
        let database = try #require(dsn.database)
        let admin = try MariaDBConnection(dsn: dsn)
        defer { admin.close() }
        _ = try Schema.migrate(admin)

        // The appliance's own user: every privilege it needs, INSERT granted per table so
        // that the one on `readings` can be taken away on its own.
        let user = "plw_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        _ = try admin.execute("CREATE USER '\(user)'@'localhost' IDENTIFIED BY 'pw-\(user)'")
        defer { _ = try? admin.execute("DROP USER '\(user)'@'localhost'") }
        _ = try admin.execute("GRANT SELECT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON `\(database)`.* TO '\(user)'@'localhost'")
        let tables = try admin.query("SELECT table_name FROM information_schema.tables WHERE table_schema = '\(database)'")
            .compactMap { $0[0] }
        #expect(tables.contains("readings"))
        for t in tables {
            _ = try admin.execute("GRANT INSERT ON `\(database)`.`\(t)` TO '\(user)'@'localhost'")
        }
        var appliance = dsn
        appliance.user = user
        appliance.password = "pw-\(user)"

        // 2,000 readings/s for 20 s; the ring (262,144) holds them all while refused.
        let gateway = try IndependentGateway(arguments: [
            "--framing", "binary", "--rate", "2000", "--count", "40000", "--sensors", "200", "--seed", "3",
        ])
        let log = CapturedLog()
        let pipeline = try makePipeline(device: gateway.devicePath, framing: .binary, dsn: appliance,
                                        logger: log.logger(label: "revoke"))
        ApplianceRunner.attachSampler(to: pipeline, config: pipeline.options.config, state: pipeline.options.state,
                                      dsn: appliance, logger: log.logger(label: "revoke-sampler")) { s in
            s.intervalMs = 200
            s.forecasterStateFile = nil
        }
        try pipeline.start()
        #expect(eventually(timeoutSeconds: 10) { pipeline.storeCounters.rowsCommitted.value > 1_000 })

        _ = try admin.execute("REVOKE INSERT ON `\(database)`.`readings` FROM '\(user)'@'localhost'")
        #expect(eventually(timeoutSeconds: 10) { pipeline.storeCounters.writeRejected != nil })
        let rejected = pipeline.storeCounters.writeRejected ?? ""
        #expect(rejected.contains("1142"), "the server's code: \(rejected)")
        #expect(rejected.contains("insert readings"), "the step that failed: \(rejected)")
        #expect(eventually(timeoutSeconds: 10) {
            pipeline.sampler?.activeAlerts().contains { $0.type == .databaseRejected } == true
        }, "the sampler raises DB_REJECTED")
        // Refused for a while: the writer keeps the batch and retries, without a line per retry.
        let retriesBefore = pipeline.storeCounters.retries.value
        Thread.sleep(forTimeInterval: 11)
        #expect(pipeline.storeCounters.retries.value >= retriesBefore + 2, "it keeps retrying")
        #expect(pipeline.storeCounters.writeRejected != nil)
        let refusals = log.all.filter { $0.level >= .error && $0.metadata["store.error"]?.contains("1142") == true }
        #expect(refusals.count == 1, "one clear log line, not one per retry: \(refusals.map(\.line))")
        #expect(refusals.first?.level == .critical)
        #expect(refusals.first?.metadata["store.fix"]?.contains("GRANT") == true, "and the fix: \(refusals.first?.line ?? "")")

        _ = try admin.execute("GRANT INSERT ON `\(database)`.`readings` TO '\(user)'@'localhost'")
        let manifest = try gateway.finish()
        #expect(manifest.drained)
        #expect(eventually(timeoutSeconds: 30) {
            let s = pipeline.snapshot()
            return s.accounting.in_flight == 0 && s.accounting.balanced && pipeline.storeCounters.writeRejected == nil
        })
        #expect(log.all.contains { $0.message.contains("accepts the readings again") })
        #expect(eventually(timeoutSeconds: 10) {
            pipeline.sampler?.activeAlerts().contains { $0.type == .databaseRejected } == false
        }, "the alert resolves once the database accepts the readings")
        #expect(pipeline.stop() == 0)

        let expected = manifest.readings.sorted { $0.sortKey < $1.sortKey }
        let stored = try storedReadings(dsn)
        #expect(stored.count == expected.count, "nothing lost")
        #expect(stored == expected, "every reading stored exactly once, with its values")
        let alert = try query(dsn, "SELECT COUNT(*), SUM(resolved_at IS NOT NULL) FROM alerts WHERE type = 'DB_REJECTED'")
        #expect(alert.first?[0] == "1" && alert.first?[1] == "1", "one DB_REJECTED alert, opened and resolved: \(alert)")
    }
}
