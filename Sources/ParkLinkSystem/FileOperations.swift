#if canImport(Glibc)
import Glibc
#endif

/// The file calls the spool needs: positioned reads, truncation, durability, sizes, and
/// directory listing. Thin wrappers: errno becomes `SystemError`.
extension FileDescriptor {
    /// Reads up to `buffer.count` bytes at `offset` without moving the file position.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        try syscall("pread(\(label))") { Glibc.pread(raw, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Cuts the file to `size` bytes. The corresponding C function is `ftruncate`.
    public func truncate(to size: Int64) throws(SystemError) {
        try syscall("ftruncate(\(label))") { Glibc.ftruncate(raw, off_t(size)) }
    }

    /// Makes the file's data durable. The corresponding C function is `fdatasync`.
    public func syncData() throws(SystemError) {
        try syscall("fdatasync(\(label))") { Glibc.fdatasync(raw) }
    }

    /// The file's size in bytes. The corresponding C function is `fstat`.
    public func size() throws(SystemError) -> Int64 {
        try status().size
    }

    /// What the kernel knows of the open file: its type, permissions and owner, checked on
    /// the descriptor itself so that the file judged is the file read.
    /// The corresponding C function is `fstat`.
    public func status() throws(SystemError) -> FileStatus {
        var st = stat()
        try syscall("fstat(\(label))") { Glibc.fstat(raw, &st) }
        return FileStatus(st)
    }
}

/// The parts of `struct stat` the appliance decides on: enough to tell a device from a
/// file and to explain a "permission denied" (owner, group, mode).
public struct FileStatus: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case regular = "a regular file"
        case directory = "a directory"
        case fifo = "a FIFO"
        case socket = "a socket"
        case characterDevice = "a character device"
        case blockDevice = "a block device"
        case symbolicLink = "a symbolic link"
        case other = "not a regular file"
    }

    public var kind: Kind
    /// The permission bits (including setuid, setgid and sticky): `mode & 0o7777`.
    public var permissions: mode_t
    public var owner: uid_t
    public var group: gid_t
    public var size: Int64
    /// The file system the node lives on and its inode: what `/proc/locks` names a lock by.
    public var device: dev_t
    public var inode: ino_t

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        permissions = st.st_mode & 0o7777
        owner = st.st_uid
        group = st.st_gid
        size = Int64(st.st_size)
        device = st.st_dev
        inode = st.st_ino
    }

    /// The permission bits as a technician writes them, e.g. `0750`.
    public var octalPermissions: String {
        let digits = String(permissions, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

public enum FileSystem {
    /// The names in `directory` (no "." or ".."). The corresponding C functions are
    /// `opendir`/`readdir`.
    public static func list(_ directory: String) throws(SystemError) -> [String] {
        guard let dir = opendir(directory) else { throw SystemError(call: "opendir(\(directory))", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates `path` (and its parents) with `mode` if missing.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o750) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw SystemError(call: "mkdir(\(prefix))", errno: errno)
            }
        }
    }

    /// The status of `path` (following symbolic links). The corresponding C function is `fstatat` (`stat`).
    public static func status(_ path: String) throws(SystemError) -> FileStatus {
        var st = stat()
        try syscall("stat(\(path))") { fstatat(AT_FDCWD, path, &st, 0) }
        return FileStatus(st)
    }

    /// Gives `path` to group `gid`, leaving its owner. The corresponding C function is `chown`.
    public static func setGroup(_ path: String, _ gid: gid_t) throws(SystemError) {
        try syscall("chown(\(path), group \(gid))") { chown(path, uid_t.max, gid) }
    }

    public static func remove(_ path: String) throws(SystemError) {
        try syscall("unlink(\(path))") { unlink(path) }
    }

    /// Moves `from` to `to`, replacing it, in one step. The corresponding C function is `rename`.
    public static func rename(_ from: String, to: String) throws(SystemError) {
        try syscall("rename(\(from), \(to))") { Glibc.rename(from, to) }
    }

    /// Makes a directory's entries (a new or removed file) durable.
    public static func syncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        Glibc.close(fd)
    }
}

extension FileSystem {
    /// Sets the permission bits of `path`. The corresponding C function is `chmod`.
    public static func setPermissions(_ path: String, _ mode: mode_t) throws(SystemError) {
        try syscall("chmod(\(path))") { chmod(path, mode) }
    }

    /// Whether this process may read (`R_OK`), write (`W_OK`) or search (`X_OK`) `path`,
    /// judged with its effective ids and groups, as `open` will judge it. The
    /// corresponding C function is `faccessat(AT_EACCESS)`.
    public static func isAccessible(_ path: String, _ mode: Int32) -> Bool {
        faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0
    }

    /// The whole of a small file (a lock file, a /proc entry); nil if it cannot be read.
    public static func contents(of path: String, limit: Int = 1 << 20) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(path, flags: O_RDONLY) else { return nil }
        defer { fd.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            guard let n = try? chunk.withUnsafeMutableBytes({ p throws(SystemError) in try fd.read(into: p) }) else { return nil }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// The current directory. The corresponding C function is `getcwd`.
    public static func currentDirectory() throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { throw SystemError(call: "getcwd", errno: errno) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` with every symbolic link followed, `.` and `..` resolved; nil if it does not
    /// lead anywhere. The corresponding C function is `realpath`.
    public static func resolvedPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// `path` made absolute against `base` (default: the current directory) and cleaned
    /// lexically (`.`, `..` and repeated slashes folded, as Go's `filepath.Abs` does).
    ///
    /// Every path the appliance is given is resolved once, where it enters, because the
    /// processes it starts do not share its idea of "here": `mariadb-install-db` changes to
    /// its base directory, so a relative datadir landed under `/usr`.
    public static func absolutePath(_ path: String, relativeTo base: String? = nil) -> String {
        let root: String
        if path.hasPrefix("/") {
            root = ""
        } else if let base {
            root = base
        } else {
            root = (try? currentDirectory()) ?? "/"
        }
        var parts: [Substring] = []
        for part in (root + "/" + path).split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The last component of `path` (`/dev/ttyACM0` → `ttyACM0`).
    public static func baseName(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    /// The directory part of `path` (`/etc/parklink/parklink.toml` → `/etc/parklink`).
    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
