// Part of the Connector/C boundary (see MariaDB.swift): one connection, its plain queries
// and its transactions.

internal import CMariaDB

/// One connection to a MariaDB server: owns a `MYSQL*`.
///
/// Not thread-safe and deliberately not `Sendable`: a connection belongs to the thread that
/// opened it (the writer, the sampler). Open it inside that thread.
public final class MariaDBConnection {
    /// Timeouts and client options, fixed for the life of the object (reconnects reuse them).
    public struct Options: Sendable {
        public var connectTimeout: Duration
        public var readTimeout: Duration
        public var writeTimeout: Duration
        /// Enables `LOAD DATA LOCAL INFILE` on the client side (`MYSQL_OPT_LOCAL_INFILE`);
        /// the server also needs `local_infile=1`.
        public var allowLocalInfile: Bool

        public init(
            connectTimeout: Duration = .seconds(10),
            readTimeout: Duration = .seconds(60),
            writeTimeout: Duration = .seconds(60),
            allowLocalInfile: Bool = false
        ) {
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
            self.allowLocalInfile = allowLocalInfile
        }
    }

    public let dsn: DSN
    public let options: Options
    private var handle: UnsafeMutablePointer<MYSQL>?
    /// Incremented by every successful (re)connect; a `PreparedStatement` made under an
    /// older generation must be prepared again.
    public private(set) var generation: UInt64 = 0

    /// Connects (TCP or Unix socket, per the DSN), then sets `utf8mb4` and `time_zone '+00:00'`.
    public convenience init(
        dsn: DSN,
        connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(60),
        writeTimeout: Duration = .seconds(60),
        allowLocalInfile: Bool = false
    ) throws {
        try self.init(dsn: dsn, options: Options(
            connectTimeout: connectTimeout, readTimeout: readTimeout,
            writeTimeout: writeTimeout, allowLocalInfile: allowLocalInfile
        ))
    }

    public init(dsn: DSN, options: Options) throws {
        self.dsn = dsn
        self.options = options
        try open()
    }

    deinit {
        if let handle { mysql_close(handle) }
    }

    /// True until `close()` (or a failed `reconnect()`).
    public var isOpen: Bool { handle != nil }

    /// The connection's socket descriptor, for a `ConnectionInterrupter`; nil when closed.
    /// The corresponding C function is `mysql_get_socket`.
    public var socketDescriptor: Int32? {
        guard let handle else { return nil }
        let fd = Int32(mysql_get_socket(handle))
        return fd >= 0 ? fd : nil
    }

    /// Closes the current connection (if any) and connects again with the same DSN and
    /// options. Prepared statements of the old connection become invalid (`generation`
    /// changes); the inserters re-prepare by themselves. On failure the connection stays
    /// closed and the next call throws a connection-lost error.
    public func reconnect() throws {
        close()
        try open()
    }

    /// Closes the connection exactly once; later calls do nothing.
    ///
    /// The corresponding C function is `mysql_close`.
    public func close() {
        guard let h = handle else { return }
        handle = nil
        mysql_close(h)
    }

    private static func seconds(_ d: Duration) -> UInt32 {
        let (s, atto) = d.components
        let whole = s + (atto > 0 ? 1 : 0)
        return UInt32(clamping: max(1, whole))
    }

    private func open() throws {
        MariaDB.initializeLibrary()
        guard let h = mysql_init(nil) else {
            throw MariaDBError(code: .outOfMemory, message: "mysql_init failed", operation: .connect)
        }
        var ok = true
        ok = ok && parklink_mysql_option_uint(h, MYSQL_OPT_CONNECT_TIMEOUT, Self.seconds(options.connectTimeout)) == 0
        ok = ok && parklink_mysql_option_uint(h, MYSQL_OPT_READ_TIMEOUT, Self.seconds(options.readTimeout)) == 0
        ok = ok && parklink_mysql_option_uint(h, MYSQL_OPT_WRITE_TIMEOUT, Self.seconds(options.writeTimeout)) == 0
        ok = ok && parklink_mysql_option_string(h, MYSQL_SET_CHARSET_NAME, "utf8mb4") == 0
        ok = ok && parklink_mysql_option_uint(h, MYSQL_OPT_LOCAL_INFILE, options.allowLocalInfile ? 1 : 0) == 0
        let proto: UInt32
        switch dsn.transport {
        case .tcp: proto = UInt32(MYSQL_PROTOCOL_TCP.rawValue)
        case .unixSocket: proto = UInt32(MYSQL_PROTOCOL_SOCKET.rawValue)
        }
        ok = ok && parklink_mysql_option_uint(h, MYSQL_OPT_PROTOCOL, proto) == 0
        if let tls = dsn.tls {
            // Enforce: the connection fails rather than fall back to clear text. A CA makes
            // Connector/C verify the chain; VERIFY_SERVER_CERT adds the host name check.
            ok = ok && parklink_mysql_option_bool(h, MYSQL_OPT_SSL_ENFORCE, 1) == 0
            if let ca = tls.caFile { ok = ok && parklink_mysql_option_string(h, MYSQL_OPT_SSL_CA, ca) == 0 }
            ok = ok && parklink_mysql_option_bool(h, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, tls.mode == .verifyFull ? 1 : 0) == 0
        }
        if !ok {
            let error = MariaDBError(handle: h, operation: .option, statement: nil)
            mysql_close(h)
            throw error
        }

        let host: String
        let port: UInt32
        let socket: String?
        switch dsn.transport {
        case .tcp(let hostName, let p):
            host = hostName
            port = UInt32(p)
            socket = nil
        case .unixSocket(let path):
            host = "localhost"
            port = 0
            socket = path
        }
        let connected = dsn.user.withCString { user in
            withOptionalCString(dsn.password) { password in
                withOptionalCString(dsn.database) { database in
                    withOptionalCString(socket) { socket in
                        mysql_real_connect(h, host, user, password, database, port, socket, 0)
                    }
                }
            }
        }
        if connected == nil {
            let error = MariaDBError(handle: h, operation: .connect, statement: nil)
            mysql_close(h)
            throw error
        }
        handle = h
        generation &+= 1
        do {
            try execute("SET time_zone = '+00:00'")
        } catch {
            close()
            throw error
        }
    }

    func liveHandle(_ operation: MariaDBError.Operation, _ statement: String? = nil) throws -> UnsafeMutablePointer<MYSQL> {
        guard let handle else { throw MariaDBError.closed(operation, statement: statement) }
        return handle
    }

    /// Sends one statement, discarding any result set. Returns the affected row count
    /// (0 for statements that return rows).
    ///
    /// The corresponding C function is `mysql_real_query`.
    @discardableResult
    public func execute(_ sql: String) throws -> UInt64 {
        var sql = sql
        return try sql.withUTF8 { bytes in
            try execute(utf8: UnsafeRawBufferPointer(bytes))
        }
    }

    /// Sends one statement given as UTF-8 bytes (no copy, no `String`): the multi-row
    /// inserter builds its statements in a reused byte buffer. Returns the affected rows.
    @discardableResult
    public func execute(utf8 bytes: UnsafeRawBufferPointer) throws -> UInt64 {
        guard let h = handle else { throw MariaDBError.closed(.query, statement: Self.prefix(of: bytes)) }
        let failed = withCCharPointer(bytes) { p in mysql_real_query(h, p, UInt(bytes.count)) != 0 }
        if failed {
            throw MariaDBError(handle: h, operation: .query, statement: Self.prefix(of: bytes))
        }
        if let result = mysql_store_result(h) {
            mysql_free_result(result)
            return 0
        }
        if mysql_field_count(h) != 0 {
            throw MariaDBError(handle: h, operation: .query, statement: Self.prefix(of: bytes))
        }
        return mysql_affected_rows(h)
    }

    private static func prefix(of bytes: UnsafeRawBufferPointer) -> String {
        let n = min(bytes.count, MariaDBError.statementPrefixLength * 2)
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<n]), as: UTF8.self)
    }

    /// Runs a statement and returns every row, each column as text (`nil` for SQL NULL).
    ///
    /// The corresponding C functions are `mysql_real_query` and `mysql_store_result`.
    public func query(_ sql: String) throws -> [[String?]] {
        let h = try liveHandle(.query, sql)
        if mysql_real_query(h, sql, UInt(sql.utf8.count)) != 0 {
            throw MariaDBError(handle: h, operation: .query, statement: sql)
        }
        guard let result = mysql_store_result(h) else {
            if mysql_field_count(h) == 0 { return [] }
            throw MariaDBError(handle: h, operation: .query, statement: sql)
        }
        defer { mysql_free_result(result) }
        let columns = Int(mysql_num_fields(result))
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(mysql_num_rows(result)))
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            var values: [String?] = []
            values.reserveCapacity(columns)
            for i in 0..<columns {
                if let p = row[i] {
                    let raw = UnsafeRawBufferPointer(start: p, count: Int(lengths[i]))
                    values.append(String(decoding: raw, as: UTF8.self))
                } else {
                    values.append(nil)
                }
            }
            rows.append(values)
        }
        return rows
    }

    /// The first column of the first row, or nil.
    public func queryValue(_ sql: String) throws -> String? {
        try query(sql).first?.first ?? nil
    }

    /// `START TRANSACTION`.
    public func begin() throws {
        try execute("START TRANSACTION")
    }

    /// The corresponding C function is `mysql_commit`.
    public func commit() throws {
        let h = try liveHandle(.transaction, "COMMIT")
        if mysql_commit(h) != 0 {
            throw MariaDBError(handle: h, operation: .transaction, statement: "COMMIT")
        }
    }

    /// The corresponding C function is `mysql_rollback`.
    public func rollback() throws {
        let h = try liveHandle(.transaction, "ROLLBACK")
        if mysql_rollback(h) != 0 {
            throw MariaDBError(handle: h, operation: .transaction, statement: "ROLLBACK")
        }
    }

    /// Runs `body` between `begin()` and `commit()`; on any error rolls back (ignoring a
    /// failure to roll back, e.g. on a lost connection) and rethrows the original error.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try begin()
        do {
            let result = try body()
            try commit()
            return result
        } catch {
            try? rollback()
            throw error
        }
    }

    /// Checks that the server still answers (never reconnects by itself).
    ///
    /// The corresponding C function is `mysql_ping`.
    public func ping() throws {
        let h = try liveHandle(.ping)
        if mysql_ping(h) != 0 {
            throw MariaDBError(handle: h, operation: .ping, statement: nil)
        }
    }

    /// Warnings of the last statement (e.g. rows skipped by `INSERT IGNORE`).
    public var warningCount: Int {
        guard let handle else { return 0 }
        return Int(mysql_warning_count(handle))
    }

    /// The server's version string, e.g. "10.11.19-MariaDB-0+deb12u1".
    public var serverVersion: String {
        guard let handle, let p = mysql_get_server_info(handle) else { return "" }
        return String(cString: p)
    }

    /// A SQL string literal, quotes included, escaped for this connection's character set
    /// and `sql_mode` (`NO_BACKSLASH_ESCAPES`).
    ///
    /// The corresponding C function is `mysql_real_escape_string`.
    public func quoted(_ value: String) throws -> String {
        let h = try liveHandle(.query)
        let source = Array(value.utf8)
        let capacity = source.count * 2 + 1
        let escaped = [CChar](unsafeUninitializedCapacity: capacity + 2) { buffer, count in
            buffer[0] = 0x27  // '
            let n = source.withUnsafeBufferPointer { src in
                withCCharPointer(UnsafeRawBufferPointer(src)) { s in
                    Int(mysql_real_escape_string(h, buffer.baseAddress! + 1, s, UInt(src.count)))
                }
            }
            buffer[n + 1] = 0x27
            count = n + 2
        }
        return String(decoding: escaped.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Prepares a statement on this connection.
    public func prepare(_ sql: String) throws -> PreparedStatement {
        try PreparedStatement(connection: self, sql: sql)
    }

    func handleForStatement(_ operation: MariaDBError.Operation, _ sql: String) throws -> UnsafeMutablePointer<MYSQL> {
        try liveHandle(operation, sql)
    }
}

/// Bytes as a `const char *` (an empty buffer may have no base address: pass "").
private func withCCharPointer<R>(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafePointer<CChar>) -> R) -> R {
    if let base = bytes.baseAddress {
        return body(base.assumingMemoryBound(to: CChar.self))
    }
    return "".withCString(body)
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}
