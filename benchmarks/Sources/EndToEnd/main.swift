// End to end: simulated gateway → pty → SerialReader → ring → ReadingWriter → MariaDB.
//
// A plain executable rather than a `Benchmark`: each measurement is a gateway sending at a
// fixed rate for seconds, then a drain and a reconciliation against the database, which
// the harness's "repeat a closure until the time is up" model does not express.
//
//     swift run -c release EndToEnd                 # the full ladder, both framings (~3 min)
//     swift run -c release EndToEnd --quick         # a smoke run (two short steps)
//     swift run -c release EndToEnd --help
//
// The orchestrator starts its own MariaDB (`PrivateMariaDBServer.temporary()`), then for each
// step: a fresh database, a `GatewaySimulator` in one child process (`EndToEnd simulate …`)
// and the pipeline in another (`EndToEnd pipeline …`: `Pipeline.overMariaDB` with the
// default configuration and no sampler, exactly the daemon's data path). Both children
// are this same release binary. A fresh pipeline process per step makes its peak RSS
// and CPU its own: glibc keeps freed memory in its arenas, so steps run one after another
// in one process would inherit each other's high-water marks. When the simulator has sent
// for `--seconds` and the host has read everything, the pipeline drains and the step is
// reconciled: the simulator's ledger, the pipeline's counters and
// `SELECT COUNT(*) FROM readings` must all agree for "zero loss".

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

signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
LoggingSystem.bootstrap { label in
    var h = StreamLogHandler.standardError(label: label)
    h.logLevel = .warning
    return h
}
if arguments.first == "simulate" {
    SimulatorChild.run(Array(arguments.dropFirst()))
}
if arguments.first == "pipeline" {
    PipelineChild.run(Array(arguments.dropFirst()))
}
do {
    let options = try EndToEndOptions(arguments)
    try Orchestrator(options: options).run()
} catch {
    FileHandle.standardError.write(Data("EndToEnd: \(error)\n".utf8))
    exit(1)
}

// MARK: - Options

struct EndToEndOptions {
    var framings: [FrameEncoding] = [.text, .binary]
    var rates = [25_000, 50_000, 100_000, 150_000, 200_000]
    var seconds = 5.0
    var sensors = 500
    /// The sensor-count comparison: `sensors` vs `manySensors` at `compareRate` readings/s.
    var manySensors = 50_000
    var compareRate = 50_000
    var compareSensors = true
    var jsonPath: String?
    /// The simulated gateway's transmit buffer (the firmware's: 64 KiB).
    var txBufferKiB = 64
    /// `PARKLINK_E2E_PIPELINE_WRAPPER`, e.g. "valgrind --tool=callgrind": runs the pipeline
    /// child under a profiler (expect loss: the profiler slows it down many times).
    var pipelineWrapper: [String] = ProcessInfo.processInfo.environment["PARKLINK_E2E_PIPELINE_WRAPPER"]?
        .split(separator: " ").map(String.init) ?? []
    /// `PARKLINK_E2E_SIMULATOR_WRAPPER`, e.g. "chrt -f 20": the simulator stands in for a
    /// gateway that nothing on the host can preempt; this takes its scheduling jitter out.
    var simulatorWrapper: [String] = ProcessInfo.processInfo.environment["PARKLINK_E2E_SIMULATOR_WRAPPER"]?
        .split(separator: " ").map(String.init) ?? []

    static let usage = """
        USAGE: EndToEnd [--quick] [--framing text|binary|both] [--rates 25000,50000,...]
                        [--seconds 5] [--sensors 500] [--many-sensors 50000] [--compare-rate 50000]
                        [--no-compare] [--tx-buffer-kib 64] [--json PATH]
        Rates are total readings/s (all sensors together).
        """

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw Failure("\(args[i - 1]) needs a value\n\(Self.usage)") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--quick":
                rates = [25_000, 100_000]
                seconds = 2
                compareRate = 25_000
            case "--framing":
                let v = try value()
                framings = v == "both" ? [.text, .binary] : [try FrameEncoding(rawValue: v).orThrow("framing \(v)")]
            case "--rates":
                rates = try value().split(separator: ",").map { try Int($0).orThrow("rate \($0)") }
            case "--seconds": seconds = try Double(try value()).orThrow("seconds")
            case "--sensors": sensors = try Int(try value()).orThrow("sensors")
            case "--many-sensors": manySensors = try Int(try value()).orThrow("many-sensors")
            case "--compare-rate": compareRate = try Int(try value()).orThrow("compare-rate")
            case "--no-compare": compareSensors = false
            case "--json": jsonPath = try value()
            case "--tx-buffer-kib": txBufferKiB = try Int(try value()).orThrow("tx-buffer-kib")
            case "-h", "--help":
                print(Self.usage)
                exit(0)
            default: throw Failure("unknown argument \(args[i])\n\(Self.usage)")
            }
            i += 1
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Optional {
    func orThrow(_ what: String) throws -> Wrapped {
        guard let self else { throw Failure("invalid \(what)\n\(EndToEndOptions.usage)") }
        return self
    }
}

// MARK: - The simulator child

/// What the simulator child reports once it has finished sending and the host has read
/// everything (or its drain time-out passed, which the ledger records as `lost`).
struct LedgerReport: Codable {
    var emitted: Int
    var mustArrive: Int
    var txDropped: Int
    var lost: Int
    var uncertain: Int
    var corrupted: Int
    var skipped: Int
    var boots: Int
    /// Time the simulator's thread was runnable but had no CPU: a late tick emits its
    /// readings in a burst, which a full transmit buffer drops (`tx_dropped`).
    var simulatorRunQueueWaitMs: Double
}

enum SimulatorChild {
    /// `simulate SENSORS RATE_PER_SENSOR FRAMING SECONDS TX_BUFFER_BYTES`: prints the pty path, runs, prints
    /// `LEDGER {json}`, then waits for a line on stdin before hanging up (so the host has
    /// read the tail before the pty goes away).
    static func run(_ args: [String]) -> Never {
        guard args.count == 5, let sensors = Int(args[0]), let rate = Double(args[1]),
              let framing = FrameEncoding(rawValue: args[2]), let seconds = Double(args[3]), let txBytes = Int(args[4]) else {
            FileHandle.standardError.write(Data("usage: EndToEnd simulate SENSORS RATE_PER_SENSOR FRAMING SECONDS TX_BUFFER_BYTES\n".utf8))
            exit(2)
        }
        var c = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
        c.encoding = framing
        c.durationSeconds = seconds
        c.gatewayId = "BENCH-GW"
        c.hostWaitTimeoutSeconds = 20
        c.txBufferBytes = txBytes
        do {
            let sim = try GatewaySimulator(config: c)
            print(sim.devicePath)
            fflush(nil)
            sim.start()
            var waitMs = 0.0
            while sim.state != .finished {
                waitMs = runQueueWaitMs(thread: "pl-simulator") ?? waitMs
                usleep(50_000)
            }
            sim.waitUntilFinished()
            let l = sim.ledger
            let report = LedgerReport(
                emitted: l.emitted, mustArrive: l.mustArrive, txDropped: Int(l.txDropped), lost: l.lost,
                uncertain: l.uncertain, corrupted: l.corrupted, skipped: l.skipped, boots: l.boots.count,
                simulatorRunQueueWaitMs: waitMs)
            let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
            print("LEDGER \(json)")
            fflush(nil)
            _ = readLine()
            sim.close()
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("simulator: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// This executable as a child (`simulate …` or `pipeline …`): ParkLinkSystem's
/// `ChildProcess`, stdout and stdin piped; stderr is inherited, so the children's
/// warnings show.
/// - Parameter wrapper: a command to run the child under, e.g. `valgrind --tool=callgrind`.
func spawnSelf(_ arguments: [String], wrapper: [String] = []) throws -> ChildProcess {
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    let (executable, argv) = wrapper.first.map { tool in
        (tool.hasPrefix("/") ? tool : "/usr/bin/" + tool, Array(wrapper.dropFirst()) + [me] + arguments)
    } ?? (me, arguments)
    return try ChildProcess(executable, argv, standardInput: .pipe, standardError: .inherit)
}

extension ChildProcess {
    /// The next line that starts with `prefix`, without it (other lines are echoed), or
    /// nil at the end of the child's output or after `timeoutMs`.
    func expect(_ prefix: String, timeoutMs: Int) -> String? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutMs) * 1_000_000
        while Clock.monotonicNanoseconds() < deadline {
            let left = Double((deadline - Clock.monotonicNanoseconds()) / 1_000_000)
            guard let line = readLine(timeoutSeconds: max(1, left) / 1_000) else { return nil }
            if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            print("  [child] \(line)")
        }
        return nil
    }

    /// Tells the child (which waits for a line on stdin) to end, and reaps it.
    func finish() {
        send("close")
        _ = wait()
    }

    /// SIGTERM, and reaps it.
    func kill() {
        signal(SIGTERM)
        _ = wait()
    }
}

// MARK: - The pipeline child

/// What the pipeline child reports once everything it read is committed.
struct PipelineReport: Codable {
    var snapshot: StatusSnapshot
    var wallSeconds: Double
    /// CPU seconds over the run: the reader thread, the writer thread, the whole process.
    var readerCPU: Double
    var writerCPU: Double
    var processCPU: Double
    /// Time the reader and writer threads were runnable but had no CPU.
    var readerRunQueueWaitMs: Double
    var writerRunQueueWaitMs: Double
    /// VmHWM: the process's peak resident set.
    var peakRSSKiB: Int
    /// Whether the pipeline ended with everything it decoded committed.
    var settled: Bool
}

enum PipelineChild {
    /// `pipeline DEVICE FRAMING SOCKET DATABASE STATE_DIR`: runs `Pipeline.overMariaDB` on the
    /// device, prints `STARTED`, waits for `drain N` on stdin (N readings must arrive),
    /// waits until the pipeline has committed everything it decoded (and at least N),
    /// stops it and prints `RESULT {json}`.
    static func run(_ args: [String]) -> Never {
        guard args.count == 5, let framing = FrameEncoding(rawValue: args[1]) else {
            FileHandle.standardError.write(Data("usage: EndToEnd pipeline DEVICE FRAMING SOCKET DATABASE STATE_DIR\n".utf8))
            exit(2)
        }
        do {
            MariaDB.initializeLibrary()
            let dsn = DSN(user: "root", password: nil, transport: .unixSocket(path: args[2]), database: args[3])
            var config = ApplianceConfig()
            config.framing = framing
            let pipeline = try Pipeline.overMariaDB(
                options: .init(config: config, device: args[0], state: StateDirectory(path: args[4]), databaseLabel: args[3]),
                dsn: dsn, logger: Logger(label: "parklink.bench.e2e"))
            let startCPU = ProcessStats.cpuSeconds(pid: getpid()) ?? 0
            let started = Clock.monotonicNanoseconds()
            try pipeline.start()
            if let spec = ProcessInfo.processInfo.environment["PARKLINK_E2E_READER_PRIORITY"] {
                ReaderPriority.apply(spec)
            }
            print("STARTED")
            fflush(nil)

            var mustArrive = 0
            while let line = readLine() {
                if line.hasPrefix("drain "), let n = Int(line.dropFirst(6)) {
                    mustArrive = n
                    break
                }
            }
            // Everything read is decoded within one poll period; wait until it is committed.
            let deadline = Clock.monotonicNanoseconds() + 15_000_000_000
            var settled = false
            while Clock.monotonicNanoseconds() < deadline {
                let s = pipeline.snapshot()
                settled = s.ring.fill == 0 && s.store.in_flight == 0 && s.link.pending_no_session == 0
                    && s.store.rows_committed + s.store.rows_duplicate == s.link.readings
                if settled && s.link.readings >= mustArrive { break }
                usleep(5_000)
            }
            let threads = pipelineThreadsCPU()
            let report = PipelineReport(
                snapshot: pipeline.snapshot(),
                wallSeconds: Double(Clock.monotonicNanoseconds() - started) / 1e9,
                readerCPU: threads.reader, writerCPU: threads.writer,
                processCPU: (ProcessStats.cpuSeconds(pid: getpid()) ?? 0) - startCPU,
                readerRunQueueWaitMs: runQueueWaitMs(thread: "pl-reader") ?? 0,
                writerRunQueueWaitMs: runQueueWaitMs(thread: "pl-writer") ?? 0,
                peakRSSKiB: ProcessStats.memory(pid: getpid())?.peakResidentKiB ?? 0, settled: settled)
            _ = pipeline.stop()
            print("RESULT " + String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
            fflush(nil)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("pipeline: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// `PARKLINK_E2E_READER_PRIORITY`: an experiment on the reader thread alone, from outside
/// the library: `fifo:N` (SCHED_FIFO priority N) or `nice:N` (e.g. `nice:-10`).
enum ReaderPriority {
    static func apply(_ spec: String) {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let value = Int32(parts[1]) else {
            FileHandle.standardError.write(Data("PARKLINK_E2E_READER_PRIORITY: use fifo:N or nice:N\n".utf8))
            return
        }
        var tid: Int32?
        for _ in 0..<100 where tid == nil {
            tid = ProcessStats.thread(named: "pl-reader", pid: getpid())?.tid
            if tid == nil { usleep(10_000) }
        }
        guard let tid else { return }
        let rc: Int32
        if parts[0] == "fifo" {
            var p = sched_param(sched_priority: value)
            rc = sched_setscheduler(tid, SCHED_FIFO, &p)
        } else {
            rc = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), value)
        }
        FileHandle.standardError.write(Data("reader thread \(tid): \(spec) → \(rc == 0 ? "ok" : String(cString: strerror(errno)))\n".utf8))
    }
}

// MARK: - The orchestrator

struct StepResult: Codable {
    var framing: String
    var sensors: Int
    var targetRate: Int
    var seconds: Double
    var emitted: Int
    var emittedPerSecond: Int
    /// Rows `SELECT COUNT(*) FROM readings` finds, per second of sending.
    var storedPerSecond: Int
    var rowsInDatabase: Int
    var rowsCommitted: Int
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
    /// Milliseconds runnable-but-waiting for a CPU: reader, writer, simulator threads.
    var runQueueWaitReaderMs: Double
    var runQueueWaitWriterMs: Double
    var runQueueWaitSimulatorMs: Double
    /// CPU µs per stored reading: reader thread, writer thread, MariaDB server.
    var usPerReadingReader: Double
    var usPerReadingWriter: Double
    var usPerReadingMariaDB: Double
}

struct Orchestrator {
    let options: EndToEndOptions

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
        for framing in options.framings {
            for rate in options.rates {
                let r = try step(framing: framing, sensors: options.sensors, rate: rate, db: db, admin: admin)
                results.append(r)
                print(Report.progressLine(r))
            }
        }
        var comparison: [StepResult] = []
        for framing in options.framings where options.compareSensors {
            for sensors in [options.sensors, options.manySensors] {
                let r = try step(framing: framing, sensors: sensors, rate: options.compareRate, db: db, admin: admin)
                comparison.append(r)
                print(Report.progressLine(r))
            }
        }
        print("")
        print(Report.markdown(ladder: results, comparison: comparison, options: options))
        if let path = options.jsonPath {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(["ladder": results, "sensorComparison": comparison]).write(to: URL(fileURLWithPath: path))
            print("JSON written to \(path)")
        }
    }

    private func step(framing: FrameEncoding, sensors: Int, rate: Int, db: PrivateMariaDBServer,
                      admin: MariaDBConnection) throws -> StepResult {
        // A fresh database: every step inserts into an empty `readings`.
        let name = "bench_e2e"
        try admin.execute("DROP DATABASE IF EXISTS `\(name)`")
        try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4")
        let stateDir = try TemporaryDirectory("/tmp/plb-e2e-XXXXXX")
        defer { stateDir.remove() }

        let sim = try spawnSelf(["simulate", String(sensors), String(Double(rate) / Double(sensors)), framing.rawValue,
                                    String(options.seconds), String(options.txBufferKiB * 1024)],
                                   wrapper: options.simulatorWrapper)
        guard let device = sim.readLine(timeoutSeconds: 10), device.hasPrefix("/dev/") else {
            sim.kill()
            throw Failure("the simulator did not announce its pty")
        }
        let pipeline = try spawnSelf(["pipeline", device, framing.rawValue, db.socketPath, name, stateDir.path],
                                        wrapper: options.pipelineWrapper)
        guard pipeline.expect("STARTED", timeoutMs: 30_000) != nil else {
            sim.kill()
            pipeline.kill()
            throw Failure("the pipeline did not start")
        }
        let before = MachineSample.take(serverPid: db.pid, simulatorPid: sim.pid, pipelinePid: pipeline.pid)

        // The simulator sends for `seconds` after the host's PING, then waits (at most its
        // drain time-out) for the host to read everything, then reports.
        guard let ledgerJSON = sim.expect("LEDGER ", timeoutMs: Int(options.seconds * 1_000) + 30_000) else {
            sim.kill()
            pipeline.kill()
            throw Failure("the simulator did not finish")
        }
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
        let wall = Double(after.wallNanos - before.wallNanos) / 1e9
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
            framing: framing.rawValue, sensors: sensors, targetRate: rate, seconds: options.seconds,
            emitted: ledger.emitted, emittedPerSecond: Int(Double(ledger.emitted) / options.seconds),
            storedPerSecond: Int(Double(stored) / options.seconds),
            rowsInDatabase: stored, rowsCommitted: snap.store.rows_committed,
            gatewayTxDropped: ledger.txDropped, lostAtStop: ledger.lost, uncertain: ledger.uncertain,
            linkMissing: snap.link.missing_readings, rejects: rejects, loss: loss, zeroLoss: zeroLoss,
            readerWaits: snap.ring.reader_waits, readerWaitMs: snap.ring.reader_wait_ms,
            ringHighWater: snap.ring.high_water, batches: snap.store.batches,
            latencyP50Ms: snap.store.latency_ms.p50, latencyP99Ms: snap.store.latency_ms.p99,
            latencyMaxMs: snap.store.latency_ms.max,
            peakRSSMiB: Double(report.peakRSSKiB) / 1024,
            cpuReader: report.readerCPU / report.wallSeconds * 100, cpuWriter: report.writerCPU / report.wallSeconds * 100,
            cpuPipelineProcess: report.processCPU / report.wallSeconds * 100, cpuMariaDB: pct(server),
            cpuSimulator: pct(simulator), cpuOthers: max(0, pct(after.machineBusy - before.machineBusy - ours)),
            loadAverage: after.loadAverage,
            runQueueWaitReaderMs: report.readerRunQueueWaitMs, runQueueWaitWriterMs: report.writerRunQueueWaitMs,
            runQueueWaitSimulatorMs: ledger.simulatorRunQueueWaitMs,
            usPerReadingReader: perReading(report.readerCPU), usPerReadingWriter: perReading(report.writerCPU),
            usPerReadingMariaDB: perReading(server))
    }
}

// MARK: - Measuring

/// CPU seconds consumed so far (from /proc, in clock ticks of 10 ms: fine over seconds)
/// by the server, the two children and the whole machine.
struct MachineSample {
    var wallNanos: UInt64
    var server: Double
    var simulator: Double
    var pipeline: Double
    var machineBusy: Double
    var loadAverage: Double

    static func take(serverPid: Int32?, simulatorPid: Int32, pipelinePid: Int32) -> MachineSample {
        MachineSample(
            wallNanos: Clock.monotonicNanoseconds(),
            server: serverPid.flatMap { ProcessStats.cpuSeconds(pid: $0) } ?? 0,
            simulator: ProcessStats.cpuSeconds(pid: simulatorPid) ?? 0,
            pipeline: ProcessStats.cpuSeconds(pid: pipelinePid) ?? 0,
            machineBusy: ProcessStats.machineBusySeconds() ?? 0,
            loadAverage: ProcessStats.loadAverage() ?? 0)
    }
}

/// Milliseconds this process's thread named `thread` has spent runnable but waiting for
/// a CPU (its schedstat): what other work on the machine costs a thread that has to run
/// on time.
func runQueueWaitMs(thread: String) -> Double? {
    let me = getpid()
    return ProcessStats.thread(named: thread, pid: me)
        .flatMap { ProcessStats.scheduling(pid: me, thread: $0.tid) }
        .map { $0.runQueueWaitNanoseconds / 1e6 }
}

/// CPU seconds of this process's threads named `pl-reader` and `pl-writer`.
func pipelineThreadsCPU() -> (reader: Double, writer: Double) {
    var reader = 0.0, writer = 0.0
    let me = getpid()
    for t in ProcessStats.threads(pid: me) {
        guard let cpu = ProcessStats.cpuSeconds(pid: me, thread: t.tid) else { continue }
        if t.name == "pl-reader" { reader += cpu }
        if t.name == "pl-writer" { writer += cpu }
    }
    return (reader, writer)
}

struct TemporaryDirectory {
    let path: String
    init(_ template: String) throws {
        var t = Array(template.utf8CString)
        guard let p = t.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Failure("mkdtemp \(template): \(String(cString: strerror(errno)))")
        }
        path = String(cString: p)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum MachineInfo {
    static var line: String {
        let cpu = ProcessStats.cpuModel() ?? "?"
        let memKiB = ProcessStats.memoryTotalKiB() ?? 0
        return "Machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores, \(cpu), \(memKiB / 1024 / 1024) GiB RAM"
    }
}

// MARK: - Report

enum Report {
    static func progressLine(_ r: StepResult) -> String {
        let p99 = r.latencyP99Ms.map { "\($0)" } ?? "-"
        return "\(r.framing) \(r.sensors) sensors @ \(r.targetRate)/s: emitted \(r.emittedPerSecond)/s, stored \(r.storedPerSecond)/s, "
            + "loss \(r.loss) (tx_dropped \(r.gatewayTxDropped), lost \(r.lostAtStop), missing \(r.linkMissing)), "
            + "\(r.zeroLoss ? "ZERO LOSS" : "LOSS"), p99 \(p99) ms, RSS \(String(format: "%.1f", r.peakRSSMiB)) MiB, "
            + "CPU reader \(f0(r.cpuReader))% writer \(f0(r.cpuWriter))% mariadbd \(f0(r.cpuMariaDB))% sim \(f0(r.cpuSimulator))% "
            + "others \(f0(r.cpuOthers))% (load \(f1(r.loadAverage))); run-queue wait ms: reader \(f0(r.runQueueWaitReaderMs)) "
            + "writer \(f0(r.runQueueWaitWriterMs)) simulator \(f0(r.runQueueWaitSimulatorMs)); ring high-water \(r.ringHighWater)"
    }

    static func markdown(ladder: [StepResult], comparison: [StepResult], options: EndToEndOptions) -> String {
        var out = "### Rate ladder (\(options.sensors) sensors, \(f0(options.seconds)) s per step)\n\n"
        out += "CPU in % of one core over the step (2 cores = 200%); \"others\": every other process on the machine meanwhile.\n\n"
        out += "| framing | target/s | emitted/s | stored/s | loss | tx_dropped | zero loss | reader waits | p50 ms | p99 ms | max ms | peak RSS MiB | CPU reader | CPU writer | CPU mariadbd | CPU simulator | CPU others | run-queue wait reader / sim ms |\n"
        out += "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in ladder { out += row(r) }
        out += "\n"
        for framing in Set(ladder.map(\.framing)).sorted() {
            let best = ladder.filter { $0.framing == framing && $0.zeroLoss }.map(\.targetRate).max()
            out += "Highest zero-loss rate, \(framing): \(best.map { "\($0) readings/s" } ?? "none of the steps")\n"
        }
        out += "\n### Sensor count at \(options.compareRate) readings/s\n\n"
        out += "| framing | sensors | stored/s | zero loss | p50 ms | p99 ms | peak RSS MiB | reader µs/reading | writer µs/reading | mariadbd µs/reading | CPU others |\n"
        out += "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in comparison {
            out += "| \(r.framing) | \(r.sensors) | \(r.storedPerSecond) | \(r.zeroLoss ? "yes" : "NO (\(r.loss))") | "
                + "\(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | \(f1(r.peakRSSMiB)) | \(f2(r.usPerReadingReader)) | "
                + "\(f2(r.usPerReadingWriter)) | \(f2(r.usPerReadingMariaDB)) | \(f0(r.cpuOthers))% |\n"
        }
        return out
    }

    private static func row(_ r: StepResult) -> String {
        "| \(r.framing) | \(r.targetRate) | \(r.emittedPerSecond) | \(r.storedPerSecond) | \(r.loss) | \(r.gatewayTxDropped) | "
            + "\(r.zeroLoss ? "yes" : "NO") | \(r.readerWaits) | \(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | "
            + "\(opt(r.latencyMaxMs)) | \(f1(r.peakRSSMiB)) | \(f0(r.cpuReader))% | \(f0(r.cpuWriter))% | "
            + "\(f0(r.cpuMariaDB))% | \(f0(r.cpuSimulator))% | \(f0(r.cpuOthers))% | \(f0(r.runQueueWaitReaderMs)) / \(f0(r.runQueueWaitSimulatorMs)) |\n"
    }

    static func f0(_ v: Double) -> String { String(format: "%.0f", v) }
    static func f1(_ v: Double) -> String { String(format: "%.1f", v) }
    static func f2(_ v: Double) -> String { String(format: "%.2f", v) }
    static func opt(_ v: Int64?) -> String { v.map { "\($0)" } ?? "-" }
}
