import Foundation

/// The migration lock of a whole Galera cluster: a row `version = 0` in
/// `schema_migrations`, whose name says who holds it.
///
/// `GET_LOCK` holds on one node only. Two appliances started together through two nodes of
/// a new database would otherwise both run the DDL, the slower one's repartition of
/// `readings` possibly arriving while the other already writes to it. (The cluster test
/// once saw every commit hang 30 s at a time in its first 90 s, before any upkeep ran:
/// this race was the only DDL then.) Rows are what a cluster agrees on: two nodes inserting
/// the same key at once get one commit and one certification failure (1213) or duplicate
/// (1062). The holder renews the row after each migration; a row not renewed for
/// `staleSeconds` belongs to a process that died migrating and is taken over. A single
/// server (no `wsrep_on`) needs no claim: `GET_LOCK` is enough there.
enum MigrationClaim: Equatable {
    /// Not a Galera node: nothing claimed.
    case notNeeded
    /// This connection holds the claim under this name.
    case held(String)
    /// Another process finished every migration while this one waited.
    case finishedByAnother

    static let staleSeconds = 120

    static func take(_ c: MariaDBConnection, until deadline: ContinuousClock.Instant, timeoutSeconds: Int) throws -> MigrationClaim {
        let wsrep = try c.query("SHOW VARIABLES LIKE 'wsrep_on'").first?.dropFirst().first ?? nil
        guard wsrep == "ON" else { return .notNeeded }
        let holder = "migrating: \(ProcessInfo.processInfo.hostName.prefix(80)) pid \(getpid())"
        while true {
            do {
                try c.execute("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (0, \(try c.quoted(holder)), UTC_TIMESTAMP(3))
                    """)
                return .held(holder)
            } catch let e as MariaDBError where e.code == .duplicateEntry || e.code == .deadlock {
                if try Schema.isCurrent(c) { return .finishedByAnother }
                try c.execute("""
                    DELETE FROM schema_migrations
                    WHERE version = 0 AND applied_at < UTC_TIMESTAMP(3) - INTERVAL \(staleSeconds) SECOND
                    """)
                guard ContinuousClock.now < deadline else { throw SchemaError.lockTimeout(seconds: timeoutSeconds) }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    static func renew(_ c: MariaDBConnection, holder: String) throws {
        try c.execute("UPDATE schema_migrations SET applied_at = UTC_TIMESTAMP(3) WHERE version = 0 AND name = \(try c.quoted(holder))")
    }

    /// Best effort: a claim left behind (the connection is gone) goes stale and is taken over.
    static func release(_ c: MariaDBConnection, holder: String) {
        guard let name = try? c.quoted(holder) else { return }
        _ = try? c.execute("DELETE FROM schema_migrations WHERE version = 0 AND name = \(name)")
    }
}
