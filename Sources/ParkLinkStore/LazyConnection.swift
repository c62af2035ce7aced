import Foundation
import ParkLinkProtocol

/// A thread's own connection, opened when first needed and dropped after a failure so the
/// next use starts clean. The sampler and the status thread each keep one; whoever holds
/// it uses it from one thread only (a Connector/C connection belongs to its thread).
public final class LazyConnection {
    public let dsn: DSN
    public let profile: Connections.Profile
    private var open: MariaDBConnection?

    public init(dsn: DSN, profile: Connections.Profile) {
        self.dsn = dsn
        self.profile = profile
    }

    deinit { open?.close() }

    public var isConnected: Bool { open != nil }

    /// The open connection, connecting first if there is none.
    public func get() throws -> MariaDBConnection {
        if let c = open { return c }
        let c = try Connections.open(dsn, profile: profile)
        open = c
        return c
    }

    /// Closes the connection after an error; the next `get()` reconnects.
    public func drop() {
        open?.close()
        open = nil
    }
}

/// Literals for statements built as text (multi-row upserts): numbers and UTC times.
enum SQLLiteral {
    static func number(_ d: Double) -> String {
        d.isFinite ? String(format: "%.3f", d) : "NULL"
    }

    /// A DATETIME(3) literal in UTC (every connection's time zone is +00:00).
    static func time(_ ms: Int64) -> String { "'" + Timestamps.sql(ms: ms) + "'" }
}
