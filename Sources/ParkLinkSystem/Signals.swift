#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT/SIGTERM into an ordinary wait, instead of handlers that may run on any
/// thread in the middle of anything.
///
/// `blockTermination()` must run on the main thread before any other thread starts
/// (threads inherit the mask, so the signals stay pending for `waitForTermination`).
public enum Signals {
    public static func blockTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A technician's terminal closing must not kill the writer mid-commit.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits for SIGINT, SIGTERM or SIGHUP, or until `timeoutMs` (nil: for ever).
    /// Returns the signal, or nil on time-out.
    public static func waitForTermination(timeoutMs: Int? = nil) -> Int32? {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        if let timeoutMs {
            var ts = timespec(tv_sec: timeoutMs / 1000, tv_nsec: (timeoutMs % 1000) * 1_000_000)
            while true {
                let s = sigtimedwait(&set, nil, &ts)
                if s > 0 { return s }
                if errno == EAGAIN { return nil }
            }
        }
        var sig: Int32 = 0
        while sigwait(&set, &sig) != 0 {}
        return sig
    }
}
