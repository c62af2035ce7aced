#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with condition variables on `CLOCK_MONOTONIC`.
///
/// `Synchronization.Mutex` has no condition variable, and `NSCondition` measured ~40%
/// slower here (PLATFORM-NOTES). Heap-allocated because a pthread mutex must not move.
public final class ConditionLock: @unchecked Sendable {
    // @unchecked: all state is the pthread objects, which are thread-safe by contract.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let conditionCount: Int

    /// - Parameter conditions: how many independent condition variables share the mutex
    ///   (the ring has two: "not empty" for the writer, "not full" for the reader).
    public init(conditions count: Int = 1) {
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        #if DEBUG
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ERRORCHECK))
        #endif
        precondition(pthread_mutex_init(mutex, &attr) == 0)
        pthread_mutexattr_destroy(&attr)

        conditionCount = count
        conditions = .allocate(capacity: count)
        var cattr = pthread_condattr_t()
        pthread_condattr_init(&cattr)
        pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC)
        for i in 0..<count { precondition(pthread_cond_init(conditions + i, &cattr) == 0) }
        pthread_condattr_destroy(&cattr)
    }

    deinit {
        for i in 0..<conditionCount { pthread_cond_destroy(conditions + i) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    public func lock() {
        let rc = pthread_mutex_lock(mutex)
        precondition(rc == 0, "pthread_mutex_lock: \(rc)")
    }

    @inline(__always)
    public func unlock() {
        let rc = pthread_mutex_unlock(mutex)
        precondition(rc == 0, "pthread_mutex_unlock: \(rc)")
    }

    /// Takes the lock only if nobody holds it: for a thread that must never wait (the
    /// reader taking its downlink commands). The corresponding C function is
    /// `pthread_mutex_trylock`.
    @inline(__always)
    public func tryLock() -> Bool {
        let rc = pthread_mutex_trylock(mutex)
        precondition(rc == 0 || rc == EBUSY, "pthread_mutex_trylock: \(rc)")
        return rc == 0
    }

    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits on condition `index`; the lock must be held. Spurious wake-ups happen: loop.
    public func wait(_ index: Int = 0) {
        let rc = pthread_cond_wait(conditions + index, mutex)
        precondition(rc == 0, "pthread_cond_wait: \(rc)")
    }

    /// Waits at most `milliseconds`; returns false on time-out. The lock must be held.
    @discardableResult
    public func wait(_ index: Int = 0, milliseconds: Int) -> Bool {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let ns = Int(ts.tv_nsec) + (milliseconds % 1000) * 1_000_000
        ts.tv_sec += milliseconds / 1000 + ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        let rc = pthread_cond_timedwait(conditions + index, mutex, &ts)
        precondition(rc == 0 || rc == ETIMEDOUT, "pthread_cond_timedwait: \(rc)")
        return rc == 0
    }

    public func signal(_ index: Int = 0) { pthread_cond_signal(conditions + index) }
    public func broadcast(_ index: Int = 0) { pthread_cond_broadcast(conditions + index) }
}

/// A value guarded by a lock, so the data cannot be touched without it.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var value: Value
    public init(_ value: Value) { self.value = value }
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
