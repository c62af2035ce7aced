/// Facts about the link that the writer stores next to the readings, in the same
/// transaction as the next batch: a new session, a gap in `seq`.
public enum LinkEvent: Sendable, Equatable {
    /// A HELLO, or a session the appliance had to name itself (`hello == nil`) because
    /// readings arrived and no HELLO came in time.
    case session(SessionKey, hello: Hello?, atMs: Int64)
    /// `count` readings starting at `firstMissing` never arrived.
    case gap(SessionKey, firstMissing: UInt32, count: UInt32, atMs: Int64)
}
