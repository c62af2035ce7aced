import Foundation

/// Where the appliance keeps its state: the status socket, the spool, the private
/// demo database, the clean-shutdown marker.
///
/// Resolution order: an explicit `--state-dir`, the config file, `PARKLINK_STATE_DIR`,
/// `/var/lib/parklink` under systemd (`INVOCATION_ID` set), else a per-user
/// `$XDG_STATE_HOME/parklink` (default `~/.local/state/parklink`).
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> StateDirectory {
        if let explicit { return StateDirectory(path: explicit) }
        if let p = environment["PARKLINK_STATE_DIR"], !p.isEmpty { return StateDirectory(path: p) }
        if environment["INVOCATION_ID"] != nil { return StateDirectory(path: "/var/lib/parklink") }
        if let x = environment["XDG_STATE_HOME"], !x.isEmpty { return StateDirectory(path: x + "/parklink") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateDirectory(path: home + "/.local/state/parklink")
    }

    public var statusSocket: String { path + "/parklink.sock" }
    public var databaseDirectory: String { path + "/mariadb" }
    public var spoolDirectory: String { path + "/spool" }
    /// Present while a daemon runs, left behind when it did not stop cleanly (`RunMarker`).
    public var runningMarker: String { path + "/running" }

    public func create() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
    }
}
