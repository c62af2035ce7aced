// The two children of a step: the simulated gateway and the pipeline (see main.swift).

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
    /// `simulate SENSORS RATE_PER_SENSOR FRAMING SECONDS TX_BUFFER_BYTES [flapping]`: prints the
    /// pty path, runs, prints `LEDGER {json}`, then waits for a line on stdin before hanging
    /// up (so the host has read the tail before the pty goes away). `flapping`: every
    /// reading flips its bay (a flapping storm).
    static func run(_ args: [String]) -> Never {
        guard args.count == 5 || (args.count == 6 && args[5] == "flapping"), let sensors = Int(args[0]),
              let rate = Double(args[1]), let framing = FrameEncoding(rawValue: args[2]), let seconds = Double(args[3]),
              let txBytes = Int(args[4]) else {
            FileHandle.standardError.write(Data("usage: EndToEnd simulate SENSORS RATE_PER_SENSOR FRAMING SECONDS TX_BUFFER_BYTES [flapping]\n".utf8))
            exit(2)
        }
        var c = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
        c.flapping = args.count == 6
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
    /// Occupancy events the debounce held back (nil: the pipeline does not report it).
    var eventsSuppressed: Int?
    /// CPU seconds per thread name (`pl-…`; the rest as `other`) over the run.
    var threadCPU: [String: Double]?
}

enum PipelineChild {
    static let usage = "usage: EndToEnd pipeline DEVICE FRAMING SOCKET DATABASE STATE_DIR [--sampler] [--set KEY=VALUE]...\n"

    /// `pipeline DEVICE FRAMING SOCKET DATABASE STATE_DIR [--sampler] [--set KEY=VALUE]...`:
    /// runs `Pipeline.overMariaDB` on the device (with the sampler attached, as `parklink run`
    /// has it, when `--sampler`; `--set` overrides a setting of `[pipeline]`, see
    /// `PipelineSetting`), prints `STARTED`, waits for `drain N` on stdin (N readings must
    /// arrive), waits until the pipeline has committed everything it decoded (and at least
    /// N), stops it and prints `RESULT {json}`.
    static func run(_ args: [String]) -> Never {
        guard args.count >= 5, let framing = FrameEncoding(rawValue: args[1]) else {
            FileHandle.standardError.write(Data(usage.utf8))
            exit(2)
        }
        do {
            MariaDB.initializeLibrary()
            let dsn = DSN(user: "root", password: nil, transport: .unixSocket(path: args[2]), database: args[3])
            var config = ApplianceConfig()
            config.framing = framing
            var withSampler = false
            var rest = args.dropFirst(5).makeIterator()
            while let a = rest.next() {
                switch a {
                case "--sampler": withSampler = true
                case "--set":
                    guard let kv = rest.next(), PipelineSetting.apply(kv, to: &config) else {
                        FileHandle.standardError.write(Data(usage.utf8))
                        exit(2)
                    }
                default:
                    FileHandle.standardError.write(Data(usage.utf8))
                    exit(2)
                }
            }
            let state = StateDirectory(path: args[4])
            let logger = Logger(label: "parklink.bench.e2e")
            let pipeline = try Pipeline.overMariaDB(
                options: .init(config: config, device: args[0], state: state, databaseLabel: args[3]),
                dsn: dsn, logger: logger)
            if withSampler {
                ApplianceRunner.attachSampler(to: pipeline, config: config, state: state, dsn: dsn, logger: logger)
            }
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
                peakRSSKiB: ProcessStats.memory(pid: getpid())?.peakResidentKiB ?? 0, settled: settled,
                eventsSuppressed: pipeline.snapshot().store.occupancy_events_suppressed, threadCPU: threads.byName)
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

/// `--set KEY=VALUE` of the pipeline child: the settings a benchmark step varies.
enum PipelineSetting {
    static func apply(_ kv: String, to c: inout ApplianceConfig) -> Bool {
        let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let v = Int(parts[1]) else { return false }
        switch parts[0] {
        case "batch_max_rows": c.batchMaxRows = v
        case "batch_linger_ms": c.batchLingerMs = v
        case "debounce_ms": c.occupancyDebounceMs = v
        case "idle_linger_ms": c.idleLingerMs = v
        case "coalesce_ms": c.coalesceMs = v
        default: return false
        }
        return true
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

