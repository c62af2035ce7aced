import Foundation
import ParkLinkStore
import Synchronization

/// One private MariaDB server for a whole test process, started on first use in a fresh
/// /tmp directory through `PrivateMariaDBServer` (the same code as `parklink db up`). Each
/// test takes its own database, so tests are independent and may run in parallel.
///
/// The server stops when the test process exits (an atexit handler, and the watchdog
/// `PrivateMariaDBServer.temporary()` starts in case the process is killed).
public enum TestDatabase {
    static let database: Result<PrivateMariaDBServer, any Error> = Result { try PrivateMariaDBServer.temporary() }

    static let started: Result<DSN, any Error> = Result {
        MariaDB.initializeLibrary()
        let db = try database.get()
        let dsn = try db.start()
        atexit {
            if case .success(let db) = TestDatabase.database { try? db.destroy() }
        }
        return dsn
    }

    private static let counter = Atomic<Int>(0)

    /// The server itself, e.g. to stop and restart it in a fault test.
    public static func server() throws -> PrivateMariaDBServer {
        _ = try started.get()
        return try database.get()
    }

    /// The server-level DSN (database `parklink`).
    public static func dsn() throws -> DSN { try started.get() }

    /// A new, empty database on the shared server; returns its DSN.
    public static func newDatabase(_ label: String = "t") throws -> DSN {
        let base = try dsn()
        let n = counter.add(1, ordering: .relaxed).newValue
        let name = "\(label)_\(n)_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try MariaDBConnection(dsn: base)
        defer { admin.close() }
        _ = try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4")
        return base.withDatabase(name)
    }

    /// A connection to a new, migrated database.
    public static func migratedConnection(_ label: String = "t", allowLocalInfile: Bool = false) throws -> MariaDBConnection {
        let c = try MariaDBConnection(dsn: try newDatabase(label), allowLocalInfile: allowLocalInfile)
        _ = try Schema.migrate(c)
        return c
    }
}
