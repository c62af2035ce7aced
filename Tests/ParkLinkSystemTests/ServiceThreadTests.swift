#if canImport(Glibc)
import Glibc
#endif
import ParkLinkSystem
import Testing

@Suite("Service thread")
struct ServiceThreadTests {
    /// A loop as the services write it: work, then wait (here a minute) until woken.
    private static func serviceLoop(_ service: ServiceThread, waits: Locked<Int>, ended: Locked<Bool>) {
        while !service.isStopping {
            waits.withLock { $0 += 1 }
            _ = try? service.wait(timeoutMs: 60_000)
        }
        ended.withLock { $0 = true }
    }

    /// Waits (at most 10 s) until `condition` holds.
    private static func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<10_000 {
            if condition() { return true }
            Clock.sleep(milliseconds: 1)
        }
        return condition()
    }

    @Test("stop wakes a thread blocked in wait, and returns once its body has returned")
    func stopWakesABlockedWait() throws {
        let service = try ServiceThread(name: "test-service")
        let waits = Locked(0), ended = Locked(false)
        service.start { Self.serviceLoop(service, waits: waits, ended: ended) }
        #expect(Self.eventually { waits.withLock { $0 } == 1 })
        Clock.sleep(milliseconds: 50)  // well inside its minute-long wait by now

        let started = Clock.monotonicNanoseconds()
        service.stop()
        let tookMs = (Clock.monotonicNanoseconds() - started) / 1_000_000

        #expect(ended.withLock { $0 }, "stop returned before the body did")
        #expect(tookMs < 5_000, "stop took \(tookMs) ms: the wait was not cut short")
        #expect(waits.withLock { $0 } == 1, "woken once, it saw the flag and left")
        #expect(service.isStopping)
    }

    @Test("stop twice is harmless, and so is stop from two threads at once")
    func stopIsIdempotent() throws {
        let service = try ServiceThread(name: "test-twice")
        let waits = Locked(0), ended = Locked(false)
        service.start { Self.serviceLoop(service, waits: waits, ended: ended) }
        #expect(Self.eventually { waits.withLock { $0 } == 1 })

        // Both callers return only once the body has returned; the thread is joined once.
        let other = Locked(false)
        let second = NamedThread(name: "test-stopper") {
            service.stop()
            other.withLock { $0 = ended.withLock { $0 } }
        }
        service.stop()
        #expect(ended.withLock { $0 })
        second.join()
        #expect(other.withLock { $0 }, "the other stop returned before the body did")

        service.stop()
        service.join()
        #expect(waits.withLock { $0 } == 1)
    }

    @Test("stop before start returns at once; a thread started after it sees the flag")
    func stopBeforeStart() throws {
        let service = try ServiceThread(name: "test-early")
        service.stop()
        #expect(service.isStopping)
        let waits = Locked(0), ended = Locked(false)
        service.start { Self.serviceLoop(service, waits: waits, ended: ended) }
        service.join()
        #expect(ended.withLock { $0 })
        #expect(waits.withLock { $0 } == 0)
    }

    @Test("the thread has the service's name")
    func threadIsNamed() throws {
        let service = try ServiceThread(name: "pl-test-named")
        let seen = Locked<String?>(nil)
        service.start {
            // What `top -H`, `gdb` and the stress harness's thread watch read.
            guard let comm = try? FileDescriptor.open("/proc/thread-self/comm", flags: O_RDONLY) else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = (try? buffer.withUnsafeMutableBytes { try comm.read(into: $0) }) ?? 0
            seen.withLock { $0 = String(decoding: buffer[0..<n], as: UTF8.self).trimmingSuffixNewline() }
        }
        service.join()
        #expect(service.name == "pl-test-named")
        #expect(seen.withLock { $0 } == "pl-test-named")
    }

    @Test("join waits for a body that ends by itself, without asking it to stop")
    func joinDoesNotStop() throws {
        let service = try ServiceThread(name: "test-errand")
        let sawStop = Locked<Bool?>(nil)
        service.start {
            Clock.sleep(milliseconds: 100)
            sawStop.withLock { $0 = service.isStopping }
        }
        service.join()
        #expect(sawStop.withLock { $0 } == false)
        #expect(!service.isStopping)
    }

    @Test("a wake before the wait is not lost, and is consumed by it")
    func wakeIsNeverLost() throws {
        let service = try ServiceThread(name: "test-wake")
        service.wake()
        service.wake()
        let first = try service.wait(timeoutMs: 10_000)
        #expect(first.woken)
        #expect(!first.timedOut)
        #expect(first.revents.isEmpty)
        let second = try service.wait(timeoutMs: 20)
        #expect(!second.woken, "both wakes were consumed by the first wait")
        #expect(second.timedOut)
    }

    @Test("wake cuts short the wait of the running thread, which goes on")
    func wakeWakesTheThread() throws {
        let service = try ServiceThread(name: "test-woken")
        let woken = Locked(0)
        service.start {
            while !service.isStopping {
                if (try? service.wait(timeoutMs: 60_000))?.woken == true { woken.withLock { $0 += 1 } }
            }
        }
        service.wake()
        #expect(Self.eventually { woken.withLock { $0 } >= 1 })
        #expect(!service.isStopping)
        service.stop()
    }

    @Test("wait reports which of its descriptors is ready, in order")
    func waitReportsDescriptors() throws {
        let service = try ServiceThread(name: "test-fds")
        let quiet = try WakePipe(), busy = try WakePipe()
        busy.wake()  // a byte to read
        let w = try service.wait(for: [
            PollRequest(fd: quiet.readEnd.raw, events: Int16(POLLIN)),
            PollRequest(fd: busy.readEnd.raw, events: Int16(POLLIN)),
        ], timeoutMs: 10_000)
        #expect(!w.woken)
        #expect(w.revents.count == 2)
        #expect(w[0] == 0)
        #expect(w[1] & Int16(POLLIN) != 0)
    }
}

private extension String {
    func trimmingSuffixNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}
