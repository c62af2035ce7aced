import ParkLinkProtocol

/// Records gateway boots (`gateway_sessions`) and link gaps (`link_gaps`) in the caller's
/// transaction, next to the batch of readings they belong to. Like the inserters, its
/// statements are prepared lazily and again after a reconnect, and a replay is harmless.
/// Each method returns the rows it changed (0 for a replay), which is what tells the
/// transaction whether its COMMIT must have made a Galera write set.
public final class SessionRecorder {
    public let connection: MariaDBConnection
    private var statements: [String: PreparedStatement] = [:]

    public init(connection: MariaDBConnection) {
        self.connection = connection
    }

    static let helloSQL = """
        INSERT INTO gateway_sessions
          (gateway_id, boot_id, firmware, sensor_count, first_seen_at, last_hello_at, synthetic)
        VALUES (?, ?, ?, ?, ?, ?, 0)
        ON DUPLICATE KEY UPDATE
          firmware = VALUES(firmware),
          sensor_count = VALUES(sensor_count),
          first_seen_at = LEAST(first_seen_at, VALUES(first_seen_at)),
          last_hello_at = GREATEST(COALESCE(last_hello_at, VALUES(last_hello_at)), VALUES(last_hello_at)),
          synthetic = 0
        """

    static let syntheticSQL = """
        INSERT INTO gateway_sessions (gateway_id, boot_id, first_seen_at, synthetic)
        VALUES (?, ?, ?, 1)
        ON DUPLICATE KEY UPDATE first_seen_at = LEAST(first_seen_at, VALUES(first_seen_at))
        """

    static let gapSQL = """
        INSERT IGNORE INTO link_gaps (gateway_id, boot_id, first_missing_seq, missing_count, reason, detected_at)
        VALUES (?, ?, ?, ?, ?, ?)
        """

    private func statement(_ sql: String) throws -> PreparedStatement {
        if let s = statements[sql], s.isValid { return s }
        statements[sql]?.close()
        let s = try connection.prepare(sql)
        statements[sql] = s
        return s
    }

    /// Upserts the boot a `HELLO` announced: firmware and sensor count are updated, the
    /// first-seen time kept, and a boot first recorded as synthetic becomes a real one.
    @discardableResult
    public func recordSession(hello: Hello, seenAtMs: Int64) throws -> UInt64 {
        try statement(Self.helloSQL).execute([
            .string(hello.gatewayId), .uint(UInt64(hello.bootId)), .string(hello.firmware.description),
            .uint(UInt64(hello.sensorCount)), .dateTime(millisecondsSinceEpoch: seenAtMs),
            .dateTime(millisecondsSinceEpoch: seenAtMs),
        ])
    }

    /// Records a boot the appliance had to name itself because no `HELLO` came
    /// (`synthetic = 1`; an existing row is left as it is, but for an earlier first-seen time).
    @discardableResult
    public func recordSession(synthetic session: SessionKey, firstSeenAtMs: Int64) throws -> UInt64 {
        try statement(Self.syntheticSQL).execute([
            .string(session.gatewayId), .uint(UInt64(session.bootId)),
            .dateTime(millisecondsSinceEpoch: firstSeenAtMs),
        ])
    }

    /// Records `missingCount` readings missing from `firstMissingSeq` on, and why (lost on
    /// the link, or with an appliance that was killed). A replay of the same gap is ignored.
    @discardableResult
    public func recordGap(session: SessionKey, firstMissingSeq: UInt32, missingCount: UInt32, detectedAtMs: Int64,
                          reason: GapReason = .link) throws -> UInt64 {
        try statement(Self.gapSQL).execute([
            .string(session.gatewayId), .uint(UInt64(session.bootId)), .uint(UInt64(firstMissingSeq)),
            .uint(UInt64(missingCount)), .string(reason.rawValue), .dateTime(millisecondsSinceEpoch: detectedAtMs),
        ])
    }
}
