/// One versioned schema change: statements run in order, once per database.
///
/// MariaDB commits DDL implicitly, so a migration is not atomic: write each statement so
/// that running it again is harmless (`CREATE TABLE IF NOT EXISTS`, `ADD COLUMN IF NOT
/// EXISTS`, `CREATE INDEX IF NOT EXISTS`). A migration that failed half-way is then simply
/// run again, whole, by the next `Schema.migrate`.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

public enum SchemaError: Error, Sendable, CustomStringConvertible {
    /// `GET_LOCK` did not get the migration lock in time (another process is migrating).
    case lockTimeout(seconds: Int)
    /// The connection has no default database.
    case noDatabase

    public var description: String {
        switch self {
        case .lockTimeout(let s):
            "could not take the schema migration lock within \(s) s: another process is migrating this database"
        case .noDatabase:
            "schema migration needs a connection with a default database (the DSN's path)"
        }
    }
}

/// The versioned schema of the ParkLink database.
///
/// Applied versions are recorded in `schema_migrations`. `migrate` takes a named server
/// lock (`GET_LOCK`) for the database, so several processes may call it at once: one
/// applies what is missing, the others wait and then find nothing to do. On Galera,
/// `GET_LOCK` is local to one node, so the migrator also claims the database for the
/// whole cluster (`MigrationClaim`).
public enum Schema {
    /// Every migration, in order. Adding one = appending to `SchemaMigrations.all`.
    public static let migrations: [Migration] = {
        let all = SchemaMigrations.all
        for (a, b) in zip(all, all.dropFirst()) {
            precondition(a.version < b.version, "migrations must have strictly increasing versions")
        }
        return all
    }()

    /// The version a fully migrated database has.
    public static let currentVersion: Int = migrations.last?.version ?? 0

    static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version INT UNSIGNED NOT NULL PRIMARY KEY,
          name VARCHAR(128) NOT NULL,
          applied_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """

    /// Applies every migration the database lacks, in order; returns the versions applied
    /// now (empty when the database was current). Safe to run concurrently from several
    /// connections or processes, on one server or through several nodes of a Galera cluster.
    @discardableResult
    public static func migrate(_ c: MariaDBConnection, lockTimeout: Duration = .seconds(30)) throws -> [Int] {
        guard (try c.queryValue("SELECT DATABASE()")) != nil else { throw SchemaError.noDatabase }
        // A current database needs no lock and no statement: a restart, or a connection to
        // another node after a failover, then runs no DDL (on Galera, DDL pauses the cluster).
        if try isCurrent(c) { return [] }
        let deadline = ContinuousClock.now + lockTimeout
        // GET_LOCK blocks in one read: keep its wait below the connection's read timeout.
        let readTimeout = Int(c.options.readTimeout.components.seconds)
        let seconds = max(1, min(Int(lockTimeout.components.seconds), readTimeout - 1))
        let lockName = "LEFT(CONCAT('parklink.schema.', DATABASE()), 64)"
        let got = try c.queryValue("SELECT GET_LOCK(\(lockName), \(seconds))")
        guard got == "1" else { throw SchemaError.lockTimeout(seconds: seconds) }
        defer { _ = try? c.query("SELECT RELEASE_LOCK(\(lockName))") }

        try c.execute(createMigrationsTable)
        let claim = try MigrationClaim.take(c, until: deadline, timeoutSeconds: Int(lockTimeout.components.seconds))
        guard claim != .finishedByAnother else { return [] }
        defer { if case .held(let holder) = claim { MigrationClaim.release(c, holder: holder) } }
        let applied = Set(try appliedVersions(c))
        var newlyApplied: [Int] = []
        for migration in migrations where !applied.contains(migration.version) {
            for statement in migration.statements {
                try c.execute(statement)
            }
            try c.execute("""
                INSERT IGNORE INTO schema_migrations (version, name, applied_at)
                VALUES (\(migration.version), \(try c.quoted(migration.name)), UTC_TIMESTAMP(3))
                """)
            if case .held(let holder) = claim { try MigrationClaim.renew(c, holder: holder) }
            newlyApplied.append(migration.version)
        }
        return newlyApplied
    }

    /// True when every migration is recorded.
    static func isCurrent(_ c: MariaDBConnection) throws -> Bool {
        Set(migrations.map(\.version)).isSubset(of: try appliedVersions(c))
    }

    /// The versions recorded in `schema_migrations`, ascending (empty if the table is missing).
    public static func appliedVersions(_ c: MariaDBConnection) throws -> [Int] {
        let exists = try c.queryValue("""
            SELECT COUNT(*) FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'
            """)
        guard exists == "1" else { return [] }
        return try c.query("SELECT version FROM schema_migrations WHERE version > 0 ORDER BY version").compactMap { row in
            row.first.flatMap { $0.flatMap { Int($0) } }
        }
    }
}
