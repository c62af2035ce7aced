import ParkLinkProtocol

/// Writes a batch of readings into `readings` inside the CALLER's transaction
/// (`connection.begin()` … `insert` … `connection.commit()`).
///
/// Every implementation uses `INSERT IGNORE` (or `LOAD DATA … IGNORE`): the primary key
/// `(gateway_id, boot_id, seq)` makes a replayed batch harmless, so after a failure the
/// writer simply reconnects and writes the same batch again. An inserter belongs to one
/// connection and one thread; after `connection.reconnect()` it re-prepares by itself.
///
/// Beware that `IGNORE` also turns data errors into warnings; the inserters therefore check
/// what they can before sending (gateway ids: 1–32 characters of `[A-Za-z0-9_-]`).
public protocol ReadingBatchInserter: AnyObject {
    var connection: MariaDBConnection { get }
    /// Rows the last `insert` actually stored; the rest were duplicates.
    var lastInsertedCount: Int { get }
    func insert(_ rows: UnsafeBufferPointer<StampedReading>, sessions: some SessionResolving) throws
}

extension ReadingBatchInserter {
    /// Convenience for tests and tools.
    public func insert(_ rows: [StampedReading], sessions: some SessionResolving) throws {
        try rows.withUnsafeBufferPointer { try insert($0, sessions: sessions) }
    }
}

/// Errors of the store layer other than the server's own.
public enum StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A gateway id outside the protocol's 1–32 characters of `[A-Za-z0-9_-]`.
    case invalidGatewayId(String)
    /// `LoadDataInserter` on a connection opened without `allowLocalInfile`.
    case localInfileDisabled
    /// A file operation failed (`operation`, path, errno text).
    case io(operation: String, path: String, message: String)
    /// A Galera node aborted the writer's transaction and did not say so (MariaDB 10.11
    /// drops the 1213 of a bulk statement that a replicated DDL aborts): the transaction had
    /// ended before COMMIT, or COMMIT returned success for a transaction, which changed
    /// rows, that made no write set (`WSREP_LAST_WRITTEN_GTID()` did not move). What it
    /// wrote is not stored as one transaction; the batch is written again.
    case unreportedAbort(evidence: String)

    public var description: String {
        switch self {
        case .invalidGatewayId(let id):
            "gateway id '\(id.prefix(40))' is not 1–32 characters of [A-Za-z0-9_-]"
        case .localInfileDisabled:
            "LOAD DATA LOCAL INFILE needs a connection opened with allowLocalInfile: true (and a server with local_infile=1)"
        case .io(let op, let path, let message):
            "\(op) \(path): \(message)"
        case .unreportedAbort(let evidence):
            "the Galera node aborted the transaction without an error (\(evidence)); writing the batch again"
        }
    }
}

/// The column list every inserter writes, in this order.
let readingsColumnList =
    "(gateway_id, boot_id, seq, sensor_id, received_at, gateway_ms, occupied, distance_cm, voltage_dv, current_ma, power_factor_pct)"

// MARK: - Session lookup with stable gateway-id bytes

/// Resolves a row's session index to its boot id and the gateway id's bytes, asking the
/// `SessionResolving` only when the index changes from one row to the next (rows of a batch
/// nearly always share one session), and keeping each distinct gateway id's bytes in memory
/// that lives as long as the inserter, so array binding can point at them without copying.
final class GatewayIdInterner {
    private var interned: [String: UnsafeMutableRawBufferPointer] = [:]

    deinit {
        for (_, bytes) in interned { bytes.deallocate() }
    }

    /// The gateway id's bytes (validated: 1–32 of `[A-Za-z0-9_-]`, so they never need escaping).
    func bytes(for gatewayId: String) throws -> UnsafeRawBufferPointer {
        if let bytes = interned[gatewayId] { return UnsafeRawBufferPointer(bytes) }
        let utf8 = Array(gatewayId.utf8)
        guard (1...32).contains(utf8.count), utf8.allSatisfy(Self.isAllowed) else {
            throw StoreError.invalidGatewayId(gatewayId)
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: utf8.count, alignment: 1)
        storage.copyBytes(from: utf8)
        interned[gatewayId] = storage
        return UnsafeRawBufferPointer(storage)
    }

    private static func isAllowed(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }
}

/// The current row's session, refreshed only when `StampedReading.session` changes.
struct SessionCursor<Sessions: SessionResolving> {
    let sessions: Sessions
    let interner: GatewayIdInterner
    private(set) var index: UInt32 = 0
    private(set) var valid = false
    private(set) var bootId: UInt32 = 0
    private(set) var gatewayId: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)

    init(sessions: Sessions, interner: GatewayIdInterner) {
        self.sessions = sessions
        self.interner = interner
    }

    @inline(__always)
    mutating func move(to session: UInt32) throws {
        if valid && session == index { return }
        let key = sessions.key(for: session)
        gatewayId = try interner.bytes(for: key.gatewayId)
        bootId = key.bootId
        index = session
        valid = true
    }
}

// MARK: - Text building without allocation

/// Appends SQL / TSV text into preallocated memory; no `String`, no Foundation formatting.
/// The caller guarantees capacity (rows have a bounded size).
struct ByteWriter {
    let base: UnsafeMutablePointer<UInt8>
    var count: Int

    init(base: UnsafeMutablePointer<UInt8>, count: Int = 0) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        base[count] = b
        count += 1
    }

    @inline(__always)
    mutating func bytes(_ b: UnsafeRawBufferPointer) {
        guard let src = b.baseAddress, b.count > 0 else { return }
        (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: b.count)
        count += b.count
    }

    mutating func ascii(_ s: StaticString) {
        bytes(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Decimal digits of an unsigned integer.
    @inline(__always)
    mutating func decimal(_ value: UInt32) {
        if value < 10 {
            byte(0x30 &+ UInt8(truncatingIfNeeded: value))
            return
        }
        var v = value
        var digits = 0
        var t = value
        while t > 0 {
            digits += 1
            t /= 10
        }
        var i = count + digits - 1
        while v > 0 {
            base[i] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
            i -= 1
        }
        count += digits
    }

    @inline(__always)
    mutating func twoDigits(_ v: Int) {
        base[count] = 0x30 &+ UInt8(truncatingIfNeeded: v / 10)
        base[count + 1] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
        count += 2
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) from milliseconds since the Unix epoch.
    @inline(__always)
    mutating func dateTime(millisecondsSinceEpoch ms: Int64) {
        let t = CivilTime(millisecondsSinceEpoch: ms)
        let y = min(max(t.year, 0), 9999)
        twoDigits(y / 100)
        twoDigits(y % 100)
        byte(0x2D)
        twoDigits(t.month)
        byte(0x2D)
        twoDigits(t.day)
        byte(0x20)
        twoDigits(t.hour)
        byte(0x3A)
        twoDigits(t.minute)
        byte(0x3A)
        twoDigits(t.second)
        byte(0x2E)
        byte(0x30 &+ UInt8(truncatingIfNeeded: t.millisecond / 100))
        twoDigits(t.millisecond % 100)
    }
}

/// An upper bound on one row's text: "('<32>',4294967295,4294967295,65535,'YYYY-MM-DD
/// HH:MM:SS.mmm',4294967295,1,65535,65535,65535,255)," is 143 bytes.
let maxRowTextBytes = 160
