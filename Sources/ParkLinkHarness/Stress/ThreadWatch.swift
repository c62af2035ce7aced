import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

/// Watches how long the threads that carry the readings wait for a CPU: the daemon's
/// reader and writer, the simulated gateway's thread here, and the kernel's unbound
/// workqueue threads (`kworker/u*`), which move a pty's bytes from the writer's side to
/// the reader's, 4 KiB at a time.
///
/// Every 10 ms it reads each thread's `/proc/PID/task/TID/schedstat` (run time, time
/// runnable but waiting for a CPU). The kernel adds a wait when it ends, so a jump in
/// the wait between two samples is one stall (or a few, back to back) of that length.
/// That tells a crowded machine from slow code: a gateway whose buffer holds ~50 ms
/// overflows when its own thread, or the daemon's reader, waits that long for a CPU,
/// whatever the code does.
final class ThreadWatch: @unchecked Sendable {
    // @unchecked: the state is locked; the rest is immutable or the `ServiceThread`.
    struct Stall: Sendable, Encodable {
        var at_s: Double
        var thread: String
        var ms: Double
    }

    struct Summary: Sendable {
        var totals: [String: ThreadTimes]
        /// The longest single wait per thread, ms.
        var longestWaitMs: [String: Double]
        /// Waits of 50 ms or more, in order (at most 100).
        var stalls: [Stall]
        var loadAverageStart: Double?
        var loadAverageEnd: Double?
    }

    private struct Watched {
        var name: String
        var pid: pid_t
        /// nil: the process as a whole (a kernel worker, one thread).
        var tid: pid_t?
        var lastWaitNs: Double?

        func sample() -> ProcessStats.Scheduling? {
            if let tid { ProcessStats.scheduling(pid: pid, thread: tid) } else { ProcessStats.scheduling(pid: pid) }
        }
    }

    private struct State {
        var watched: [Watched] = []
        var totals: [String: ThreadTimes] = [:]
        var longest: [String: Double] = [:]
        var stalls: [Stall] = []
    }

    private let daemonPid: Int32
    private let startNs: UInt64
    private let state = Locked(State())
    private let loadStart = ThreadWatch.loadAverage()
    private let service: ServiceThread

    /// Starts watching; times are seconds since `startNs` (when sending began).
    init(daemonPid: Int32, startNs: UInt64) throws {
        self.daemonPid = daemonPid
        self.startNs = startNs
        service = try ServiceThread(name: "pl-stress-watch")
        service.start { [self] in run() }
    }

    private func run() {
        var lastScan: UInt64 = 0
        while !service.isStopping {
            let now = Clock.monotonicNanoseconds()
            if now &- lastScan > 1_000_000_000 {
                rescan()
                lastScan = now
            }
            sample(now: now)
            _ = try? service.wait(timeoutMs: 10)
        }
    }

    /// Finds the threads (again: a thread may start late, and tids do not change).
    private func rescan() {
        var found: [Watched] = []
        for (pid, prefix, names) in [(daemonPid, "daemon/", ["pl-reader", "pl-writer"]), (getpid(), "gateway/", ["pl-simulator"])] {
            for t in ProcessStats.threads(pid: pid) where names.contains(t.name) {
                found.append(Watched(name: prefix + t.name, pid: pid, tid: t.tid))
            }
        }
        // The kernel's unbound workers: a pty's flip buffer is pushed to the reader's side
        // by one of them (`flush_to_ldisc`); which one varies, so all are watched as one.
        for pid in ProcessStats.processIDs() {
            guard let comm = ProcessStats.name(pid: pid), comm.hasPrefix("kworker/u") else { continue }
            found.append(Watched(name: "kernel/kworker-unbound", pid: pid, tid: nil))
        }
        state.withLock { s in
            for w in found where !s.watched.contains(where: { $0.pid == w.pid && $0.tid == w.tid }) { s.watched.append(w) }
        }
    }

    private func sample(now: UInt64) {
        let watched = state.withLock { $0.watched }
        var updates: [(Int, Double, Double)] = []
        for (i, w) in watched.enumerated() {
            if let s = w.sample() { updates.append((i, s.cpuNanoseconds, s.runQueueWaitNanoseconds)) }
        }
        let at = (Double(now &- startNs) / 1e8).rounded() / 10
        state.withLock { s in
            for (i, cpuNs, waitNs) in updates where i < s.watched.count {
                let name = s.watched[i].name
                if let last = s.watched[i].lastWaitNs {
                    let ms = (waitNs - last) / 1e6
                    if ms > s.longest[name, default: 0] { s.longest[name] = (ms * 10).rounded() / 10 }
                    if ms >= 50 && s.stalls.count < 100 { s.stalls.append(Stall(at_s: at, thread: name, ms: (ms * 10).rounded() / 10)) }
                }
                s.watched[i].lastWaitNs = waitNs
                if !name.hasPrefix("kernel/") { s.totals[name] = ThreadTimes(cpu_s: (cpuNs / 1e7).rounded() / 100, runqueue_wait_s: (waitNs / 1e7).rounded() / 100) }
            }
        }
    }

    /// Stops watching and says what it saw. Safe to call twice.
    func stop() -> Summary {
        service.stop()
        return state.withLock { s in
            Summary(totals: s.totals, longestWaitMs: s.longest, stalls: s.stalls,
                    loadAverageStart: loadStart, loadAverageEnd: Self.loadAverage())
        }
    }

    static func loadAverage() -> Double? { ProcessStats.loadAverage() }
}

/// One thread's CPU time and run-queue wait, seconds.
public struct ThreadTimes: Sendable, Encodable, Equatable {
    public var cpu_s: Double
    public var runqueue_wait_s: Double
}
