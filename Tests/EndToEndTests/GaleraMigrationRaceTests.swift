import Foundation
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkTestSupport
import Synchronization
import Testing

/// Two appliances started at once on a new database of a Galera cluster, through two
/// different nodes: `GET_LOCK` holds on one node only, so the cluster-wide claim (a row in
/// `schema_migrations`) decides who migrates. Exactly one runs the migrations, the others
/// wait and run no DDL, and all then commit without waiting, every reading on every node.
@Suite("Storage: two appliances migrating one Galera database at once", .serialized, .timeLimit(.minutes(10)),
       .galeraAvailable)
struct GaleraMigrationRaceTests {
    @Test("migrating a new database through three nodes at once, then committing: one migrates, all commit, nothing lost, no claim is left")
    func concurrentMigrations() throws {
        MariaDB.initializeLibrary()
        let cluster = try GaleraCluster()
        defer { cluster.destroy() }
        try cluster.start()
        let rounds = Int(ProcessInfo.processInfo.environment["PARKLINK_MIGRATION_ROUNDS"] ?? "") ?? 4
        let admin = try MariaDBConnection(dsn: cluster.adminDSN(1), connectTimeout: .seconds(5))
        defer { admin.close() }
        for round in 1...rounds {
            let name = "race\(round)"
            try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4")
            try admin.execute("GRANT ALL ON `\(name)`.* TO '\(cluster.user)'@'127.0.0.1'")
            let outcomes = Mutex<[String]>([])
            let group = DispatchGroup()
            for (i, order) in [[1, 2, 3], [2, 3, 1], [3, 1, 2]].enumerated() {
                var named = try cluster.dsnWithPassword(order: order)
                named.database = name
                let dsn = named
                group.enter()
                Thread {
                    MariaDB.threadInit()
                    defer { MariaDB.threadEnd(); group.leave() }
                    // Not quite together, as processes start: one may be writing while another migrates.
                    Thread.sleep(forTimeInterval: Double(i) * Double.random(in: 0...0.15))
                    let started = ContinuousClock.now
                    do {
                        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(5), readTimeout: .seconds(30),
                                                      writeTimeout: .seconds(30))
                        defer { c.close() }
                        let applied = try Schema.migrate(c)
                        let migrated = ContinuousClock.now - started
                        let inserter = ArrayBindingInserter(connection: c, maxBatchSize: 100)
                        let key = SessionKey(gatewayId: "gw\(i)", bootId: 1)
                        for b in 0..<20 {
                            let now = Int64(Date().timeIntervalSince1970 * 1000)
                            let batch = (0..<100).map { k in
                                StampedReading(session: 0, receivedAtMs: now,
                                               reading: Reading(seq: UInt32(b * 100 + k), sensor: UInt16(k), gatewayMs: 0, occupied: true))
                            }
                            try c.begin()
                            try inserter.insert(batch, sessions: OneSession(key: key))
                            try c.commit()
                        }
                        let did = applied.isEmpty ? "found it migrated" : "applied \(applied.count) migrations"
                        outcomes.withLock { $0.append("node order \(order): \(did) in \(migrated), all committed in \(ContinuousClock.now - started)") }
                    } catch {
                        outcomes.withLock { $0.append("node order \(order): FAILED after \(ContinuousClock.now - started): \(error)") }
                    }
                }.start()
            }
            group.wait()
            let lines = outcomes.withLock { $0 }
            print("migration race round \(round): \(lines.joined(separator: "; "))")
            #expect(!lines.contains { $0.contains("FAILED") }, "round \(round): \(lines)")
            #expect(lines.filter { $0.contains("applied \(Schema.migrations.count) migrations") }.count == 1
                        && lines.filter { $0.contains("found it migrated") }.count == 2, "round \(round): exactly one migrates: \(lines)")
            // Every committed reading is on every node, once (a causal read: the node first
            // applies what the cluster committed before it answers).
            for n in 1...3 {
                let c = try MariaDBConnection(dsn: cluster.adminDSN(n), connectTimeout: .seconds(5))
                defer { c.close() }
                try c.execute("SET SESSION wsrep_sync_wait = 1")
                let counts = try c.query("""
                    SELECT gateway_id, COUNT(*), COUNT(DISTINCT seq) FROM `\(name)`.readings GROUP BY gateway_id ORDER BY gateway_id
                    """)
                #expect(counts == (0..<3).map { ["gw\($0)", "2000", "2000"] }, "round \(round), node \(n): \(counts)")
            }
            #expect(try admin.queryValue("SELECT COUNT(*) FROM `\(name)`.schema_migrations WHERE version = 0") == "0", "the claim is released")
        }

        // A claim left by a process that died migrating (not renewed for 10 minutes) is taken over.
        try admin.execute("CREATE DATABASE stale CHARACTER SET utf8mb4")
        try admin.execute("GRANT ALL ON stale.* TO '\(cluster.user)'@'127.0.0.1'")
        try admin.execute("CREATE TABLE stale.schema_migrations (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL)")
        try admin.execute("INSERT INTO stale.schema_migrations VALUES (0, 'migrating: gone pid 1', UTC_TIMESTAMP(3) - INTERVAL 10 MINUTE)")
        var dsn = try cluster.dsnWithPassword(order: [3, 1, 2])
        dsn.database = "stale"
        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(5), readTimeout: .seconds(30), writeTimeout: .seconds(30))
        defer { c.close() }
        #expect(try Schema.migrate(c).count == Schema.migrations.count)
        #expect(try c.queryValue("SELECT COUNT(*) FROM schema_migrations WHERE version = 0") == "0")
        // A fresh claim (another process migrating now) is waited for, and the wait is bounded.
        try c.execute("INSERT INTO schema_migrations VALUES (0, 'migrating: busy pid 2', UTC_TIMESTAMP(3))")
        try c.execute("DELETE FROM schema_migrations WHERE version = \(Schema.currentVersion)")
        #expect(throws: SchemaError.self) { try Schema.migrate(c, lockTimeout: .seconds(2)) }
        try c.execute("DELETE FROM schema_migrations WHERE version = 0")
        #expect(try Schema.migrate(c) == [Schema.currentVersion])
    }
}
