import ParkLinkDaemon
import Foundation
import Logging
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

/// `parklink stress`, minus the argument parsing: a simulated gateway at full rate, the
/// appliance as a separate `parklink run` process, one fault, and a verdict taken from
/// the database row by row.
///
/// The order is the field's: the database first, then the gateway's pty, then the
/// daemon (it opens the pty and PINGs), then the gateway starts sending. At the end the
/// gateway drains and stops, the daemon is left to commit everything, its final status
/// is read, it gets SIGTERM and must exit 0, and only then is the database checked.
/// Whatever happens, the daemon is killed if it is still there, the gateway hung up,
/// and the private server and temporary directory removed.
public enum StressRunner {
    /// How long to wait, after the gateway stopped, for the daemon to commit the rest.
    static let settleTimeoutSeconds = 180.0
    /// The daemon's shutdown grace is 30 s; beyond this it is killed.
    static let terminateTimeoutSeconds = 90.0

    /// Runs the stress test. `note` gets a few lines of what is going on (for stderr);
    /// `progress`, if given, gets the progress bar's line twice a second.
    /// `Signals.blockTermination()` should have been called before: SIGINT/SIGTERM then
    /// end the run early (cleaning up) instead of killing the process mid-way.
    public static func run(_ o: StressOptions, logger: Logger, note: (String) -> Void,
                           progress: ((String) -> Void)?) throws -> StressReport {
        if let p = o.problem() { throw ApplianceRunner.Failure(p) }
        InheritedDescriptors.closeOnExec()
        MariaDB.initializeLibrary()
        let dbStarted = Clock.monotonicNanoseconds()
        let db = try StressDatabase.provision(o, logger: logger)
        defer { db.cleanUp() }
        note("database ready in \(seconds(since: dbStarted)) s: \(db.daemonDSNText)")
        let state = StateDirectory(path: db.stateDirectory)
        if StatusClient.isAnswering(socket: state.statusSocket) {
            throw ApplianceRunner.Failure("a parklink daemon is already running with state directory \(state.path); stop it first or use another --state-dir")
        }

        let gatewayId = "STRESS-" + StressVerifier.hex8(UInt32.random(in: 1...UInt32.max))
        let sim = try GatewaySimulator(config: simulatorConfig(o, gatewayId: gatewayId, linkPath: state.path + "/stress-gateway"))
        defer { sim.close() }

        let daemon = try DaemonProcess(
            executable: selfExecutable(),
            arguments: ["run", "--device", sim.devicePath, "--db", db.daemonDSNText, "--state-dir", state.path,
                        "--framing", o.framing.rawValue, "--insert-method", o.insertMethod.rawValue, "--log-level", "warning"],
            environment: db.password.map { [DSN.passwordEnvironmentVariable: $0] } ?? [:],
            statusSocket: state.statusSocket, logPath: state.path + "/stress-daemon.log")
        defer { daemon.kill() }
        try daemon.waitUntilAnswering(timeoutSeconds: 60)
        note("parklink run (pid \(daemon.pid)) answering; gateway \(gatewayId) sending \(Int(o.totalRate)) readings/s on \(sim.devicePath)")

        sim.start()
        let sendingStarted = try waitUntilSending(sim, daemon: daemon)
        let faults = FaultInjector(options: o, database: db, simulator: sim)
        faults.start(sendingStartedAtNs: sendingStarted)
        let serverCPUAtStart = db.serverCPUSeconds
        let watch = try ThreadWatch(daemonPid: daemon.pid, startNs: sendingStarted)
        defer { _ = watch.stop() }
        var failures: [String] = []
        var timeline: [StressReport.TimelinePoint] = []
        var txDropped: UInt64 = 0

        // The gateway sends for `durationSeconds` from its boot and then drains by itself.
        var bar = StressProgress(durationSeconds: o.durationSeconds)
        var stopAsked = false
        while sim.state != .finished {
            if Signals.waitForTermination(timeoutMs: 500) != nil {
                throw ApplianceRunner.Failure("interrupted: the run was stopped before the end, nothing verified")
            }
            let elapsed = seconds(since: sendingStarted)
            if let e = daemon.poll() {
                throw ApplianceRunner.Failure("parklink run died during the run (status \(e.shellStatus)); its log:\n\(daemon.logTail())")
            }
            if !stopAsked && elapsed > o.durationSeconds + 30 {
                // Only if the gateway is stuck waiting for a host that never came back.
                failures.append("the gateway had not finished 30 s after the duration (state \(sim.state)): stopped it")
                sim.requestStop()
                stopAsked = true
            }
            let dropped = sim.ledger.txDropped
            if dropped > txDropped && timeline.count < 100 {
                timeline.append(.init(at_s: elapsed, readings: Int(dropped - txDropped)))
            }
            txDropped = dropped
            if let progress {
                let s = daemon.status()
                progress(bar.line(elapsed: elapsed, committed: s?.store.rows_committed ?? 0,
                                  ringFillPercent: s?.ring.fill_percent, phase: phase(sim.state, faults)))
            }
        }
        sim.stop()
        if progress != nil { progress?(StressProgress.finish) }
        note("gateway stopped; waiting for the daemon to commit the rest")
        faults.join()
        if let e = faults.error { failures.append("the fault could not be injected as asked: \(e)") }
        let ledger = sim.ledger
        let reopen = sim.reopenDelaysMs.sorted()
        if o.fault == .unplug, let worst = reopen.last, worst > 1_000 {
            failures.append("the daemon took \(Int(worst)) ms to reopen a replugged port (at most 1,000 ms expected)")
        }
        if ledger.txDropped > txDropped {
            timeline.append(.init(at_s: seconds(since: sendingStarted), readings: Int(ledger.txDropped - txDropped)))
        }

        let settled = try waitUntilCommitted(daemon, mustArrive: ledger.mustArrive)
        if !settled.done {
            failures.append("the daemon had not committed everything \(Int(settleTimeoutSeconds)) s after the gateway stopped (in flight \(settled.last?.accounting.in_flight ?? -1))")
        }
        let final = settled.last
        let machine = watch.stop()
        let exit = daemon.terminate(timeoutSeconds: terminateTimeoutSeconds)
        sim.close()
        if exit.code != 0 {
            failures.append("parklink run exited with status \(exit.shellStatus) after SIGTERM (expected 0); its log ends:\n\(daemon.logTail(bytes: 1_500))")
        }
        let harnessCPU = ProcessStats.ownCPUSeconds()
        let serverCPU = serverCPUAtStart.flatMap { start in db.serverCPUSeconds.map { $0 - start } }

        note("verifying the database against the gateway's ledger (\(ledger.boots.count) boot(s), \(ledger.mustArrive) readings that must be there)")
        let v = try StressVerifier(dsn: db.dsn, gatewayId: gatewayId).verify(ledger)
        failures += verdict(v, fault: o.fault, final: final, machine: machine)

        return StressReport(
            passed: failures.isEmpty, failures: failures,
            sensors: o.sensors, rate_per_sensor: o.ratePerSensor, duration_s: o.durationSeconds,
            framing: o.framing.rawValue, fault: o.fault.rawValue, gateway_id: gatewayId,
            emitted: v.emitted, stored: v.stored, lost: v.lost,
            lost_by_reason: .init(gateway_tx_dropped: v.gatewayTxDropped, bad_crc: v.badCRC, link_gap: v.linkGap,
                                  gateway_discarded: v.gatewayDiscarded, other: v.other),
            must_arrive: v.mustArrive,
            readings_per_second: (Double(v.stored) / o.durationSeconds).rounded(),
            latency_ms_p50: OrNull(final?.store.latency_ms.p50), latency_ms_p99: OrNull(final?.store.latency_ms.p99),
            latency_ms_max: OrNull(final?.store.latency_ms.max), latency_samples: final?.store.latency_ms.samples ?? 0,
            cpu_seconds: (exit.cpuSeconds * 100).rounded() / 100,
            peak_rss_mib: (Double(exit.peakRSSKiB) / 1024 * 10).rounded() / 10,
            daemon_exit_code: exit.shellStatus,
            harness_cpu_seconds: (harnessCPU * 100).rounded() / 100,
            mariadb_cpu_seconds: OrNull(serverCPU.map { ($0 * 100).rounded() / 100 }),
            cpu_seconds_per_million_readings: OrNull(perMillion(exit.cpuSeconds, v.stored)),
            mariadb_cpu_seconds_per_million_readings: OrNull(serverCPU.flatMap { perMillion($0, v.stored) }),
            boots: v.boots, corrupted_sent: ledger.corrupted, garbage_bursts: ledger.garbageBursts,
            unexpected_rows: v.unexpectedRows, unknown_boot_rows: v.unknownBootRows, duplicate_rows: v.duplicateRows,
            missing_examples: v.missingExamples, fault_events: faults.events,
            replugs: reopen.count, reopen_ms_p50: OrNull(reopen.isEmpty ? nil : reopen[reopen.count / 2].rounded()),
            reopen_ms_max: OrNull(reopen.last.map { $0.rounded() }), tx_dropped_timeline: timeline,
            daemon: daemonSection(final, exit: exit, logLines: daemon.logLineCount()),
            load_average_start: OrNull(machine.loadAverageStart), load_average_end: OrNull(machine.loadAverageEnd),
            threads: machine.totals, longest_cpu_wait_ms: machine.longestWaitMs,
            cpu_stalls: machine.stalls.map { .init(at_s: $0.at_s, thread: $0.thread, ms: $0.ms) })
    }

    /// CPU seconds per million stored readings (nil when nothing was stored).
    static func perMillion(_ seconds: Double, _ readings: Int) -> Double? {
        readings > 0 ? (seconds / Double(readings) * 1e8).rounded() / 100 : nil
    }

    // MARK: Steps

    static func simulatorConfig(_ o: StressOptions, gatewayId: String, linkPath: String) -> GatewaySimulator.Config {
        var sc = GatewaySimulator.Config(sensors: o.sensors, ratePerSensor: o.ratePerSensor)
        sc.encoding = o.framing
        sc.gatewayId = gatewayId
        sc.seed = UInt64(Clock.wallMilliseconds())
        sc.linkPath = linkPath
        sc.durationSeconds = o.durationSeconds
        sc.misbehaving = true
        // So all three misbehaviours happen within the run, the silence included.
        sc.silentAfterSeconds = o.durationSeconds / 2
        sc.timeScale = 60
        sc.txBufferBytes = o.txBufferBytes
        // At the end (and at an unplug) the gateway waits this long for the host to read
        // its queue; generous, so a backlog after a database fault is read, not discarded.
        sc.drainTimeoutSeconds = 30
        if o.fault == .noise {
            sc.corruptFraction = 0.01
            sc.garbageFraction = 0.01
        }
        return sc
    }

    /// Waits for the gateway's boot (the daemon's PING reached it); returns its time.
    private static func waitUntilSending(_ sim: GatewaySimulator, daemon: DaemonProcess) throws -> UInt64 {
        let deadline = Clock.monotonicNanoseconds() + 30_000_000_000
        while sim.state != .running {
            if let e = daemon.poll() {
                throw ApplianceRunner.Failure("parklink run exited before the gateway booted (status \(e.shellStatus)); its log:\n\(daemon.logTail())")
            }
            if Clock.monotonicNanoseconds() > deadline {
                throw ApplianceRunner.Failure("the gateway did not boot within 30 s: parklink run never PINGed it; its log:\n\(daemon.logTail())")
            }
            Clock.sleep(milliseconds: 2)
        }
        return Clock.monotonicNanoseconds()
    }

    /// Polls the daemon until it has taken and committed what the gateway sent: nothing
    /// in flight, the sums balanced, and every reading that must arrive accepted (or, if
    /// some never come, nothing moving for 3 s). Returns the last status seen.
    private static func waitUntilCommitted(_ daemon: DaemonProcess, mustArrive: Int) throws -> (done: Bool, last: StatusSnapshot?) {
        let deadline = Clock.monotonicNanoseconds() + UInt64(settleTimeoutSeconds * 1e9)
        var last: StatusSnapshot?
        var quietSince: UInt64?
        var previous: (bytes: Int, committed: Int)?
        while Clock.monotonicNanoseconds() < deadline {
            if let s = daemon.status() {
                last = s
                let now = Clock.monotonicNanoseconds()
                let idle = s.accounting.in_flight == 0 && s.accounting.balanced
                if idle && s.link.readings >= mustArrive { return (true, s) }
                let moved = previous.map { $0 != (s.link.bytes, s.store.rows_committed) } ?? true
                previous = (s.link.bytes, s.store.rows_committed)
                if !idle || moved { quietSince = nil } else if quietSince == nil { quietSince = now }
                if let q = quietSince, now - q > 3_000_000_000 { return (true, s) }
            } else if daemon.poll() != nil {
                return (false, last)
            }
            if Signals.waitForTermination(timeoutMs: 100) != nil {
                throw ApplianceRunner.Failure("interrupted while the daemon was committing: nothing verified")
            }
        }
        return (false, last)
    }

    /// What the database check means for the run's verdict.
    static func verdict(_ v: StressVerifier.Result, fault: StressOptions.Fault, final: StatusSnapshot?,
                        machine: ThreadWatch.Summary) -> [String] {
        var f: [String] = []
        if v.emitted == 0 { f.append("the gateway emitted nothing") }
        if v.other > 0 {
            f.append("\(v.other) readings sent intact are not in the database (first boot/seq: \(v.missingExamples.prefix(5).joined(separator: ", ")))")
        }
        if v.unexpectedRows > 0 { f.append("\(v.unexpectedRows) rows in the database were never sent intact by the gateway") }
        if v.unknownBootRows > 0 { f.append("\(v.unknownBootRows) rows name a boot the gateway never had") }
        if v.duplicateRows > 0 { f.append("\(v.duplicateRows) readings are stored more than once") }
        if v.lost != v.lostSum { f.append("accounting does not add up: lost \(v.lost) but the reasons sum to \(v.lostSum)") }
        if fault == .none && v.lost > 0 {
            var why = "\(v.lost) readings lost with --fault none (gateway tx_dropped \(v.gatewayTxDropped), discarded in the gateway \(v.gatewayDiscarded), other \(v.other))"
            if let s = final {
                if s.ring.reader_waits > 0 {
                    why += ": the ring filled (\(s.ring.reader_waits) reader waits, \(s.ring.reader_wait_ms) ms): the writer did not keep up"
                } else if v.gatewayTxDropped > 0 {
                    why += ": the ring never filled (high-water \(s.ring.high_water) of \(s.ring.capacity)), so the writer kept up; the gateway's transmit buffer overflowed because the pty's bytes did not reach the reader in time: the reader, the gateway's thread (which then owes a burst) or the kernel worker that moves pty data was held off the CPU"
                }
            }
            if !machine.stalls.isEmpty {
                let worst = machine.longestWaitMs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) ms" }.joined(separator: ", ")
                why += " (\(machine.stalls.count) waits of 50 ms or more for a CPU; longest: \(worst); load average \(machine.loadAverageEnd.map { String(format: "%.1f", $0) } ?? "?") on \(ProcessInfo.processInfo.activeProcessorCount) CPUs)"
            }
            f.append(why)
        }
        return f
    }

    static func daemonSection(_ s: StatusSnapshot?, exit: DaemonProcess.Exit, logLines: Int) -> StressReport.Daemon {
        StressReport.Daemon(
            exit_code: exit.shellStatus, cpu_seconds: (exit.cpuSeconds * 100).rounded() / 100,
            peak_rss_mib: (Double(exit.peakRSSKiB) / 1024 * 10).rounded() / 10, log_lines: logLines,
            readings_accepted: s?.accounting.readings_accepted ?? 0, rows_committed: s?.store.rows_committed ?? 0,
            rows_duplicate: s?.store.rows_duplicate ?? 0, accounting_balanced: s?.accounting.balanced ?? false,
            store_connects: s?.store.connects ?? 0, store_retries: s?.store.retries ?? 0,
            store_last_error: s?.store.last_error,
            link_opens: s?.link.opens ?? 0, link_hangups: s?.link.hangups ?? 0, link_gaps: s?.link.gaps ?? 0,
            link_missing_readings: s?.link.missing_readings ?? 0, rejects: s?.link.rejects ?? [:],
            gateway_tx_dropped_reported: s?.link.gateway_tx_dropped ?? 0,
            ring_capacity: s?.ring.capacity ?? 0, ring_high_water: s?.ring.high_water ?? 0,
            reader_waits: s?.ring.reader_waits ?? 0, reader_wait_ms: s?.ring.reader_wait_ms ?? 0)
    }

    // MARK: Helpers

    /// This executable, so the daemon is the same build as the harness.
    static func selfExecutable() throws -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { throw ApplianceRunner.Failure("cannot find this executable (/proc/self/exe): \(String(cString: strerror(errno)))") }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func phase(_ state: GatewaySimulator.State, _ faults: FaultInjector) -> String {
        let s: String = switch state {
        case .running: ""
        case .waitingForHost: "gateway waiting for host"
        case .unplugged: "gateway unplugged"
        case .finishing: "gateway draining"
        case .created, .finished: ""
        }
        let last = faults.events.last.map { "t=\($0.at_s): \($0.what)" } ?? ""
        return [s, last].filter { !$0.isEmpty }.joined(separator: "  ")
    }

    private static func seconds(since ns: UInt64) -> Double {
        (Double(Clock.monotonicNanoseconds() &- ns) / 1e8).rounded() / 10
    }
}
