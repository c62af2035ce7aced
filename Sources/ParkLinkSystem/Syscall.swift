#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: the call's name and its `errno`.
///
/// EBADF and EFAULT are programming errors (a descriptor used after close, a bad
/// pointer), so `syscall` traps on them instead of throwing.
public struct SystemError: Error, Sendable, CustomStringConvertible, Equatable {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs a system call, retrying on EINTR, and turns `-1` + errno into `SystemError`.
@inline(__always)
@discardableResult
public func syscall<T: FixedWidthInteger>(
    _ name: @autoclosure () -> String,
    retryOnInterrupt: Bool = true,
    _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let err = Glibc.errno
        if err == EINTR && retryOnInterrupt { continue }
        precondition(err != EBADF && err != EFAULT, "\(name()) failed with \(err): a bug, not a runtime condition")
        throw SystemError(call: name(), errno: err)
    }
}

/// Wall-clock and monotonic time without Foundation, for the hot paths.
public enum Clock {
    /// Milliseconds since the Unix epoch (UTC).
    @inline(__always)
    public static func wallMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Nanoseconds on the monotonic clock: for intervals, immune to clock steps.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
