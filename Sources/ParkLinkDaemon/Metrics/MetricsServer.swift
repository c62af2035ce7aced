#if canImport(Glibc)
import Glibc
#endif
import Logging
import ParkLinkSystem

/// `parklink run --metrics-listen ADDRESS`: Prometheus text on `GET /metrics`.
///
/// A thread of its own, one connection at a time, each closed after one response: a
/// Prometheus server scrapes every few seconds, and a client that stalls is cut off after
/// two seconds. Nothing here touches the reader: a scrape reads the same atomics and
/// short-locked copies `parklink status` reads (`PipelineMetrics`).
public final class MetricsServer: @unchecked Sendable {
    // @unchecked: `listener` is closed by `stop` after the thread has ended; the rest is
    // immutable or thread-safe.
    public let address: TCPAddress
    /// The port listened on (the one asked for, or the kernel's choice for port 0).
    public let port: UInt16
    private let listener: FileDescriptor
    private let service: ServiceThread
    private let render: @Sendable () -> [UInt8]
    private let logger: Logger

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Binds at once, so a taken port stops `run` before anything starts.
    public init(address: TCPAddress, logger: Logger, render: @escaping @Sendable () -> [UInt8]) throws {
        do {
            listener = try TCPSocket.listen(address)
        } catch {
            let why = error.errno == EADDRINUSE ? "the port is in use (another parklink, or another exporter)"
                : error.errno == EADDRNOTAVAIL ? "this machine has no such address"
                : error.errno == EACCES ? "ports below 1024 need root" : "\(error)"
            throw Failure(description: "cannot serve metrics at \(address): \(why). Fix: choose another --metrics-listen HOST:PORT (or [metrics] listen), or stop what holds it")
        }
        self.address = address
        port = (try? TCPSocket.localPort(listener)) ?? address.port
        service = try ServiceThread(name: "pl-metrics")
        self.render = render
        self.logger = logger
    }

    public func start() {
        service.start { [self] in run() }
        logger.info("serving Prometheus metrics", metadata: ["metrics.url": "http://\(address.family == .ipv6 ? "[\(address.host)]" : address.host):\(port)/metrics"])
    }

    public func stop() {
        service.stop()
        listener.close()
    }

    private func run() {
        while !service.isStopping {
            guard let ready = try? service.wait(for: [PollRequest(fd: listener.raw, events: Int16(POLLIN))], timeoutMs: 1_000),
                  ready[0] & Int16(POLLIN) != 0, let client = try? TCPSocket.accept(listener) else { continue }
            UnixSocket.setTimeouts(client, milliseconds: 2_000)
            let response = readHead(client).map { HTTPExchange.respond(toHead: $0, metrics: render) } ?? HTTPExchange.headTooLarge
            if response.status != 200 {
                logger.debug("metrics request refused", metadata: ["metrics.status": "\(response.status)"])
            }
            try? client.writeAll(response.bytes)
            // Let the client read the response before the close resets the connection.
            shutdown(client.raw, Int32(SHUT_WR))
            client.close()
        }
    }

    /// The request head, or nil when it is longer than `HTTPExchange.maxHeadBytes`; a
    /// client that closes or stalls early gets what it sent judged as it is.
    private func readHead(_ client: FileDescriptor) -> [UInt8]? {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2_048)
        while HTTPExchange.headEnd(head) == nil {
            guard head.count <= HTTPExchange.maxHeadBytes else { return nil }
            let n = (try? chunk.withUnsafeMutableBytes { try client.read(into: $0) }) ?? 0
            if n <= 0 { break }
            head += chunk[0..<n]
        }
        if let end = HTTPExchange.headEnd(head) {
            return end > HTTPExchange.maxHeadBytes ? nil : Array(head[..<end])
        }
        return head.count > HTTPExchange.maxHeadBytes ? nil : head
    }
}
