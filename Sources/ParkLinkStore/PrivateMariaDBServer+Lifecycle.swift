// Starting, stopping and killing the server process, and the watchdog that stops it when
// its owner process ends.

import Foundation
import Logging
import ParkLinkSystem

#if canImport(Glibc)
import Glibc
#endif

extension PrivateMariaDBServer {
    // MARK: Start

    /// Starts the server if it is not running (initialising the datadir on first use),
    /// waits until it answers, creates the database, and returns its DSN. Idempotent.
    ///
    /// Two processes starting one state directory's server at once (a daemon and a
    /// reading command) would start two servers on one datadir: the start is serialised
    /// by `STATE/mariadb/start.lock`, and from then on this process holds a shared lock on
    /// `STATE/mariadb/users.lock` until it exits (see `openForReading`).
    @discardableResult
    public func start() throws -> DSN {
        try startSharing(forReading: false).dsn
    }

    /// `start()`, saying whether this call spawned the server. A server started for a
    /// read is marked so (the last reader stops it); any other start adopts it.
    func startSharing(forReading: Bool) throws -> (dsn: DSN, spawned: Bool) {
        // Before the lock file is made: a start that cannot work creates nothing.
        let socketBytes = socketPath.utf8.count
        guard socketBytes <= 107 else {
            throw PrivateMariaDBServerError.socketPathTooLong(path: socketPath, bytes: socketBytes)
        }
        return try withStartLock {
            let spawned = try startUnlocked()
            let dsn = try finishStart()
            try holdLease()
            if !forReading {
                try? FileManager.default.removeItem(atPath: startedForReadingPath)
            } else if spawned {
                _ = FileManager.default.createFile(atPath: startedForReadingPath, contents: Data("\(getpid())\n".utf8))
            }
            return (dsn, spawned)
        }
    }

    /// Spawns the server unless it runs; waits until it answers. True if it spawned it.
    private func startUnlocked() throws -> Bool {
        let deadline = ContinuousClock.now + options.startTimeout

        if let pid = self.pid {
            logger.debug("private MariaDB already running", metadata: ["db.pid": "\(pid)"])
            try waitUntilAnswering(pid: pid, deadline: deadline)
        } else {
            let server = try Self.requireBinary(["mariadbd", "mysqld"])
            try FileManager.default.createDirectory(atPath: baseDirectory + "/tmp", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try FileManager.default.createDirectory(atPath: baseDirectory + "/files", withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            // Before anything can fail, so a failed start is cleaned up too.
            try startWatchdogIfNeeded()
            if let account = try serverAccount() { try prepareDirectories(for: account) }
            try installIfNeeded()
            try? FileManager.default.removeItem(atPath: pidFilePath)
            let pid = try spawnServer(server)
            logger.info("private MariaDB starting", metadata: ["db.pid": "\(pid)", "db.datadir": "\(dataDirectory)"])
            try waitUntilAnswering(pid: pid, deadline: deadline)
            return true
        }
        return false
    }

    /// Creates the database and the watchdog once the server answers.
    private func finishStart() throws -> DSN {
        let admin = try MariaDBConnection(dsn: dsn.withDatabase(nil), connectTimeout: .seconds(5))
        defer { admin.close() }
        try admin.execute("CREATE DATABASE IF NOT EXISTS `\(options.databaseName)` CHARACTER SET utf8mb4")
        try startWatchdogIfNeeded()
        return dsn
    }

    /// posix_spawn with POSIX_SPAWN_SETSID: the server leads its own session, so a terminal's
    /// signals and the CLI's exit do not reach it. stdin is /dev/null; stdout/stderr go to the log.
    private func spawnServer(_ server: String) throws -> Int32 {
        let arguments = try serverArguments()
        let pid: Int32
        do throws(SystemError) {
            pid = try BackgroundProcess.spawn(server, arguments, log: logPath, detach: .session)
        } catch {
            throw PrivateMariaDBServerError.spawnFailed(server, errno: error.errno)
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
                throw PrivateMariaDBServerError.serverExited(status: exit, logPath: logPath, logTail: Self.tail(of: logPath))
            }
            if ContinuousClock.now >= deadline {
                throw PrivateMariaDBServerError.startTimeout(
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
        // Whatever this process used the server for is over.
        defer { dropLease() }
        guard let pid = self.pid else { return }
        logger.info("private MariaDB stopping", metadata: ["db.pid": "\(pid)"])
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
        logger.info("private MariaDB signalled", metadata: ["db.pid": "\(pid)", "signal": "\(signal)"])
        _ = kill(pid, signal)
        try waitForExit(pid: pid, timeout: timeout)
    }

    private func waitForExit(pid: Int32, timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        while exitStatusIfExited(pid) == nil {
            if ContinuousClock.now >= deadline {
                throw PrivateMariaDBServerError.stopTimeout(pid: pid, seconds: Int(timeout.components.seconds))
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
            throw PrivateMariaDBServerError.spawnFailed("the database watchdog", errno: error.errno)
        }
        // Not reaped: it outlives us by design; if we are still alive when it ends (never, as
        // it waits for us) it would be a zombie of ours.
    }
}
