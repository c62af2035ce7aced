import Foundation
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkStore
import ParkLinkTestSupport
import Synchronization
import Testing

/// The daily partition DDL on a Galera cluster while two writers commit through two other
/// nodes: the DDL is replicated in total order (TOI), every node gets the new days, and
/// the writers, retrying a batch as the appliance's writer does, should store every
/// reading exactly once. Prints how long commits paused (a figure, not asserted).
///
/// KNOWN FAILURE, so opt-in (`PARKLINK_GALERA_PARTITION=1`): in about 1 run in 7 one
/// 200-reading batch whose INSERT counted 200 rows and whose COMMIT returned success, with
/// no error or retry anywhere, is missing on all three nodes (causal reads). README
/// "Storage" says what is known; issue 14 stays open on it.
@Suite("Storage: partition DDL on a Galera cluster under writes", .serialized, .timeLimit(.minutes(10)),
       .enabled(if: GaleraCluster.unavailableReason == nil,
                Comment(rawValue: "Galera cluster tests skipped: \(GaleraCluster.unavailableReason ?? "")")),
       .enabled(if: ProcessInfo.processInfo.environment["PARKLINK_GALERA_PARTITION"] == "1",
                "a known loss under REORGANIZE PARTITION on Galera (README \"Storage\"): run with PARKLINK_GALERA_PARTITION=1"))
struct GaleraPartitionTests {
    final class Writer: @unchecked Sendable {
        // @unchecked: the counters are atomic; the rest is the writer thread's own.
        let stop = Atomic(false)
        let committed = Atomic(0)
        let retries = Atomic(0)
        let slowestMs = Atomic(0)
        /// Batches the server took whole but stored in part (INSERT IGNORE's warnings).
        let short = Mutex<[String]>([])
        let key: SessionKey
        private let done = DispatchSemaphore(value: 0)

        init(gateway: String) { key = SessionKey(gatewayId: gateway, bootId: 1) }

        func start(_ dsn: DSN) {
            Thread { [self] in
                MariaDB.threadInit()
                defer {
                    MariaDB.threadEnd()
                    done.signal()
                }
                var seq: UInt32 = 0
                var c: MariaDBConnection?
                while !stop.load(ordering: .relaxed) {
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    var batch: [StampedReading] = []
                    for i in 0..<200 {
                        let reading = Reading(seq: seq + UInt32(i), sensor: UInt16(i % 50), gatewayMs: 0, occupied: i % 2 == 0)
                        batch.append(StampedReading(session: 0, receivedAtMs: now, reading: reading))
                    }
                    let started = ContinuousClock.now
                    while true {  // the same batch until it commits, as the appliance's writer does
                        do {
                            if c == nil { c = try Connections.open(dsn, profile: .writer) }
                            let inserter = ArrayBindingInserter(connection: c!, maxBatchSize: 200)
                            try c!.begin()
                            try inserter.insert(batch, sessions: OneSession(key: key))
                            try c!.commit()
                            if inserter.lastInsertedCount != batch.count {
                                short.withLock { $0.append("seq \(seq): \(inserter.lastInsertedCount) of \(batch.count) stored") }
                            }
                            break
                        } catch {
                            retries.add(1, ordering: .relaxed)
                            c?.close()
                            c = nil
                            Thread.sleep(forTimeInterval: 0.05)
                        }
                    }
                    let took = (ContinuousClock.now - started).components
                    let ms = Int(took.seconds) * 1000 + Int(took.attoseconds / 1_000_000_000_000_000)
                    if ms > slowestMs.load(ordering: .relaxed) { slowestMs.store(ms, ordering: .relaxed) }
                    seq += 200
                    committed.store(Int(seq), ordering: .relaxed)
                    Thread.sleep(forTimeInterval: 0.01)
                }
                c?.close()
            }.start()
        }

        func finish() {
            stop.store(true, ordering: .relaxed)
            done.wait()
        }
    }

    @Test("REORGANIZE PARTITION under two writers: new days on every node, every reading once")
    func partitionDDLUnderWrites() throws {
        MariaDB.initializeLibrary()
        let cluster = try GaleraCluster()
        defer { cluster.destroy() }
        try cluster.start()
        let admin = try Connections.open(try cluster.dsnWithPassword(order: [3, 1, 2]), profile: .interactive)
        defer { admin.close() }
        let before = try ReadingPartitions(connection: admin).partitions().count
        let writers = [Writer(gateway: "gw-one"), Writer(gateway: "gw-two")]
        writers[0].start(try cluster.dsnWithPassword(order: [1, 2, 3]))
        writers[1].start(try cluster.dsnWithPassword(order: [2, 1, 3]))
        Thread.sleep(forTimeInterval: 3)
        let committedBefore = writers.map { $0.committed.load(ordering: .relaxed) }
        // Three days later, as the upkeep sees it: three new days split off pmax.
        let ddl = ContinuousClock.now
        let upkeep = try ReadingPartitions(connection: admin).maintain(nowMs: Int64(Date().timeIntervalSince1970 * 1000) + 3 * 86_400_000)
        let ddlTook = ContinuousClock.now - ddl
        Thread.sleep(forTimeInterval: 3)
        for w in writers { w.finish() }
        #expect(upkeep.created.count == 3)
        for (w, n) in zip(writers, committedBefore) {
            #expect(w.committed.load(ordering: .relaxed) > n, "\(w.key.gatewayId) committed after the DDL")
        }
        for node in 1...3 {
            let c = try MariaDBConnection(dsn: cluster.adminDSN(node).withDatabase(cluster.database))
            defer { c.close() }
            // A causal read: the node first applies what the cluster committed before it answers.
            try c.execute("SET SESSION wsrep_sync_wait = 1")
            #expect(try ReadingPartitions(connection: c).partitions().count == before + 3, "node \(node)")
            for w in writers {
                let row = try c.query("""
                    SELECT COUNT(*), COUNT(DISTINCT seq) FROM readings WHERE gateway_id = '\(w.key.gatewayId)'
                    """).first ?? []
                let n = String(w.committed.load(ordering: .relaxed))
                #expect(row.first == n && row.last == n, "node \(node), \(w.key.gatewayId): \(row) rows, \(n) committed")
            }
        }
        for w in writers { #expect(w.short.withLock { $0 } == [], "\(w.key.gatewayId)") }
        print("galera partition DDL: REORGANIZE of 3 days took \(ddlTook); slowest commit \(writers.map { $0.slowestMs.load(ordering: .relaxed) }) ms, retries \(writers.map { $0.retries.load(ordering: .relaxed) })")
    }
}
