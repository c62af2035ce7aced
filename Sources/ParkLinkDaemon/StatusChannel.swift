#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ParkLinkSystem

/// The daemon's side of the status socket: one request line in, one reply out, close.
///
/// A thread of its own that only reads atomics and short-locked copies, so a technician
/// hammering `parklink status` cannot slow the reader.
public final class StatusServer: @unchecked Sendable {
    // @unchecked: `thread` is touched by start/stop only; the rest is immutable or thread-safe.
    public typealias Handler = @Sendable (_ request: String) -> String

    public let path: String
    private let listener: FileDescriptor
    private let wake: WakePipe
    private let handler: Handler
    private let logger: Logger
    private let stopping = Locked(false)
    private var thread: NamedThread?

    public init(path: String, logger: Logger, handler: @escaping Handler) throws {
        self.path = path
        self.listener = try UnixSocket.listen(path: path)
        self.wake = try WakePipe()
        self.handler = handler
        self.logger = logger
    }

    public func start() {
        thread = NamedThread(name: "pl-status") { [self] in run() }
    }

    public func stop() {
        stopping.withLock { $0 = true }
        wake.wake()
        thread?.join()
        thread = nil
        listener.close()
        unlink(path)
    }

    private func run() {
        while !stopping.withLock({ $0 }) {
            guard let ready = try? Poll.wait([
                PollRequest(fd: listener.raw, events: Int16(POLLIN)),
                PollRequest(fd: wake.readEnd.raw, events: Int16(POLLIN)),
            ], timeoutMs: 1_000) else { continue }
            if ready[1] != 0 { wake.drain() }
            guard ready[0] & Int16(POLLIN) != 0, let client = try? UnixSocket.accept(listener) else { continue }
            UnixSocket.setTimeouts(client, milliseconds: 2_000)
            do {
                let request = try UnixSocket.readLine(client)
                let reply = handler(request.trimmingCharacters(in: .whitespacesAndNewlines))
                try client.writeAll(Array(reply.utf8))
            } catch {
                logger.debug("status client failed", metadata: ["status.error": "\(error)"])
            }
            client.close()
        }
    }
}

/// The CLI's side: asks the daemon one thing.
public enum StatusClient {
    public enum Failure: Error, CustomStringConvertible {
        case notRunning(socket: String)
        case failed(String)
        public var description: String {
            switch self {
            case .notRunning(let s):
                "parklink is not running (no daemon answers at \(s)). Start it with `parklink run` or `parklink demo`."
            case .failed(let m): m
            }
        }
    }

    public static func request(_ line: String, socket: String, timeoutMs: Int = 5_000) throws -> String {
        let fd: FileDescriptor
        do {
            fd = try UnixSocket.connect(path: socket)
        } catch let e as SystemError where [ENOENT, ECONNREFUSED].contains(e.errno) {
            throw Failure.notRunning(socket: socket)
        }
        defer { fd.close() }
        UnixSocket.setTimeouts(fd, milliseconds: timeoutMs)
        do {
            try fd.writeAll(Array((line + "\n").utf8))
            return String(decoding: try UnixSocket.readAll(fd), as: UTF8.self)
        } catch {
            throw Failure.failed("the daemon at \(socket) did not answer: \(error)")
        }
    }
}
