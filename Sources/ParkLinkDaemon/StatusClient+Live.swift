import Foundation
import ParkLinkSystem

extension StatusClient {
    /// Sets (or clears, with state `auto`) an override; an `error` reply is thrown.
    public static func override(_ request: OverrideRequest, socket: String, timeoutMs: Int = 15_000) throws -> OverrideReply {
        let reply = try send(StatusRequest(.override(request)), socket: socket, timeoutMs: timeoutMs)
        switch reply.body {
        case .overridden(let o): return o
        case .error(let problem): throw Failure.rejected(problem)
        default: throw Failure.failed("the daemon at \(socket) answered a \(reply.body.kind.rawValue) reply to override")
        }
    }

    /// How a `watch` stream ended.
    public enum WatchEnd: Sendable, Equatable {
        /// `onEvent` asked to stop.
        case stopped
        /// The daemon closed the stream (it is stopping, or went away).
        case closed
        /// The daemon ended it with a problem (`too_slow`, `unavailable`…).
        case problem(StatusProblem)
    }

    /// Subscribes to the daemon's live stream and calls `onEvent` for each event as it
    /// arrives (first the replay from `sinceMs`, if given), until `onEvent` returns false
    /// or the stream ends. `onStart` gets the `watching` line. Waits for events as long as
    /// it takes: the stream is quiet while nothing happens.
    public static func watch(zone: String?, sinceMs: Int64?, socket: String, onStart: (WatchStart) -> Void = { _ in },
                             onEvent: (WatchEvent) -> Bool) throws -> WatchEnd {
        let fd: FileDescriptor
        do {
            fd = try UnixSocket.connect(path: socket)
        } catch let e as SystemError where [ENOENT, ECONNREFUSED].contains(e.errno) {
            throw Failure.notRunning(socket: socket)
        }
        defer { fd.close() }
        UnixSocket.setTimeouts(fd, milliseconds: 5_000)
        let line: String
        do {
            line = try StatusProtocol.json(StatusRequest(.watch(zone: zone, sinceMs: sinceMs)))
            try UnixSocket.sendAll(fd, Array((line + "\n").utf8))
        } catch {
            throw Failure.failed("the daemon at \(socket) did not take the request: \(error)")
        }
        var lines = LineReader(fd: fd)
        var started = false
        while true {
            let text: String?
            do {
                text = try lines.next()
            } catch {
                if !started { throw Failure.failed("the daemon at \(socket) did not answer: \(error)") }
                return .closed
            }
            guard let text else { return .closed }
            let reply: StatusReply
            do {
                reply = try JSONDecoder().decode(StatusReply.self, from: Data(text.utf8))
            } catch StatusReply.DecodingFailure.versionMismatch(let found) {
                throw Failure.versionMismatch(socket: socket, daemon: found)
            } catch {
                throw Failure.unreadableReply(socket: socket, reply: String(text.prefix(200)))
            }
            switch reply.body {
            case .watching(let w) where !started:
                started = true
                onStart(w)
                // From here the stream is quiet for as long as nothing happens.
                UnixSocket.setTimeouts(fd, milliseconds: 0)
            case .event(let e) where started:
                if !onEvent(e) { return .stopped }
            case .error(let problem):
                if !started { throw Failure.rejected(problem) }
                return .problem(problem)
            default:
                throw Failure.failed("the daemon at \(socket) answered a \(reply.body.kind.rawValue) line in a watch stream")
            }
        }
    }
}

/// Lines from a socket, read in chunks (a replay may be long: one `read` per byte would
/// cost a system call per byte).
struct LineReader {
    let fd: FileDescriptor
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false

    init(fd: FileDescriptor) { self.fd = fd }

    /// The next line without its `\n`; nil at the end of the stream (a last line without
    /// `\n` is returned first).
    mutating func next() throws -> String? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let nl = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[start..<nl], as: UTF8.self)
                start = nl + 1
                if start > 65_536 {
                    buffer.removeFirst(start)
                    start = 0
                }
                return line
            }
            if ended {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return String(decoding: buffer[start...], as: UTF8.self)
            }
            let n = try chunk.withUnsafeMutableBytes { p in try fd.read(into: p) }
            if n == 0 { ended = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}
