// What the steps cost, from /proc, and the markdown report.

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
func pipelineThreadsCPU() -> (reader: Double, writer: Double, byName: [String: Double]) {
    var byName: [String: Double] = [:]
    let me = getpid()
    for t in ProcessStats.threads(pid: me) {
        guard let cpu = ProcessStats.cpuSeconds(pid: me, thread: t.tid) else { continue }
        byName[t.name.hasPrefix("pl-") ? t.name : "other", default: 0] += cpu
    }
    return (byName["pl-reader"] ?? 0, byName["pl-writer"] ?? 0, byName)
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
