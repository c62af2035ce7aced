#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// An owned file descriptor, closed exactly once.
///
/// A class, not a struct like swift-system's, because the appliance hands descriptors
/// between threads and must never close one twice or leak one on an error path.
public final class FileDescriptor: @unchecked Sendable {
    // @unchecked: `raw` is written only by `close()`, which callers invoke from the owning
    // thread after the other users have stopped (see SerialPort and the reader thread).
    public private(set) var raw: Int32
    public let label: String

    public init(adopting raw: Int32, label: String) {
        self.raw = raw
        self.label = label
    }

    deinit {
        if raw >= 0 { Glibc.close(raw) }
    }

    public var isOpen: Bool { raw >= 0 }

    /// Opens `path`. The corresponding C function is `open`.
    public static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> FileDescriptor {
        let fd = try syscall("open(\(path))") { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(adopting: fd, label: path)
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file. The corresponding C function is `read`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try syscall("read(\(label))") { Glibc.read(raw, buffer.baseAddress, buffer.count) }
    }

    /// Writes some of `bytes`; returns how many. The corresponding C function is `write`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        try syscall("write(\(label))") { Glibc.write(raw, bytes.baseAddress, bytes.count) }
    }

    /// Writes all of `bytes`, waiting with `poll` when the descriptor is non-blocking.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            do throws(SystemError) {
                offset += try write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            } catch {
                guard error.errno == EAGAIN else { throw error }
                _ = try Poll.wait([PollRequest(fd: raw, events: Int16(POLLOUT))], timeoutMs: 1000)
            }
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { p in try writeAll(p) }
    }

    public func setNonBlocking(_ on: Bool) throws(SystemError) {
        let flags = try syscall("fcntl(F_GETFL)") { fcntl(raw, F_GETFL) }
        let new = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        try syscall("fcntl(F_SETFL)") { fcntl(raw, F_SETFL, new) }
    }

    /// Closes the descriptor; later calls do nothing. Never retried on EINTR (Linux
    /// releases the descriptor even then). The corresponding C function is `close`.
    public func close() {
        guard raw >= 0 else { return }
        let fd = raw
        raw = -1
        Glibc.close(fd)
    }
}

public struct PollRequest: Sendable {
    public var fd: Int32
    public var events: Int16
    public init(fd: Int32, events: Int16) {
        self.fd = fd
        self.events = events
    }
}

public enum Poll {
    /// Waits for any of `requests`; returns `revents` per request, in order.
    /// The corresponding C function is `poll`.
    public static func wait(_ requests: [PollRequest], timeoutMs: Int32) throws(SystemError) -> [Int16] {
        var fds = requests.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
        _ = try syscall("poll") { Glibc.poll(&fds, nfds_t(fds.count), timeoutMs) }
        return fds.map(\.revents)
    }
}

/// A pipe used to wake a thread blocked in `poll`: closing a descriptor another thread
/// is reading is a race, writing a byte to this is not.
public final class WakePipe: Sendable {
    public let readEnd: FileDescriptor
    public let writeEnd: FileDescriptor

    public init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe2") { parklink_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) }
        readEnd = FileDescriptor(adopting: fds[0], label: "wake-pipe-r")
        writeEnd = FileDescriptor(adopting: fds[1], label: "wake-pipe-w")
    }

    public func wake() {
        var b: UInt8 = 1
        _ = Glibc.write(writeEnd.raw, &b, 1)
    }

    public func drain() {
        var buf = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readEnd.raw, &buf, buf.count) > 0 {}
    }
}
