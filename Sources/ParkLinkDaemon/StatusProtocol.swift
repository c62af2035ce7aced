import Foundation
import ParkLinkProtocol
import ParkLinkSampler

/// The status socket's protocol: one JSON request line in, one JSON reply line out.
///
/// Both ends use the types below (`StatusServer` decodes a `StatusRequest` and encodes a
/// `StatusReply`, `StatusClient` the other way round), so no side builds or greps JSON
/// text. Every request and reply carries `version`; the server and the CLI ship together,
/// and a mismatch is answered with a plain explanation instead of a guess.
///
///     → {"id":42,"request":"ack","version":1}
///     ← {"acknowledged":{"acknowledged":1,"note":null,"ok":true},"reply":"acknowledged","version":1}
public enum StatusProtocol {
    /// Bump when a request or reply changes shape.
    public static let version = 1

    /// The JSON text of a value as the CLI prints it and the socket carries it: one line,
    /// keys sorted, nil optionals of the contract types as `null` (see `ExplicitNull`).
    public static func json<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    static let upgradeAdvice = "use the parklink that came with the running daemon, or restart the daemon after upgrading"
}

// MARK: - Requests

/// What a client asks the daemon.
///
/// On the wire: `{"version":1,"request":WORD, ...arguments}` with WORD one of `status`,
/// `ping`, `led` (`sensor`, `color`), `alerts` (`all`), `ack` (`id`, or `all: true`),
/// `override` (see `OverrideRequest`), `watch` (`zone`, `since`: a stream, see `WatchEvent`).
public struct StatusRequest: Codable, Sendable, Equatable {
    public enum Command: Sendable, Equatable {
        /// The `StatusSnapshot`.
        case status
        /// Sends `PING` to the gateway.
        case ping
        /// Sets a sensor's LED.
        case led(sensor: UInt16, color: LEDColor)
        /// The open alerts, or (`all`) the last 500 from the database.
        case alerts(all: Bool)
        /// Acknowledges one open alert, or all of them.
        case acknowledge(AlertTarget)
        /// Sets a bay's state by hand, or gives it back to its sensor.
        case override(OverrideRequest)
        /// A stream of bay changes, alerts and overrides (of one zone), from `sinceMs`
        /// (UTC) out of the database first, then live: the connection stays open.
        case watch(zone: String?, sinceMs: Int64?)

        /// The request's word on the wire.
        public var word: String {
            switch self {
            case .status: "status"
            case .ping: "ping"
            case .led: "led"
            case .alerts: "alerts"
            case .acknowledge: "ack"
            case .override: "override"
            case .watch: "watch"
            }
        }
    }

    public enum AlertTarget: Sendable, Equatable {
        case id(UInt64)
        case all
    }

    /// The protocol version the request was written for (`StatusProtocol.version`).
    public var version: Int
    public var command: Command

    public init(_ command: Command, version: Int = StatusProtocol.version) {
        self.command = command
        self.version = version
    }

    /// Why a request line could not be decoded; `StatusServer` answers each with a
    /// `StatusProblem`.
    public enum DecodingFailure: Error, Equatable {
        /// Not a JSON object with a string `request`.
        case malformed
        /// `version` is absent or not this daemon's.
        case versionMismatch(found: Int?)
        case unknownRequest(String)
        case badArguments(request: String, usage: String)
    }

    enum Key: String, CodingKey {
        case version, request, sensor, color, all, id
        case gateway_id, state, reason, for_seconds, zone, since
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(version, forKey: .version)
        try c.encode(command.word, forKey: .request)
        switch command {
        case .status, .ping:
            break
        case .led(let sensor, let color):
            try c.encode(sensor, forKey: .sensor)
            try c.encode(color.name, forKey: .color)
        case .alerts(let all):
            try c.encode(all, forKey: .all)
        case .acknowledge(.id(let id)):
            try c.encode(id, forKey: .id)
        case .acknowledge(.all):
            try c.encode(true, forKey: .all)
        case .override(let o):
            try c.encode(o.sensor, forKey: .sensor)
            try c.encodeIfPresent(o.gateway, forKey: .gateway_id)
            try c.encode(o.state.rawValue, forKey: .state)
            try c.encodeIfPresent(o.reason, forKey: .reason)
            try c.encodeIfPresent(o.seconds, forKey: .for_seconds)
        case .watch(let zone, let since):
            try c.encodeIfPresent(zone, forKey: .zone)
            try c.encodeIfPresent(since, forKey: .since)
        }
    }

    /// Checks `version` before anything else: a request from another version of the
    /// protocol may mean something else by the same words.
    public init(from decoder: Decoder) throws {
        guard let c = try? decoder.container(keyedBy: Key.self) else { throw DecodingFailure.malformed }
        let found = try? c.decodeIfPresent(Int.self, forKey: .version)
        guard let found, found == StatusProtocol.version else { throw DecodingFailure.versionMismatch(found: found) }
        version = found
        guard let word = try? c.decode(String.self, forKey: .request) else { throw DecodingFailure.malformed }
        func bad(_ usage: String) -> DecodingFailure { .badArguments(request: word, usage: usage) }
        /// An optional argument: `.some(nil)` when absent or null, nil when of the wrong type.
        func optional<T: Decodable>(_ key: Key, _ type: T.Type) -> T?? {
            if !c.contains(key) || (try? c.decodeNil(forKey: key)) == true { return .some(nil) }
            return (try? c.decode(T.self, forKey: key)).map { .some($0) }
        }
        switch word {
        case "status":
            command = .status
        case "ping":
            command = .ping
        case "led":
            guard let sensor = try? c.decode(UInt16.self, forKey: .sensor),
                  let name = try? c.decode(String.self, forKey: .color), let color = LEDColor(name: name) else {
                throw bad("led needs \"sensor\" (0…65535) and \"color\" (OFF, GREEN, RED, BLUE or AMBER)")
            }
            command = .led(sensor: sensor, color: color)
        case "alerts":
            guard let all = try? c.decodeIfPresent(Bool.self, forKey: .all) ?? false else {
                throw bad("alerts takes \"all\": true or false")
            }
            command = .alerts(all: all)
        case "ack":
            let id = try? c.decodeIfPresent(UInt64.self, forKey: .id)
            let all = (try? c.decodeIfPresent(Bool.self, forKey: .all)) ?? nil
            switch (id, all) {
            case (let id?, nil), (let id?, false?): command = .acknowledge(.id(id))
            case (nil, true?): command = .acknowledge(.all)
            default: throw bad("ack needs an alert \"id\" or \"all\": true (not both)")
            }
        case "override":
            let usage = "override needs \"sensor\" (0…65535) and \"state\" (occupied, free or auto); optional \"gateway_id\", "
                + "\"reason\" (text) and \"for_seconds\" (1…\(OverrideRequest.maxSeconds))"
            guard let sensor = try? c.decode(UInt16.self, forKey: .sensor),
                  let state = (try? c.decode(String.self, forKey: .state)).flatMap(OverrideRequest.State.init(rawValue:)),
                  let gateway = optional(.gateway_id, String.self), let reason = optional(.reason, String.self),
                  let seconds = optional(.for_seconds, Int.self) else { throw bad(usage) }
            let o = OverrideRequest(gateway: gateway, sensor: sensor, state: state, reason: reason, seconds: seconds)
            if let problem = o.problem { throw bad(problem) }
            command = .override(o)
        case "watch":
            guard let zone = optional(.zone, String.self), (zone?.count ?? 1) <= 64,
                  let since = optional(.since, Int64.self), (since ?? 0) >= 0 else {
                throw bad("watch takes \"zone\" (a zone id) and \"since\" (UTC milliseconds), both optional")
            }
            command = .watch(zone: zone, sinceMs: since)
        default:
            throw DecodingFailure.unknownRequest(word)
        }
    }
}

// MARK: - Replies

/// Why the daemon could not do what was asked: the `error` reply.
public struct StatusProblem: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public enum Code: String, Codable, Sendable {
        case malformedRequest = "malformed_request"
        case unknownRequest = "unknown_request"
        case badArguments = "bad_arguments"
        case versionMismatch = "version_mismatch"
        /// The daemon cannot answer this (stopping, or it runs no sampler).
        case unavailable
        /// No such thing (an alert id that is not open).
        case notFound = "not_found"
        /// The daemon tried and failed (e.g. the database did not answer).
        case failed
        /// The client may not give this command (see `StatusAccess`): the message names
        /// what it needs.
        case forbidden
        /// A `watch` client that did not read its stream fast enough: the daemon stopped
        /// sending rather than wait for it or hold its backlog without end.
        case tooSlow = "too_slow"
    }

    public var code: Code
    /// For a technician, as `parklink` prints it.
    public var message: String
    /// The offending request (its word, or the start of an unreadable line), as data:
    /// JSON-escaped by the encoder like any other string.
    @ExplicitNull public var request: String?

    public init(code: Code, message: String, request: String? = nil) {
        self.code = code
        self.message = message
        self.request = request
    }

    public var description: String { message }

    /// The answer to a request line that could not be decoded.
    public init(_ failure: StatusRequest.DecodingFailure, line: String) {
        switch failure {
        case .malformed:
            let start = String(line.prefix(120))
            self.init(code: .malformedRequest,
                      message: "the status socket takes one JSON request per line (status protocol version \(StatusProtocol.version)); "
                          + "this is not one (a parklink of another version?): \(StatusProtocol.upgradeAdvice)",
                      request: start)
        case .versionMismatch(let found):
            let theirs = found.map { "the request is version \($0)" } ?? "the request names no version"
            self.init(code: .versionMismatch,
                      message: "status protocol version mismatch: this daemon speaks version \(StatusProtocol.version), \(theirs); "
                          + StatusProtocol.upgradeAdvice)
        case .unknownRequest(let word):
            self.init(code: .unknownRequest,
                      message: "unknown request \(Self.quoted(word)) (known: status, ping, led, alerts, ack, override, watch)",
                      request: word)
        case .badArguments(let word, let usage):
            self.init(code: .badArguments, message: usage, request: word)
        }
    }

    /// A request word for a message, shortened and with control characters escaped, so
    /// a hostile request cannot forge lines on a technician's terminal.
    static func quoted(_ s: String) -> String {
        let short = s.count > 60 ? String(s.prefix(60)) + "…" : s
        return "\"" + short.unicodeScalars.map { $0.value < 0x20 || $0 == "\u{7F}" ? $0.escaped(asASCII: true) : String($0) }.joined() + "\""
    }
}

/// What the daemon answers.
///
/// On the wire: `{"version":1,"reply":KIND,KIND:payload}` with KIND one of `status` (a
/// `StatusSnapshot`), `ok` (no payload), `acknowledged`, `alerts` (an array of
/// `AlertDesk.Row`), `overridden` (an `OverrideReply`), `watching` (a `WatchStart`, then
/// one `event` reply per line, a `WatchEvent` each), `error` (a `StatusProblem`).
public struct StatusReply: Codable, Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case status(StatusSnapshot)
        /// Done (`ping`, `led`).
        case ok
        case acknowledged(Acknowledged)
        case alerts([AlertDesk.Row])
        case overridden(OverrideReply)
        /// The stream begins: `event` lines follow until either side closes.
        case watching(WatchStart)
        case event(WatchEvent)
        case error(StatusProblem)

        var kind: Key {
            switch self {
            case .status: .status
            case .ok: .ok
            case .acknowledged: .acknowledged
            case .alerts: .alerts
            case .overridden: .overridden
            case .watching: .watching
            case .event: .event
            case .error: .error
            }
        }
    }

    /// The outcome of `ack`, as `parklink alerts ack` prints it.
    public struct Acknowledged: Codable, Sendable, Equatable {
        /// Always true (scripts read it; failures are `error` replies).
        public var ok: Bool
        /// How many alerts this request acknowledged (0 if the one named was already).
        public var acknowledged: Int
        @ExplicitNull public var note: String?

        public init(acknowledged: Int, note: String? = nil) {
            self.ok = true
            self.acknowledged = acknowledged
            self.note = note
        }
    }

    /// Why a reply line could not be decoded.
    public enum DecodingFailure: Error, Equatable {
        case versionMismatch(found: Int?)
    }

    public var version: Int
    public var body: Body

    public init(_ body: Body, version: Int = StatusProtocol.version) {
        self.body = body
        self.version = version
    }

    enum Key: String, CodingKey {
        case version, reply
        case status, ok, acknowledged, alerts, error
        case overridden, watching, event
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(version, forKey: .version)
        try c.encode(body.kind.rawValue, forKey: .reply)
        switch body {
        case .status(let s): try c.encode(s, forKey: .status)
        case .ok: break
        case .acknowledged(let a): try c.encode(a, forKey: .acknowledged)
        case .alerts(let rows): try c.encode(rows, forKey: .alerts)
        case .overridden(let o): try c.encode(o, forKey: .overridden)
        case .watching(let w): try c.encode(w, forKey: .watching)
        case .event(let e): try c.encode(e, forKey: .event)
        case .error(let p): try c.encode(p, forKey: .error)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let found = try? c.decodeIfPresent(Int.self, forKey: .version)
        guard let found, found == StatusProtocol.version else { throw DecodingFailure.versionMismatch(found: found) }
        version = found
        let kind = try c.decode(String.self, forKey: .reply)
        switch Key(rawValue: kind) {
        case .status?: body = .status(try c.decode(StatusSnapshot.self, forKey: .status))
        case .ok?: body = .ok
        case .acknowledged?: body = .acknowledged(try c.decode(Acknowledged.self, forKey: .acknowledged))
        case .alerts?: body = .alerts(try c.decode([AlertDesk.Row].self, forKey: .alerts))
        case .overridden?: body = .overridden(try c.decode(OverrideReply.self, forKey: .overridden))
        case .watching?: body = .watching(try c.decode(WatchStart.self, forKey: .watching))
        case .event?: body = .event(try c.decode(WatchEvent.self, forKey: .event))
        case .error?: body = .error(try c.decode(StatusProblem.self, forKey: .error))
        default:
            throw DecodingError.dataCorruptedError(forKey: .reply, in: c, debugDescription: "unknown reply kind")
        }
    }
}
