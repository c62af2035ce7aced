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
    // @unchecked: `listener` is closed by `stop` after the thread has ended; the rest is
    // immutable or thread-safe.
    public typealias Handler = @Sendable (_ request: String) -> String

    public let path: String
    private let listener: FileDescriptor
    private let service: ServiceThread
    private let handler: Handler
    private let logger: Logger

    public init(path: String, logger: Logger, handler: @escaping Handler) throws {
        self.path = path
        self.listener = try UnixSocket.listen(path: path)
        self.service = try ServiceThread(name: "pl-status")
        self.handler = handler
        self.logger = logger
    }

    public func start() {
        service.start { [self] in run() }
    }

    public func stop() {
        service.stop()
        listener.close()
        unlink(path)
    }

    private func run() {
        while !service.isStopping {
            guard let ready = try? service.wait(for: [PollRequest(fd: listener.raw, events: Int16(POLLIN))], timeoutMs: 1_000)
            else { continue }
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
