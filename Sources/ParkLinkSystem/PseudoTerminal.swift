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

    /// Hangs up: the reader on the follower sees EIO/POLLHUP, as when a USB gateway is unplugged.
    public func close() {
        followerKeeper.close()
        controller.close()
    }
}
