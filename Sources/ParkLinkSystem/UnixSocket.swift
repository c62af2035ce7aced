#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// Unix-domain stream sockets for the status channel between the daemon and the CLI.
public enum UnixSocket {
    /// `sun_path` holds 108 bytes including the terminating NUL.
    public static let maxPathBytes = 107

    public struct PathTooLong: Error, CustomStringConvertible {
        public var path: String
        public var description: String {
            "socket path is \(path.utf8.count) bytes, longer than the \(UnixSocket.maxPathBytes) a Unix socket allows: \(path); use a shorter state directory (--state-dir)"
        }
    }

    private static func address(_ path: String) throws -> sockaddr_un {
        guard path.utf8.count <= maxPathBytes else { throw PathTooLong(path: path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            for (i, b) in path.utf8.enumerated() { dst[i] = b }
            dst[path.utf8.count] = 0
        }
        return addr
    }

    /// Binds and listens at `path`, replacing a stale socket file left by a crash.
    /// The corresponding C functions are `socket`, `bind` and `listen`.
    public static func listen(path: String, backlog: Int32 = 16) throws -> FileDescriptor {
        var addr = try address(path)
        let fd = FileDescriptor(adopting: try syscall("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }, label: path)
        unlink(path)
        _ = try withUnsafePointer(to: &addr) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("bind(\(path))") { bind(fd.raw, sa, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        chmod(path, 0o660)
        try syscall("listen(\(path))") { Glibc.listen(fd.raw, backlog) }
        return fd
    }

    /// Connects to `path`. The corresponding C functions are `socket` and `connect`.
    public static func connect(path: String) throws -> FileDescriptor {
        var addr = try address(path)
        let fd = FileDescriptor(adopting: try syscall("socket(AF_UNIX)") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }, label: path)
        _ = try withUnsafePointer(to: &addr) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("connect(\(path))") { Glibc.connect(fd.raw, sa, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        return fd
    }

    /// Accepts one connection. The corresponding C function is `accept4`.
    public static func accept(_ listener: FileDescriptor) throws(SystemError) -> FileDescriptor {
        let fd = try syscall("accept4") { parklink_accept4_cloexec(listener.raw) }
        return FileDescriptor(adopting: fd, label: "status-client")
    }

    /// Who is at the other end of a connected socket, as the kernel recorded it when the
    /// peer connected: it cannot be forged by what the peer sends, which is why the status
    /// server decides on it. The corresponding C call is `getsockopt(SO_PEERCRED)`.
    public static func peerCredentials(_ fd: FileDescriptor) throws(SystemError) -> PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        try syscall("getsockopt(SO_PEERCRED)") { parklink_peer_credentials(fd.raw, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    /// Sets send and receive time-outs so a stuck peer cannot hold a thread for ever.
    public static func setTimeouts(_ fd: FileDescriptor, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd.raw, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd.raw, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends some of `bytes` on a connected socket without ever raising SIGPIPE (a peer
    /// that has gone is an EPIPE error, not the end of the process); with `wait` false it
    /// does not block either (EAGAIN when the socket's buffer is full). Returns how many
    /// bytes went. The corresponding C function is `send` (`MSG_NOSIGNAL`, `MSG_DONTWAIT`).
    public static func send(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, wait: Bool) throws(SystemError) -> Int {
        let flags = Int32(MSG_NOSIGNAL) | (wait ? 0 : Int32(MSG_DONTWAIT))
        return try syscall("send(\(fd.label))") { Glibc.send(fd.raw, bytes.baseAddress, bytes.count, flags) }
    }

    /// Whether the peer of a socket that should send nothing more has gone: end of file,
    /// or an error other than "nothing to read now". What it did send is read and dropped.
    /// The corresponding C function is `recv` (`MSG_DONTWAIT`).
    public static func peerHasGone(_ fd: FileDescriptor) -> Bool {
        var b = [UInt8](repeating: 0, count: 256)
        let n = b.withUnsafeMutableBytes { p in Glibc.recv(fd.raw, p.baseAddress, p.count, Int32(MSG_DONTWAIT)) }
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)
    }

    /// Sends all of `bytes` (blocking, within the socket's send time-out), without SIGPIPE.
    public static func sendAll(_ fd: FileDescriptor, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { p -> Result<Int, SystemError> in
                do throws(SystemError) {
                    return .success(try send(fd, UnsafeRawBufferPointer(rebasing: p[offset...]), wait: true))
                } catch {
                    return .failure(error)
                }
            }
            offset += try result.get()
        }
    }

    /// Reads until the peer closes or `limit` bytes.
    public static func readAll(_ fd: FileDescriptor, limit: Int = 16 << 20) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while out.count < limit {
            let n = try chunk.withUnsafeMutableBytes { p in try fd.read(into: p) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads one `\n`-terminated line (without it), at most `limit` bytes.
    public static func readLine(_ fd: FileDescriptor, limit: Int = 4_096) throws -> String {
        var out: [UInt8] = []
        var byte: UInt8 = 0
        while out.count < limit {
            let n = try withUnsafeMutableBytes(of: &byte) { p in try fd.read(into: p) }
            if n == 0 || byte == UInt8(ascii: "\n") { break }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The process at the other end of a Unix socket: its pid, and its effective uid and
/// primary gid at the time it connected.
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    public var pid: pid_t
    public var uid: uid_t
    public var gid: gid_t

    public init(pid: pid_t, uid: uid_t, gid: gid_t) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "pid \(pid), uid \(uid), gid \(gid)" }
}

public enum SocketControl {
    /// Ends both directions of a connected socket without closing the descriptor: a thread
    /// blocked reading or writing it returns at once (end of file, or EPIPE), and the owner
    /// still closes it exactly once. The corresponding C function is `shutdown(SHUT_RDWR)`.
    public static func shutdownBothWays(_ fd: Int32) throws(SystemError) {
        try syscall("shutdown(\(fd))") { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
