import ParkLinkProtocol

/// Where the writer puts a batch: one transaction holding the readings and the link
/// events, committed before `write` returns. The daemon implements it over the store's
/// `BatchTransaction`; a protocol so that the retry logic of `ReadingWriter` is one piece of code,
/// whatever the store, and so that this module never links the database client.
public protocol BatchSink: AnyObject {
    /// Connects if not connected (migrating the schema on first use), taking at most
    /// `limit` when one is given (the time a shutdown has left).
    func connect(within limit: Duration?) throws
    /// Writes and commits; returns how many readings were new (the rest were replays).
    func write(_ rows: UnsafeBufferPointer<StampedReading>, events: [LinkEvent]) throws -> Int
    /// Drops the connection after a failure, so the next attempt starts clean.
    func disconnect()
    /// What an error of `connect` or `write` means for the next attempt.
    func classify(_ error: any Error) -> WriteFailure
    /// Where the stored sessions end (next seq after the newest stored reading), read once
    /// the sink is connected: a gap the reader reported for seqs already stored (it had no
    /// resume points because the database was away at start) is no gap.
    func storedResumePoints() throws -> [SessionKey: UInt64]
    /// What an operator can do about a permanent refusal, when the sink knows (a GRANT,
    /// a database to create): printed with the log line that reports it.
    func fix(for error: any Error) -> String?
    /// Two errors with the same signature are the same refusal (the same step and server
    /// code, whatever the message's details): a permanent error is logged once per signature.
    func signature(of error: any Error) -> String
    /// Derived work the sink holds back (a debounced occupancy change waits until it has
    /// lasted): readies for the next `write` what is due by `upToMs`, a receive time no
    /// reading still on its way can be older than (everything when nil: a clean stop), and
    /// returns whether there is any, so an idle writer knows to write.
    func releaseHeld(upToMs: Int64?) -> Bool
    /// Occupancy events the committed batches wrote, held back and then suppressed (a bay
    /// that reverted within the debounce), and hold now; this run.
    func occupancyEventCounts() -> (written: Int, suppressed: Int, held: Int)
    /// Called on the writer thread once, after the sink is made: a function that any thread
    /// may call to make the attempt in progress (a statement on a stalled server) fail now.
    /// The shutdown deadline uses it, so that no database attempt outlasts the grace period.
    func makeInterrupt() -> @Sendable () -> Void
}

extension BatchSink {
    public func releaseHeld(upToMs: Int64?) -> Bool { false }
    public func occupancyEventCounts() -> (written: Int, suppressed: Int, held: Int) { (0, 0, 0) }
    public func fix(for error: any Error) -> String? { nil }
    public func signature(of error: any Error) -> String { "\(error)" }
    public func storedResumePoints() throws -> [SessionKey: UInt64] { [:] }
    public func makeInterrupt() -> @Sendable () -> Void { {} }
}

/// The writer's three ways of going on after a failed batch.
public enum WriteFailure: Sendable, Equatable {
    /// The connection is gone or cannot be made: reconnect with capped backoff.
    case connectionLost
    /// Deadlock, lock wait, certification conflict: write the same batch again soon.
    case transient
    /// The database refuses the batch and will go on refusing it until somebody acts (a
    /// revoked privilege, a data error): say so once, raise an alert, retry slowly.
    case permanent
}
