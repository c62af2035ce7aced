import ParkLinkProtocol

/// Reads back what `readings` and `gateway_sessions` hold: where a restarted appliance
/// resumes seq tracking, and the stored seqs a verifier compares with what was sent.
public struct ReadingHistory {
    public let connection: MariaDBConnection

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    /// Where each gateway's most recent sessions left off (next expected seq), so that a
    /// restarted appliance hearing a HELLO for a boot it already stored does not record
    /// the stored readings as a gap.
    public func resumePoints(sessionsPerGateway limit: Int = 8) throws -> [SessionKey: UInt64] {
        var out: [SessionKey: UInt64] = [:]
        for row in try connection.query("""
            SELECT gateway_id, boot_id,
                   (SELECT MAX(r.seq) FROM readings r WHERE r.gateway_id = t.gateway_id AND r.boot_id = t.boot_id)
            FROM (SELECT gateway_id, boot_id,
                         ROW_NUMBER() OVER (PARTITION BY gateway_id
                                            ORDER BY COALESCE(last_hello_at, first_seen_at) DESC) AS newest
                  FROM gateway_sessions) t
            WHERE newest <= \(limit)
            """) {
            guard row.count == 3, let g = row[0], let b = row[1].flatMap({ UInt32($0) }),
                  let m = row[2].flatMap({ UInt64($0) }) else { continue }
            out[SessionKey(gatewayId: g, bootId: b)] = m + 1
        }
        return out
    }

    /// Per boot of one gateway: rows and distinct seqs (the primary key makes them equal).
    public func bootCounts(gatewayId: String) throws -> [(bootId: UInt32, rows: Int, distinctSeqs: Int)] {
        try connection.query("""
            SELECT boot_id, COUNT(*), COUNT(DISTINCT seq) FROM readings
            WHERE gateway_id = \(try connection.quoted(gatewayId)) GROUP BY boot_id
            """).compactMap { row in
            guard let boot = row[0].flatMap({ UInt32($0) }), let n = row[1].flatMap({ Int($0) }),
                  let distinct = row[2].flatMap({ Int($0) }) else { return nil }
            return (boot, n, distinct)
        }
    }

    /// Calls `body` with every stored seq of one boot in ascending order, `pageSize` at a
    /// time (keyset pagination on the primary key, so memory stays flat however long the run).
    public func forEachSeq(gatewayId: String, bootId: UInt32, pageSize: Int = 500_000, _ body: (UInt64) -> Void) throws {
        let gateway = try connection.quoted(gatewayId)
        var from: UInt64 = 0
        while true {
            let rows = try connection.query("""
                SELECT seq FROM readings WHERE gateway_id = \(gateway) AND boot_id = \(bootId) AND seq >= \(from)
                ORDER BY seq LIMIT \(pageSize)
                """)
            for row in rows {
                guard let seq = row[0].flatMap({ UInt64($0) }) else { continue }
                body(seq)
                from = seq + 1
            }
            if rows.count < pageSize { return }
        }
    }
}

extension MariaDBConnection {
    /// Holds `FLUSH TABLES WITH READ LOCK` while `body` runs: every commit on the server
    /// waits. The stress harness's "database stalled" fault.
    public func withGlobalReadLock(_ body: () throws -> Void) throws {
        _ = try execute("FLUSH TABLES WITH READ LOCK")
        defer { _ = try? execute("UNLOCK TABLES") }
        try body()
    }
}
