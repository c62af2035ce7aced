import ParkLinkDaemon
import Foundation
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

/// `parklink run` as a separate process, as in the field: spawned from this very
/// executable, in its own process group (a Ctrl-C at the terminal reaches the harness,
/// which then stops things in order), its log in a file (stdout stays the report's),
/// stopped with SIGTERM, and reaped with `wait4` for its CPU time and peak memory.
///
/// Used from one thread (the harness's main loop).
public final class DaemonProcess {
    /// How the process ended and what it used.
    public struct Exit: Sendable {
        /// The exit code, or nil if a signal ended it.
        public var code: Int32?
        public var signal: Int32?
        /// User + system CPU seconds (`ru_utime + ru_stime`).
        public var cpuSeconds: Double
        /// Peak resident set (`ru_maxrss`), KiB.
        public var peakRSSKiB: Int

        /// The shell's convention: the code, or 128 + the signal.
        public var shellStatus: Int32 { code ?? (128 + (signal ?? 0)) }
    }

    public let pid: pid_t
    public let statusSocket: String
    public let logPath: String
    private(set) public var exit: Exit?
    /// The last /proc sample, in case the process is gone before `wait4` could say.
    private var lastPeakRSSKiB = 0

    /// Spawns `executable arguments…` with `environment` added to ours.
    public init(executable: String, arguments: [String], environment extra: [String: String],
                statusSocket: String, logPath: String) throws {
        self.statusSocket = statusSocket
        self.logPath = logPath
        // Nothing else of ours may reach the daemon: not the gateway's pty, not our sockets.
        InheritedDescriptors.closeOnExec()
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        let envStrings = env.map { "\($0.key)=\($0.value)" }

        do {
            pid = try BackgroundProcess.spawn(executable, arguments, environment: envStrings, log: logPath,
                                              truncateLog: true, detach: .processGroup)
        } catch {
            throw ApplianceRunner.Failure("could not start \(executable) run: \(error)")
        }
    }

    deinit {
        if exit == nil { _ = kill() }
    }

    /// Reaps the process if it has ended (never blocks); its exit, or nil while it runs.
    @discardableResult
    public func poll() -> Exit? {
        if let exit { return exit }
        if let hwm = ProcessStats.memory(pid: pid)?.peakResidentKiB { lastPeakRSSKiB = max(lastPeakRSSKiB, hwm) }
        var status: Int32 = 0
        var usage = rusage()
        let r = wait4(pid, &status, WNOHANG, &usage)
        guard r == pid else { return nil }
        let signal = status & 0x7f
        let e = Exit(
            code: signal == 0 ? (status >> 8) & 0xff : nil,
            signal: signal == 0 ? nil : signal,
            cpuSeconds: ProcessStats.seconds(usage.ru_utime) + ProcessStats.seconds(usage.ru_stime),
            peakRSSKiB: max(usage.ru_maxrss, lastPeakRSSKiB))
        exit = e
        return e
    }

    /// Waits until the daemon answers on its status socket. Throws, with the log's tail,
    /// if it exits first or stays silent past `timeoutSeconds`.
    public func waitUntilAnswering(timeoutSeconds: Double) throws {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while status() == nil {
            if let e = poll() {
                throw ApplianceRunner.Failure("parklink run exited during start-up (status \(e.shellStatus)); its log:\n\(logTail())")
            }
            if Clock.monotonicNanoseconds() > deadline {
                throw ApplianceRunner.Failure("parklink run did not answer on \(statusSocket) within \(Int(timeoutSeconds)) s; its log:\n\(logTail())")
            }
            Clock.sleep(milliseconds: 50)
        }
    }

    /// The daemon's status, or nil if it does not answer.
    public func status() -> StatusSnapshot? {
        try? StatusClient.status(socket: statusSocket, timeoutMs: 2_000)
    }

    /// SIGTERM, then waits up to `timeoutSeconds` for the drain and exit; SIGKILL after.
    public func terminate(timeoutSeconds: Double) -> Exit {
        if let exit { return exit }
        Glibc.kill(pid, SIGTERM)
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if let e = poll() { return e }
            Clock.sleep(milliseconds: 20)
        }
        return kill()
    }

    /// SIGKILL and reap: the daemon must never outlive the harness.
    @discardableResult
    public func kill() -> Exit {
        if let exit { return exit }
        Glibc.kill(pid, SIGKILL)
        while true {
            if let e = poll() { return e }
            Clock.sleep(milliseconds: 10)
        }
    }

    /// The last lines of the daemon's log.
    public func logTail(bytes: Int = 3_000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath), !data.isEmpty else { return "(empty log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }

    /// Log lines at warning level or above (the daemon runs with `--log-level warning`,
    /// so that is every line), for the report.
    public func logLineCount() -> Int {
        guard let data = FileManager.default.contents(atPath: logPath) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
