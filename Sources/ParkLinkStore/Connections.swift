import ParkLinkSystem

/// The one place the appliance opens database connections.
///
/// Each user of the database gets a named profile, so their timeouts are chosen once and
/// side by side: the writer must notice a dead server quickly but let a big batch commit;
/// the sampler may wait for its slower queries; a technician's command must answer or
/// fail within seconds. The schema is migrated by the first connection of each database
/// in the process, never again (migrations take a server-wide lock: once is enough).
public enum Connections {
    public struct Profile: Sendable, Equatable {
        public var name: String
        public var connectTimeout: Duration
        public var readTimeout: Duration
        public var writeTimeout: Duration
        /// Run the schema migrations on the first connection of the process to this database.
        public var migrates: Bool

        public init(name: String, connectTimeout: Duration, readTimeout: Duration, writeTimeout: Duration, migrates: Bool) {
            self.name = name
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
            self.migrates = migrates
        }

        /// The writer: a 5,000-row batch commits in well under 30 s even on a slow disk.
        public static let writer = Profile(name: "writer", connectTimeout: .seconds(5), readTimeout: .seconds(30),
                                           writeTimeout: .seconds(30), migrates: true)
        /// The sampler's own connection: its window queries over a day of events may be slow.
        public static let sampler = Profile(name: "sampler", connectTimeout: .seconds(3), readTimeout: .seconds(60),
                                            writeTimeout: .seconds(60), migrates: true)
        /// A command a person waits for (status fallback, alert history, resume points).
        public static let interactive = Profile(name: "interactive", connectTimeout: .seconds(3), readTimeout: .seconds(10),
                                                writeTimeout: .seconds(10), migrates: true)
        /// `parklink run --check`: answers within seconds and changes nothing, so it does
        /// not migrate (it asks whether the schema could be migrated instead).
        public static let check = Profile(name: "check", connectTimeout: .seconds(5), readTimeout: .seconds(10),
                                          writeTimeout: .seconds(10), migrates: false)
        /// A reading command with the daemon down (`status`, `alerts`, `report`, `export`):
        /// a person waits for the connection, but a report or an export over months may
        /// read for minutes. It does not migrate: reading changes nothing, and a read-only
        /// account could not.
        public static let reader = Profile(name: "reader", connectTimeout: .seconds(5), readTimeout: .seconds(600),
                                           writeTimeout: .seconds(60), migrates: false)
        /// The daemon's resume points, read before the reader starts. It does not migrate:
        /// a migration's DDL may run long, and the gateway must be read meanwhile (the
        /// writer's connection migrates while the ring and the spool take the readings).
        public static let startup = Profile(name: "startup", connectTimeout: .seconds(3), readTimeout: .seconds(10),
                                            writeTimeout: .seconds(10), migrates: false)
        /// The schema migrations, on a connection of their own: a migration's DDL may run
        /// long (an index built over a table's rows). On the writer's connection its 30-s
        /// read timeout would cut the client off while the server went on, and every
        /// reconnect would then wait on the migration lock its own DDL still held.
        public static let migration = Profile(name: "migration", connectTimeout: .seconds(5), readTimeout: .seconds(6 * 3_600),
                                              writeTimeout: .seconds(60), migrates: false)
        /// Tools that read a whole run back (the stress verifier) or hold a lock on purpose.
        public static let tool = Profile(name: "tool", connectTimeout: .seconds(10), readTimeout: .seconds(300),
                                         writeTimeout: .seconds(60), migrates: false)
    }

    /// Opens a connection with the profile's timeouts, to the first node that takes writes
    /// (for a single server: that server, once it answers; see `ClusterConnector`);
    /// migrates the schema first if this process has not yet done so for this database.
    public static func open(_ dsn: DSN, profile: Profile) throws -> MariaDBConnection {
        try ClusterConnector(dsn: dsn).open(profile: profile)
    }

    /// Migrates the DSN's database (through the node that takes writes) on a `.migration`
    /// connection of its own, for a command whose own connection would give up on a read
    /// long before a migration that builds an index ends. Returns the versions applied.
    /// `interrupter` (the writer's shutdown deadline) can cut it.
    @discardableResult
    public static func migrate(_ dsn: DSN, interrupter: ConnectionInterrupter? = nil) throws -> [Int] {
        try migrate(on: ClusterConnector(dsn: dsn).open(profile: .migration), identity: dsn.databaseIdentity,
                    interrupter: interrupter)
    }

    /// Migrates through `m`, a `.migration` connection, and closes it; this process then
    /// counts the database as migrated, so its later connections skip even the SELECT.
    private static func migrate(on m: MariaDBConnection, identity: String, interrupter: ConnectionInterrupter?) throws -> [Int] {
        interrupter?.attach(m.socketDescriptor)
        defer {
            interrupter?.detach()
            m.close()
        }
        let applied = try Schema.migrate(m)
        migrated.withLock { _ = $0.insert(identity) }
        return applied
    }

    /// A connection to the DSN's first host with the profile's timeouts: no node choice, no migration.
    static func connect(_ dsn: DSN, profile: Profile) throws -> MariaDBConnection {
        try MariaDBConnection(dsn: dsn, connectTimeout: profile.connectTimeout,
                              readTimeout: profile.readTimeout, writeTimeout: profile.writeTimeout)
    }

    /// Databases (host, port, socket, name; every node of a cluster) already migrated by this process.
    private static let migrated = Locked<Set<String>>([])

    /// Migrates the database `c` is connected to (`node`: the same server) unless the
    /// profile does not migrate or this process has done so for `identity` (the database
    /// of the whole DSN: one cluster is one database). A current schema is seen on `c`
    /// (no lock, no statement but one SELECT); a migration runs on a `.migration`
    /// connection of its own to `node`, as `migrate(_:)` does.
    static func migrateOnce(_ c: MariaDBConnection, node: DSN, identity: String, profile: Profile,
                            interrupter: ConnectionInterrupter? = nil) throws {
        guard profile.migrates else { return }
        if migrated.withLock({ $0.contains(identity) }) { return }
        if try Schema.isCurrent(c) {
            migrated.withLock { _ = $0.insert(identity) }
        } else {
            // `node` has just been seen to take writes: no second choice of node.
            _ = try migrate(on: connect(node, profile: .migration), identity: identity, interrupter: interrupter)
        }
    }
}

extension DSN {
    /// Which database a DSN names, without user or password: two DSNs with the same identity
    /// share one schema (the nodes of a cluster, in any order, are one database).
    var databaseIdentity: String {
        let servers = hosts.map { host in
            switch host {
            case .tcp(let host, let port): "tcp:\(host):\(port)"
            case .unixSocket(let path): "unix:\(path)"
            }
        }.sorted().joined(separator: ",")
        return "\(servers)/\(database ?? "")"
    }
}
