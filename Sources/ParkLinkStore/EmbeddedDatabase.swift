import Foundation
import Logging
import ParkLinkSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What `EmbeddedDatabase.status()` reports.
public struct EmbeddedDatabaseStatus: Sendable, Equatable, CustomStringConvertible {
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

public enum EmbeddedDatabaseError: Error, Sendable, CustomStringConvertible {
    case binaryNotFound(String)
    case socketPathTooLong(path: String, bytes: Int)
    case installFailed(status: Int32, logPath: String, logTail: String)
    case spawnFailed(String, errno: Int32)
    case serverExited(status: String, logPath: String, logTail: String)
    case startTimeout(seconds: Int, logPath: String, logTail: String)
    case stopTimeout(pid: Int32, seconds: Int)
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
        case .io(let message):
            message
        }
    }
}

/// A private MariaDB server in a state directory, started without systemd.
///
/// Layout under `<stateDirectory>/mariadb/`: `data/` (the datadir), `mariadb.sock`,
/// `mariadbd.pid`, `mariadbd.log` (server log), `install.log`, `tmp/`. The server runs
/// detached in its own session (`setsid`), so it outlives the process that started it;
/// `start()` on a running server just returns its DSN. The root account has no password
/// and is reachable through the socket only (`mysql://root@localhost/parklink?socket=…`).
///
/// Sendable: the stored properties are immutable and the little mutable state sits in a
/// `Mutex`; every method may be called from any thread.
public final class EmbeddedDatabase: Sendable {
    public struct Options: Sendable {
        /// nil: `--skip-networking` (socket only). 0: a free loopback port is picked on the
        /// first start and kept for later starts of the same state directory. Otherwise that
        /// port on 127.0.0.1.
        public var port: UInt16?
        public var bufferPoolSize: String
        public var logFileSize: String
        /// `innodb_flush_log_at_trx_commit`: 1 (the default) is durable at every commit.
        public var flushLogAtTrxCommit: Int
        /// Appended to the server's command line (they win over the defaults above).
        public var extraServerArguments: [String]
        public var databaseName: String
        public var startTimeout: Duration
        public var stopTimeout: Duration
        /// When this process (pid) ends, a detached watchdog shuts the server down
        /// (and removes the state directory if `removeStateDirectoryWithOwner`). For tests.
        public var stopWhenProcessExits: Int32?
        public var removeStateDirectoryWithOwner: Bool

        public init(
            port: UInt16? = nil,
            bufferPoolSize: String = "256M",
            logFileSize: String = "256M",
            flushLogAtTrxCommit: Int = 1,
            extraServerArguments: [String] = [],
            databaseName: String = "parklink",
            startTimeout: Duration = .seconds(60),
            stopTimeout: Duration = .seconds(60),
            stopWhenProcessExits: Int32? = nil,
            removeStateDirectoryWithOwner: Bool = false
        ) {
            self.port = port
            self.bufferPoolSize = bufferPoolSize
            self.logFileSize = logFileSize
            self.flushLogAtTrxCommit = flushLogAtTrxCommit
            self.extraServerArguments = extraServerArguments
            self.databaseName = databaseName
            self.startTimeout = startTimeout
            self.stopTimeout = stopTimeout
            self.stopWhenProcessExits = stopWhenProcessExits
            self.removeStateDirectoryWithOwner = removeStateDirectoryWithOwner
        }
    }

    public let stateDirectory: String
    public let options: Options
    public let isTemporary: Bool
    private let logger: Logger

    private struct State {
        var children: Set<Int32> = []
        var watchdogStarted = false
        var port: UInt16?
    }
    private let state = Mutex(State())

    public var baseDirectory: String { stateDirectory + "/mariadb" }
    public var dataDirectory: String { baseDirectory + "/data" }
    public var socketPath: String { baseDirectory + "/mariadb.sock" }
    public var pidFilePath: String { baseDirectory + "/mariadbd.pid" }
    public var logPath: String { baseDirectory + "/mariadbd.log" }
    private var installLogPath: String { baseDirectory + "/install.log" }
    private var installedMarker: String { baseDirectory + "/.installed" }
    private var portFilePath: String { baseDirectory + "/port" }

    public convenience init(
        stateDirectory: String,
        options: Options = Options(),
        logger: Logger = Logger(label: "parklink.store.embedded", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(stateDirectory: stateDirectory, options: options, logger: logger, isTemporary: false)
    }

    public convenience init(stateDirectory: URL, options: Options = Options(), logger: Logger = Logger(label: "parklink.store.embedded", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.init(stateDirectory: stateDirectory.path, options: options, logger: logger)
    }

    private init(stateDirectory: String, options: Options, logger: Logger, isTemporary: Bool) {
        var dir = stateDirectory
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        self.stateDirectory = dir
        self.options = options
        self.logger = logger
        self.isTemporary = isTemporary
    }

    /// A database in a fresh directory under /tmp (short, so the socket path fits). Unless
    /// `options` says otherwise, a watchdog stops it and removes the directory when this
    /// process ends, even if it is killed; `destroy()` does both at once.
    public static func temporary(
        options: Options = Options(stopWhenProcessExits: getpid(), removeStateDirectoryWithOwner: true),
        logger: Logger = Logger(label: "parklink.store.embedded", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> EmbeddedDatabase {
        var template = Array("/tmp/parklink-db-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw EmbeddedDatabaseError.io("mkdtemp /tmp/parklink-db-XXXXXX: \(String(cString: strerror(errno)))")
        }
        return EmbeddedDatabase(stateDirectory: String(cString: p), options: options, logger: logger, isTemporary: true)
    }

    /// The DSN of the server's database (over the socket).
    public var dsn: DSN {
        DSN(user: "root", password: nil, transport: .unixSocket(path: socketPath), database: options.databaseName)
    }

    /// The loopback TCP port the running server listens on, when `options.port` is set.
    public var port: UInt16? {
        if let p = state.withLock({ $0.port }) { return p }
        return (try? String(contentsOfFile: portFilePath, encoding: .utf8)).flatMap {
            UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    // MARK: Binaries

    static let searchDirectories = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"]

    /// Finds an executable on PATH, then in the usual system directories.
    public static func findBinary(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        for name in names {
            for dir in path + searchDirectories where !dir.isEmpty {
                let candidate = dir + "/" + name
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        return nil
    }

    private static func requireBinary(_ names: [String]) throws -> String {
        guard let path = findBinary(names) else { throw EmbeddedDatabaseError.binaryNotFound(names[0]) }
        return path
    }

    // MARK: Status

    /// The pid of the running server (from its pid file), or nil.
    public var pid: Int32? {
        guard let pid = readPidFile(), isAlive(pid), isOurServer(pid) else { return nil }
        return pid
    }

    public func status() -> EmbeddedDatabaseStatus {
        let pid = self.pid
        return EmbeddedDatabaseStatus(
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

    // MARK: Start

    /// Starts the server if it is not running (initialising the datadir on first use),
    /// waits until it answers, creates the database, and returns its DSN. Idempotent.
    @discardableResult
    public func start() throws -> DSN {
        let socketBytes = socketPath.utf8.count
        guard socketBytes <= 107 else {
            throw EmbeddedDatabaseError.socketPathTooLong(path: socketPath, bytes: socketBytes)
        }
        let deadline = ContinuousClock.now + options.startTimeout

        if let pid = self.pid {
            logger.debug("embedded MariaDB already running", metadata: ["db.pid": "\(pid)"])
            try waitUntilAnswering(pid: pid, deadline: deadline)
        } else {
            let server = try Self.requireBinary(["mariadbd", "mysqld"])
            try FileManager.default.createDirectory(atPath: baseDirectory + "/tmp", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            // Before anything can fail, so a failed start is cleaned up too.
            try startWatchdogIfNeeded()
            try installIfNeeded()
            try? FileManager.default.removeItem(atPath: pidFilePath)
            let pid = try spawnServer(server)
            logger.info("embedded MariaDB starting", metadata: ["db.pid": "\(pid)", "db.datadir": "\(dataDirectory)"])
            try waitUntilAnswering(pid: pid, deadline: deadline)
        }
        let admin = try MariaDBConnection(dsn: dsn.withDatabase(nil), connectTimeout: .seconds(5))
        defer { admin.close() }
        try admin.execute("CREATE DATABASE IF NOT EXISTS `\(options.databaseName)` CHARACTER SET utf8mb4")
        try startWatchdogIfNeeded()
        return dsn
    }

    private func installIfNeeded() throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: installedMarker) { return }
        let install = try Self.requireBinary(["mariadb-install-db", "mysql_install_db"])
        // A datadir without the marker is a half-finished install of ours: start again.
        try? fm.removeItem(atPath: dataDirectory)
        // A private tmpdir: the bootstrap server's temporary tables otherwise go to /tmp,
        // where concurrent installs were seen to trip over each other.
        var args = [
            "--no-defaults", "--datadir=\(dataDirectory)", "--tmpdir=\(baseDirectory)/tmp",
            "--auth-root-authentication-method=normal", "--skip-test-db",
        ]
        if geteuid() == 0 { args.append("--user=root") }
        logger.info("initialising MariaDB datadir", metadata: ["db.datadir": "\(dataDirectory)"])
        _ = fm.createFile(atPath: installLogPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: installLogPath))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: install)
        process.arguments = args
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw EmbeddedDatabaseError.installFailed(
                status: process.terminationStatus, logPath: installLogPath, logTail: Self.tail(of: installLogPath))
        }
        _ = fm.createFile(atPath: installedMarker, contents: Data("ok\n".utf8))
    }

    func serverArguments() throws -> [String] {
        var args = [
            "--no-defaults",
            "--datadir=\(dataDirectory)",
            "--socket=\(socketPath)",
            "--pid-file=\(pidFilePath)",
            "--log-error=\(logPath)",
            "--tmpdir=\(baseDirectory)/tmp",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--default-time-zone=+00:00",
            "--skip-log-bin",
            "--local-infile=1",
            "--skip-name-resolve",
            "--max-allowed-packet=64M",
            "--innodb-buffer-pool-size=\(options.bufferPoolSize)",
            "--innodb-log-file-size=\(options.logFileSize)",
            "--innodb-log-buffer-size=32M",
            "--innodb-flush-log-at-trx-commit=\(options.flushLogAtTrxCommit)",
            "--innodb-file-per-table=1",
        ]
        if geteuid() == 0 { args.append("--user=root") }
        if let requested = options.port {
            // Port 0: pick a free port once and keep it across restarts (a client reconnecting
            // after a crash test must find the server where it was).
            let remembered = (try? String(contentsOfFile: portFilePath, encoding: .utf8))
                .flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let port = requested != 0 ? requested : try (remembered ?? Self.freeLoopbackPort())
            args += ["--port=\(port)", "--bind-address=127.0.0.1"]
            state.withLock { $0.port = port }
            try "\(port)\n".write(toFile: portFilePath, atomically: true, encoding: .utf8)
        } else {
            args.append("--skip-networking")
            state.withLock { $0.port = nil }
            try? FileManager.default.removeItem(atPath: portFilePath)
        }
        return args + options.extraServerArguments
    }

    /// posix_spawn with POSIX_SPAWN_SETSID: the server leads its own session, so a terminal's
    /// signals and the CLI's exit do not reach it. stdin is /dev/null; stdout/stderr go to the log.
    private func spawnServer(_ server: String) throws -> Int32 {
        let arguments = try serverArguments()
        let pid: Int32
        do throws(SystemError) {
            pid = try BackgroundProcess.spawn(server, arguments, log: logPath, detach: .session)
        } catch {
            throw EmbeddedDatabaseError.spawnFailed(server, errno: error.errno)
        }
        _ = state.withLock { $0.children.insert(pid) }
        return pid
    }

    private func waitUntilAnswering(pid: Int32, deadline: ContinuousClock.Instant) throws {
        let probe = dsn.withDatabase(nil)
        while true {
            if let c = try? MariaDBConnection(dsn: probe, connectTimeout: .seconds(2), readTimeout: .seconds(5)) {
                c.close()
                return
            }
            if let exit = exitStatusIfExited(pid) {
                throw EmbeddedDatabaseError.serverExited(status: exit, logPath: logPath, logTail: Self.tail(of: logPath))
            }
            if ContinuousClock.now >= deadline {
                throw EmbeddedDatabaseError.startTimeout(
                    seconds: Int(options.startTimeout.components.seconds), logPath: logPath, logTail: Self.tail(of: logPath))
            }
            usleep(50_000)
        }
    }

    /// "exit N" / "signal N" if the process has ended (reaping our own child).
    private func exitStatusIfExited(_ pid: Int32) -> String? {
        if state.withLock({ $0.children.contains(pid) }) {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                _ = state.withLock { $0.children.remove(pid) }
                let signal = status & 0x7f
                return signal == 0 ? "exit \((status >> 8) & 0xff)" : "signal \(signal)"
            }
            if r == 0 { return nil }
        }
        return kill(pid, 0) == 0 || errno == EPERM ? nil : "gone"
    }

    // MARK: Stop

    /// Shuts the server down (`SHUTDOWN`, or SIGTERM if it cannot be reached) and waits for
    /// its process to exit. Does nothing if it is not running.
    public func stop() throws {
        guard let pid = self.pid else { return }
        logger.info("embedded MariaDB stopping", metadata: ["db.pid": "\(pid)"])
        if let c = try? MariaDBConnection(dsn: dsn.withDatabase(nil), connectTimeout: .seconds(2), readTimeout: .seconds(10)) {
            _ = try? c.execute("SHUTDOWN")
            c.close()
        } else {
            kill(pid, SIGTERM)
        }
        try waitForExit(pid: pid, timeout: options.stopTimeout)
    }

    /// Sends `signal` to the server (SIGKILL by default, for crash tests) and waits for its
    /// process to go. `start()` then recovers and restarts it.
    public func killServer(signal: Int32 = SIGKILL, timeout: Duration = .seconds(30)) throws {
        guard let pid = self.pid else { return }
        logger.info("embedded MariaDB signalled", metadata: ["db.pid": "\(pid)", "signal": "\(signal)"])
        _ = kill(pid, signal)
        try waitForExit(pid: pid, timeout: timeout)
    }

    private func waitForExit(pid: Int32, timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        while exitStatusIfExited(pid) == nil {
            if ContinuousClock.now >= deadline {
                throw EmbeddedDatabaseError.stopTimeout(pid: pid, seconds: Int(timeout.components.seconds))
            }
            usleep(20_000)
        }
    }

    /// Stops the server and removes the whole state directory.
    public func destroy() throws {
        try stop()
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    // MARK: Watchdog

    /// A detached `sh` that waits for the owner process to end, then stops the server (if it
    /// is still this datadir's) and, if asked, removes the state directory.
    private func startWatchdogIfNeeded() throws {
        guard let owner = options.stopWhenProcessExits else { return }
        let already = state.withLock { s -> Bool in
            defer { s.watchdogStarted = true }
            return s.watchdogStarted
        }
        if already { return }
        let script = """
            owner=$1; pidfile=$2; datadir=$3; dir=$4; remove=$5
            while kill -0 "$owner" 2>/dev/null; do sleep 1; done
            pid=$(cat "$pidfile" 2>/dev/null)
            if [ -n "$pid" ] && tr '\\0' '\\n' < /proc/$pid/cmdline 2>/dev/null | grep -qxF -- "--datadir=$datadir"; then
              kill -TERM "$pid" 2>/dev/null
              i=0
              while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
              kill -KILL "$pid" 2>/dev/null
            fi
            if [ "$remove" = 1 ]; then rm -rf -- "$dir"; fi
            """
        let args = ["/bin/sh", "-c", script, "parklink-db-watchdog", String(owner), pidFilePath, dataDirectory,
                    stateDirectory, options.removeStateDirectoryWithOwner ? "1" : "0"]
        do throws(SystemError) {
            _ = try BackgroundProcess.spawn("/bin/sh", Array(args.dropFirst()), log: nil, detach: .session)
        } catch {
            throw EmbeddedDatabaseError.spawnFailed("the database watchdog", errno: error.errno)
        }
        // Not reaped: it outlives us by design; if we are still alive when it ends (never, as
        // it waits for us) it would be a zombie of ours.
    }

    // MARK: Helpers

    private static func tail(of path: String, bytes: Int = 2000) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }

    /// A loopback port that is free right now (bind to port 0, read it back, close).
    static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EmbeddedDatabaseError.io("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw EmbeddedDatabaseError.io("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: addr.sin_port)
    }
}
