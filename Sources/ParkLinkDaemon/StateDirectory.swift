import Foundation
import ParkLinkSystem

/// Where the appliance keeps its state: the status socket, the spool, the private
/// demo database, the clean-shutdown marker.
///
/// Resolution order: an explicit `--state-dir`, the config file, `PARKLINK_STATE_DIR`,
/// `/var/lib/parklink` under systemd (`INVOCATION_ID` set), else a per-user
/// `$XDG_STATE_HOME/parklink` (default `~/.local/state/parklink`).
///
/// The path is always absolute: a relative one is taken against the current directory
/// here, once, because the processes started in it (the private `mariadbd`,
/// `mariadb-install-db`) run elsewhere and would read it against their own.
public struct StateDirectory: Sendable {
    public let path: String

    /// The mode the directory must have: the spool and the database hold every reading,
    /// so other users may not read them; the group may (a monitoring account).
    public static let mode: mode_t = 0o750

    public init(path: String) {
        self.path = FileSystem.absolutePath(path)
    }

    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> StateDirectory {
        if let explicit { return StateDirectory(path: explicit) }
        if let p = environment["PARKLINK_STATE_DIR"], !p.isEmpty { return StateDirectory(path: p) }
        if environment["INVOCATION_ID"] != nil { return StateDirectory(path: "/var/lib/parklink") }
        // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
        if let x = environment["XDG_STATE_HOME"], x.hasPrefix("/") { return StateDirectory(path: x + "/parklink") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateDirectory(path: home + "/.local/state/parklink")
    }

    public var statusSocket: String { path + "/parklink.sock" }
    public var databaseDirectory: String { path + "/mariadb" }
    public var spoolDirectory: String { path + "/spool" }
    /// Present while a daemon runs, left behind when it did not stop cleanly (`RunMarker`).
    public var runningMarker: String { path + "/running" }

    /// Creates the directory (and its parents) if missing, and sets it to `mode` even when
    /// it already existed: a directory made by hand with the umask's 0755 would otherwise
    /// show the spool to every user.
    public func create() throws(SystemError) {
        let parent = FileSystem.directoryName(path)
        if (try? FileSystem.status(parent)) == nil {
            try FileSystem.makeDirectory(parent, mode: 0o755)
        }
        try FileSystem.makeDirectory(path, mode: Self.mode)
        let status = try FileSystem.status(path)
        guard status.kind == .directory else { throw SystemError(call: "mkdir(\(path))", errno: ENOTDIR) }
        if status.permissions != Self.mode {
            try FileSystem.setPermissions(path, Self.mode)
        }
    }
}
