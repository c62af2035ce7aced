#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ParkLinkSampler
import ParkLinkSystem

/// The daemon's side of the status socket: one request line in, one reply out, close
/// (`StatusProtocol`: a JSON `StatusRequest` in, a JSON `StatusReply` out).
///
/// A thread of its own that only reads atomics and short-locked copies, so a technician
/// hammering `parklink status` cannot slow the reader.
///
/// Every connection's peer is judged by `StatusAccess`: reading is open to whoever can
/// connect, a command is refused with a `forbidden` reply unless the peer may give it.
/// Commands are logged with who gave them (uid, user name, pid), refused ones too.
public final class StatusServer: @unchecked Sendable {
    // @unchecked: `listener` is closed by `stop` after the thread has ended; the rest is
    // immutable or thread-safe.
    public typealias Handler = @Sendable (_ request: StatusRequest) -> StatusReply
    /// A handler told who asks: the peer of a command let through (nil for a read, which
    /// needs no account lookup).
    public typealias PeerHandler = @Sendable (_ request: StatusRequest, _ peer: StatusAccess.Peer?) -> StatusReply
    /// Takes over the connection of a request answered with `watching` (the reply line has
    /// gone out): it owns the descriptor from then on, and the server forgets it.
    public typealias Adopter = @Sendable (_ request: StatusRequest, _ client: FileDescriptor) -> Void

    public let path: String
    public let access: StatusAccess
    private let listener: FileDescriptor
    private let service: ServiceThread
    private let handler: PeerHandler
    private let adopt: Adopter?
    private let logger: Logger

    public convenience init(path: String, logger: Logger, access: StatusAccess = .system(), handler: @escaping Handler) throws {
        try self.init(path: path, logger: logger, access: access, peerHandler: { request, _ in handler(request) })
    }

    public init(path: String, logger: Logger, access: StatusAccess = .system(), peerHandler: @escaping PeerHandler,
                adopt: Adopter? = nil) throws {
        self.path = path
        self.access = access
        self.listener = try UnixSocket.listen(path: path)
        self.service = try ServiceThread(name: "pl-status")
        self.handler = peerHandler
        self.adopt = adopt
        self.logger = logger
        Self.giveDirectoryGroup(path, logger: logger)
    }

    /// Gives the socket (0660) its directory's group, so that whoever the directory's
    /// group admits can read status, and nobody else can connect at all. Without this it
    /// would get the daemon's own group, which says nothing about who should read.
    private static func giveDirectoryGroup(_ path: String, logger: Logger) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        guard let dir = try? FileSystem.status(directory.isEmpty ? "/" : directory),
              let socket = try? FileSystem.status(path), socket.group != dir.group else { return }
        do {
            try FileSystem.setGroup(path, dir.group)
        } catch {
            // Not a member of that group: the socket stays in the daemon's group.
            logger.warning("status socket keeps the daemon's group: cannot give it the state directory's", metadata: [
                "status.socket": "\(path)", "status.group": "\(dir.group)", "status.error": "\(error)",
            ])
        }
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
                let line = try UnixSocket.readLine(client)
                let credentials = try? UnixSocket.peerCredentials(client)
                let who = Granted()
                let (request, reply) = Self.respond(to: line, authorize: { [self] request in
                    switch authorize(request.command, credentials) {
                    case .success(let command):
                        who.value = command
                        return nil
                    case .failure(let problem):
                        return problem
                    }
                }, handler: { [handler] request in handler(request, who.value?.peer) })
                let granted = who.value
                // Logged before the reply goes out: done is done, even if the client has gone.
                if let request, let granted {
                    logger.notice("status command", metadata: Self.who(granted.peer).merging([
                        "status.command": "\(request.command.summary)", "status.granted": "\(granted.grant.rawValue)",
                        "status.reply": "\(reply.body.outcome)",
                    ]) { $1 })
                }
                try UnixSocket.sendAll(client, Array(Self.encode(reply).utf8))
                if case .watching = reply.body, let request, let adopt {
                    adopt(request, client)
                    continue
                }
            } catch {
                logger.debug("status client failed", metadata: ["status.error": "\(error)"])
            }
            client.close()
        }
    }

    /// Who a command was let through for, between `authorize` and the handler of one request.
    private final class Granted: @unchecked Sendable {
        // @unchecked: set and read on the status thread only, within one request.
        var value: (peer: StatusAccess.Peer, grant: StatusAccess.Grant)?
    }

    /// Judges the peer of one decoded request (see `StatusAccess`): nil for a read, which
    /// anyone connected may make (and which needs no account lookup, so `status --watch`
    /// costs nothing more); the peer and why for a command let through. A refusal is
    /// logged here, with the peer's uid and pid.
    private func authorize(_ command: StatusRequest.Command, _ credentials: PeerCredentials?)
        -> Result<(peer: StatusAccess.Peer, grant: StatusAccess.Grant)?, StatusProblem> {
        if StatusAccess.level(of: command) == .read { return .success(nil) }
        guard let credentials else {
            // SO_PEERCRED does not fail on a connected Unix socket; if it ever does, nobody
            // unknown gives commands.
            logger.warning("status command refused: the peer's credentials are unknown", metadata: ["status.command": "\(command.summary)"])
            return .failure(StatusProblem(code: .forbidden, message: "\(command.word) is refused: the daemon cannot tell who is asking",
                                          request: command.word))
        }
        let peer = StatusAccess.Peer.resolve(credentials)
        switch access.check(command, from: peer) {
        case .success(let grant):
            return .success((peer, grant))
        case .failure(let problem):
            logger.warning("status command refused", metadata: Self.who(peer).merging([
                "status.command": "\(command.summary)",
                "status.needs": "root, uid \(access.daemonUID) or group \(StatusAccess.operatorGroup)",
            ]) { $1 })
            return .failure(problem)
        }
    }

    private static func who(_ peer: StatusAccess.Peer) -> Logger.Metadata {
        [
            "status.peer_uid": "\(peer.credentials.uid)", "status.peer_user": "\(peer.user?.name ?? "-")",
            "status.peer_pid": "\(peer.credentials.pid)",
        ]
    }

    /// The reply line (JSON and a newline) to one request line. Whatever the line holds,
    /// the answer is a `StatusReply`: an undecodable request gets an `error` reply that
    /// names the problem, the offending text only ever inside an encoded JSON string.
    /// `authorize` may refuse a decoded request (the reply is then its problem, and the
    /// handler never sees the request); by default everything is let through.
    public static func answer(_ line: String, authorize: (StatusRequest) -> StatusProblem? = { _ in nil },
                              handler: Handler) -> String {
        encode(respond(to: line, authorize: authorize, handler: handler).reply)
    }

    /// The decoded request (nil when it did not decode) and the reply to it.
    static func respond(to line: String, authorize: (StatusRequest) -> StatusProblem?,
                        handler: Handler) -> (request: StatusRequest?, reply: StatusReply) {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        let request: StatusRequest
        do {
            request = try JSONDecoder().decode(StatusRequest.self, from: Data(text.utf8))
        } catch let failure as StatusRequest.DecodingFailure {
            return (nil, StatusReply(.error(StatusProblem(failure, line: text))))
        } catch {
            return (nil, StatusReply(.error(StatusProblem(.malformed, line: text))))
        }
        if let refusal = authorize(request) { return (request, StatusReply(.error(refusal))) }
        return (request, handler(request))
    }

    static func encode(_ reply: StatusReply) -> String {
        do {
            return try StatusProtocol.json(reply) + "\n"
        } catch {
            // Only a non-finite number in a sampler section gets here; say so, typed.
            let problem = StatusProblem(code: .failed, message: "the daemon could not encode its reply: \(error)")
            return ((try? StatusProtocol.json(StatusReply(.error(problem)))) ?? "") + "\n"
        }
    }
}

extension StatusRequest.Command {
    /// The command as a log line shows it: `ack 42`, `ack all`, `led 12 RED`, `ping`.
    var summary: String {
        switch self {
        case .status, .ping: word
        case .led(let sensor, let color): "led \(sensor) \(color.name)"
        case .alerts(let all): all ? "alerts all" : "alerts"
        case .acknowledge(.id(let id)): "ack \(id)"
        case .acknowledge(.all): "ack all"
        case .override(let o): "override \(o.bayName) \(o.state.rawValue)" + (o.seconds.map { " for \($0) s" } ?? "")
        case .watch(let zone, let since): "watch" + (zone.map { " zone \($0)" } ?? "") + (since.map { " since \($0)" } ?? "")
        }
    }
}

extension StatusReply.Body {
    /// What a command came to, for the log: `ok`, `acknowledged 3`, `error not_found`.
    var outcome: String {
        switch self {
        case .status: "status"
        case .ok: "ok"
        case .acknowledged(let a): "acknowledged \(a.acknowledged)"
        case .alerts(let rows): "alerts \(rows.count)"
        case .overridden(let o): "overridden \(o.sensor) \(o.state)"
        case .watching: "watching"
        case .event(let e): "event \(e.kind) \(e.event)"
        case .error(let p): "error \(p.code.rawValue)"
        }
    }
}

/// The CLI's side: asks the daemon one thing, in `StatusProtocol` types.
public enum StatusClient {
    public enum Failure: Error, CustomStringConvertible {
        case notRunning(socket: String)
        case failed(String)
        /// The daemon speaks another version of the status protocol.
        case versionMismatch(socket: String, daemon: Int?)
        /// The reply is not a `StatusReply` (a much older daemon, or not parklink at all).
        case unreadableReply(socket: String, reply: String)
        /// The daemon answered with an `error` reply.
        case rejected(StatusProblem)

        public var description: String {
            switch self {
            case .notRunning(let s):
                "parklink is not running (no daemon answers at \(s)). Start it with `parklink run` or `parklink demo`."
            case .failed(let m):
                m
            case .versionMismatch(let s, let daemon):
                "status protocol version mismatch: the daemon at \(s) speaks "
                    + (daemon.map { "version \($0)" } ?? "an unversioned protocol")
                    + ", this parklink speaks version \(StatusProtocol.version); \(StatusProtocol.upgradeAdvice)"
            case .unreadableReply(let s, let reply):
                "the daemon at \(s) answered something this parklink cannot read (status protocol version "
                    + "\(StatusProtocol.version)); \(StatusProtocol.upgradeAdvice). It answered: \(StatusProblem.quoted(reply))"
            case .rejected(let problem):
                problem.message
            }
        }
    }

    /// Sends one request and decodes the reply; an `error` reply is returned, not thrown.
    public static func send(_ request: StatusRequest, socket: String, timeoutMs: Int = 5_000) throws -> StatusReply {
        let line: String
        do {
            line = try StatusProtocol.json(request)
        } catch {
            throw Failure.failed("cannot encode the request: \(error)")
        }
        let reply = try exchange(line, socket: socket, timeoutMs: timeoutMs)
        do {
            return try JSONDecoder().decode(StatusReply.self, from: Data(reply.utf8))
        } catch StatusReply.DecodingFailure.versionMismatch(let found) {
            throw Failure.versionMismatch(socket: socket, daemon: found)
        } catch {
            throw Failure.unreadableReply(socket: socket, reply: String(reply.prefix(200)))
        }
    }

    /// The daemon's status snapshot.
    public static func status(socket: String, timeoutMs: Int = 5_000) throws -> StatusSnapshot {
        switch try answer(.status, socket: socket, timeoutMs: timeoutMs) {
        case .status(let s): return s
        case let other: throw unexpected(other, socket: socket)
        }
    }

    /// The open alerts, or (`all`) the last 500 from the database.
    public static func alerts(all: Bool, socket: String, timeoutMs: Int = 5_000) throws -> [AlertDesk.Row] {
        switch try answer(.alerts(all: all), socket: socket, timeoutMs: timeoutMs) {
        case .alerts(let rows): return rows
        case let other: throw unexpected(other, socket: socket)
        }
    }

    public static func acknowledge(_ target: StatusRequest.AlertTarget, socket: String,
                                   timeoutMs: Int = 5_000) throws -> StatusReply.Acknowledged {
        switch try answer(.acknowledge(target), socket: socket, timeoutMs: timeoutMs) {
        case .acknowledged(let a): return a
        case let other: throw unexpected(other, socket: socket)
        }
    }

    /// Whether anything answers on `socket` (whatever it says): a daemon owns that state
    /// directory.
    public static func isAnswering(socket: String, timeoutMs: Int = 1_000) -> Bool {
        guard let line = try? StatusProtocol.json(StatusRequest(.status)) else { return false }
        return (try? exchange(line, socket: socket, timeoutMs: timeoutMs)) != nil
    }

    /// One raw line out, the raw reply back. `send` and the helpers above are the API;
    /// this is for tests and diagnostics that need to send what no client would.
    public static func exchange(_ line: String, socket: String, timeoutMs: Int = 5_000) throws -> String {
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

    /// The reply's body, an `error` reply thrown as `Failure.rejected`.
    private static func answer(_ command: StatusRequest.Command, socket: String, timeoutMs: Int) throws -> StatusReply.Body {
        let reply = try send(StatusRequest(command), socket: socket, timeoutMs: timeoutMs)
        if case .error(let problem) = reply.body { throw Failure.rejected(problem) }
        return reply.body
    }

    private static func unexpected(_ body: StatusReply.Body, socket: String) -> Failure {
        .failed("the daemon at \(socket) answered a \(body.kind.rawValue) reply to this request")
    }
}
