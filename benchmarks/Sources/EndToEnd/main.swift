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
// The process starts its own MariaDB (`EmbeddedDatabase.temporary()`), then for each step:
// a fresh database, a `GatewaySimulator` in a CHILD process (this same release binary,
// `EndToEnd simulate …`: its CPU and memory are not the appliance's), and the pipeline IN
// this process (`Pipeline.overMariaDB`, the default configuration, no sampler). When the
// simulator has sent for `--seconds` and the host has read everything, the pipeline drains
// and the step is reconciled: the simulator's ledger, the pipeline's counters and
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
if arguments.first == "simulate" {
    SimulatorChild.run(Array(arguments.dropFirst()))
}
do {
    let options = try EndToEndOptions(arguments)
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = .warning
        return h
    }
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
    var jsonPath: String?

    static let usage = """
        USAGE: EndToEnd [--quick] [--framing text|binary|both] [--rates 25000,50000,...]
                        [--seconds 5] [--sensors 500] [--many-sensors 50000] [--compare-rate 50000]
                        [--json PATH]
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
            case "--json": jsonPath = try value()
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
}

enum SimulatorChild {
    /// `simulate SENSORS RATE_PER_SENSOR FRAMING SECONDS`: prints the pty path, runs, prints
    /// `LEDGER {json}`, then waits for a line on stdin before hanging up (so the host has
    /// read the tail before the pty goes away).
    static func run(_ args: [String]) -> Never {
        guard args.count == 4, let sensors = Int(args[0]), let rate = Double(args[1]),
              let framing = FrameEncoding(rawValue: args[2]), let seconds = Double(args[3]) else {
            FileHandle.standardError.write(Data("usage: EndToEnd simulate SENSORS RATE_PER_SENSOR FRAMING SECONDS\n".utf8))
            exit(2)
        }
        var c = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
        c.encoding = framing
        c.durationSeconds = seconds
        c.gatewayId = "BENCH-GW"
        c.hostWaitTimeoutSeconds = 20
        do {
            let sim = try GatewaySimulator(config: c)
            print(sim.devicePath)
            fflush(nil)
            sim.start()
            sim.waitUntilFinished()
            let l = sim.ledger
            let report = LedgerReport(
                emitted: l.emitted, mustArrive: l.mustArrive, txDropped: Int(l.txDropped), lost: l.lost,
                uncertain: l.uncertain, corrupted: l.corrupted, skipped: l.skipped, boots: l.boots.count)
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

/// The child process: this executable with `simulate …`, stdout and stdin piped.
final class SimulatorProcess {
    let process = Process()
    private let output = Pipe()
    private let input = Pipe()
    private var buffered = [UInt8]()

    init(sensors: Int, totalRate: Int, framing: FrameEncoding, seconds: Double) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["simulate", String(sensors), String(Double(totalRate) / Double(sensors)), framing.rawValue, String(seconds)]
        process.standardOutput = output
        process.standardInput = input
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// The next line of the child's stdout, or nil at EOF / after `timeoutMs`.
    func readLine(timeoutMs: Int) -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutMs) * 1_000_000
        while true {
            if let nl = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<nl], as: UTF8.self)
                buffered.removeSubrange(...nl)
                return line
            }
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(1_000, (deadline - now) / 1_000_000 + 1)))
            if r <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n <= 0 { return nil }
            buffered.append(contentsOf: chunk[0..<n])
        }
    }

    func close() {
        input.fileHandleForWriting.write(Data("close\n".utf8))
        process.waitUntilExit()
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
    /// emitted − stored, plus everything the gateway dropped before giving a seq.
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
    /// CPU over the step's wall time, % of one core.
    var cpuReader: Double
    var cpuWriter: Double
    var cpuPipelineProcess: Double
    var cpuMariaDB: Double
    var cpuSimulator: Double
    /// CPU µs per stored reading: reader thread, writer thread, MariaDB server.
    var usPerReadingReader: Double
    var usPerReadingWriter: Double
    var usPerReadingMariaDB: Double
}

struct Orchestrator {
    let options: EndToEndOptions
    let logger = Logger(label: "parklink.bench.e2e")

    func run() throws {
        MariaDB.initializeLibrary()
        MariaDB.threadInit()
        print("Starting a private MariaDB (EmbeddedDatabase.temporary()) …")
        let db = try EmbeddedDatabase.temporary()
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
                let r = try step(framing: framing, sensors: options.sensors, rate: rate, db: db, admin: admin, serverDSN: serverDSN)
                results.append(r)
                print(Report.progressLine(r))
            }
        }
        var comparison: [StepResult] = []
        for framing in options.framings {
            for sensors in [options.sensors, options.manySensors] {
                let r = try step(framing: framing, sensors: sensors, rate: options.compareRate, db: db, admin: admin, serverDSN: serverDSN)
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

    private func step(framing: FrameEncoding, sensors: Int, rate: Int, db: EmbeddedDatabase, admin: MariaDBConnection,
                      serverDSN: DSN) throws -> StepResult {
        // A fresh database: every step inserts into an empty `readings`.
        let name = "bench_e2e"
        try admin.execute("DROP DATABASE IF EXISTS `\(name)`")
        try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4")
        let dsn = serverDSN.withDatabase(name)
        let stateDir = try TemporaryDirectory("/tmp/plb-e2e-XXXXXX")
        defer { stateDir.remove() }

        let sim = try SimulatorProcess(sensors: sensors, totalRate: rate, framing: framing, seconds: options.seconds)
        guard let device = sim.readLine(timeoutMs: 10_000), device.hasPrefix("/dev/") else {
            sim.process.terminate()
            throw Failure("the simulator did not announce its pty")
        }

        var config = ApplianceConfig()
        config.framing = framing
        let pipeline = try Pipeline.overMariaDB(
            options: .init(config: config, device: device, state: StateDirectory(path: stateDir.path), databaseLabel: name),
            dsn: dsn, logger: logger)

        ProcessStats.resetPeakRSS()
        let before = CPUSample.take(serverPid: db.pid, simulatorPid: sim.pid)
        try pipeline.start()

        // The simulator sends for `seconds` after the host's PING, then waits (at most its
        // drain time-out) for the host to read everything, then reports.
        guard let ledgerLine = sim.readLine(timeoutMs: Int(options.seconds * 1_000) + 30_000),
              ledgerLine.hasPrefix("LEDGER ") else {
            _ = pipeline.stop()
            sim.process.terminate()
            throw Failure("the simulator did not finish")
        }
        let ledger = try JSONDecoder().decode(LedgerReport.self, from: Data(ledgerLine.dropFirst(7).utf8))

        // Everything read is decoded within a poll period; wait until it is all committed.
        let drainDeadline = Clock.monotonicNanoseconds() + 15_000_000_000
        var snap = pipeline.snapshot()
        while Clock.monotonicNanoseconds() < drainDeadline {
            snap = pipeline.snapshot()
            let settled = snap.ring.fill == 0 && snap.store.in_flight == 0 && snap.link.pending_no_session == 0
                && snap.store.rows_committed + snap.store.rows_duplicate == snap.link.readings
            if settled && snap.link.readings >= ledger.mustArrive { break }
            usleep(10_000)
        }
        let after = CPUSample.take(serverPid: db.pid, simulatorPid: sim.pid)
        let peakRSS = ProcessStats.peakRSSKiB()
        snap = pipeline.snapshot()
        _ = pipeline.stop()
        sim.close()

        let stored = Int(try admin.queryValue("SELECT COUNT(*) FROM `\(name)`.readings") ?? "0") ?? 0
        let wall = Double(after.wallNanos - before.wallNanos) / 1e9
        func pct(_ a: Double, _ b: Double) -> Double { (b - a) / wall * 100 }
        func perReading(_ a: Double, _ b: Double) -> Double { stored > 0 ? (b - a) * 1e6 / Double(stored) : 0 }
        let rejects = snap.link.rejects_total
        let loss = max(0, ledger.emitted - stored) + ledger.txDropped
        let zeroLoss = loss == 0 && ledger.lost == 0 && ledger.uncertain == 0 && stored == ledger.mustArrive
            && snap.link.missing_readings == 0 && rejects == 0 && snap.link.gateway_tx_dropped == 0
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
            peakRSSMiB: Double(peakRSS) / 1024,
            cpuReader: pct(before.reader, after.reader), cpuWriter: pct(before.writer, after.writer),
            cpuPipelineProcess: pct(before.process, after.process), cpuMariaDB: pct(before.server, after.server),
            cpuSimulator: pct(before.simulator, after.simulator),
            usPerReadingReader: perReading(before.reader, after.reader),
            usPerReadingWriter: perReading(before.writer, after.writer),
            usPerReadingMariaDB: perReading(before.server, after.server))
    }
}

// MARK: - Measuring

/// CPU seconds consumed so far by the pipeline's threads, this process, the server and
/// the simulator child (from /proc; clock ticks of 10 ms, fine over seconds).
struct CPUSample {
    var wallNanos: UInt64
    var reader: Double
    var writer: Double
    var process: Double
    var server: Double
    var simulator: Double

    static func take(serverPid: Int32?, simulatorPid: Int32) -> CPUSample {
        var reader = 0.0, writer = 0.0
        if let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") {
            for tid in tasks {
                guard let (comm, cpu) = ProcessStats.cpu(statPath: "/proc/self/task/\(tid)/stat") else { continue }
                if comm == "pl-reader" { reader += cpu }
                if comm == "pl-writer" { writer += cpu }
            }
        }
        return CPUSample(
            wallNanos: Clock.monotonicNanoseconds(), reader: reader, writer: writer,
            process: ProcessStats.cpu(statPath: "/proc/self/stat")?.1 ?? 0,
            server: serverPid.flatMap { ProcessStats.cpu(statPath: "/proc/\($0)/stat")?.1 } ?? 0,
            simulator: ProcessStats.cpu(statPath: "/proc/\(simulatorPid)/stat")?.1 ?? 0)
    }
}

enum ProcessStats {
    /// (comm, utime + stime in seconds) from a /proc stat file.
    static func cpu(statPath: String) -> (String, Double)? {
        guard let text = try? String(contentsOfFile: statPath, encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": state(3) ppid(4) … utime(14) stime(15) → indices 11 and 12.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (comm, (u + s) / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// Resets VmHWM (the peak resident set) so that each step measures its own peak.
    static func resetPeakRSS() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return }
        _ = "5".withCString { write(fd, $0, 1) }
        close(fd)
    }

    static func peakRSSKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
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
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first(where: { $0.hasPrefix("model name") })?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let memKiB = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
            .split(separator: "\n").first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
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
            + "CPU reader \(f0(r.cpuReader))% writer \(f0(r.cpuWriter))% mariadbd \(f0(r.cpuMariaDB))% sim \(f0(r.cpuSimulator))%"
    }

    static func markdown(ladder: [StepResult], comparison: [StepResult], options: EndToEndOptions) -> String {
        var out = "### Rate ladder (\(options.sensors) sensors, \(f0(options.seconds)) s per step)\n\n"
        out += "| framing | target/s | emitted/s | stored/s | loss | tx_dropped | zero loss | reader waits | p50 ms | p99 ms | max ms | peak RSS MiB | CPU reader | CPU writer | CPU mariadbd | CPU simulator |\n"
        out += "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in ladder { out += row(r) }
        out += "\n"
        for framing in Set(ladder.map(\.framing)).sorted() {
            let best = ladder.filter { $0.framing == framing && $0.zeroLoss }.map(\.targetRate).max()
            out += "Highest zero-loss rate, \(framing): \(best.map { "\($0) readings/s" } ?? "none of the steps")\n"
        }
        out += "\n### Sensor count at \(options.compareRate) readings/s\n\n"
        out += "| framing | sensors | stored/s | zero loss | p50 ms | p99 ms | peak RSS MiB | reader µs/reading | writer µs/reading | mariadbd µs/reading |\n"
        out += "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for r in comparison {
            out += "| \(r.framing) | \(r.sensors) | \(r.storedPerSecond) | \(r.zeroLoss ? "yes" : "NO (\(r.loss))") | "
                + "\(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | \(f1(r.peakRSSMiB)) | \(f2(r.usPerReadingReader)) | "
                + "\(f2(r.usPerReadingWriter)) | \(f2(r.usPerReadingMariaDB)) |\n"
        }
        return out
    }

    private static func row(_ r: StepResult) -> String {
        "| \(r.framing) | \(r.targetRate) | \(r.emittedPerSecond) | \(r.storedPerSecond) | \(r.loss) | \(r.gatewayTxDropped) | "
            + "\(r.zeroLoss ? "yes" : "NO") | \(r.readerWaits) | \(opt(r.latencyP50Ms)) | \(opt(r.latencyP99Ms)) | "
            + "\(opt(r.latencyMaxMs)) | \(f1(r.peakRSSMiB)) | \(f0(r.cpuReader))% | \(f0(r.cpuWriter))% | "
            + "\(f0(r.cpuMariaDB))% | \(f0(r.cpuSimulator))% |\n"
    }

    static func f0(_ v: Double) -> String { String(format: "%.0f", v) }
    static func f1(_ v: Double) -> String { String(format: "%.1f", v) }
    static func f2(_ v: Double) -> String { String(format: "%.2f", v) }
    static func opt(_ v: Int64?) -> String { v.map { "\($0)" } ?? "-" }
}
