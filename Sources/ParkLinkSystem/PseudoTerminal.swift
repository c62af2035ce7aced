#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// A new pseudo-terminal pair, standing in for a gateway's USB serial port in the
/// simulator and the tests.
///
/// The follower is put in raw mode at once (a new pty is canonical with echo, which
/// would mangle binary frames and echo our PINGs back to us) and kept open, so the
/// controller does not see EIO in the moments no reader has it open.
public final class PseudoTerminal: Sendable {
    /// The gateway's end: what the simulator writes frames to.
    public let controller: FileDescriptor
    /// Held open only to keep the line configured; the appliance opens `followerPath` itself.
    public let followerKeeper: FileDescriptor
    /// The device path, e.g. `/dev/pts/7`.
    public let followerPath: String

    public init() throws(SystemError) {
        let fd = try syscall("posix_openpt") { parklink_posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC) }
        let controller = FileDescriptor(adopting: fd, label: "pty-controller")
        try syscall("grantpt") { parklink_grantpt(fd) }
        try syscall("unlockpt") { parklink_unlockpt(fd) }
        var name = [CChar](repeating: 0, count: 128)
        let rc = parklink_ptsname_r(fd, &name, name.count)
        if rc != 0 { throw SystemError(call: "ptsname_r", errno: rc) }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let keeper = try FileDescriptor.open(path, flags: O_RDWR | O_NOCTTY | O_NONBLOCK)
        try SerialPort.configureRaw(keeper, baud: nil)
        self.controller = controller
        self.followerKeeper = keeper
        self.followerPath = path
    }

    /// Bytes written to the controller that no reader of the follower has taken yet, or
    /// nil once the pty is closed (or the count fails). Exact when it reads 0; otherwise
    /// at least this many.
    ///
    /// `FIONREAD` alone counts only the line discipline's queue: bytes the controller
    /// wrote wait in the port's flip buffer until a kernel worker moves them, which on a
    /// busy machine takes milliseconds (measured here: 71% of 20,000 writes showed 0 right
    /// after the write). A `poll` on the follower that finds that queue empty first waits
    /// for the worker (`tty_buffer_flush_work` in `n_tty_poll`), so "nothing unread" is
    /// then true: 0 after none of the same 20,000 writes. A queue that is not empty skips
    /// that wait, and the flip buffer's bytes (up to ~22 KB) are then not in the count.
    public func unreadByFollower() -> Int? {
        guard followerKeeper.isOpen else { return nil }
        _ = try? Poll.wait([PollRequest(fd: followerKeeper.raw, events: Int16(POLLIN))], timeoutMs: 0)
        var count: Int32 = 0
        guard parklink_ioctl_fionread(followerKeeper.raw, &count) == 0 else { return nil }
        return Int(count)
    }

    /// Hangs up: the reader on the follower sees EIO/POLLHUP, as when a USB gateway is unplugged.
    public func close() {
        followerKeeper.close()
        controller.close()
    }
}
