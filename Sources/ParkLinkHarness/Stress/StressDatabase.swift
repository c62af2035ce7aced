import ParkLinkDaemon
import Foundation
import Logging
import ParkLinkStore
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

/// The database and state directory a stress run uses, and their clean-up.
///
/// By default a private MariaDB in a fresh /tmp directory (short, so socket paths fit),
/// which is also the daemon's state directory; a watchdog stops the server and removes
/// the directory even if this process is killed. With `--state-dir` the private server
/// lives there and both are kept (the server is stopped only if this run started it);
/// with `--db` no server is started at all.
public final class StressDatabase: Sendable {
    /// For this process's own connections (verification, the db-stall lock); may hold a
    /// password.
    public let dsn: DSN
    /// The private server, when there is one: the db-restart fault kills it.
    public let server: PrivateMariaDBServer?
    public let stateDirectory: String
    private let removeStateDirectory: Bool
    private let stopServer: Bool

    /// A `--db` server's process when it runs on this machine (see `localServerPid`).
    private let localPid: Int32?

    private init(dsn: DSN, server: PrivateMariaDBServer?, stateDirectory: String, removeStateDirectory: Bool, stopServer: Bool) {
        self.dsn = dsn
        self.server = server
        localPid = server == nil ? Self.localServerPid(dsn) : nil
        self.stateDirectory = stateDirectory
        self.removeStateDirectory = removeStateDirectory
        self.stopServer = stopServer
    }

    /// Starts (or reaches) the database the options name.
    public static func provision(_ o: StressOptions, logger: Logger,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StressDatabase {
        if let text = o.dsn {
            let dsn = try DSN.resolve(text, passwordFile: o.passwordFile, environment: environment)
            if let dir = o.stateDirectory {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                return StressDatabase(dsn: dsn, server: nil, stateDirectory: dir, removeStateDirectory: false, stopServer: false)
            }
            return StressDatabase(dsn: dsn, server: nil, stateDirectory: try temporaryDirectory(), removeStateDirectory: true, stopServer: false)
        }
        if let dir = o.stateDirectory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let server = PrivateMariaDBServer(stateDirectory: dir, logger: logger)
            let wasRunning = server.pid != nil
            let dsn = try server.start()
            return StressDatabase(dsn: dsn, server: server, stateDirectory: dir, removeStateDirectory: false, stopServer: !wasRunning)
        }
        let server = try PrivateMariaDBServer.temporary(logger: logger)
        do {
            let dsn = try server.start()
            return StressDatabase(dsn: dsn, server: server, stateDirectory: server.stateDirectory, removeStateDirectory: true, stopServer: true)
        } catch {
            try? server.destroy()
            throw error
        }
    }

    /// What the daemon is given on its command line: the DSN without its password.
    public var daemonDSNText: String {
        var d = dsn
        d.password = nil
        return d.description
    }

    /// The password, for the daemon's `PARKLINK_DB_PASSWORD` (kept off its command line,
    /// where `ps` would show it).
    public var password: String? { dsn.password }

    /// The server's CPU seconds so far (user + system, from /proc), if it runs on this
    /// machine: our private server, or a local one `--db` names.
    public var serverCPUSeconds: Double? {
        guard let pid = server?.pid ?? localPid else { return nil }
        return ProcessStats.cpuSeconds(pid: pid)
    }

    /// The process of the server `dsn` reaches, if it is on this machine (a Unix socket, or
    /// localhost / 127.0.0.1 / ::1): the pid in its `@@pid_file`, if this user may read it and
    /// it names a running mariadbd (or mysqld). Nil for a remote server: its CPU is not ours
    /// to read.
    static func localServerPid(_ dsn: DSN) -> Int32? {
        if case .tcp(let host, _) = dsn.transport, !["localhost", "127.0.0.1", "::1"].contains(host) { return nil }
        MariaDB.threadInit()
        defer { MariaDB.threadEnd() }
        guard let c = try? MariaDBConnection(dsn: dsn) else { return nil }
        defer { c.close() }
        guard let path = (try? c.queryValue("SELECT @@pid_file")) ?? nil,
              let text = try? String(contentsOfFile: path, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let name = ProcessStats.name(pid: pid), ["mariadbd", "mysqld"].contains(name) else { return nil }
        return pid
    }

    /// Stops what this run started and removes what it created. Safe to call twice.
    public func cleanUp() {
        if let server, stopServer { try? server.stop() }
        if removeStateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    private static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/parklink-stress-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ApplianceRunner.Failure("mkdtemp /tmp/parklink-stress-XXXXXX: \(String(cString: strerror(errno)))")
        }
        return String(cString: p)
    }
}
