#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// An IP address and port to listen on, as a technician writes it: `127.0.0.1:9464`,
/// `[::1]:9464` or `localhost:9464`. Only literal addresses (and `localhost`): a metrics
/// endpoint should not depend on a name server to start.
public struct TCPAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }
    public var host: String
    public var port: UInt16
    public var family: Family

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var text: String
        public var reason: String
        public var description: String {
            "\"\(text)\" is not an address to listen on (\(reason)); write HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464"
        }
    }

    public init(parsing text: String) throws(Invalid) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw Invalid(text: text, reason: "an IPv6 address needs brackets and a port: [::1]:9464")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw Invalid(text: text, reason: "no port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw Invalid(text: text, reason: "an IPv6 address needs brackets: [::1]:9464") }
        }
        guard let port = UInt16(portText) else {
            throw Invalid(text: text, reason: "the port must be 0–65535 (0: any free port, logged at start)")
        }
        if host == "localhost" { host = "127.0.0.1" }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, String(host), &v4) == 1 {
            family = .ipv4
        } else if inet_pton(AF_INET6, String(host), &v6) == 1 {
            family = .ipv6
        } else {
            throw Invalid(text: text, reason: "\"\(host)\" is not an IPv4 or IPv6 address")
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether only this machine can reach it.
    public var isLoopback: Bool { family == .ipv6 ? host == "::1" : host.hasPrefix("127.") }

    fileprivate func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> T) throws(SystemError) -> T {
        switch family {
        case .ipv4:
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &a.sin_addr)
            return try withUnsafePointer(to: &a) { p throws(SystemError) in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                    try body(sa, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6:
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &a.sin6_addr)
            return try withUnsafePointer(to: &a) { p throws(SystemError) in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                    try body(sa, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
}

/// TCP stream sockets, for the metrics endpoint.
public enum TCPSocket {
    private static func socket(_ address: TCPAddress) throws(SystemError) -> FileDescriptor {
        let domain = address.family == .ipv6 ? AF_INET6 : AF_INET
        let raw = try syscall("socket(\(address))") {
            Glibc.socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        return FileDescriptor(adopting: raw, label: address.description)
    }

    /// Binds and listens at `address` (`SO_REUSEADDR`, so a restart does not wait out
    /// TIME_WAIT). The corresponding C functions are `socket`, `bind` and `listen`.
    public static func listen(_ address: TCPAddress, backlog: Int32 = 16) throws(SystemError) -> FileDescriptor {
        let fd = try socket(address)
        var on: Int32 = 1
        setsockopt(fd.raw, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        do {
            try address.withSockaddr { sa, len throws(SystemError) in
                _ = try syscall("bind(\(address))") { bind(fd.raw, sa, len) }
            }
            _ = try syscall("listen(\(address))") { Glibc.listen(fd.raw, backlog) }
        } catch {
            fd.close()
            throw error
        }
        return fd
    }

    /// Connects to `address`. The corresponding C functions are `socket` and `connect`.
    public static func connect(_ address: TCPAddress) throws(SystemError) -> FileDescriptor {
        let fd = try socket(address)
        do {
            try address.withSockaddr { sa, len throws(SystemError) in
                _ = try syscall("connect(\(address))") { Glibc.connect(fd.raw, sa, len) }
            }
        } catch {
            fd.close()
            throw error
        }
        return fd
    }

    /// Accepts one connection. The corresponding C function is `accept4`.
    public static func accept(_ listener: FileDescriptor) throws(SystemError) -> FileDescriptor {
        FileDescriptor(adopting: try syscall("accept4") { parklink_accept4_cloexec(listener.raw) }, label: "tcp-client")
    }

    /// The port the kernel gave a socket bound to port 0. The corresponding C function is `getsockname`.
    public static func localPort(_ fd: FileDescriptor) throws(SystemError) -> UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("getsockname") { getsockname(fd.raw, sa, &len) }
            }
        }
        return withUnsafeBytes(of: &storage) { raw in
            // sin_port and sin6_port both sit right after the 2-byte family, in network order.
            UInt16(raw[2]) << 8 | UInt16(raw[3])
        }
    }
}
