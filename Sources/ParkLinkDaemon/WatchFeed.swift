#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ParkLinkSystem

/// The `watch` subscribers, on the live thread: each has a bounded buffer of lines to
/// send, written without ever blocking (`send` with `MSG_DONTWAIT`, more when `poll`
/// says the socket has room).
///
/// A subscriber that does not keep up is dropped, never waited for: once its backlog
/// passes `maxBacklogBytes`, what it has not been sent is thrown away (the line being
/// sent is finished first, so the stream stays line-whole), a `too_slow` error line is
/// queued in its place, and the connection is closed once that is out (or after two
/// seconds). Dropped subscribers are counted.
final class WatchFeed {
    final class Subscriber {
        let id: Int
        let fd: FileDescriptor
        let zone: String?
        /// Bytes queued; `out[sent...]` is still to go.
        var out: [UInt8] = []
        var sent = 0
        /// A replay thread owns the socket: live events wait in `held`, nothing is sent.
        var replaying: Bool
        var held: [WatchEvent] = []
        var heldOverflow = false
        /// The last line (an error) is queued: close once it is out, or at the deadline.
        var closingAtMs: Int64?

        init(id: Int, fd: FileDescriptor, zone: String?, replaying: Bool) {
            self.id = id
            self.fd = fd
            self.zone = zone
            self.replaying = replaying
        }

        var backlog: Int { out.count - sent }
    }

    let maxBacklogBytes: Int
    let maxHeldEvents: Int
    private(set) var subscribers: [Subscriber] = []
    private var nextId = 1
    private(set) var linesSent = 0
    private(set) var droppedSlow = 0
    private(set) var opened = 0

    init(maxBacklogBytes: Int, maxHeldEvents: Int) {
        self.maxBacklogBytes = maxBacklogBytes
        self.maxHeldEvents = maxHeldEvents
    }

    func add(fd: FileDescriptor, zone: String?, replaying: Bool) -> Subscriber {
        let s = Subscriber(id: nextId, fd: fd, zone: zone, replaying: replaying)
        nextId += 1
        opened += 1
        subscribers.append(s)
        return s
    }

    /// Queues `e` for every subscriber it belongs to (held back for one still replaying).
    func publish(_ e: WatchEvent) {
        var line: [UInt8]?
        for s in subscribers where s.closingAtMs == nil && e.belongs(to: s.zone) {
            if s.replaying {
                if s.held.count < maxHeldEvents { s.held.append(e) } else { s.heldOverflow = true }
                continue
            }
            if line == nil { line = Self.line(.event(e)) }
            enqueue(line!, to: s)
        }
    }

    /// The replay of `s` is over: the events held meanwhile follow, but not those the
    /// replay already showed (`shown`: their keys). `problem` ends the stream instead.
    func replayFinished(_ s: Subscriber, shown: Set<String>, problem: StatusProblem?, nowMs: Int64) {
        guard subscribers.contains(where: { $0 === s }) else { return }
        s.replaying = false
        if let problem { return close(s, with: problem, nowMs: nowMs) }
        if s.heldOverflow {
            return close(s, with: StatusProblem(code: .tooSlow, message: "more than \(maxHeldEvents) events happened while the replay "
                                                    + "was read; watch a shorter --since, or use `parklink export`"), nowMs: nowMs)
        }
        for e in s.held where !shown.contains(e.key) { enqueue(Self.line(.event(e)), to: s) }
        s.held = []
    }

    private func enqueue(_ line: [UInt8], to s: Subscriber) {
        guard s.closingAtMs == nil else { return }
        if s.backlog + line.count > maxBacklogBytes {
            droppedSlow += 1
            close(s, with: StatusProblem(code: .tooSlow, message: "this watch read its stream too slowly (more than \(maxBacklogBytes / 1024) KiB "
                                             + "waiting), so the daemon stopped sending rather than wait: watch again"), nowMs: Clock.wallMilliseconds())
            return
        }
        s.out += line
        linesSent += 1
    }

    /// Ends `s` with one `error` line: its unsent backlog is dropped, after the line being
    /// sent now.
    func close(_ s: Subscriber, with problem: StatusProblem, nowMs: Int64) {
        if let end = s.out[s.sent...].firstIndex(of: UInt8(ascii: "\n")) {
            s.out.removeSubrange((end + 1)...)
        }
        s.out += Self.line(.error(problem))
        s.closingAtMs = nowMs + 2_000
    }

    /// What to wait for: room to write where something is queued, and every socket's
    /// hang-up (its client going away). Replaying subscribers are left out: the replay
    /// thread owns their socket.
    func pollRequests() -> (requests: [PollRequest], subscribers: [Subscriber]) {
        let active = subscribers.filter { !$0.replaying }
        return (active.map { PollRequest(fd: $0.fd.raw, events: Int16(POLLIN) | ($0.backlog > 0 ? Int16(POLLOUT) : 0)) }, active)
    }

    /// Acts on what `poll` said, sends what can go now, and forgets closed subscribers.
    func service(_ revents: [Int16], of polled: [Subscriber], nowMs: Int64) {
        for (s, r) in zip(polled, revents) where r & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            // A watch client sends nothing after its request: readable means it has gone.
            if r & Int16(POLLHUP | POLLERR) != 0 || UnixSocket.peerHasGone(s.fd) { remove(s) }
        }
        for s in subscribers where !s.replaying && s.backlog > 0 {
            while s.backlog > 0 {
                let written = s.out.withUnsafeBytes { p -> Result<Int, SystemError> in
                    do throws(SystemError) {
                        return .success(try UnixSocket.send(s.fd, UnsafeRawBufferPointer(rebasing: p[s.sent...]), wait: false))
                    } catch {
                        return .failure(error)
                    }
                }
                switch written {
                case .success(let n):
                    s.sent += n
                    continue
                case .failure(let e):
                    if e.errno != EAGAIN { remove(s) }
                }
                break
            }
            if s.sent > 65_536 || s.backlog == 0 {
                s.out.removeFirst(s.sent)
                s.sent = 0
            }
        }
        for s in subscribers where s.closingAtMs.map({ s.backlog == 0 || nowMs >= $0 }) ?? false { remove(s) }
    }

    /// Ends every stream with `problem` (the daemon is stopping), best effort.
    func closeAll(_ problem: StatusProblem) {
        for s in subscribers where !s.replaying {
            close(s, with: problem, nowMs: 0)
            _ = s.out.withUnsafeBytes { p in try? UnixSocket.send(s.fd, UnsafeRawBufferPointer(rebasing: p[s.sent...]), wait: false) }
            remove(s)
        }
    }

    func remove(_ s: Subscriber) {
        guard let i = subscribers.firstIndex(where: { $0 === s }) else { return }
        subscribers.remove(at: i)
        s.fd.close()
    }

    static func line(_ body: StatusReply.Body) -> [UInt8] {
        Array(StatusServer.encode(StatusReply(body)).utf8)
    }
}
