// The appliance's own MariaDB: a `mariadbd` child process supervised in the state
// directory. Its parts: the server options (+Options), first-use install (+Install),
// start, stop and the watchdog (+Lifecycle).

import Foundation
import Logging
import ParkLinkSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What `PrivateMariaDBServer.status()` reports.
public struct PrivateMariaDBServerStatus: Sendable, Equatable, CustomStringConvertible {
    public var running: Bool
    public var pid: Int32?
    /// The data directory has been initialised (`mariadb-install-db` ran to the end).
    public var initialized: Bool
    public var socketPath: String
    public var dataDirectory: String
    public var logPath: String
    /// The loopback TCP port, when the server listens on one.
    public var port: UInt16?

    public var description: String {
        var s = running ? "running (pid \(pid.map(String.init) ?? "?"))" : "stopped"
        s += ", socket \(socketPath), datadir \(dataDirectory)"
        if let port { s += ", port 127.0.0.1:\(port)" }
        if !initialized { s += " (not initialised)" }
        return s
    }
}

public enum PrivateMariaDBServerError: Error, Sendable, CustomStringConvertible {
    case binaryNotFound(String)
    case socketPathTooLong(path: String, bytes: Int)
    case installFailed(status: Int32, logPath: String, logTail: String)
    case spawnFailed(String, errno: Int32)
    case serverExited(status: String, logPath: String, logTail: String)
    case startTimeout(seconds: Int, logPath: String, logTail: String)
    case stopTimeout(pid: Int32, seconds: Int)
    case noServiceAccount(tried: [String])
    case unreachable(directory: String, account: String, stateDirectory: String)
    case io(String)

    public var description: String {
        switch self {
        case .binaryNotFound(let name):
            "\(name) not found on PATH, /usr/sbin or /usr/bin: install it with `apt-get install mariadb-server`"
        case .socketPathTooLong(let path, let bytes):
            "the socket path \(path) is \(bytes) bytes; Unix sockets allow at most 107: choose a shorter state directory"
        case .installFailed(let status, let log, let tail):
            "mariadb-install-db failed (exit \(status)); see \(log):\n\(tail)"
        case .spawnFailed(let what, let e):
            "could not start \(what): \(String(cString: strerror(e)))"
        case .serverExited(let status, let log, let tail):
            "mariadbd exited during start-up (\(status)); see \(log):\n\(tail)"
        case .startTimeout(let s, let log, let tail):
            "mariadbd did not answer within \(s) s; see \(log):\n\(tail)"
        case .stopTimeout(let pid, let s):
            "mariadbd (pid \(pid)) did not exit within \(s) s of the shutdown request"
        case .noServiceAccount(let tried):
            "the private MariaDB never runs as root, and there is no account to run it as (tried \(tried.joined(separator: ", "))): create one with `parklink install` or `useradd --system parklink`"
        case .unreachable(let directory, let account, let state):
            "the private MariaDB runs as '\(account)', which cannot enter \(directory) on the way to \(state): choose a state directory it can reach (e.g. --state-dir /var/lib/parklink), or `chmod o+x \(directory)`"
        case .io(let message):
            message
        }
    }
}

/// A private MariaDB server in a state directory, started without systemd.
///
/// Not embedded in this process: it is a separate `mariadbd` that this type installs,
/// starts, watches and stops, and that clients reach through its socket like any server.
///
/// Layout under `<stateDirectory>/mariadb/`: `data/` (the datadir), `mariadb.sock`,
/// `mariadbd.pid`, `mariadbd.log` (server log), `install.log`, `tmp/`. The server runs
/// detached in its own session (`setsid`), so it outlives the process that started it;
/// `start()` on a running server just returns its DSN. It never runs as root (see
/// `serverAccount()`), and only root and its owner log in, by socket authentication
/// (`mysql://OWNER@localhost/parklink?socket=…`, no password; see `loginUser`).
///
/// Sendable: the stored properties are immutable and the little mutable state sits in a
/// `Mutex`; every method may be called from any thread.
public final class PrivateMariaDBServer: Sendable {
    public let stateDirectory: String
    public let options: Options
    public let isTemporary: Bool
    let logger: Logger

    struct State {
        var children: Set<Int32> = []
        var watchdogStarted = false
        var port: UInt16?
    }
    let state = Mutex(State())

    public var baseDirectory: String { stateDirectory + "/mariadb" }
    public var dataDirectory: String { baseDirectory + "/data" }
    public var socketPath: String { baseDirectory + "/mariadb.sock" }
    public var pidFilePath: String { baseDirectory + "/mariadbd.pid" }
    public var logPath: String { baseDirectory + "/mariadbd.log" }
    var installLogPath: String { baseDirectory + "/install.log" }
    var installedMarker: String { baseDirectory + "/.installed" }
    var portFilePath: String { baseDirectory + "/port" }

    public convenience init(
        stateDirectory: String,
        options: Options = Options(),
        logger: Logger = Logger(label: "parklink.store.mariadb-server", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(stateDirectory: stateDirectory, options: options, logger: logger, isTemporary: false)
    }

    public convenience init(stateDirectory: URL, options: Options = Options(), logger: Logger = Logger(label: "parklink.store.mariadb-server", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.init(stateDirectory: stateDirectory.path, options: options, logger: logger)
    }

    private init(stateDirectory: String, options: Options, logger: Logger, isTemporary: Bool) {
        // Absolute: mariadb-install-db and mariadbd change directory and would read a
        // relative datadir against their own (it ended up under /usr).
        self.stateDirectory = FileSystem.absolutePath(stateDirectory)
        self.options = options
        self.logger = logger
        self.isTemporary = isTemporary
    }

    /// A database in a fresh directory under /tmp (short, so the socket path fits). Unless
    /// `options` says otherwise, a watchdog stops it and removes the directory when this
    /// process ends, even if it is killed; `destroy()` does both at once.
    public static func temporary(
        options: Options = Options(stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true),
        logger: Logger = Logger(label: "parklink.store.mariadb-server", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> PrivateMariaDBServer {
        var template = Array("/tmp/parklink-db-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PrivateMariaDBServerError.io("mkdtemp /tmp/parklink-db-XXXXXX: \(String(cString: strerror(errno)))")
        }
        return PrivateMariaDBServer(stateDirectory: String(cString: p), options: options, logger: logger, isTemporary: true)
    }

    /// The DSN of the server's database (over the socket).
    public var dsn: DSN {
        DSN(user: loginUser, password: nil, transport: .unixSocket(path: socketPath), database: options.databaseName)
    }

    /// The loopback TCP port the running server listens on, when `options.port` is set.
    public var port: UInt16? {
        if let p = state.withLock({ $0.port }) { return p }
        return (try? String(contentsOfFile: portFilePath, encoding: .utf8)).flatMap {
            UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    // MARK: Status

    /// The pid of the running server (from its pid file), or nil.
    public var pid: Int32? {
        guard let pid = readPidFile(), isAlive(pid), isOurServer(pid) else { return nil }
        return pid
    }

    public func status() -> PrivateMariaDBServerStatus {
        let pid = self.pid
        return PrivateMariaDBServerStatus(
            running: pid != nil, pid: pid,
            initialized: FileManager.default.fileExists(atPath: installedMarker),
            socketPath: socketPath, dataDirectory: dataDirectory, logPath: logPath,
            port: pid != nil ? port : nil
        )
    }

    private func readPidFile() -> Int32? {
        guard let text = try? String(contentsOfFile: pidFilePath, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Alive, reaping it first if it is our exited child (a zombie still answers kill(pid, 0)).
    private func isAlive(_ pid: Int32) -> Bool {
        if state.withLock({ $0.children.contains(pid) }) {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                _ = state.withLock { $0.children.remove(pid) }
                return false
            }
            if r == 0 { return true }
            _ = state.withLock { $0.children.remove(pid) }
        }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Guards against a recycled pid: the process must be a server of this datadir.
    private func isOurServer(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
            return true  // no /proc: trust the pid file
        }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains("--datadir=\(dataDirectory)")
    }
}
