import Benchmark
import BenchmarkSupport
import ParkLinkProtocol
import ParkLinkSystem
import ParkLinkStore

#if canImport(Glibc)
import Glibc
#endif

// The writer's side: rows/s into the real `readings` schema (Schema.migrate) on a private
// MariaDB that each benchmark starts itself (`PrivateMariaDBServer.temporary()`, Unix socket,
// InnoDB, innodb_flush_log_at_trx_commit=1, the appliance's own server options) and
// destroys afterwards, so every benchmark starts from an empty table. One iteration = one
// batch of new rows (fresh seqs) = one transaction: START TRANSACTION, the inserter's
// `insert`, COMMIT, exactly as the pipeline's writer does it.
//
// Methods: one INSERT per row (SingleRowInserter), multi-row INSERT (MultiRowInserter, the
// pipeline's default of 1,000 rows per statement), array binding (ArrayBindingInserter,
// maxBatchSize = the batch, as the pipeline sets it) and LOAD DATA LOCAL INFILE
// (LoadDataInserter, writing its TSV file included): the ceiling.

let benchmarks: @Sendable () -> Void = {
    for method in InsertMethod.allCases {
        for batch in [500, 2_000, 5_000] {
            let name = "\(method.rawValue)-batch-\(batch)"
            Benchmark(
                name,
                configuration: .init(
                    metrics: [.wallClock, StoreMetrics.rowsPerSecond, .mallocCountTotal],
                    warmupIterations: 2,
                    maxDuration: .seconds(method == .singleRow ? 2 : 3),
                    maxIterations: method == .singleRow ? 20 : 300,
                    // Per batch: Connector/C's own buffers. A per-row allocation would add ≥ 500.
                    thresholds: [.mallocCountTotal: .init(absolute: [.p90: 4])])
            ) { benchmark in
                let run = try StoreRun.current(method: method, batch: batch)
                run.prepareNextBatch()
                benchmark.startMeasurement()
                let start = Clock.monotonicNanoseconds()
                try run.insertBatch()
                let elapsed = Clock.monotonicNanoseconds() - start
                benchmark.stopMeasurement()
                precondition(run.inserter.lastInsertedCount == batch, "\(name): stored \(run.inserter.lastInsertedCount) of \(batch) new rows")
                benchmark.measurement(StoreMetrics.rowsPerSecond, Int((Double(batch) * 1e9 / Double(elapsed)).rounded()))
            } setup: {
                try StoreRun.startServer()
            } teardown: {
                try StoreRun.finish()
            }
        }
    }
}

enum InsertMethod: String, CaseIterable {
    case singleRow = "one-row-insert"
    case multiRow = "multi-row-insert"
    case arrayBinding = "array-binding"
    case loadData = "load-data-ceiling"
}

enum StoreMetrics {
    static var rowsPerSecond: BenchmarkMetric { .custom("rows/s", polarity: .prefersLarger, useScalingFactor: false) }
}

/// One benchmark process's server, connection and inserter.
///
/// The server is started in `setup` (any thread); the connection is opened by the first
/// iteration on the benchmark's own thread (a connection belongs to one thread) and closed,
/// with the server destroyed, in `teardown`.
final class StoreRun {
    nonisolated(unsafe) private static var server: PrivateMariaDBServer?
    nonisolated(unsafe) private static var dsn: DSN?
    nonisolated(unsafe) private static var run: StoreRun?

    let connection: MariaDBConnection
    let inserter: ReadingBatchInserter
    let batch: Int
    private let rows: UnsafeMutablePointer<StampedReading>
    private let sessions = OneSession(key: SessionKey(gatewayId: "SIM-01", bootId: 0x9F3A_11C2))
    private var nextSeq: UInt32 = 0
    private var random = SplitMix64(seed: 11)

    static func startServer() throws {
        let db = try PrivateMariaDBServer.temporary()
        dsn = try db.start()
        server = db
    }

    static func current(method: InsertMethod, batch: Int) throws -> StoreRun {
        if let run { return run }
        guard let dsn else { preconditionFailure("setup did not start the server") }
        MariaDB.threadInit()
        let c = try MariaDBConnection(dsn: dsn, allowLocalInfile: method == .loadData)
        try Schema.migrate(c)
        let inserter: ReadingBatchInserter
        switch method {
        case .singleRow: inserter = SingleRowInserter(connection: c)
        case .multiRow: inserter = MultiRowInserter(connection: c)
        case .arrayBinding: inserter = ArrayBindingInserter(connection: c, maxBatchSize: batch)
        case .loadData: inserter = try LoadDataInserter(connection: c, directory: server!.baseDirectory + "/tmp")
        }
        let r = StoreRun(connection: c, inserter: inserter, batch: batch)
        run = r
        return r
    }

    static func finish() throws {
        if let r = run {
            r.connection.close()
            r.rows.deallocate()
        }
        run = nil
        try server?.destroy()
        server = nil
    }

    private init(connection: MariaDBConnection, inserter: ReadingBatchInserter, batch: Int) {
        self.connection = connection
        self.inserter = inserter
        self.batch = batch
        rows = .allocate(capacity: batch)
    }

    /// The next `batch` readings of one gateway boot: new seqs, 500 sensors round-robin,
    /// the decoder benchmark's field mix (absent distance or meter on some sensors).
    func prepareNextBatch() {
        let now = WallClock.nowMilliseconds
        for i in 0..<batch {
            let seq = nextSeq &+ UInt32(i)
            let index = Int(seq) % 500
            let occupied = random.next() % 3 == 0
            var r = Reading(seq: seq, sensor: UInt16(index + 1), gatewayMs: seq &* 10, occupied: occupied)
            if index % 8 != 5 { r.distanceCm = UInt16(occupied ? 20 + random.next() % 70 : 170 + random.next() % 90) }
            if index % 8 != 6 {
                r.voltageDv = UInt16(2200 + random.next() % 220)
                r.currentMa = UInt16(30 + random.next() % 5970)
                r.powerFactorPct = UInt8(50 + random.next() % 50)
            }
            (rows + i).initialize(to: StampedReading(session: 0, receivedAtMs: now - Int64(batch - i) / 50, reading: r))
        }
        nextSeq &+= UInt32(batch)
    }

    /// One transaction, as the writer commits a batch.
    func insertBatch() throws {
        try connection.begin()
        try inserter.insert(UnsafeBufferPointer(start: rows, count: batch), sessions: sessions)
        try connection.commit()
    }
}

struct OneSession: SessionResolving {
    let key: SessionKey
    func key(for index: UInt32) -> SessionKey { key }
}

enum WallClock {
    static var nowMilliseconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
    }
}


