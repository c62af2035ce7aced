// The orchestrator: per step a fresh database, the two children, the reconciliation.

import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

// MARK: - The orchestrator

/// What a step runs.
struct StepSpec {
    enum Kind: String, Codable { case ladder, storm, idle, compare }
    var kind: Kind
    var framing: FrameEncoding
    var sensors: Int
    var rate: Int
    var seconds: Double
    var flapping = false
    var sampler = false
    /// `--set KEY=VALUE` for the pipeline child.
    var settings: [String] = []
}

struct StepResult: Codable {
    var kind: StepSpec.Kind
    var framing: String
    var sensors: Int
    var targetRate: Int
    var seconds: Double
    var settings: [String]
    var emitted: Int
    var emittedPerSecond: Int
    /// Rows `SELECT COUNT(*) FROM readings` finds, per second of sending.
    var storedPerSecond: Int
    /// End to end: stored rows ÷ (pipeline start, when it PINGs the gateway that then starts
    /// sending, → its last commit). Below the offered rate when the database fell behind and
    /// the spool (or the ring) held readings after the gateway had stopped.
    var endToEndPerSecond: Int
    var rowsInDatabase: Int
    var rowsCommitted: Int
    /// Rows in `occupancy_events`, and what the pipeline says it held back (debounce).
    var occupancyEvents: Int
    var occupancyEventsSuppressed: Int?
    var gatewayTxDropped: Int
    var lostAtStop: Int
    var uncertain: Int
    var linkMissing: Int
    var rejects: Int
    /// Readings the gateway gave a seq to and the database does not hold, plus the ones it
    /// dropped before giving them a seq (`tx_dropped`).
    var loss: Int
    var zeroLoss: Bool
    var readerWaits: Int
    var readerWaitMs: Int
    var ringHighWater: Int
    var spoolAppended: Int
    var batches: Int
    var latencyP50Ms: Int64?
    var latencyP99Ms: Int64?
    var latencyMaxMs: Int64?
    var peakRSSMiB: Double
    /// CPU over the step's wall time, in % of one core.
    var cpuReader: Double
    var cpuWriter: Double
    var cpuPipelineProcess: Double
    var cpuMariaDB: Double
    var cpuSimulator: Double
    /// Everything else on the machine meanwhile (other people's builds…), % of one core.
    var cpuOthers: Double
    var loadAverage: Double
    /// CPU seconds per minute of sending (from the first reading to the simulator's
    /// end, the drain left out): the pipeline process and the MariaDB server.
    var pipelineCPUSecondsPerMinute: Double
    var mariadbCPUSecondsPerMinute: Double
    /// Per thread of the pipeline process (`pl-reader`, `pl-writer`, `pl-sampler`, …), CPU
    /// seconds per minute over its whole run.
    var threadCPUSecondsPerMinute: [String: Double]
    /// Milliseconds runnable-but-waiting for a CPU: reader, writer, simulator threads.
    var runQueueWaitReaderMs: Double
    var runQueueWaitWriterMs: Double
    var runQueueWaitSimulatorMs: Double
    /// CPU µs per stored reading: reader thread, writer thread, MariaDB server.
    var usPerReadingReader: Double
    var usPerReadingWriter: Double
    var usPerReadingMariaDB: Double
    /// The store's ceilings measured just before this step on the same server (rows/s).
    var ceiling: StoreCeiling.Result?
}

struct Orchestrator {
    let options: EndToEndOptions

    /// Every step of the run, in order: ladder, storms, sensor comparison, idle.
    var plan: [StepSpec] {
        let o = options
        var steps: [StepSpec] = []
        for framing in o.framings {
            for rate in o.rates {
                steps.append(StepSpec(kind: .ladder, framing: framing, sensors: o.sensors, rate: rate, seconds: o.seconds,
                                      settings: o.pipelineSettings))
            }
        }
        for framing in o.framings {
            for rate in o.stormRates {
                steps.append(StepSpec(kind: .storm, framing: framing, sensors: o.sensors, rate: rate, seconds: o.seconds,
                                      flapping: true, settings: o.pipelineSettings))
            }
            if o.stormDebounceMs > 0, let rate = o.stormRates.first {
                steps.append(StepSpec(kind: .storm, framing: framing, sensors: o.sensors, rate: rate, seconds: o.seconds,
                                      flapping: true, settings: o.pipelineSettings + ["debounce_ms=\(o.stormDebounceMs)"]))
            }
        }
        for framing in o.framings where o.compareSensors {
            for sensors in [o.sensors, o.manySensors] {
                steps.append(StepSpec(kind: .compare, framing: framing, sensors: sensors, rate: o.compareRate,
                                      seconds: o.seconds, settings: o.pipelineSettings))
            }
        }
        for framing in o.framings where o.idleSeconds > 0 {
            steps.append(StepSpec(kind: .idle, framing: framing, sensors: o.sensors, rate: o.idleRate, seconds: o.idleSeconds,
                                  sampler: true, settings: o.pipelineSettings))
        }
        return steps
    }

    func run() throws {
        MariaDB.initializeLibrary()
        MariaDB.threadInit()
        print("Starting a private MariaDB (PrivateMariaDBServer.temporary()) …")
        let db = try PrivateMariaDBServer.temporary()
        let serverDSN = try db.start()
        defer { try? db.destroy() }
        let admin = try MariaDBConnection(dsn: serverDSN.withDatabase(nil))
        defer { admin.close() }
        print("MariaDB \(admin.serverVersion), Connector/C \(MariaDB.clientVersion), socket \(db.socketPath)")
        print(MachineInfo.line)
        print("")

        var results: [StepResult] = []
        for spec in plan {
            let ceiling = options.measureCeiling
                ? try StoreCeiling.measure(serverDSN: serverDSN, admin: admin, scratch: db.baseDirectory + "/tmp",
                                           rows: options.ceilingRows)
                : nil
            var r = try step(spec, db: db, serverDSN: serverDSN, admin: admin)
            r.ceiling = ceiling
            results.append(r)
            print(Report.progressLine(r))
        }
        print("")
        print(Report.markdown(results, options: options))
        if let path = options.jsonPath {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(["steps": results]).write(to: URL(fileURLWithPath: path))
            print("JSON written to \(path)")
        }
    }

    private func step(_ spec: StepSpec, db: PrivateMariaDBServer, serverDSN: DSN, admin: MariaDBConnection) throws -> StepResult {
        // A fresh database: every step inserts into an empty `readings`.
        let name = "bench_e2e"
        try admin.execute("DROP DATABASE IF EXISTS `\(name)`")
        try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4")
        // Migrated before the pipeline starts, as an installed appliance's database is: the
        // migrations' DDL (about a second) would otherwise hold the first readings in the ring
        // and, at high rates, send them to the spool, which is a start-up cost and not the rate.
        let c = try MariaDBConnection(dsn: serverDSN.withDatabase(name))
        try Schema.migrate(c)
        c.close()
        let stateDir = try TemporaryDirectory("/tmp/plb-e2e-XXXXXX")
        defer { stateDir.remove() }
        let framing = spec.framing

        var simArgs = ["simulate", String(spec.sensors), String(Double(spec.rate) / Double(spec.sensors)), framing.rawValue,
                       String(spec.seconds), String(options.txBufferKiB * 1024)]
        if spec.flapping { simArgs.append("flapping") }
        let sim = try spawnSelf(simArgs, wrapper: options.simulatorWrapper)
        guard let device = sim.readLine(timeoutSeconds: 10), device.hasPrefix("/dev/") else {
            sim.kill()
            throw Failure("the simulator did not announce its pty")
        }
        var pipeArgs = ["pipeline", device, framing.rawValue, db.socketPath, name, stateDir.path]
        if spec.sampler { pipeArgs.append("--sampler") }
        for kv in spec.settings { pipeArgs += ["--set", kv] }
        let pipeline = try spawnSelf(pipeArgs, wrapper: options.pipelineWrapper)
        guard pipeline.expect("STARTED", timeoutMs: 30_000) != nil else {
            sim.kill()
            pipeline.kill()
            throw Failure("the pipeline did not start")
        }
        let before = MachineSample.take(serverPid: db.pid, simulatorPid: sim.pid, pipelinePid: pipeline.pid)

        // The simulator sends for `seconds` after the host's PING, then waits (at most its
        // drain time-out) for the host to read everything, then reports.
        guard let ledgerJSON = sim.expect("LEDGER ", timeoutMs: Int(spec.seconds * 1_000) + 30_000) else {
            sim.kill()
            pipeline.kill()
            throw Failure("the simulator did not finish")
        }
        let sent = MachineSample.take(serverPid: db.pid, simulatorPid: sim.pid, pipelinePid: pipeline.pid)
        let ledger = try JSONDecoder().decode(LedgerReport.self, from: Data(ledgerJSON.utf8))
        pipeline.send("drain \(ledger.mustArrive)")
        guard let resultJSON = pipeline.expect("RESULT ", timeoutMs: 60_000) else {
            sim.kill()
            pipeline.kill()
            throw Failure("the pipeline did not report")
        }
        let after = MachineSample.take(serverPid: db.pid, simulatorPid: sim.pid, pipelinePid: pipeline.pid)
        let report = try JSONDecoder().decode(PipelineReport.self, from: Data(resultJSON.utf8))
        _ = pipeline.wait()
        sim.finish()

        let snap = report.snapshot
        let stored = Int(try admin.queryValue("SELECT COUNT(*) FROM `\(name)`.readings") ?? "0") ?? 0
        let events = Int(try admin.queryValue("SELECT COUNT(*) FROM `\(name)`.occupancy_events") ?? "0") ?? 0
        let wall = Double(after.wallNanos - before.wallNanos) / 1e9
        let sendingMinutes = Double(sent.wallNanos - before.wallNanos) / 60e9
        func pct(_ seconds: Double) -> Double { seconds / wall * 100 }
        func perReading(_ seconds: Double) -> Double { stored > 0 ? seconds * 1e6 / Double(stored) : 0 }
        let server = after.server - before.server
        let simulator = after.simulator - before.simulator
        let ours = (after.pipeline - before.pipeline) + server + simulator
        let rejects = snap.link.rejects_total
        let loss = max(0, ledger.emitted - stored) + ledger.txDropped
        let zeroLoss = loss == 0 && ledger.lost == 0 && ledger.uncertain == 0 && stored == ledger.mustArrive
            && snap.link.missing_readings == 0 && rejects == 0 && snap.link.gateway_tx_dropped == 0 && report.settled
        return StepResult(
            kind: spec.kind, framing: framing.rawValue, sensors: spec.sensors, targetRate: spec.rate, seconds: spec.seconds,
            settings: spec.settings,
            emitted: ledger.emitted, emittedPerSecond: Int(Double(ledger.emitted) / spec.seconds),
            storedPerSecond: Int(Double(stored) / spec.seconds),
            endToEndPerSecond: Self.endToEnd(stored: stored, snapshot: snap),
            rowsInDatabase: stored, rowsCommitted: snap.store.rows_committed,
            occupancyEvents: events, occupancyEventsSuppressed: report.eventsSuppressed,
            gatewayTxDropped: ledger.txDropped, lostAtStop: ledger.lost, uncertain: ledger.uncertain,
            linkMissing: snap.link.missing_readings, rejects: rejects, loss: loss, zeroLoss: zeroLoss,
            readerWaits: snap.ring.reader_waits, readerWaitMs: snap.ring.reader_wait_ms,
            ringHighWater: snap.ring.high_water, spoolAppended: snap.spool?.appended ?? 0, batches: snap.store.batches,
            latencyP50Ms: snap.store.latency_ms.p50, latencyP99Ms: snap.store.latency_ms.p99,
            latencyMaxMs: snap.store.latency_ms.max,
            peakRSSMiB: Double(report.peakRSSKiB) / 1024,
            cpuReader: report.readerCPU / report.wallSeconds * 100, cpuWriter: report.writerCPU / report.wallSeconds * 100,
            cpuPipelineProcess: report.processCPU / report.wallSeconds * 100, cpuMariaDB: pct(server),
            cpuSimulator: pct(simulator), cpuOthers: max(0, pct(after.machineBusy - before.machineBusy - ours)),
            loadAverage: after.loadAverage,
            pipelineCPUSecondsPerMinute: (sent.pipeline - before.pipeline) / sendingMinutes,
            mariadbCPUSecondsPerMinute: (sent.server - before.server) / sendingMinutes,
            threadCPUSecondsPerMinute: (report.threadCPU ?? [:]).mapValues { $0 / report.wallSeconds * 60 },
            runQueueWaitReaderMs: report.readerRunQueueWaitMs, runQueueWaitWriterMs: report.writerRunQueueWaitMs,
            runQueueWaitSimulatorMs: ledger.simulatorRunQueueWaitMs,
            usPerReadingReader: perReading(report.readerCPU), usPerReadingWriter: perReading(report.writerCPU),
            usPerReadingMariaDB: perReading(server), ceiling: nil)
    }

    static func endToEnd(stored: Int, snapshot s: StatusSnapshot) -> Int {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let last = s.store.last_commit_at.flatMap(f.date(from:)), let start = f.date(from: s.started_at) else { return 0 }
        return Int(Double(stored) / max(last.timeIntervalSince(start), 0.001))
    }
}
