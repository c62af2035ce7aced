#if canImport(Glibc)
import Glibc
#endif

/// A long-lived service thread: its name, its stop flag, its wake pipe and the thread,
/// started once and stopped once.
///
/// The reader, the sampler, the status socket, the simulated gateway and the stress
/// harness's thread watch all run the same loop: do some work, wait in `poll` on their
/// own descriptors and a wake pipe (with a time-out), until asked to stop. This is that
/// loop's frame:
///
///     let service = try ServiceThread(name: "pl-sampler")
///     service.start { [self] in
///         while !service.isStopping {
///             work()
///             _ = try? service.wait(timeoutMs: 5_000)    // or until `wake()`/`stop()`
///         }
///     }
///     ...
///     service.stop()   // sets the flag, wakes the thread, joins it
///
/// A wake can never be lost: `wake()` writes a byte to the pipe, so a `wait` that starts
/// after it returns at once. `stop()` sets the flag before it wakes, so a loop that
/// checks `isStopping` after every `wait` sees it.
///
/// A thread that waits on something else than a descriptor (the writer waits in the
/// ring's condition variable and stops when the ring is closed) uses `NamedThread`.
public final class ServiceThread: @unchecked Sendable {
    // @unchecked: `phase` and `stopping` are guarded by `lock`; the rest is immutable or
    // thread-safe (the pipe).

    /// What one `wait` saw.
    public struct Wakeup: Sendable {
        /// `revents` of each descriptor asked for, in order (0: nothing happened to it).
        public var revents: [Int16]
        /// `wake()` or `stop()` was called (the pending wakes are consumed).
        public var woken: Bool

        /// `revents` of the descriptor asked for at `index`.
        public subscript(index: Int) -> Int16 { revents[index] }

        /// Neither a descriptor nor a wake: the time-out passed.
        public var timedOut: Bool { !woken && revents.allSatisfy { $0 == 0 } }
    }

    private enum Phase {
        case created
        case running(NamedThread)
        /// Some caller is in `pthread_join`; other callers of `join` wait for it.
        case joining
        case joined
    }

    /// The thread's name (at most 15 bytes reach the kernel: `top -H`, `gdb`, /proc).
    public let name: String
    private let pipe: WakePipe
    private let lock = ConditionLock()
    private var phase = Phase.created
    private var stopping = false

    /// Creates the wake pipe; the thread starts with `start`.
    public init(name: String) throws(SystemError) {
        self.name = name
        pipe = try WakePipe()
    }

    /// Starts the thread running `body`. Call once.
    public func start(_ body: @escaping @Sendable () -> Void) {
        lock.withLock {
            guard case .created = phase else { preconditionFailure("ServiceThread(\(name)).start() called twice") }
            phase = .running(NamedThread(name: name, body))
        }
    }

    /// Whether `stop()` or `requestStop()` was called. The body checks it between waits
    /// and returns when it is true.
    public var isStopping: Bool { lock.withLock { stopping } }

    /// Makes the thread's current or next `wait` return (new work for it: a command
    /// queued, an acknowledgement to write). From any thread.
    public func wake() { pipe.wake() }

    /// Waits until one of `requests` is ready, `wake()` or `stop()` is called, or
    /// `timeoutMs` passes (-1: no time-out). Consumes the pending wakes. Call from the
    /// service's own thread. The corresponding C function is `poll`.
    public func wait(for requests: [PollRequest] = [], timeoutMs: Int32) throws(SystemError) -> Wakeup {
        let n = requests.count
        // The pollfd array on the stack: the reader and the simulator wait every few ms.
        let result = withUnsafeTemporaryAllocation(of: pollfd.self, capacity: n + 1) { fds -> Result<Wakeup, SystemError> in
            for (i, r) in requests.enumerated() { fds[i] = pollfd(fd: r.fd, events: r.events, revents: 0) }
            fds[n] = pollfd(fd: pipe.readEnd.raw, events: Int16(POLLIN), revents: 0)
            do throws(SystemError) {
                try syscall("poll") { Glibc.poll(fds.baseAddress, nfds_t(n + 1), timeoutMs) }
            } catch {
                return .failure(error)
            }
            let woken = fds[n].revents != 0
            if woken { pipe.drain() }
            return .success(Wakeup(revents: n == 0 ? [] : (0..<n).map { fds[$0].revents }, woken: woken))
        }
        return try result.get()
    }

    /// Asks the thread to stop and returns at once: sets the flag, then wakes it. Safe
    /// from any thread, any number of times.
    public func requestStop() {
        lock.withLock { stopping = true }
        pipe.wake()
    }

    /// Waits for the body to return, without asking it to (a run with an end of its own;
    /// `stop()` asks first). Returns at once if the thread was never started. Safe from
    /// several threads: the thread is joined exactly once, and every caller returns only
    /// once it has ended.
    public func join() {
        lock.lock()
        while true {
            switch phase {
            case .created, .joined:
                lock.unlock()
                return
            case .joining:
                lock.wait()
            case .running(let thread):
                phase = .joining
                lock.unlock()
                thread.join()
                lock.withLock {
                    phase = .joined
                    lock.broadcast()
                }
                return
            }
        }
    }

    /// Sets the stop flag, wakes the thread, and returns when it has finished. A second
    /// call (or one before `start`) does nothing more.
    public func stop() {
        requestStop()
        join()
    }
}
