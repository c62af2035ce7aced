#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock` on a lock file, shared or exclusive, between processes.
///
/// `flock` rather than `fcntl` locks: an `fcntl` lock belongs to the process and is lost
/// when any descriptor of the file is closed, while a `flock` belongs to the open file
/// description, so one process may hold it on one descriptor and a library closing
/// another cannot drop it. The descriptor is close-on-exec: a child (the private
/// `mariadbd`) never inherits the lock.
public final class FileLock: @unchecked Sendable {
    // @unchecked: used by its owner's thread only; `close` may be called once from there.
    public enum Mode: Sendable {
        case shared, exclusive
    }

    public let path: String
    private let descriptor: FileDescriptor

    /// Opens (creating, mode 0640) `path`; takes no lock yet.
    public init(path: String) throws(SystemError) {
        self.path = path
        descriptor = try FileDescriptor.open(path, flags: O_RDWR | O_CREAT, mode: 0o640)
    }

    /// Waits for the lock. Asking for the other mode while holding one converts it; Linux
    /// does that by releasing first, so it is not atomic.
    ///
    /// The corresponding C function is `flock`.
    public func lock(_ mode: Mode) throws(SystemError) {
        try syscall("flock(\(path))") { flock(descriptor.raw, mode == .shared ? LOCK_SH : LOCK_EX) }
    }

    /// Takes the lock if nobody holds a conflicting one; false if somebody does. A failed
    /// conversion leaves no lock held (Linux releases the old one first).
    ///
    /// The corresponding C function is `flock` with `LOCK_NB`.
    public func tryLock(_ mode: Mode) throws(SystemError) -> Bool {
        do throws(SystemError) {
            try syscall("flock(\(path))") { flock(descriptor.raw, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) }
            return true
        } catch {
            if error.errno == EWOULDBLOCK { return false }
            throw error
        }
    }

    /// The corresponding C function is `flock` with `LOCK_UN`.
    public func unlock() {
        _ = flock(descriptor.raw, LOCK_UN)
    }

    /// Closes the descriptor, which releases the lock.
    public func close() {
        descriptor.close()
    }
}
