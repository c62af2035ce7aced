import ParkLinkProtocol
import ParkLinkSystem

/// Link events (a new session, a gap in `seq`) that a stop with the database down left
/// unstored, kept beside the spool for the next start.
///
/// The readings of such a stop go to the spool; the facts about them travel in the same
/// transaction as the next batch and lived only in the writer's memory. Dropped there, a
/// gap the reader saw would be stored nowhere: readings missing and no row saying so, which
/// is the one thing the appliance promises never to do. So they go to one small file,
/// replaced atomically (a crash leaves the old list or the new one); the next start queues
/// them in front of anything new and removes the file after the first commit. Storing one
/// twice (a crash between that commit and the removal) is harmless: `sessions` and
/// `link_gaps` are keyed by session and first missing seq.
///
/// One event per line, tab-separated, so that a person can read it:
///
///     session  GATEWAY  BOOT_HEX  AT_MS  FIRMWARE|-  SENSORS|-
///     gap      GATEWAY  BOOT_HEX  FIRST  COUNT  AT_MS  REASON
public struct PendingLinkEvents: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// What a file holds: the events it could read, and how many lines it could not (a file
    /// edited by hand; logged by the caller, never a reason not to start).
    public struct Contents: Sendable, Equatable {
        public var events: [LinkEvent] = []
        public var unreadableLines = 0
    }

    public func load() -> Contents {
        guard let bytes = FileSystem.contents(of: path, limit: 64 << 20) else { return Contents() }
        var contents = Contents()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.isEmpty {
            if let event = Self.decode(line) {
                contents.events.append(event)
            } else {
                contents.unreadableLines += 1
            }
        }
        return contents
    }

    /// Replaces the file with `events`; removes it when there are none.
    public func save(_ events: [LinkEvent]) throws(SystemError) {
        guard !events.isEmpty else { return remove() }
        let text = events.map(Self.encode).joined(separator: "\n") + "\n"
        try FileSystem.replaceAtomically(path, with: Array(text.utf8))
    }

    public func remove() {
        guard (try? FileSystem.status(path)) != nil else { return }
        try? FileSystem.remove(path)
        FileSystem.syncDirectory(FileSystem.directoryName(path))
    }

    static func encode(_ event: LinkEvent) -> String {
        switch event {
        case .session(let key, let hello, let at):
            let firmware = hello.map { "\($0.firmware.major).\($0.firmware.minor).\($0.firmware.patch)" } ?? "-"
            let sensors = hello.map { String($0.sensorCount) } ?? "-"
            return ["session", key.gatewayId, String(key.bootId, radix: 16), String(at), firmware, sensors]
                .joined(separator: "\t")
        case .gap(let key, let first, let count, let at, let reason):
            return ["gap", key.gatewayId, String(key.bootId, radix: 16), String(first), String(count), String(at),
                    reason.rawValue].joined(separator: "\t")
        }
    }

    static func decode(_ line: Substring) -> LinkEvent? {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 3, !f[1].isEmpty, let boot = UInt32(f[2], radix: 16) else { return nil }
        let key = SessionKey(gatewayId: f[1], bootId: boot)
        switch f[0] {
        case "session" where f.count == 6:
            guard let at = Int64(f[3]) else { return nil }
            if f[4] == "-" && f[5] == "-" { return .session(key, hello: nil, atMs: at) }
            let v = f[4].split(separator: ".").compactMap { UInt8($0) }
            guard v.count == 3, let sensors = UInt16(f[5]) else { return nil }
            let hello = Hello(gatewayId: key.gatewayId, bootId: boot,
                              firmware: FirmwareVersion(major: v[0], minor: v[1], patch: v[2]), sensorCount: sensors)
            return .session(key, hello: hello, atMs: at)
        case "gap" where f.count == 7:
            guard let first = UInt32(f[3]), let count = UInt32(f[4]), let at = Int64(f[5]),
                  let reason = GapReason(rawValue: f[6]) else { return nil }
            return .gap(key, firstMissing: first, count: count, atMs: at, reason: reason)
        default:
            return nil
        }
    }
}
