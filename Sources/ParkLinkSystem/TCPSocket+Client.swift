#if canImport(Glibc)
import Glibc
#endif
import CParkLinkShims

/// TCP as a client by host name, for the notifier's webhook (a plain HTTP POST), and a
/// listener on any free port, for the local HTTP server a test starts to receive it.
///
/// Every wait is bounded: a webhook host that does not answer costs the notifier its
/// time-out, never a hung thread.
extension TCPSocket {
    /// The host name did not resolve (`getaddrinfo` reports its own codes, not errno).
    public struct ResolveError: Error, CustomStringConvertible, Equatable {
        public var host: String
        public var message: String
        public var description: String { "cannot resolve \(host): \(message)" }
    }

    /// Connecting took longer than allowed.
    public struct TimedOut: Error, CustomStringConvertible, Equatable {
        public var host: String
        public var port: UInt16
        public var milliseconds: Int
        public var description: String { "connecting to \(host):\(port) timed out after \(milliseconds) ms" }
    }

    /// Connects to `host:port` (a name or an address, IPv4 or IPv6), trying each address
    /// the name has, within `timeoutMs` each; the socket then has send and receive
    /// time-outs of `timeoutMs` too. The corresponding C functions are `getaddrinfo`,
    /// `socket`, `connect`, `poll` and `getsockopt(SO_ERROR)`.
    public static func connect(host: String, port: UInt16, timeoutMs: Int) throws -> FileDescriptor {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw ResolveError(host: host, message: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var lastError: any Error = ResolveError(host: host, message: "no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            entry = ai.pointee.ai_next
            do {
                return try connect(ai.pointee, host: host, port: port, timeoutMs: timeoutMs)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connect(_ ai: addrinfo, host: String, port: UInt16, timeoutMs: Int) throws -> FileDescriptor {
        let fd = FileDescriptor(adopting: try syscall("socket(\(host))") {
            socket(ai.ai_family, ai.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.ai_protocol)
        }, label: "\(host):\(port)")
        try fd.setNonBlocking(true)
        let started = Glibc.connect(fd.raw, ai.ai_addr, ai.ai_addrlen)
        if started != 0 {
            let err = errno
            guard err == EINPROGRESS || err == EINTR else { throw SystemError(call: "connect(\(host):\(port))", errno: err) }
            let revents = try Poll.wait([PollRequest(fd: fd.raw, events: Int16(POLLOUT))], timeoutMs: Int32(timeoutMs))
            guard revents[0] != 0 else { throw TimedOut(host: host, port: port, milliseconds: timeoutMs) }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            try syscall("getsockopt(SO_ERROR)") { getsockopt(fd.raw, SOL_SOCKET, SO_ERROR, &soError, &len) }
            if soError != 0 { throw SystemError(call: "connect(\(host):\(port))", errno: soError) }
        }
        try fd.setNonBlocking(false)
        UnixSocket.setTimeouts(fd, milliseconds: timeoutMs)
        return fd
    }

    /// Listens on `address` (IPv4, e.g. 127.0.0.1) and `port` (0: the kernel picks one);
    /// returns the socket and the port it has. The corresponding C functions are
    /// `socket`, `bind`, `listen` and `getsockname`.
    public static func listen(address: String = "127.0.0.1", port: UInt16 = 0, backlog: Int32 = 16) throws -> (FileDescriptor, UInt16) {
        let fd = FileDescriptor(adopting: try syscall("socket(AF_INET)") {
            socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }, label: "\(address):\(port)")
        var one: Int32 = 1
        setsockopt(fd.raw, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
            throw ResolveError(host: address, message: "not an IPv4 address")
        }
        _ = try withUnsafePointer(to: &addr) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("bind(\(address):\(port))") { bind(fd.raw, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        try syscall("listen(\(address):\(port))") { Glibc.listen(fd.raw, backlog) }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try withUnsafeMutablePointer(to: &bound) { p throws(SystemError) in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("getsockname") { getsockname(fd.raw, sa, &len) }
            }
        }
        return (fd, UInt16(bigEndian: bound.sin_port))
    }
}
