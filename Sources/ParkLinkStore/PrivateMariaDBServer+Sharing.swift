// Who may start and stop the private server while others use it: a reading command
// (`status`, `alerts`, `report`, `export` with the daemon down) may start a stopped server
// for its read and stop it again, but never under a daemon that has started using it.

import Foundation
import ParkLinkSystem
import Synchronization

extension PrivateMariaDBServer {
    /// Held exclusively while a process checks whether the server runs and starts it, so
    /// two processes never start two servers on one datadir.
    var startLockPath: String { baseDirectory + "/start.lock" }
    /// Held shared by every process that started or found the server and uses it (the
    /// daemon, for its whole life): whoever gets it exclusively is the only user.
    var usersLockPath: String { baseDirectory + "/users.lock" }

    /// The shared locks this process holds on `users.lock`, by datadir: kept open until
    /// the process exits (a daemon uses the server for its whole life).
    private static let leases = Mutex<[String: FileLock]>([:])

    func withStartLock<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: baseDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        let lock = try FileLock(path: startLockPath)
        defer { lock.close() }
        try lock.lock(.exclusive)
        return try body()
    }

    /// Takes this process's shared lock on `users.lock`, once.
    func holdLease() throws {
        let held = Self.leases.withLock { $0[dataDirectory] != nil }
        if held { return }
        let lease = try FileLock(path: usersLockPath)
        try lease.lock(.shared)
        Self.leases.withLock { $0[dataDirectory] = lease }
    }

    /// Lets go of this process's shared lock (the server has been stopped).
    func dropLease() {
        Self.leases.withLock { $0.removeValue(forKey: dataDirectory) }?.close()
    }

    /// Present while the server runs because a reading command started it: the last
    /// reader stops it. A daemon (or `db up`) starting it removes the mark: then it stays.
    var startedForReadingPath: String { baseDirectory + "/started-for-reading" }

    /// The server as a reading command uses it with the daemon down.
    public struct ReadingLoan: Sendable {
        public let dsn: DSN
        /// This process started the server (it was stopped).
        public let startedHere: Bool
    }

    /// The server's DSN for a read, starting it if its datadir exists but it is stopped;
    /// nil when the state directory has no private server (never initialised), which is
    /// not created for a read. Pair with `returnLoan`.
    public func openForReading() throws -> ReadingLoan? {
        guard status().initialized else { return nil }
        let (dsn, spawned) = try startSharing(forReading: true)
        return ReadingLoan(dsn: dsn, startedHere: spawned)
    }

    /// Ends a read. A server that a reading command started (this one or another) is
    /// stopped by the last process to use it: unless another process (a daemon started
    /// meanwhile, another reader) still holds `users.lock`, or a daemon adopted it.
    /// Returns true if it stopped the server.
    @discardableResult
    public func returnLoan(_ loan: ReadingLoan) throws -> Bool {
        try withStartLock {
            guard let lease = Self.leases.withLock({ $0.removeValue(forKey: dataDirectory) }) else { return false }
            defer { lease.close() }
            guard FileManager.default.fileExists(atPath: startedForReadingPath) else { return false }
            // Under the start lock nobody can find the server and begin using it; the
            // conversion succeeds only if no other process holds its shared lock.
            guard try lease.tryLock(.exclusive) else { return false }
            try stop()
            try? FileManager.default.removeItem(atPath: startedForReadingPath)
            return true
        }
    }
}
