import ParkLinkDaemon
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel says about a running process: CPU time and peak resident memory,
/// read from /proc, for processes this one cannot `wait4` (the database server) or has
/// not reaped yet.
enum ProcessStats {
    /// User + system CPU seconds of `pid` (fields 14 and 15 of /proc/PID/stat).
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ", fields start at 3 (state); utime is 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (u + s) / (ticks > 0 ? ticks : 100)
    }

    /// The peak resident set (`VmHWM`) of `pid` in KiB.
    static func peakRSSKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }

    /// CPU seconds this process has used (the harness and the simulator's thread).
    static func ownCPUSeconds() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return seconds(u.ru_utime) + seconds(u.ru_stime)
    }

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
}

/// One thread's CPU time and run-queue wait, seconds.
public struct ThreadTimes: Sendable, Encodable, Equatable {
    public var cpu_s: Double
    public var runqueue_wait_s: Double
}
