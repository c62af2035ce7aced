import Foundation
import ParkLinkStore
import ParkLinkSystem

/// `parklink run --check`: what `run` would meet, found before it meets it, one line per
/// thing checked, each failure with its fix.
///
/// It starts nothing and keeps nothing open: the device is opened only to see that it
/// can be, the database gets one connection that migrates nothing (privileges are
/// checked by preparing statements, not running them), the state directory is not
/// created, and the private server is not started. A failure is the same mistake `run`
/// would stop on (or, for the device, keep retrying on), said once with what to do.
public enum ApplianceCheck {
    public struct Result: Sendable, Equatable {
        public enum Outcome: String, Sendable {
            case ok
            case fail = "FAIL"
            /// Not checked: something it depends on failed.
            case skip
        }

        public var outcome: Outcome
        /// `config`, `device`, `state` or `database`.
        public var subject: String
        public var detail: String

        public init(_ outcome: Outcome, _ subject: String, _ detail: String) {
            self.outcome = outcome
            self.subject = subject
            self.detail = detail
        }

        /// `ok   config   /etc/parklink/parklink.toml`, `FAIL device   /dev/ttyACM0: …`.
        public var line: String {
            func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
            return pad(outcome.rawValue, 4) + " " + pad(subject, 8) + " " + detail
        }
    }

    /// 0 when every check passed, else 1.
    public static func exitCode(_ results: [Result]) -> Int32 {
        results.allSatisfy { $0.outcome == .ok } ? 0 : 1
    }

    /// Runs every check, in the order `run` meets them.
    public static func run(configFile: String?, overrides: ApplianceRunner.Overrides,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           lockFiles: SerialLockFile.Location = .conventional) -> [Result] {
        let config: ApplianceConfig
        do {
            config = try ApplianceRunner.configuration(file: configFile, overrides: overrides)
        } catch {
            return [
                Result(.fail, "config", "\(error)"),
                Result(.skip, "device", "the configuration did not load"),
                Result(.skip, "state", "the configuration did not load"),
                Result(.skip, "database", "the configuration did not load"),
            ]
        }
        let file = configFile.map { FileSystem.absolutePath($0) } ?? "none: command-line options and defaults"
        let state = StateDirectory.resolve(explicit: config.stateDirectory, environment: environment)
        return [
            Result(.ok, "config", file),
            device(config.device, lockFiles: lockFiles, environment: environment),
            stateDirectory(state, environment: environment),
            database(config.dsn, state: state, environment: environment),
        ]
    }

    // MARK: - Device

    static func device(_ path: String?, lockFiles: SerialLockFile.Location, environment: [String: String]) -> Result {
        guard let path else {
            return Result(.fail, "device", "none configured. Fix: give --device PATH (e.g. /dev/ttyACM0) or set `device` under [link] in the config file")
        }
        let probe: SerialPort.Probe
        do {
            probe = try SerialPort.probe(path, lockFiles: lockFiles)
        } catch {
            return Result(.fail, "device", "\(path): " + deviceProblem(error, path: path, environment: environment))
        }
        guard probe.status.kind == .characterDevice else {
            return Result(.fail, "device", "\(path): not a character device (it is a \(describe(probe.status.kind))). "
                + "Fix: give the gateway's serial device, e.g. /dev/ttyACM0, /dev/ttyUSB0 or /dev/serial/by-id/…")
        }
        guard probe.isTerminal else {
            return Result(.fail, "device", "\(path): a character device but not a serial port (no terminal settings). "
                + "Fix: give the gateway's serial device, e.g. /dev/ttyACM0, /dev/ttyUSB0 or /dev/serial/by-id/…")
        }
        var notes = ["serial port", "\(ownerAndGroup(probe.status)) \(probe.status.octalPermissions)"]
        if let directory = SerialLockFile.directory(lockFiles) {
            if !FileSystem.isAccessible(directory, W_OK | X_OK) {
                notes.append("no lock file: \(directory) is not writable (the flock alone guards it)")
            }
        } else if lockFiles != .none {
            notes.append("no lock file: no \(SerialLockFile.conventionalDirectories.joined(separator: " or ")) (the flock alone guards it)")
        }
        return Result(.ok, "device", "\(path) (\(notes.joined(separator: "; ")))")
    }

    /// What went wrong opening the device, and the fix.
    static func deviceProblem(_ error: SerialPortError, path: String, environment: [String: String]) -> String {
        switch error {
        case .inUse(_, let holder?):
            return "in use by \(holder). Fix: stop that process first (`systemctl stop parklink` if it is the service): "
                + "one reader per device"
        case .inUse(_, nil):
            return "in use by another process (it holds the device exclusively). Fix: find it with `fuser -v \(path)` and stop it"
        case .system(let e):
            switch e.errno {
            case ENOENT:
                return "no such device. Fix: plug in the gateway and check the path (ls /dev/ttyACM* /dev/ttyUSB* /dev/serial/by-id/); "
                    + "udev/99-parklink-gateway.rules names it /dev/parklink-gateway"
            case EACCES, EPERM:
                guard let status = try? FileSystem.status(path) else {
                    return "permission denied. Fix: give this user read and write access to it (group dialout, mode 0660)"
                }
                let me = Accounts.user(Accounts.effectiveUser)
                let group = Accounts.group(status.group)
                return permissionAdvice(
                    status: status, user: me?.name ?? environment["USER"] ?? "uid \(Accounts.effectiveUser)",
                    userPrimaryGroup: me?.primaryGroup, processGroups: Accounts.processGroups(),
                    groupName: group?.name ?? "gid \(status.group)", groupMembers: group?.members ?? [],
                    ownerName: Accounts.user(status.owner)?.name ?? "uid \(status.owner)")
            case ENXIO, ENODEV, EIO:
                return "the node is there but no device answers (\(e)). Fix: replug the gateway"
            default:
                return "\(e)"
            }
        }
    }

    /// Why this user may not open a device and what to do about it: join the group that
    /// may (the `dialout` of Debian's serial ports), log in again after joining (a
    /// session keeps the groups it started with), or give the device such a group first.
    static func permissionAdvice(status: FileStatus, user: String, userPrimaryGroup: gid_t?, processGroups: Set<gid_t>,
                                 groupName: String, groupMembers: [String], ownerName: String) -> String {
        let facts = "permission denied (owned by \(ownerName):\(groupName), mode \(status.octalPermissions))"
        let groupMayOpen = status.permissions & 0o060 == 0o060 && status.group != 0
        if groupMayOpen && !processGroups.contains(status.group) {
            if groupMembers.contains(user) || userPrimaryGroup == status.group {
                return "\(facts); \(user) is in \(groupName), but this login session started before that. "
                    + "Fix: log in again (or run it under `newgrp \(groupName)`)"
            }
            return "\(facts). Fix: add the user to the \(groupName) group (sudo usermod -aG \(groupName) \(user)) and log in again"
        }
        return "\(facts). Fix: install udev/99-parklink-gateway.rules (group dialout, mode 0660) and replug the gateway, "
            + "then add the user to the dialout group (sudo usermod -aG dialout \(user)) and log in again"
    }

    // MARK: - State directory

    static func stateDirectory(_ state: StateDirectory, environment: [String: String]) -> Result {
        let path = state.path
        let user = Accounts.user(Accounts.effectiveUser)?.name ?? environment["USER"] ?? "uid \(Accounts.effectiveUser)"
        let socketBytes = state.statusSocket.utf8.count
        guard socketBytes <= 107 else {
            return Result(.fail, "state", "\(path): too long for the status socket in it (\(state.statusSocket) is \(socketBytes) bytes; "
                + "Unix sockets allow 107). Fix: choose a shorter --state-dir")
        }
        guard let status = try? FileSystem.status(path) else {
            var ancestor = FileSystem.directoryName(path)
            while (try? FileSystem.status(ancestor)) == nil && ancestor != "/" { ancestor = FileSystem.directoryName(ancestor) }
            guard (try? FileSystem.status(ancestor))?.kind == .directory, FileSystem.isAccessible(ancestor, W_OK | X_OK) else {
                return Result(.fail, "state", "\(path): cannot be created: \(ancestor) is not writable by \(user). "
                    + "Fix: sudo install -d -m 0750 -o \(user) \(path), or choose another --state-dir")
            }
            return Result(.ok, "state", "\(path) (missing: run creates it, mode 0750)")
        }
        guard status.kind == .directory else {
            return Result(.fail, "state", "\(path): not a directory (a \(describe(status.kind))). Fix: move it away or choose another --state-dir")
        }
        guard FileSystem.isAccessible(path, W_OK | X_OK) else {
            return Result(.fail, "state", "\(path): not writable by \(user) (\(ownerAndGroup(status)) \(status.octalPermissions)). "
                + "Fix: sudo chown \(user) \(path), or choose another --state-dir")
        }
        if StatusClient.isAnswering(socket: state.statusSocket) {
            return Result(.fail, "state", "\(path): a parklink daemon is already running with it. "
                + "Fix: stop it first (`systemctl stop parklink` if it is the service) or choose another --state-dir")
        }
        guard status.permissions == StateDirectory.mode else {
            if status.owner == Accounts.effectiveUser || Accounts.effectiveUser == 0 {
                return Result(.ok, "state", "\(path) (mode \(status.octalPermissions) now: run sets it to 0750)")
            }
            return Result(.fail, "state", "\(path): mode \(status.octalPermissions), and only its owner may set the 0750 run needs. "
                + "Fix: sudo chmod 0750 \(path)")
        }
        return Result(.ok, "state", "\(path) (mode 0750, writable)")
    }

    // MARK: - Database

    static func database(_ dsnText: String?, state: StateDirectory, environment: [String: String]) -> Result {
        guard let dsnText else { return privateServer(state: state) }
        let dsn: DSN
        do {
            dsn = try DSN.parse(dsnText, environment: environment)
        } catch {
            return Result(.fail, "database", "\(error). Fix: mysql://user@host:3306/parklink or "
                + "mysql://user@localhost/parklink?socket=/run/mysqld/mysqld.sock (password in PARKLINK_DB_PASSWORD)")
        }
        return inspect(dsn, label: dsn.description)
    }

    /// No DSN: `run` would use the private server in the state directory.
    static func privateServer(state: StateDirectory) -> Result {
        let server = PrivateMariaDBServer(stateDirectory: state.path)
        for names in [["mariadbd", "mysqld"], ["mariadb-install-db", "mysql_install_db"]]
        where PrivateMariaDBServer.findBinary(names) == nil {
            return Result(.fail, "database", "no DSN, and the private server cannot run: \(names[0]) is not installed. "
                + "Fix: apt-get install mariadb-server, or give --db DSN")
        }
        let socketBytes = server.socketPath.utf8.count
        guard socketBytes <= 107 else {
            return Result(.fail, "database", "no DSN, and the private server's socket \(server.socketPath) would be \(socketBytes) bytes "
                + "(Unix sockets allow 107). Fix: choose a shorter --state-dir, or give --db DSN")
        }
        if let pid = server.pid {
            return inspect(server.dsn, label: "private server in \(server.baseDirectory) (running, pid \(pid))")
        }
        let install = server.status().initialized ? "installed" : "its first start installs it"
        return Result(.ok, "database", "no DSN: run starts the private MariaDB in \(server.baseDirectory) (\(install))")
    }

    /// Connects without migrating and asks what the appliance may do there.
    static func inspect(_ dsn: DSN, label: String) -> Result {
        MariaDB.initializeLibrary()
        let report: SchemaCheck.Report
        var label = label
        do {
            let connector = ClusterConnector(dsn: dsn)
            let c = try connector.open(profile: .check)
            defer { c.close() }
            if dsn.isCluster { label += throughNode(connector.snapshot) }
            report = try SchemaCheck.inspect(c)
        } catch let e as MariaDBError {
            return Result(.fail, "database", "\(label): " + connectProblem(e, dsn: dsn))
        } catch {
            return Result(.fail, "database", "\(label): \(error)")
        }
        let grant = grantAdvice(database: report.database, account: report.account)
        guard report.denied.isEmpty else {
            let shown = report.denied.prefix(3).map(\.description).joined(separator: "; ")
            let more = report.denied.count > 3 ? " and \(report.denied.count - 3) more" : ""
            return Result(.fail, "database", "\(label): \(shown)\(more). Fix: \(grant)")
        }
        let schema: String
        if report.pendingVersions.isEmpty {
            schema = "schema at version \(report.version), current"
        } else {
            schema = "schema at version \(report.version) of \(Schema.currentVersion): run migrates it"
        }
        let newer = report.version > Schema.currentVersion ? ", newer than this parklink's \(Schema.currentVersion)" : ""
        return Result(.ok, "database", "\(label) (\(report.account) may select, insert and update; \(schema)\(newer))")
    }

    /// With several hosts: the node `run` would write through, and the nodes it passed over.
    static func throughNode(_ s: ClusterConnector.Snapshot) -> String {
        let passed = s.nodes.filter { $0.host != s.current && $0.health != nil && $0.health != .ready }
            .map { "\($0.host) \($0.health?.state.replacingOccurrences(of: "_", with: " ") ?? "")" }
        return " through node \(s.current ?? "none")" + (passed.isEmpty ? "" : " (passing over \(passed.joined(separator: ", ")))")
    }

    static func connectProblem(_ e: MariaDBError, dsn: DSN) -> String {
        let database = dsn.database ?? "parklink"
        switch e.code {
        case .accessDenied:
            return "access denied (\(e.message)). Fix: check the DSN's user and PARKLINK_DB_PASSWORD"
        case .unknownDatabase:
            return "database \(database) does not exist. Fix: CREATE DATABASE `\(database)` CHARACTER SET utf8mb4; "
                + grantAdvice(database: database, account: "\(dsn.user)@%")
        case .databaseAccessDenied:
            return "\(e.message). Fix: " + grantAdvice(database: database, account: "\(dsn.user)@%")
        case .connectionError, .connHostError, .unknownHost, .serverLost:
            return "cannot reach the server (\(e.message)). Fix: is MariaDB running (systemctl status mariadb), "
                + "and are the DSN's host, port or socket right?"
        default:
            return "\(e)"
        }
    }

    /// The GRANT an administrator runs so the appliance can work in `database`: DELETE,
    /// ALTER and DROP for the storage upkeep (rollup rows pruned, `readings`' partitions
    /// made and dropped).
    static func grantAdvice(database: String, account: String) -> String {
        let at = account.lastIndex(of: "@")
        let user = at.map { String(account[..<$0]) } ?? account
        let host = at.map { String(account[account.index(after: $0)...]) } ?? "%"
        return "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP ON `\(database)`.* TO '\(user)'@'\(host)'"
    }

    // MARK: - Words

    static func describe(_ kind: FileStatus.Kind) -> String {
        switch kind {
        case .regular: "regular file"
        case .directory: "directory"
        case .characterDevice: "character device"
        case .blockDevice: "block device"
        case .fifo: "FIFO"
        case .socket: "socket"
        case .symbolicLink: "symbolic link"
        case .other: "special file"
        }
    }

    static func ownerAndGroup(_ status: FileStatus) -> String {
        let owner = Accounts.user(status.owner)?.name ?? "uid \(status.owner)"
        let group = Accounts.group(status.group)?.name ?? "gid \(status.group)"
        return "\(owner):\(group)"
    }
}
