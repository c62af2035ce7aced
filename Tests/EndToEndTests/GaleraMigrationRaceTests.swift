import Foundation
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkTestSupport
import Synchronization
import Testing

/// Two appliances started at once on a new database of a Galera cluster, through two
/// different nodes, both migrate it (the migration lock is per node) and then commit:
/// neither may hang, whatever order the nodes apply the other's DDL in.
@Suite("Storage: two appliances migrating one Galera database at once", .serialized, .timeLimit(.minutes(10)),
       .enabled(if: GaleraCluster.unavailableReason == nil,
                Comment(rawValue: "Galera cluster tests skipped: \(GaleraCluster.unavailableReason ?? "")")))
struct GaleraMigrationRaceTests {
    struct Sessions: SessionResolving {
        var key: SessionKey
        func key(for index: UInt32) -> SessionKey { key }
    }

    @Test("migrating a new database through nodes 1 and 2 at once, then committing: every round finishes, no commit waits")
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
            for (i, order) in [[1, 2, 3], [2, 3, 1]].enumerated() {
                var named = try cluster.dsnWithPassword(order: order)
                named.database = name
                let dsn = named
                group.enter()
                Thread {
                    MariaDB.threadInit()
                    defer { MariaDB.threadEnd(); group.leave() }
                    let started = ContinuousClock.now
                    do {
                        let c = try MariaDBConnection(dsn: dsn, connectTimeout: .seconds(5), readTimeout: .seconds(30),
                                                      writeTimeout: .seconds(30))
                        defer { c.close() }
                        _ = try Schema.migrate(c)
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
                            try inserter.insert(batch, sessions: Sessions(key: key))
                            try c.commit()
                        }
                        outcomes.withLock { $0.append("node order \(order): migrated in \(migrated), all committed in \(ContinuousClock.now - started)") }
                    } catch {
                        outcomes.withLock { $0.append("node order \(order): FAILED after \(ContinuousClock.now - started): \(error)") }
                    }
                }.start()
            }
            group.wait()
            let lines = outcomes.withLock { $0 }
            print("migration race round \(round): \(lines.joined(separator: "; "))")
            #expect(!lines.contains { $0.contains("FAILED") }, "round \(round): \(lines)")
        }
    }
}
