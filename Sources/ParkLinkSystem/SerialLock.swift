#if canImport(Glibc)
import Glibc
#endif

/// The process holding a serial device, as the lock file or the kernel's lock table
/// names it.
public struct DeviceHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: pid_t
    /// Its `comm` (e.g. `parklink`, `minicom`), when /proc shows it.
    public var name: String?
    /// How we know: the lock file's path, or `/proc/locks`.
    public var source: String

    public init(pid: pid_t, name: String?, source: String) {
        self.pid = pid
        self.name = name
        self.source = source
    }

    init(pid: pid_t, source: String) {
        self.init(pid: pid, name: ProcessStats.name(pid: pid), source: source)
    }

    public var description: String {
        "pid \(pid)" + (name.map { " (\($0))" } ?? "") + ", per \(source)"
    }

    /// Whether `pid` names a process that exists (one we may not signal exists too).
    /// The corresponding C function is `kill(pid, 0)`.
    static func isAlive(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// The holder of an exclusive `flock` on `path`, from `/proc/locks` (which names a
    /// lock by its file system and inode): how a holder without a lock file is found.
    static func flockHolder(of path: String) -> DeviceHolder? {
        guard let st = try? FileSystem.status(path),
              let bytes = FileSystem.contents(of: "/proc/locks") else { return nil }
        // glibc's major()/minor() are macros Swift cannot see: the same arithmetic.
        let dev = UInt64(st.device)
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
        let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
        // "1: FLOCK  ADVISORY  WRITE 4242 00:19:5 0 EOF"; waiters have "->" after the number.
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = pid_t(fields[4]) else { continue }
            let id = fields[5].split(separator: ":")
            guard id.count == 3, UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor,
                  UInt64(id[2]) == UInt64(st.inode) else { continue }
            return DeviceHolder(pid: pid, source: "/proc/locks")
        }
        return nil
    }
}

/// The UUCP lock file that serial programs agree on (minicom, picocom, cu, ModemManager):
/// `/run/lock/LCK..ttyACM0`, holding the owner's pid as ten ASCII characters and a
/// newline, created with `O_EXCL`, removed when the device is closed.
///
/// The exclusive `flock` on the open device is what keeps a second reader out, even a
/// root one; the lock file is the convention other programs check before they open the
/// device at all, and the place that names the holder, so that "in use" can say by whom.
/// A file whose pid is not alive is stale (its owner crashed) and is removed. Two
/// processes removing the same stale file at once can leave one of them without a lock
/// file: the `flock` still decides which of them gets the device.
public final class SerialLockFile: Sendable {
    /// Where the lock files go.
    public enum Location: Sendable, Equatable {
        /// `/run/lock`, else `/var/lock`: where the other serial programs look.
        case conventional
        /// Another directory (tests).
        case directory(String)
        /// No lock file: the `flock` alone.
        case none
    }

    /// The first of these that is a directory holds the lock files.
    public static let conventionalDirectories = ["/run/lock", "/var/lock"]

    public let path: String
    private let released = Locked(false)

    private init(path: String) {
        self.path = path
    }

    deinit { release() }

    /// Lock files this process holds. One naming our own pid is held only if it is listed
    /// here; otherwise an earlier process with the same pid left it (a restarted
    /// container's pid 1), and it is stale.
    private static let heldHere = Locked<Set<String>>([])

    /// The directory `location` means, or nil when there is none.
    public static func directory(_ location: Location) -> String? {
        switch location {
        case .conventional:
            return conventionalDirectories.first { (try? FileSystem.status($0).kind) == .directory }
        case .directory(let d):
            return d
        case .none:
            return nil
        }
    }

    /// The lock file of `device` in `directory`: `LCK..` and the name of the device node
    /// the path leads to (symbolic links followed, as `/dev/parklink-gateway` from udev is
    /// one), relative to `/dev` with `/` as `_`: `LCK..ttyACM0` as minicom and picocom name
    /// it, `LCK..pts_3` for a pseudo-terminal. Two links with the same last component in
    /// different directories must not share a lock, and one device reached by two paths must.
    public static func path(for device: String, in directory: String) -> String {
        var target = FileSystem.resolvedPath(device) ?? device
        if target.hasPrefix("/dev/") { target.removeFirst(5) } else { target = FileSystem.baseName(target) }
        return directory + "/LCK.." + target.split(separator: "/").joined(separator: "_")
    }

    /// The ten-character form: the pid right-aligned in ten columns, then a newline.
    static func contents(pid: pid_t) -> String {
        let digits = String(pid)
        return String(repeating: " ", count: max(0, 10 - digits.count)) + digits + "\n"
    }

    /// The pid a lock file holds: the ten-character ASCII form, or the old 4-byte binary one.
    static func pid(in bytes: [UInt8]) -> pid_t? {
        if bytes.count == 4, !bytes.allSatisfy({ $0 == 0x20 || (0x30...0x39).contains($0) || $0 == 0x0a }) {
            return bytes.withUnsafeBytes { $0.loadUnaligned(as: pid_t.self) }
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
        return pid_t(text)
    }

    /// The live process a lock file names, if any (this process too, for a file it holds).
    public static func holder(of device: String, location: Location = .conventional) -> DeviceHolder? {
        guard let directory = directory(location) else { return nil }
        return liveHolder(path(for: device, in: directory))
    }

    private static func liveHolder(_ path: String) -> DeviceHolder? {
        guard let bytes = FileSystem.contents(of: path, limit: 64), let pid = pid(in: bytes) else { return nil }
        if pid == getpid() {
            return heldHere.withLock { $0.contains(path) } ? DeviceHolder(pid: pid, source: path) : nil
        }
        return DeviceHolder.isAlive(pid) ? DeviceHolder(pid: pid, source: path) : nil
    }

    /// What `acquire` did.
    public enum Outcome: Sendable {
        case locked(SerialLockFile)
        /// No lock file, and why (e.g. the directory is not writable): the `flock` alone
        /// protects the device.
        case skipped(String)
    }

    /// Creates the lock file of `device`, removing a stale one first. Throws `inUse` when
    /// a live process holds it.
    public static func acquire(_ device: String, location: Location = .conventional) throws(SerialPortError) -> Outcome {
        guard let directory = directory(location) else {
            return .skipped(location == .none ? "lock files are off" : "no \(conventionalDirectories.joined(separator: " or "))")
        }
        let path = path(for: device, in: directory)
        let mine = contents(pid: getpid())
        for _ in 0..<5 {
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(path, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
            } catch where error.errno == EEXIST {
                var holder = liveHolder(path)
                if holder == nil, let bytes = FileSystem.contents(of: path, limit: 64), pid(in: bytes) == nil {
                    // Empty or garbled: perhaps created a moment ago and not yet written.
                    Clock.sleep(milliseconds: 20)
                    holder = liveHolder(path)
                }
                if let holder { throw .inUse(device: device, holder: holder) }
                do {
                    try FileSystem.remove(path)
                } catch where error.errno == ENOENT {
                    // Someone else removed it first: try again.
                } catch {
                    return .skipped("cannot remove the stale \(path): \(error)")
                }
                continue
            } catch {
                return .skipped("cannot create \(path): \(error)")
            }
            defer { fd.close() }
            do {
                try fd.writeAll(Array(mine.utf8))
            } catch {
                try? FileSystem.remove(path)
                return .skipped("cannot write \(path): \(error)")
            }
            heldHere.withLock { _ = $0.insert(path) }
            return .locked(SerialLockFile(path: path))
        }
        return .skipped("\(path) kept reappearing while its stale copies were removed")
    }

    /// Removes the lock file (once; later calls do nothing).
    public func release() {
        let first = released.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        // Only ours: another process may have replaced a file we were told was stale.
        if let bytes = FileSystem.contents(of: path, limit: 64), Self.pid(in: bytes) == getpid() {
            try? FileSystem.remove(path)
        }
        Self.heldHere.withLock { _ = $0.remove(path) }
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 || $0 == 0 }
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
