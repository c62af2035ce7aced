/// Facts about the link that the writer stores next to the readings, in the same
/// transaction as the next batch: a new session, a gap in `seq`.
public enum LinkEvent: Sendable, Equatable {
    /// A HELLO, or a session the appliance had to name itself (`hello == nil`) because
    /// readings arrived and no HELLO came in time.
    case session(SessionKey, hello: Hello?, atMs: Int64)
    /// `count` readings starting at `firstMissing` never arrived (`reason`: where they went).
    case gap(SessionKey, firstMissing: UInt32, count: UInt32, atMs: Int64, reason: GapReason = .link)
}

/// Why readings of a gap are missing; stored in `link_gaps.reason` (the raw values are
/// the column's values, a contract).
public enum GapReason: String, Sendable, Equatable, CaseIterable {
    /// Lost between the gateway and the appliance: the seq jumped on the wire.
    case link
    /// Received by an appliance that was then killed (SIGKILL, power loss, a crash) before
    /// they reached the database or the spool: they died with its memory. Told apart from
    /// a link gap because the fix is different (the host, not the cable or the gateway).
    case applianceRestart = "appliance_restart"
}
