import ParkLinkProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Inserts readings with `LOAD DATA LOCAL INFILE … IGNORE` from a temporary tab-separated
/// file (rewritten for every batch, removed when the inserter goes away). The benchmark's
/// ceiling; needs a connection opened with `allowLocalInfile: true` and a server started
/// with `--local-infile=1`.
public final class LoadDataInserter: ReadingBatchInserter {
    public let connection: MariaDBConnection
    public let path: String
    public private(set) var lastInsertedCount = 0

    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private let interner = GatewayIdInterner()
    private var statementText: String?

    /// - Parameter directory: where the temporary file lives (default `/tmp`).
    public init(connection: MariaDBConnection, directory: String = "/tmp") throws {
        guard connection.options.allowLocalInfile else { throw StoreError.localInfileDisabled }
        self.connection = connection
        var name = [UInt8]("\(directory)/parklink-load-XXXXXX".utf8)
        name.append(0)
        let fd = name.withUnsafeMutableBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { mkstemp($0.baseAddress!) }
        }
        let created = String(decoding: name.dropLast(), as: UTF8.self)
        guard fd >= 0 else {
            throw StoreError.io(operation: "mkstemp", path: created, message: String(cString: strerror(errno)))
        }
        close(fd)
        path = created
        capacity = 1 << 16
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        unlink(path)
    }

    public func insert(_ rows: UnsafeBufferPointer<StampedReading>, sessions: some SessionResolving) throws {
        lastInsertedCount = 0
        guard !rows.isEmpty else { return }
        let needed = rows.count * maxRowTextBytes
        if needed > capacity {
            buffer.deallocate()
            capacity = needed
            buffer = .allocate(capacity: capacity)
        }
        var cursor = SessionCursor(sessions: sessions, interner: interner)
        var w = ByteWriter(base: buffer)
        for row in rows {
            try cursor.move(to: row.session)
            let r = row.reading
            w.bytes(cursor.gatewayId)
            w.byte(0x09)
            w.decimal(cursor.bootId)
            w.byte(0x09)
            w.decimal(r.seq)
            w.byte(0x09)
            w.decimal(UInt32(r.sensor))
            w.byte(0x09)
            w.dateTime(millisecondsSinceEpoch: row.receivedAtMs)
            w.byte(0x09)
            w.decimal(r.gatewayMs)
            w.byte(0x09)
            w.byte(r.occupied ? 0x31 : 0x30)
            w.byte(0x09)
            Self.field(&w, r.distanceCm.map(UInt32.init))
            w.byte(0x09)
            Self.field(&w, r.voltageDv.map(UInt32.init))
            w.byte(0x09)
            Self.field(&w, r.currentMa.map(UInt32.init))
            w.byte(0x09)
            Self.field(&w, r.powerFactorPct.map(UInt32.init))
            w.byte(0x0A)
        }
        try writeFile(count: w.count)
        if statementText == nil {
            statementText = """
                LOAD DATA LOCAL INFILE \(try connection.quoted(path)) IGNORE INTO TABLE readings \
                CHARACTER SET ascii FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' \
                \(readingsColumnList)
                """
        }
        lastInsertedCount = Int(try connection.execute(statementText!))
    }

    @inline(__always)
    private static func field(_ w: inout ByteWriter, _ v: UInt32?) {
        if let v {
            w.decimal(v)
        } else {
            w.byte(0x5C)  // \N
            w.byte(0x4E)
        }
    }

    private func writeFile(count: Int) throws {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError.io(operation: "open", path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var written = 0
        while written < count {
            let n = write(fd, buffer + written, count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(operation: "write", path: path, message: String(cString: strerror(errno)))
            }
            written += n
        }
    }
}
