#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem
import Testing

@Suite("Child process")
struct ChildProcessTests {
    @Test("its output is collected, and readLine hands it out a line at a time, in order")
    func linesInOrder() throws {
        let child = try ChildProcess("sh", ["-c", "echo one; echo two; printf 'three'"])
        #expect(child.readLine(timeoutSeconds: 10) == "one")
        #expect(child.readLine(timeoutSeconds: 10) == "two")
        #expect(child.readLine(timeoutSeconds: 10) == nil, "no newline before the end: not a line")
        #expect(child.wait(timeoutSeconds: 10) == 0)
        #expect(child.output == "one\ntwo\nthree")
    }

    @Test("lines sent to its stdin reach it; closing stdin ends it")
    func inputRoundTrip() throws {
        let child = try ChildProcess("cat", [], standardInput: .pipe)
        #expect(child.send("hello"))
        #expect(child.readLine(timeoutSeconds: 10) == "hello")
        #expect(child.send("again"))
        #expect(child.readLine(timeoutSeconds: 10) == "again")
        child.closeInput()
        #expect(child.wait() == 0)
        #expect(!child.send("too late"))
    }

    @Test("stderr is discarded, merged into the output, as asked")
    func standardError() throws {
        let script = "echo out; echo err >&2"
        let discarded = try ChildProcess("sh", ["-c", script])
        #expect(discarded.wait(timeoutSeconds: 10) == 0)
        #expect(discarded.output == "out\n")
        let merged = try ChildProcess("sh", ["-c", script], standardError: .merge)
        #expect(merged.wait(timeoutSeconds: 10) == 0)
        #expect(merged.output == "out\nerr\n")
    }

    @Test("wait gives up after its time-out, and a signal's exit is 128 + the signal")
    func timeoutAndSignal() throws {
        let child = try ChildProcess("sleep", ["30"])
        #expect(child.poll() == nil)
        #expect(child.wait(timeoutSeconds: 0.1) == nil, "still running")
        child.signal(SIGKILL)
        #expect(child.wait(timeoutSeconds: 10) == 128 + SIGKILL)
        #expect(child.poll() == 128 + SIGKILL, "the exit is remembered")
    }

    @Test("the exit code and the environment given")
    func exitCodeAndEnvironment() throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo \"$PARKLINK_TEST\"; exit 3"], environment: ["PARKLINK_TEST=42"])
        #expect(child.wait(timeoutSeconds: 10) == 3)
        #expect(child.output == "42\n")
    }

    @Test("a program that does not exist is an error, not a child")
    func missingProgram() {
        #expect(throws: SystemError.self) { try ChildProcess("/nonexistent/parklink-test", []) }
    }

    @Test("readLine waits no longer than its time-out for a silent child")
    func readLineTimeout() throws {
        let child = try ChildProcess("sleep", ["30"])
        let started = Clock.monotonicNanoseconds()
        #expect(child.readLine(timeoutSeconds: 0.2) == nil)
        let ms = (Clock.monotonicNanoseconds() - started) / 1_000_000
        #expect(ms >= 150 && ms < 5_000, "\(ms) ms")
        child.signal(SIGKILL)
        _ = child.wait()
    }
}

@Suite("Process stats from /proc")
struct ProcessStatsTests {
    @Test("this process's threads are found by the names NamedThread gives them")
    func threadsByName() throws {
        let running = Locked(false), release = Locked(false)
        let thread = NamedThread(name: "pl-test-stats") {
            running.withLock { $0 = true }  // named by now: the name is set before the body runs
            while !release.withLock({ $0 }) { Clock.sleep(milliseconds: 1) }
        }
        defer {
            release.withLock { $0 = true }
            thread.join()
        }
        for _ in 0..<10_000 where !running.withLock({ $0 }) { Clock.sleep(milliseconds: 1) }
        let me = getpid()
        let found = try #require(ProcessStats.thread(named: "pl-test-stats", pid: me))
        #expect(ProcessStats.threads(pid: me).contains(found))
        let sched = try #require(ProcessStats.scheduling(pid: me, thread: found.tid))
        #expect(sched.cpuNanoseconds >= 0 && sched.runQueueWaitNanoseconds >= 0)
        #expect(ProcessStats.cpuSeconds(pid: me, thread: found.tid) != nil)
    }

    @Test("CPU time and memory of this process, and of one that is gone")
    func cpuAndMemory() throws {
        let me = getpid()
        var x = 0.0
        for i in 0..<5_000_000 { x += Double(i).squareRoot() }
        #expect(x > 0)
        #expect(try #require(ProcessStats.cpuSeconds(pid: me)) >= 0)
        #expect(ProcessStats.ownCPUSeconds() > 0)
        let memory = try #require(ProcessStats.memory(pid: me))
        #expect(memory.residentKiB > 0)
        #expect(memory.peakResidentKiB >= memory.residentKiB)
        #expect(ProcessStats.name(pid: me) != nil)
        #expect(ProcessStats.processIDs().contains(me))

        let gone = try ChildProcess("true", [])
        #expect(gone.wait(timeoutSeconds: 10) == 0)
        #expect(ProcessStats.cpuSeconds(pid: gone.pid) == nil)
        #expect(ProcessStats.memory(pid: gone.pid) == nil)
        #expect(ProcessStats.threads(pid: gone.pid).isEmpty)
    }

    @Test("the machine: load, busy time, CPU model, memory")
    func machine() {
        #expect((ProcessStats.loadAverage() ?? -1) >= 0)
        #expect((ProcessStats.machineBusySeconds() ?? 0) > 0)
        #expect((ProcessStats.memoryTotalKiB() ?? 0) > 0)
        #expect(ProcessStats.cpuModel() != nil)
    }
}
