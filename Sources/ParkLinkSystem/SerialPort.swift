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

    /// Locks, opens and configures `path`: the lock file first (see `SerialLockFile`),
    /// then `open`, an exclusive `flock`, `TIOCEXCL` and raw mode. Whoever holds the device
    /// is named in the `inUse` error. The corresponding C functions are `open`,
    /// `flock(LOCK_EX)`, `ioctl(TIOCEXCL)`, `tcgetattr`, `cfmakeraw`, `cfsetspeed` and
    /// `tcsetattr`.
    public static func open(_ path: String, baud: UInt32,
                            lockFiles: SerialLockFile.Location = .conventional) throws(SerialPortError) -> OpenSerialPort {
        let lockFile: SerialLockFile?
        let skipped: String?
        switch try SerialLockFile.acquire(path, location: lockFiles) {
        case .locked(let l): (lockFile, skipped) = (l, nil)
        case .skipped(let why): (lockFile, skipped) = (nil, why)
        }
        do throws(SerialPortError) {
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(path, flags: O_RDWR | O_NOCTTY | O_NONBLOCK)
            } catch {
                // EBUSY: another (non-root) process set TIOCEXCL on it.
                throw error.errno == EBUSY ? .inUse(device: path, holder: DeviceHolder.flockHolder(of: path)) : .system(error)
            }
            do throws(SerialPortError) {
                // TIOCEXCL does not stop root; an exclusive flock on the open device does (it is
                // the convention serial tools honour), within this process too.
                do {
                    try syscall("flock(LOCK_EX, \(path))") { flock(fd.raw, LOCK_EX | LOCK_NB) }
                } catch {
                    // A holder with a lock file was found above: this one has none.
                    throw error.errno == EWOULDBLOCK ? .inUse(device: path, holder: DeviceHolder.flockHolder(of: path)) : .system(error)
                }
                do {
                    try syscall("ioctl(TIOCEXCL, \(path))") { parklink_ioctl_tiocexcl(fd.raw) }
                    try configureRaw(fd, baud: baud)
                } catch {
                    throw .system(error)
                }
            } catch {
                fd.close()
                throw error
            }
            return OpenSerialPort(path: path, descriptor: fd, lockFile: lockFile, lockFileSkipped: skipped)
        } catch {
            lockFile?.release()
            throw error
        }
    }

    /// What `probe` found: the device node, and whether it is a terminal.
    public struct Probe: Sendable, Equatable {
        public var status: FileStatus
        /// `tcgetattr` works on it (false for a character device that is not a tty, e.g. /dev/null).
        public var isTerminal: Bool
    }

    /// Checks what `open` would need, without taking the device or changing its settings:
    /// the node exists; no live process holds it (lock file, then `flock`); this user
    /// may open it for reading and writing. Opened only for that last check, and closed
    /// at once. For `parklink run --check`. The corresponding C functions are `stat`,
    /// `open` and `tcgetattr`.
    public static func probe(_ path: String, lockFiles: SerialLockFile.Location = .conventional) throws(SerialPortError) -> Probe {
        let status: FileStatus
        do {
            status = try FileSystem.status(path)
        } catch {
            throw .system(error)
        }
        guard status.kind == .characterDevice else { return Probe(status: status, isTerminal: false) }
        if let holder = SerialLockFile.holder(of: path, location: lockFiles) ?? DeviceHolder.flockHolder(of: path) {
            throw .inUse(device: path, holder: holder)
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, flags: O_RDWR | O_NOCTTY | O_NONBLOCK)
        } catch {
            throw error.errno == EBUSY ? .inUse(device: path, holder: nil) : .system(error)
        }
        defer { fd.close() }
        var t = termios()
        return Probe(status: status, isTerminal: tcgetattr(fd.raw, &t) == 0)
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

/// Why a serial device could not be opened.
public enum SerialPortError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process has it (its lock file or its `flock` says so); `holder` is nil when
    /// neither names it (a non-root holder's `TIOCEXCL` refused us).
    case inUse(device: String, holder: DeviceHolder?)
    /// A system call failed (no such device, permission denied…).
    case system(SystemError)

    /// The failed call's errno; nil for `inUse`.
    public var errno: Int32? {
        if case .system(let e) = self { return e.errno }
        return nil
    }

    public var description: String {
        switch self {
        case .inUse(let device, let holder?): "\(device) is in use by \(holder)"
        case .inUse(let device, nil): "\(device) is in use by another process"
        case .system(let e): e.description
        }
    }
}

/// An open serial device and the locks that make it ours; `close()` gives up all of
/// them: the descriptor (and with it the `flock`), then the lock file.
public final class OpenSerialPort: Sendable {
    public let path: String
    public let descriptor: FileDescriptor
    public let lockFile: SerialLockFile?
    /// Why there is no lock file (e.g. /run/lock is not writable), worth a debug line.
    public let lockFileSkipped: String?

    init(path: String, descriptor: FileDescriptor, lockFile: SerialLockFile?, lockFileSkipped: String?) {
        self.path = path
        self.descriptor = descriptor
        self.lockFile = lockFile
        self.lockFileSkipped = lockFileSkipped
    }

    deinit { close() }

    /// Closes the device, then removes the lock file; later calls do nothing.
    public func close() {
        descriptor.close()
        lockFile?.release()
    }
}
