/// What a database allows the appliance, asked without changing anything: for
/// `parklink run --check`.
///
/// Each statement the appliance will need is prepared and closed, never executed: the
/// server checks privileges when it prepares, so a refusal here is the refusal the
/// writer would meet, with the server's own code and message, whatever mix of global,
/// database, table or role grants produced it.
public enum SchemaCheck {
    /// One statement the server would refuse.
    public struct Denial: Sendable, CustomStringConvertible {
        /// `SELECT`, `INSERT`, `UPDATE`, `DELETE` or `CREATE`.
        public var privilege: String
        public var table: String
        public var error: MariaDBError

        public var description: String {
            "\(privilege) on \(table) refused (error \(error.code): \(error.message))"
        }
    }

    public struct Report: Sendable {
        /// The connection's default database.
        public var database: String
        /// The account the server matched (`CURRENT_USER()`), e.g. `parklink@%`.
        public var account: String
        /// The migrations recorded in `schema_migrations`.
        public var appliedVersions: [Int]
        /// The migrations `Schema.migrate` would apply at start.
        public var pendingVersions: [Int]
        /// Statements the server refuses; empty: the appliance can work here.
        public var denied: [Denial]

        /// The highest version applied (0: none).
        public var version: Int { appliedVersions.max() ?? 0 }
    }

    /// The tables the appliance writes after inserting, and a column each, for an UPDATE
    /// probe (sessions and sensors through `ON DUPLICATE KEY UPDATE`).
    static let updated: [(table: String, column: String)] = [
        ("gateway_sessions", "last_hello_at"), ("sensors", "occupied"), ("alerts", "resolved_at"), ("forecasts", "actual"),
        ("overrides", "ended_at"),
        ("tariffs", "hourly_rate_cents"), ("rollup_seq_ranges", "last_seq"),
    ]

    /// The tables the storage upkeep deletes from (old rollup rows and seq ranges, a zone
    /// bucket rebuilt).
    /// Its ALTER and DROP on `readings` cannot be probed: the server checks DDL
    /// privileges when it runs the statement, not when it prepares it.
    static let deletedFrom: Set<String> = ["rollup_sensor_5m", "rollup_sensor_hour", "rollup_zone_5m", "rollup_zone_hour", "rollup_seq_ranges"]

    /// The table each `CREATE TABLE IF NOT EXISTS` statement makes, with the statement.
    static func createdTables(_ migration: Migration) -> [(table: String, statement: String)] {
        migration.statements.compactMap { statement in
            let prefix = "CREATE TABLE IF NOT EXISTS "
            let text = statement.drop { $0 == " " || $0 == "\n" }
            guard text.hasPrefix(prefix) else { return nil }
            let name = text.dropFirst(prefix.count).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            return (String(name), statement)
        }
    }

    /// The view each `CREATE OR REPLACE VIEW` statement makes, with the statement: probed
    /// for CREATE VIEW only (a view takes no INSERT).
    static func createdViews(_ migration: Migration) -> [(view: String, statement: String)] {
        migration.statements.compactMap { statement in
            let prefix = "CREATE OR REPLACE VIEW "
            let text = statement.drop { $0 == " " || $0 == "\n" }
            guard text.hasPrefix(prefix) else { return nil }
            let name = text.dropFirst(prefix.count).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            return (String(name), statement)
        }
    }

    /// Asks the server, through `c` (which must not have migrated: use a profile with
    /// `migrates: false`), what the appliance may do in the connection's database.
    public static func inspect(_ c: MariaDBConnection) throws -> Report {
        let row = try c.query("SELECT DATABASE(), CURRENT_USER()").first ?? []
        guard let database = row.first ?? nil else { throw SchemaError.noDatabase }
        let account = (row.count > 1 ? row[1] : nil) ?? "?"

        var denied: [Denial] = []
        func probe(_ privilege: String, _ table: String, _ sql: String) -> Bool {
            do {
                try c.prepare(sql).close()
                return true
            } catch let e as MariaDBError {
                if e.code != .noSuchTable { denied.append(Denial(privilege: privilege, table: table, error: e)) }
                return false
            } catch {
                denied.append(Denial(privilege: privilege, table: table,
                                     error: MariaDBError(code: .unknownError, message: "\(error)", operation: .prepare, statement: sql)))
                return false
            }
        }

        var applied: [Int] = []
        if probe("SELECT", "schema_migrations", "SELECT version FROM schema_migrations") {
            applied = try Schema.appliedVersions(c)
        }
        let pending = Schema.migrations.filter { !applied.contains($0.version) }
        if !pending.isEmpty {
            // Migrating needs the bookkeeping table and the CREATEs of what is missing.
            _ = probe("CREATE", "schema_migrations", Schema.createMigrationsTable)
            for migration in pending {
                for (table, statement) in createdTables(migration) { _ = probe("CREATE", table, statement) }
                for (view, statement) in createdViews(migration) { _ = probe("CREATE VIEW", view, statement) }
            }
        }
        for migration in Schema.migrations where applied.contains(migration.version) {
            for (table, _) in createdTables(migration) {
                guard probe("SELECT", table, "SELECT * FROM `\(table)` LIMIT 0") else { continue }
                _ = probe("INSERT", table, "INSERT INTO `\(table)` () VALUES ()")
                if let u = updated.first(where: { $0.table == table }) {
                    _ = probe("UPDATE", table, "UPDATE `\(table)` SET `\(u.column)` = `\(u.column)` WHERE FALSE")
                }
                if deletedFrom.contains(table) { _ = probe("DELETE", table, "DELETE FROM `\(table)` WHERE FALSE") }
            }
        }
        return Report(database: database, account: account, appliedVersions: applied,
                      pendingVersions: pending.map(\.version), denied: denied)
    }
}
