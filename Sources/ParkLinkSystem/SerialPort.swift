#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// Opens a serial device the way a gateway link needs it: raw 8N1, no flow control,
/// `O_NOCTTY` (the device must never become our controlling terminal), exclusive
/// (`TIOCEXCL`: a second reader would steal half of the frames), non-blocking (the
/// reader waits in `poll` with its wake pipe, never in `read`).
///
/// Works on `/dev/ttyACM*`, `/dev/ttyUSB*` and pseudo-terminals (which accept and
/// ignore the baud rate).
public enum SerialPort {
    /// Rates with a `Bnnn` constant; anything else goes through `termios2`/`BOTHER`.
    static let standardRates: [UInt32: speed_t] = [
        1200: speed_t(B1200), 2400: speed_t(B2400), 4800: speed_t(B4800), 9600: speed_t(B9600),
        19200: speed_t(B19200), 38400: speed_t(B38400), 57600: speed_t(B57600),
        115200: speed_t(B115200), 230400: speed_t(B230400), 460800: speed_t(B460800),
        500000: speed_t(B500000), 576000: speed_t(B576000), 921600: speed_t(B921600),
        1000000: speed_t(B1000000), 1152000: speed_t(B1152000), 1500000: speed_t(B1500000),
        2000000: speed_t(B2000000), 3000000: speed_t(B3000000), 4000000: speed_t(B4000000),
    ]

    /// Opens and configures `path`. The corresponding C functions are `open`,
    /// `ioctl(TIOCEXCL)`, `tcgetattr`, `cfmakeraw`, `cfsetspeed` and `tcsetattr`.
    public static func open(_ path: String, baud: UInt32) throws(SystemError) -> FileDescriptor {
        let fd = try FileDescriptor.open(path, flags: O_RDWR | O_NOCTTY | O_NONBLOCK)
        do {
            // TIOCEXCL does not stop root; an exclusive flock on the open device does (it is
            // the convention serial tools honour), within this process too.
            try syscall("flock(LOCK_EX, \(path))") { flock(fd.raw, LOCK_EX | LOCK_NB) }
            try syscall("ioctl(TIOCEXCL, \(path))") { parklink_ioctl_tiocexcl(fd.raw) }
            try configureRaw(fd, baud: baud)
        } catch {
            fd.close()
            throw error
        }
        return fd
    }

    /// Raw mode, 8 data bits, no parity, one stop bit, receiver on, modem lines ignored.
    public static func configureRaw(_ fd: FileDescriptor, baud: UInt32?) throws(SystemError) {
        var t = termios()
        try syscall("tcgetattr(\(fd.label))") { tcgetattr(fd.raw, &t) }
        cfmakeraw(&t)
        t.c_cflag &= ~(tcflag_t(PARENB) | tcflag_t(CSTOPB) | tcflag_t(CSIZE) | tcflag_t(CRTSCTS))
        t.c_cflag |= tcflag_t(CS8) | tcflag_t(CLOCAL) | tcflag_t(CREAD)
        t.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        var custom: UInt32?
        if let baud {
            if let speed = standardRates[baud] {
                try syscall("cfsetspeed(\(baud))") { cfsetspeed(&t, speed) }
            } else {
                custom = baud
            }
        }
        try syscall("tcsetattr(\(fd.label))") { tcsetattr(fd.raw, TCSANOW, &t) }
        if let custom {
            try syscall("ioctl(TCSETS2, \(custom) baud)") { parklink_set_custom_baud(fd.raw, custom) }
        }
    }
}
