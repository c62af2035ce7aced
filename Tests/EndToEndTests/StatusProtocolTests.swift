import Foundation
import Logging
@testable import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkSystem
@testable import ParkLinkSampler
import ParkLinkTestSupport
import Testing

/// The status socket's typed protocol, without a daemon: requests and replies round-trip,
/// whatever a client sends is answered with a well-formed `StatusReply`, versions are
/// checked on both sides, and the printed JSON keeps every key of the contract.
@Suite("Status protocol: typed requests and replies, one JSON line each way")
struct StatusProtocolTests {
    // MARK: Round trips

    @Test("every request survives encode → decode, and the server hands it to the handler as sent")
    func requestRoundTrip() throws {
        let commands: [StatusRequest.Command] = [
            .status, .ping, .led(sensor: 0, color: .off), .led(sensor: 65_535, color: .amber),
            .alerts(all: false), .alerts(all: true), .acknowledge(.id(42)), .acknowledge(.id(UInt64.max)), .acknowledge(.all),
        ]
        for command in commands {
            let request = StatusRequest(command)
            let line = try StatusProtocol.json(request)
            #expect(!line.contains("\n"), "one line")
            #expect(try JSONDecoder().decode(StatusRequest.self, from: Data(line.utf8)) == request)
            let seen = Locked<StatusRequest?>(nil)
            let reply = StatusServer.answer(line + "\n") { r in
                seen.withLock { $0 = r }
                return StatusReply(.ok)
            }
            #expect(seen.withLock { $0 } == request)
            #expect(try decodeReply(reply) == StatusReply(.ok))
        }
    }

    @Test("every reply survives encode → decode; a snapshot prints exactly as the daemon sent it")
    func replyRoundTrip() throws {
        let bodies: [StatusReply.Body] = [
            .status(Self.snapshot(filled: true)), .status(Self.snapshot(filled: false)),
            .status(Self.snapshot(filled: false, spool: true)), .ok,
            .acknowledged(.init(acknowledged: 3)), .acknowledged(.init(acknowledged: 0, note: "already acknowledged")),
            .alerts([]), .alerts([Self.row(filled: true), Self.row(filled: false)]),
            .error(StatusProblem(code: .notFound, message: "no open alert has id 7")),
            .error(StatusProblem(code: .forbidden, message: "ack needs root", request: "ack")),
        ]
        for body in bodies {
            let line = try StatusProtocol.json(StatusReply(body))
            let decoded = try decodeReply(line)
            #expect(decoded == StatusReply(body))
            #expect(try StatusProtocol.json(decoded) == line, "re-encoding changes nothing")
        }
        // `parklink status --json` decodes the reply and prints the snapshot again: same text.
        let snap = Self.snapshot(filled: true)
        guard case .status(let back) = try decodeReply(try StatusProtocol.json(StatusReply(.status(snap)))).body else {
            Issue.record("not a status reply")
            return
        }
        #expect(try back.json() == snap.json())
    }

    // MARK: Bad requests get typed error replies

    @Test("an unknown request gets an unknown_request error, the word JSON-encoded, never spliced in")
    func unknownRequest() throws {
        let hostile = "evil\"},\"ok\":true,\"x\":{\"\n\u{1B}[2J"
        let line = try StatusProtocol.json(RawRequest(version: StatusProtocol.version, request: hostile))
        let reply = StatusServer.answer(line, handler: Self.unreachable)
        #expect(reply.hasSuffix("\n") && reply.dropLast().firstIndex(of: "\n") == nil, "exactly one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["version", "reply", "error"], "no key injected")
        #expect(object["ok"] == nil)
        let problem = try #require(Self.problem(in: reply))
        #expect(problem.code == .unknownRequest)
        #expect(problem.request == hostile, "the request comes back as data, intact")
        #expect(problem.message.hasPrefix("unknown request \"evil"))
        #expect(!problem.message.contains("\u{1B}") && !problem.message.contains("\n"), "no control characters in the message")
    }

    @Test("a line that is not a JSON request (an older CLI's plain words, garbage) gets a malformed_request error")
    func malformedRequests() throws {
        for line in ["status", "ack 12", "", "{", "[1,2]", "\"}{\"ok\":true", "{\"version\":1}", "{\"version\":1,\"request\":7}"] {
            let reply = StatusServer.answer(line + "\n", handler: Self.unreachable)
            #expect(try JSONSerialization.jsonObject(with: Data(reply.utf8)) is [String: Any], "well-formed JSON for \(line)")
            let problem = try #require(Self.problem(in: reply), "an error reply for \(line)")
            #expect(problem.code == .malformedRequest, "\(line)")
            #expect(problem.message.contains("version \(StatusProtocol.version)"), "says which protocol it speaks")
        }
        let plain = try #require(Self.problem(in: StatusServer.answer("status", handler: Self.unreachable)))
        #expect(plain.code == .malformedRequest)
        #expect(plain.request == "status")
        #expect(plain.message.contains("use the parklink that came with the running daemon"))
    }

    @Test("bad arguments name the usage")
    func badArguments() throws {
        let cases: [(RawRequest, String)] = [
            (RawRequest(version: 1, request: "led", sensor: 3, color: "PURPLE"), "led"),
            (RawRequest(version: 1, request: "led", color: "RED"), "led"),
            (RawRequest(version: 1, request: "ack"), "ack"),
            (RawRequest(version: 1, request: "ack", id: 4, all: true), "ack"),
        ]
        for (raw, word) in cases {
            let problem = try #require(Self.problem(in: StatusServer.answer(try StatusProtocol.json(raw), handler: Self.unreachable)))
            #expect(problem.code == .badArguments)
            #expect(problem.request == word)
            #expect(problem.message.hasPrefix(word + " "))
        }
        // The colour is spelled either way, as on the command line.
        let ok = try JSONDecoder().decode(StatusRequest.self, from: Data(try StatusProtocol.json(
            RawRequest(version: 1, request: "led", sensor: 3, color: "red")).utf8))
        #expect(ok.command == .led(sensor: 3, color: .red))
    }

    // MARK: Versions

    @Test("a request of another protocol version gets a version_mismatch error that says what to do")
    func requestVersionMismatch() throws {
        for version in [0, StatusProtocol.version + 1] {
            let line = try StatusProtocol.json(StatusRequest(.status, version: version))
            let problem = try #require(Self.problem(in: StatusServer.answer(line, handler: Self.unreachable)))
            #expect(problem.code == .versionMismatch)
            #expect(problem.message.contains("this daemon speaks version \(StatusProtocol.version)"))
            #expect(problem.message.contains("the request is version \(version)"))
            #expect(problem.message.contains("use the parklink that came with the running daemon"))
        }
        let none = try #require(Self.problem(in: StatusServer.answer("{\"request\":\"status\"}", handler: Self.unreachable)))
        #expect(none.code == .versionMismatch)
        #expect(none.message.contains("names no version"))
    }

    @Test("a reply of another protocol version is refused by the client with a clear message")
    func replyVersionMismatch() throws {
        let line = try StatusProtocol.json(StatusReply(.ok, version: StatusProtocol.version + 1))
        #expect(throws: StatusReply.DecodingFailure.versionMismatch(found: StatusProtocol.version + 1)) {
            try JSONDecoder().decode(StatusReply.self, from: Data(line.utf8))
        }
        // Over a real socket, as `parklink status` meets a daemon of another version.
        try withServer({ _ in StatusReply(.status(Self.snapshot(filled: true)), version: StatusProtocol.version + 1) }) { socket in
            do {
                _ = try StatusClient.status(socket: socket)
                Issue.record("a reply of another version was accepted")
            } catch let failure as StatusClient.Failure {
                guard case .versionMismatch(_, let daemon) = failure else {
                    Issue.record("wrong failure: \(failure)")
                    return
                }
                #expect(daemon == StatusProtocol.version + 1)
                #expect(failure.description.contains("speaks version \(StatusProtocol.version + 1)"))
                #expect(failure.description.contains("this parklink speaks version \(StatusProtocol.version)"))
            }
        }
    }

    // MARK: Over a real socket

    @Test("client and server over a Unix socket: typed answers, error replies thrown as `rejected`")
    func overTheSocket() throws {
        let snap = Self.snapshot(filled: true)
        let rows = [Self.row(filled: true), Self.row(filled: false)]
        try withServer({ request in
            switch request.command {
            case .status: StatusReply(.status(snap))
            case .alerts: StatusReply(.alerts(rows))
            case .acknowledge(.all): StatusReply(.acknowledged(.init(acknowledged: 2)))
            case .acknowledge(.id(let id)):
                StatusReply(.error(StatusProblem(code: .notFound, message: "no open alert has id \(id)")))
            case .ping, .led: StatusReply(.ok)
            case .override, .watch: StatusReply(.error(StatusProblem(code: .unavailable, message: "not in this test")))
            }
        }) { socket in
            #expect(try StatusClient.status(socket: socket) == snap)
            #expect(try StatusClient.alerts(all: true, socket: socket) == rows)
            #expect(try StatusClient.acknowledge(.all, socket: socket) == .init(acknowledged: 2))
            #expect(throws: StatusClient.Failure.self) { try StatusClient.acknowledge(.id(9), socket: socket) }
            do {
                _ = try StatusClient.acknowledge(.id(9), socket: socket)
            } catch {
                #expect("\(error)" == "no open alert has id 9")
            }
            #expect(try StatusClient.send(StatusRequest(.ping), socket: socket) == StatusReply(.ok))
            #expect(StatusClient.isAnswering(socket: socket))
            // A hostile raw line through the real server: a typed, well-formed error.
            let raw = try StatusClient.exchange("bogus\"}, {\"ok\":true", socket: socket)
            #expect(Self.problem(in: raw)?.code == .malformedRequest)
        }
    }

    // MARK: Least privilege: who may command the daemon

    static let parklinkGroup: gid_t = 990
    /// The daemon runs as uid 120; group `parklink` is gid 990, and `tech` is in it as a
    /// supplementary group.
    static let access = StatusAccess(daemonUID: 120, operatorGroupID: { parklinkGroup }, groupsOfPeer: { peer in
        peer.user?.name == "tech" ? [1_001, parklinkGroup] : [peer.credentials.gid]
    })

    static func peer(uid: uid_t, gid: gid_t, name: String?) -> StatusAccess.Peer {
        StatusAccess.Peer(credentials: PeerCredentials(pid: 4_242, uid: uid, gid: gid),
                          user: name.map { UserAccount(name: $0, uid: uid, gid: gid) })
    }

    static let reads: [StatusRequest.Command] = [.status, .alerts(all: false), .alerts(all: true)]
    static let commands: [StatusRequest.Command] = [.acknowledge(.id(3)), .acknowledge(.all), .led(sensor: 4, color: .red), .ping]

    @Test("reading (status, alerts) is open to whoever can connect")
    func readingIsOpen() {
        let visitor = Self.peer(uid: 1_002, gid: 1_002, name: "visitor")
        for command in Self.reads {
            #expect(Self.access.check(command, from: visitor) == .success(.read), "\(command.word)")
            #expect(StatusAccess.level(of: command) == .read)
        }
    }

    @Test("a command (ack, led, ping) is for root, the daemon's own user, or group parklink by primary or supplementary gid")
    func commandsNeedPrivilege() {
        for command in Self.commands {
            #expect(StatusAccess.level(of: command) == .command)
            #expect(Self.access.check(command, from: Self.peer(uid: 0, gid: 0, name: "root")) == .success(.root))
            #expect(Self.access.check(command, from: Self.peer(uid: 120, gid: 120, name: "parklink")) == .success(.daemonUser))
            #expect(Self.access.check(command, from: Self.peer(uid: 1_001, gid: 1_001, name: "tech")) == .success(.operatorGroup),
                    "supplementary group")
            #expect(Self.access.check(command, from: Self.peer(uid: 1_003, gid: Self.parklinkGroup, name: nil)) == .success(.operatorGroup),
                    "primary group, even without an account name")
        }
    }

    @Test("anyone else gets a forbidden error naming what is needed and the fix")
    func commandsRefused() throws {
        for command in Self.commands {
            let result = Self.access.check(command, from: Self.peer(uid: 1_002, gid: 1_002, name: "visitor"))
            guard case .failure(let problem) = result else {
                Issue.record("\(command.word) allowed for a visitor")
                continue
            }
            #expect(problem.code == .forbidden)
            #expect(problem.request == command.word)
            #expect(problem.message.hasPrefix("\(command.word) changes the daemon, so it needs root, the daemon's own user (uid 120) or membership of group `parklink`; visitor (uid 1002) is none of these"))
            #expect(problem.message.hasSuffix("Fix: add the user to the group: `usermod -aG parklink visitor`"))
        }
        // No account name: the uid stands in for it.
        guard case .failure(let nameless) = Self.access.check(.ping, from: Self.peer(uid: 5_000, gid: 5_000, name: nil)) else {
            Issue.record("ping allowed for a nameless uid")
            return
        }
        #expect(nameless.message.contains("uid 5000 is none of these"))
        // Without the group on this host, the fix says to create it first.
        let noGroup = StatusAccess(daemonUID: 120, operatorGroupID: { nil }, groupsOfPeer: { _ in [] })
        guard case .failure(let missing) = noGroup.check(.acknowledge(.all), from: Self.peer(uid: 1_001, gid: 1_001, name: "tech")) else {
            Issue.record("ack allowed without a parklink group")
            return
        }
        #expect(missing.message.contains("membership of group `parklink` (no such group exists on this host)"))
        #expect(missing.message.hasSuffix("`groupadd --system parklink && usermod -aG parklink tech`"))
    }

    @Test("a refused request never reaches the handler: the reply is the refusal")
    func refusalBeforeHandler() throws {
        let refusal = StatusProblem(code: .forbidden, message: "ack needs root", request: "ack")
        let line = try StatusProtocol.json(StatusRequest(.acknowledge(.all)))
        let reply = StatusServer.answer(line, authorize: { _ in refusal }, handler: Self.unreachable)
        #expect(Self.problem(in: reply) == refusal)
        // The default lets everything through (the server itself passes its peer's verdict).
        #expect(try decodeReply(StatusServer.answer(line) { _ in StatusReply(.ok) }) == StatusReply(.ok))
    }

    @Test("over the socket, commands are logged with who gave them (uid, user, pid); reads are not")
    func commandsAreLogged() throws {
        let log = CapturedLog()
        try withServer({ request in
            switch request.command {
            case .acknowledge: StatusReply(.acknowledged(.init(acknowledged: 2)))
            case .status: StatusReply(.status(Self.snapshot(filled: false)))
            default: StatusReply(.ok)
            }
        }, logger: log.logger()) { socket in
            // The tests run as root (or as the daemon's own user): both may command.
            #expect(try StatusClient.acknowledge(.all, socket: socket) == .init(acknowledged: 2))
            _ = try StatusClient.status(socket: socket)
        }
        let commands = log.all.filter { $0.message == "status command" }
        try #require(commands.count == 1, "\(log.all.map(\.line))")
        let m = commands[0].metadata
        #expect(m["status.command"] == "ack all")
        #expect(m["status.reply"] == "acknowledged 2")
        #expect(m["status.peer_uid"] == "\(getuid())")
        #expect(m["status.peer_pid"] == "\(getpid())", "the client is this process")
        #expect(m["status.peer_user"] == (try Accounts.user(uid: getuid()))?.name)
        #expect(m["status.granted"] == (getuid() == 0 ? "root" : "the daemon's own user"))
        #expect(commands[0].level == .notice)
    }

    @Test("the socket is 0660 and takes its directory's group")
    func socketModeAndGroup() throws {
        let dir = Repository.temporaryDirectory("plsg")
        // Any group this process may give files to: as root, any; else its own.
        let group: gid_t = getuid() == 0 ? 4_321 : getgid()
        try #require(chown(dir, getuid(), group) == 0)
        let server = try StatusServer(path: dir + "/status.sock", logger: Logger(label: "socket-group-test")) { _ in StatusReply(.ok) }
        defer { server.stop() }
        let status = try FileSystem.status(dir + "/status.sock")
        #expect(status.kind == .socket)
        #expect(status.permissions == 0o660)
        #expect(status.group == group)
    }

    // MARK: The JSON contract: a key with no value is null, never missing

    @Test("`status --json`: every optional without a value is printed as null")
    func snapshotNulls() throws {
        let printed = try Self.snapshot(filled: false).json()
        let top = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        let link = try #require(top["link"] as? [String: Any])
        let store = try #require(top["store"] as? [String: Any])
        let latency = try #require(store["latency_ms"] as? [String: Any])
        for (object, key) in [(top, "sampler"), (top, "spool"), (link, "session"), (link, "commands_dropped"), (link, "last_byte_at"),
                              (store, "last_commit_at"), (store, "last_error"),
                              (latency, "p50"), (latency, "p99"), (latency, "max")] {
            #expect(object[key] is NSNull, "`\(key)` is present and null")
        }
        // Nothing is missing anywhere: every stored property is a key, nested ones too.
        let snap = Self.snapshot(filled: false)
        #expect(Set(top.keys) == Self.propertyNames(snap))
        #expect(Set(link.keys) == Self.propertyNames(snap.link))
        #expect(Set(store.keys) == Self.propertyNames(snap.store))
        #expect(Set(latency.keys) == Self.propertyNames(snap.store.latency_ms))
        #expect(Set((top["ring"] as? [String: Any] ?? [:]).keys) == Self.propertyNames(snap.ring))
        #expect(Set((top["accounting"] as? [String: Any] ?? [:]).keys) == Self.propertyNames(snap.accounting))
        // The spool section, when there is one, keeps its keys too.
        let spooling = Self.snapshot(filled: false, spool: true)
        let withSpool = try #require(try JSONSerialization.jsonObject(with: Data(try spooling.json().utf8)) as? [String: Any])
        let spool = try #require(withSpool["spool"] as? [String: Any])
        #expect(spool["oldest_age_seconds"] is NSNull && spool["last_error"] is NSNull)
        #expect(Set(spool.keys) == Self.propertyNames(try #require(spooling.spool)))
        // And a missing key still decodes (as nil), as from an older daemon's snapshot.
        var trimmed = top
        trimmed["sampler"] = nil
        let back = try JSONDecoder().decode(StatusSnapshot.self, from: try JSONSerialization.data(withJSONObject: trimmed))
        #expect(back == snap)
    }

    @Test("`alerts --json`: the README's keys, exactly, with null for no value")
    func alertRowNulls() throws {
        let printed = try StatusProtocol.json([Self.row(filled: false), Self.row(filled: true)])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        let readme: Set = ["id", "type", "severity", "subject", "sensor", "gateway_id", "message",
                           "created_at", "acknowledged", "acknowledged_at", "resolved_at"]
        for row in rows { #expect(Set(row.keys) == readme) }
        for key in ["sensor", "gateway_id", "acknowledged_at", "resolved_at"] {
            #expect(rows[0][key] is NSNull, "`\(key)` is present and null")
            #expect(!(rows[1][key] is NSNull), "`\(key)` has its value")
        }
        #expect(printed.hasPrefix("[{\"acknowledged\":false,\"acknowledged_at\":null,"), "keys sorted, as before")
    }

    @Test("`alerts ack` prints ok, the count, and a null note")
    func acknowledgedNulls() throws {
        let printed = try StatusProtocol.json(StatusReply.Acknowledged(acknowledged: 1))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        #expect(object["acknowledged"] as? Int == 1)
        #expect(object["note"] is NSNull)
    }

    // MARK: Helpers

    struct RawRequest: Encodable {
        var version: Int?
        var request: String
        var sensor: Int?
        var color: String?
        var id: Int?
        var all: Bool?
    }

    static let unreachable: StatusServer.Handler = { request in
        Issue.record("the handler saw \(request)")
        return StatusReply(.ok)
    }

    func decodeReply(_ line: String) throws -> StatusReply {
        try JSONDecoder().decode(StatusReply.self, from: Data(line.utf8))
    }

    static func problem(in reply: String) -> StatusProblem? {
        guard let r = try? JSONDecoder().decode(StatusReply.self, from: Data(reply.utf8)), case .error(let p) = r.body else { return nil }
        return p
    }

    /// Stored property names as JSON keys (a property wrapper's storage is `_name`).
    static func propertyNames(_ value: Any) -> Set<String> {
        Set(Mirror(reflecting: value).children.compactMap { $0.label.map { $0.hasPrefix("_") ? String($0.dropFirst()) : $0 } })
    }

    func withServer(_ handler: @escaping StatusServer.Handler, logger custom: Logger? = nil,
                    _ body: (String) throws -> Void) throws {
        let socket = Repository.temporaryDirectory("plsp") + "/status.sock"
        var logger = custom ?? Logger(label: "status-protocol-test")
        if custom == nil { logger.logLevel = .warning }
        let server = try StatusServer(path: socket, logger: logger, handler: handler)
        server.start()
        defer { server.stop() }
        try body(socket)
    }

    /// `filled`: every optional has a value; otherwise none has, and the spool section is
    /// there (with its own optionals nil) only if `spool`.
    static func snapshot(filled: Bool, spool: Bool = false) -> StatusSnapshot {
        StatusSnapshot(
            pid: 4242, started_at: "2025-01-02T03:04:05.678Z", uptime_seconds: 12.5, last_run_stopped_cleanly: !filled,
            link: .init(
                device: "/dev/ttyACM0", framing: "binary", baud: 250_000, connected: filled,
                session: filled ? "GW-01/7" : nil, opens: 1, open_failures: 0, hangups: 0, bytes: 1_000, frames: 40,
                readings: 39, hellos: 1, heartbeats: 2, noise_bytes: 3, rejects: ["bad_crc": 1, "too_long": 0],
                rejects_total: 1, gaps: 0, missing_readings: 0, appliance_restart_gaps: filled ? 1 : 0,
                appliance_restart_readings: filled ? 17 : 0, unannounced_reboots: 0, pending_no_session: 0,
                dropped_no_session: 0, sessions: 1, max_sessions: 4_096, sessions_refused: 0, dropped_session_limit: 0,
                gateway_tx_dropped: 0, pings_sent: 1, commands_sent: 2,
                commands_dropped: filled ? 0 : nil, last_byte_at: filled ? "2025-01-02T03:04:17.000Z" : nil),
            ring: .init(capacity: 65_536, fill: 0, fill_percent: 0.1, high_water: 12, pushed: 39, popped: 39,
                        reader_waits: 0, reader_wait_ms: 0),
            store: .init(
                database: "mysql://parklink@localhost/parklink", method: "array-binding", connected: filled, connects: 1,
                rows_committed: 39, rows_duplicate: 0, batches: 3, last_batch_rows: 13,
                last_commit_at: filled ? "2025-01-02T03:04:17.100Z" : nil, retries: 0, in_flight: 0,
                last_error: filled ? "1213 (40001): Deadlock \"found\"\n" : nil,
                latency_ms: .init(p50: filled ? 4 : nil, p99: filled ? 9 : nil, max: filled ? 12 : nil, samples: filled ? 39 : 0),
                occupancy_events: 5, occupancy_debounce_ms: filled ? 2_000 : nil, occupancy_events_suppressed: filled ? 4 : 0,
                occupancy_events_held: filled ? 1 : 0),
            spool: filled || spool ? .init(
                directory: "/var/lib/parklink/spool", active: filled, bytes: filled ? 4_096 : 0, readings: filled ? 12 : 0,
                oldest_age_seconds: filled ? 1.25 : nil, drain_per_second: 0, appended: 12, drained: 0, dropped_full: 0,
                dropped_error: 0, recovered_readings: 0, torn_bytes: 0, max_bytes: 1 << 30,
                last_error: filled ? "ENOSPC" : nil) : nil,
            accounting: .init(readings_accepted: 39, rows_committed: 39, rows_duplicate: 0, in_flight: 0,
                              dropped_no_session: 0, dropped_session_limit: 0, spool_recovered: 0, spool_dropped: 0,
                              balanced: true),
            sampler: filled ? [
                "garage": .object(["occupied": .number(12), "total": .number(500), "ratio": .number(0.024),
                                   "full": .bool(false), "name": .string("Level \"B\"/2"), "note": .null]),
                "alerts": .array([.number(1), .bool(true), .null, .string("x")]),
                "last_run_ms": .number(-3.5e-7),
            ] : nil)
    }

    static func row(filled: Bool) -> AlertDesk.Row {
        AlertDesk.Row(
            id: filled ? 8 : 7, type: filled ? "HIGH_POWER" : "DB_REJECTED", severity: "warning",
            subject: filled ? "sensor 12" : "store", sensor: filled ? 12 : nil, gateway_id: filled ? "GW-01" : nil,
            message: "1600 W \"over\"", created_at: "2025-01-02T03:04:05.000Z", acknowledged: filled,
            acknowledged_at: filled ? "2025-01-02T03:05:00.000Z" : nil, resolved_at: filled ? "2025-01-02T03:06:00.000Z" : nil)
    }
}
