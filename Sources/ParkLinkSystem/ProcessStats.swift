#if canImport(Glibc)
import Glibc
#endif

/// What the kernel says about processes, their threads and the machine, read from
/// /proc: CPU time, resident memory, run-queue waits, thread names, load.
///
/// For processes this one cannot `wait4` (the database server), has not reaped yet (the
/// daemon under stress), or is (the benchmark's pipeline, measuring its own threads).
/// Every reader returns nil (or nothing) when the process or thread has gone.
public enum ProcessStats {
    /// A thread: its id and its name (`comm`, at most 15 bytes; `NamedThread` sets it).
    public struct Thread: Sendable, Equatable {
        public var tid: pid_t
        public var name: String
        public init(tid: pid_t, name: String) {
            self.tid = tid
            self.name = name
        }
    }

    /// A thread's (or a single-threaded process's) time on a CPU and time runnable but
    /// waiting for one, from `schedstat`.
    public struct Scheduling: Sendable, Equatable {
        public var cpuNanoseconds: Double
        public var runQueueWaitNanoseconds: Double
        public init(cpuNanoseconds: Double, runQueueWaitNanoseconds: Double) {
            self.cpuNanoseconds = cpuNanoseconds
            self.runQueueWaitNanoseconds = runQueueWaitNanoseconds
        }
    }

    /// Resident memory now (`VmRSS`) and at its peak (`VmHWM`), KiB.
    public struct Memory: Sendable, Equatable {
        public var residentKiB: Int
        public var peakResidentKiB: Int
        public init(residentKiB: Int, peakResidentKiB: Int) {
            self.residentKiB = residentKiB
            self.peakResidentKiB = peakResidentKiB
        }
    }

    // MARK: Processes and threads

    /// User + system CPU seconds of `pid`, all its threads (`/proc/PID/stat`), in clock
    /// ticks (10 ms): fine over seconds.
    public static func cpuSeconds(pid: pid_t) -> Double? {
        cpuSeconds(statFile: "/proc/\(pid)/stat")
    }

    /// User + system CPU seconds of one thread of `pid` (`/proc/PID/task/TID/stat`).
    public static func cpuSeconds(pid: pid_t, thread tid: pid_t) -> Double? {
        cpuSeconds(statFile: "/proc/\(pid)/task/\(tid)/stat")
    }

    /// Resident memory of `pid` (`/proc/PID/status`); nil for a zombie or a kernel thread.
    public static func memory(pid: pid_t) -> Memory? {
        guard let text = read("/proc/\(pid)/status") else { return nil }
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kibibytes(line) }
            if line.hasPrefix("VmHWM:") { hwm = kibibytes(line) }
        }
        guard let rss, let hwm else { return nil }
        return Memory(residentKiB: rss, peakResidentKiB: hwm)
    }

    /// The name (`comm`) of `pid`.
    public static func name(pid: pid_t) -> String? {
        read("/proc/\(pid)/comm").map(trimmed)
    }

    /// The threads of `pid`, with their names.
    public static func threads(pid: pid_t) -> [Thread] {
        entries("/proc/\(pid)/task").compactMap { entry in
            guard let tid = pid_t(entry), let name = read("/proc/\(pid)/task/\(tid)/comm") else { return nil }
            return Thread(tid: tid, name: trimmed(name))
        }
    }

    /// The first thread of `pid` named `name`.
    public static func thread(named name: String, pid: pid_t) -> Thread? {
        threads(pid: pid).first { $0.name == name }
    }

    /// CPU time and run-queue wait of one thread of `pid` (`/proc/PID/task/TID/schedstat`).
    public static func scheduling(pid: pid_t, thread tid: pid_t) -> Scheduling? {
        scheduling(file: "/proc/\(pid)/task/\(tid)/schedstat")
    }

    /// The same for `pid` as a whole (`/proc/PID/schedstat`): for a kernel worker, its
    /// one thread.
    public static func scheduling(pid: pid_t) -> Scheduling? {
        scheduling(file: "/proc/\(pid)/schedstat")
    }

    /// Every process on the machine.
    public static func processIDs() -> [pid_t] {
        entries("/proc").compactMap { pid_t($0) }
    }

    // MARK: This process

    /// CPU seconds this process has used, all threads (`getrusage`, µs resolution).
    public static func ownCPUSeconds() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return seconds(u.ru_utime) + seconds(u.ru_stime)
    }

    public static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

    // MARK: The machine

    /// The 1-minute load average (`/proc/loadavg`).
    public static func loadAverage() -> Double? {
        read("/proc/loadavg")?.split(separator: " ").first.flatMap { Double($0) }
    }

    /// Busy CPU seconds of the whole machine so far, all cores (`/proc/stat`: user, nice,
    /// system, irq, softirq, steal; not idle or iowait).
    public static func machineBusySeconds() -> Double? {
        guard let line = read("/proc/stat")?.split(separator: "\n").first else { return nil }
        let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard v.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticksPerSecond
    }

    /// The CPU's model name (`/proc/cpuinfo`).
    public static func cpuModel() -> String? {
        guard let line = read("/proc/cpuinfo")?.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return nil }
        return trimmed(value)
    }

    /// The machine's memory (`MemTotal` in `/proc/meminfo`), KiB.
    public static func memoryTotalKiB() -> Int? {
        read("/proc/meminfo")?.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }.flatMap(kibibytes)
    }

    // MARK: Parsing

    private static var ticksPerSecond: Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? ticks : 100
    }

    /// utime + stime (fields 14 and 15) of a `stat` file, in seconds.
    private static func cpuSeconds(statFile: String) -> Double? {
        guard let text = read(statFile), let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ", fields start at 3 (state); utime is 14, stime 15. The name
        // may hold spaces and parentheses, hence the last ")".
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / ticksPerSecond
    }

    private static func scheduling(file: String) -> Scheduling? {
        guard let text = read(file) else { return nil }
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard f.count >= 2 else { return nil }
        return Scheduling(cpuNanoseconds: f[0], runQueueWaitNanoseconds: f[1])
    }

    /// The number of a "Name:   1234 kB" line.
    private static func kibibytes(_ line: Substring) -> Int? {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }

    private static func trimmed<S: StringProtocol>(_ s: S) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(s[first...last])
    }

    /// A /proc file's text (their size is 0 to `stat`: read until end of file).
    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n > 0 {
                bytes.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                return String(decoding: bytes, as: UTF8.self)
            } else if errno != EINTR {
                return nil
            }
        }
    }

    /// The names in a directory, without "." and "..".
    private static func entries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
