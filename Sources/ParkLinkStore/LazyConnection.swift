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
    /// Three decimals, exactly as `%.3f` writes them, without Foundation's formatter: the
    /// sampler writes a few thousand of these every cycle, and `String(format:)` was 60% of
    /// its instructions (callgrind). The thousandths are rounded on the exact product
    /// (`p + e`, a fused multiply-add's remainder), ties to even, as glibc does.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "NULL" }
        let m = d.magnitude
        let p = m * 1_000
        guard p < 1e15 else { return String(format: "%.3f", d) }
        let e = (-p).addingProduct(m, 1_000)
        var r = p.rounded(.down)
        let f = p - r
        if f > 0.5 || (f == 0.5 && (e > 0 || (e == 0 && r.truncatingRemainder(dividingBy: 2) == 1))) { r += 1 }
        let v = UInt64(r)
        let fraction = v % 1_000
        let digits = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return (d.sign == .minus ? "-" : "") + String(v / 1_000) + "." + digits + String(fraction)
    }

    /// A DATETIME(3) literal in UTC (every connection's time zone is +00:00).
    static func time(_ ms: Int64) -> String { "'" + Timestamps.sql(ms: ms) + "'" }
}
