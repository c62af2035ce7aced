import ParkLinkProtocol
// The one file of ParkLinkStore that calls MariaDB Connector/C.
//
// Everything else in the module talks to the database through the types below, so the
// C API's rules (who frees what, when a bound buffer must stay valid, which calls need
// the library initialised) are kept in one place. `internal import` keeps the C types out
// of the module's public interface.

internal import CMariaDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Library

/// Process-wide set-up of MariaDB Connector/C.
public enum MariaDB {
    /// `mysql_server_init(0, NULL, NULL)`, run exactly once (a `static let` initialiser is
    /// thread-safe and lazy).
    private static let libraryInitResult: Int32 = parklink_mysql_library_init()

    /// Initialises Connector/C once per process; later calls do nothing. Call it before
    /// starting threads (opening a connection calls it too). Returns false if the library
    /// could not initialise (then every connect fails with the library's own error).
    ///
    /// The corresponding C function is `mysql_library_init` (a macro for `mysql_server_init`).
    @discardableResult
    public static func initializeLibrary() -> Bool {
        libraryInitResult == 0
    }

    /// Per-thread set-up for a thread that will use the library (the writer, the sampler).
    ///
    /// The corresponding C function is `mysql_thread_init`.
    public static func threadInit() {
        initializeLibrary()
        _ = mysql_thread_init()
    }

    /// Per-thread clean-up; call before a thread that called `threadInit()` exits.
    ///
    /// The corresponding C function is `mysql_thread_end`.
    public static func threadEnd() {
        mysql_thread_end()
    }

    /// The Connector/C version, e.g. "3.3.14".
    public static var clientVersion: String {
        String(cString: mysql_get_client_info())
    }
}

// MARK: - Errors

/// An error reported by the server or by Connector/C.
///
/// Carries the error number, SQLSTATE, message, the operation that failed and a short,
/// sanitised prefix of the statement. It never carries a password: connect errors hold
/// only the server's message ("Access denied for user ... (using password: YES)"), and a
/// statement is cut before any `IDENTIFIED` or `PASSWORD` keyword.
public struct MariaDBError: Error, CustomStringConvertible, Sendable {
    /// A MariaDB server (1000–1999, 3000+) or client (2000–2999) error number.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public init(_ rawValue: UInt32) { self.rawValue = rawValue }
        public var description: String { String(rawValue) }

        // Server errors.
        public static let tooManyConnections = Code(1040)
        /// `ER_UNKNOWN_COM_ERROR`: what a Galera node without quorum answers to everything.
        public static let unknownCommand = Code(1047)
        public static let serverShutdown = Code(1053)
        public static let duplicateEntry = Code(1062)
        public static let syntaxError = Code(1064)
        public static let unknownDatabase = Code(1049)
        public static let accessDenied = Code(1045)
        public static let noSuchTable = Code(1146)
        public static let netReadError = Code(1158)
        public static let netReadInterrupted = Code(1159)
        public static let netErrorOnWrite = Code(1160)
        public static let netWriteInterrupted = Code(1161)
        /// `ER_ERROR_DURING_COMMIT`: Galera's answer to a statement in flight when quorum was lost.
        public static let errorDuringCommit = Code(1180)
        public static let lockWaitTimeout = Code(1205)
        /// Deadlock, or a Galera certification conflict: retry the transaction.
        public static let deadlock = Code(1213)
        public static let connectionKilled = Code(1927)
        /// `ER_CLIENT_INTERACTION_TIMEOUT`: the server closed an idle connection (wait_timeout).
        public static let clientInteractionTimeout = Code(4031)

        // Client (Connector/C) errors.
        public static let unknownError = Code(2000)
        public static let socketCreateError = Code(2001)
        /// Cannot connect through the Unix socket.
        public static let connectionError = Code(2002)
        /// Cannot connect to the TCP host.
        public static let connHostError = Code(2003)
        public static let unknownHost = Code(2005)
        public static let serverGone = Code(2006)
        public static let outOfMemory = Code(2008)
        public static let serverLost = Code(2013)
        public static let commandsOutOfSync = Code(2014)
        public static let serverLostExtended = Code(2055)
        /// The statement was invalidated because its connection was closed or reconnected.
        public static let statementClosed = Code(2056)
    }

    /// What the library was doing when the error happened.
    public enum Operation: String, Sendable {
        case connect, query, prepare, bind, execute, transaction, ping, option
    }

    public var code: Code
    /// Five characters, e.g. "42000"; "HY000" when the server gave none.
    public var sqlState: String
    public var message: String
    public var operation: Operation
    /// The first characters of the statement (at most `statementPrefixLength`), if any.
    public var statement: String?

    public static let statementPrefixLength = 160

    public init(code: Code, sqlState: String = "HY000", message: String, operation: Operation, statement: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.operation = operation
        self.statement = statement.map(Self.sanitize)
    }

    /// The connection is unusable (or could not be made): close it, back off, reconnect.
    public var isConnectionLost: Bool {
        switch code {
        case .connectionError, .connHostError, .serverGone, .serverLost, .serverLostExtended,
             .socketCreateError, .unknownHost, .statementClosed,
             .serverShutdown, .connectionKilled, .clientInteractionTimeout,
             .netReadError, .netReadInterrupted, .netErrorOnWrite, .netWriteInterrupted:
            return true
        default:
            return false
        }
    }

    /// Worth retrying the whole transaction (after a reconnect if `isConnectionLost`):
    /// deadlock / certification conflict, lock wait timeout, Galera without quorum, too
    /// many connections, or a lost connection.
    public var isRetryable: Bool {
        switch code {
        case .deadlock, .lockWaitTimeout, .unknownCommand, .errorDuringCommit, .tooManyConnections:
            return true
        default:
            return isConnectionLost
        }
    }

    public var description: String {
        var s = "MariaDB error \(code.rawValue) (\(sqlState)) during \(operation.rawValue): \(message)"
        if let statement, !statement.isEmpty {
            s += " [statement: \(statement)]"
        }
        return s
    }

    /// Keeps the first characters of a statement, never what follows a password keyword.
    static func sanitize(_ statement: String) -> String {
        var text = Substring(statement)
        let upper = statement.uppercased()
        for keyword in ["IDENTIFIED", "PASSWORD"] {
            if let r = upper.range(of: keyword) {
                let offset = upper.distance(from: upper.startIndex, to: r.lowerBound)
                let cut = statement.index(statement.startIndex, offsetBy: offset)
                if cut < text.endIndex { text = statement[statement.startIndex..<cut] + "…" }
            }
        }
        if text.count > statementPrefixLength {
            return String(text.prefix(statementPrefixLength)) + "…"
        }
        return String(text)
    }
}

extension MariaDBError {
    /// Reads the last error of a connection handle.
    fileprivate init(handle: UnsafeMutablePointer<MYSQL>, operation: Operation, statement: String?) {
        let code = mysql_errno(handle)
        self.init(
            code: Code(code == 0 ? Code.unknownError.rawValue : code),
            sqlState: String(cString: mysql_sqlstate(handle)),
            message: String(cString: mysql_error(handle)),
            operation: operation,
            statement: statement
        )
    }

    /// Reads the last error of a statement handle.
    fileprivate init(statement handle: UnsafeMutablePointer<MYSQL_STMT>, operation: Operation, statement: String?) {
        let code = mysql_stmt_errno(handle)
        self.init(
            code: Code(code == 0 ? Code.unknownError.rawValue : code),
            sqlState: String(cString: mysql_stmt_sqlstate(handle)),
            message: String(cString: mysql_stmt_error(handle)),
            operation: operation,
            statement: statement
        )
    }

    fileprivate static func closed(_ operation: Operation, statement: String? = nil) -> MariaDBError {
        MariaDBError(
            code: .serverGone, message: "the connection is closed (reconnect first)",
            operation: operation, statement: statement
        )
    }
}

// MARK: - Values for ordinary prepared statements

/// A parameter of `PreparedStatement.execute(_:)`.
public enum MariaDBValue: Sendable, Hashable {
    case null
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    /// A `DATETIME(3)` in UTC, from milliseconds since the Unix epoch.
    case dateTime(millisecondsSinceEpoch: Int64)
}

// MARK: - Connection

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

    private func liveHandle(_ operation: MariaDBError.Operation, _ statement: String? = nil) throws -> UnsafeMutablePointer<MYSQL> {
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

    fileprivate func handleForStatement(_ operation: MariaDBError.Operation, _ sql: String) throws -> UnsafeMutablePointer<MYSQL> {
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

// MARK: - Prepared statements

/// A server-side prepared statement; its handle is freed exactly once (`close()` or deinit).
///
/// It belongs to the connection generation it was prepared under: after
/// `MariaDBConnection.reconnect()` it is invalid (`isValid == false`) and must be prepared again.
public final class PreparedStatement {
    public let sql: String
    public let connection: MariaDBConnection
    public let generation: UInt64
    public let parameterCount: Int
    private var handle: UnsafeMutablePointer<MYSQL_STMT>?
    private var arraySize: UInt32 = 0
    private weak var boundArrays: ParameterArrays?

    init(connection: MariaDBConnection, sql: String) throws {
        self.sql = sql
        self.connection = connection
        self.generation = connection.generation
        let mysql = try connection.handleForStatement(.prepare, sql)
        guard let h = mysql_stmt_init(mysql) else {
            throw MariaDBError(handle: mysql, operation: .prepare, statement: sql)
        }
        if mysql_stmt_prepare(h, sql, UInt(sql.utf8.count)) != 0 {
            let error = MariaDBError(statement: h, operation: .prepare, statement: sql)
            mysql_stmt_close(h)
            throw error
        }
        self.handle = h
        self.parameterCount = Int(mysql_stmt_param_count(h))
    }

    deinit {
        if let handle { mysql_stmt_close(handle) }
    }

    /// True while the statement can run: not closed and its connection not reconnected or closed.
    public var isValid: Bool {
        handle != nil && connection.isOpen && connection.generation == generation
    }

    /// Frees the statement exactly once; later calls do nothing. (After its connection was
    /// closed or reconnected, Connector/C has already detached it: this only frees memory.)
    ///
    /// The corresponding C function is `mysql_stmt_close`.
    public func close() {
        guard let h = handle else { return }
        handle = nil
        mysql_stmt_close(h)
    }

    private func liveHandle(_ operation: MariaDBError.Operation) throws -> UnsafeMutablePointer<MYSQL_STMT> {
        guard let handle, connection.isOpen, connection.generation == generation else {
            throw MariaDBError(
                code: .statementClosed,
                message: "the prepared statement belongs to a closed or reconnected connection",
                operation: operation, statement: sql
            )
        }
        return handle
    }

    /// Executes once with the given parameters. Returns the affected row count.
    ///
    /// The corresponding C functions are `mysql_stmt_bind_param` and `mysql_stmt_execute`.
    @discardableResult
    public func execute(_ values: [MariaDBValue] = []) throws -> UInt64 {
        let h = try liveHandle(.execute)
        guard values.count == parameterCount else {
            throw MariaDBError(
                code: .parameterCountMismatch,
                message: "statement has \(parameterCount) parameters, \(values.count) given",
                operation: .bind, statement: sql
            )
        }
        if arraySize != 0 {
            _ = parklink_stmt_set_array_size(h, 0)
            arraySize = 0
        }
        boundArrays = nil
        let count = max(values.count, 1)
        let binds = UnsafeMutablePointer<MYSQL_BIND>.allocate(capacity: count)
        binds.initialize(repeating: MYSQL_BIND(), count: count)
        var allocations: [UnsafeMutableRawPointer] = []
        defer {
            for a in allocations { a.deallocate() }
            binds.deinitialize(count: count)
            binds.deallocate()
        }
        for (i, value) in values.enumerated() {
            switch value {
            case .null:
                binds[i].buffer_type = MYSQL_TYPE_NULL
            case .int(let v):
                let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                allocations.append(p)
                p.storeBytes(of: v, as: Int64.self)
                binds[i].buffer_type = MYSQL_TYPE_LONGLONG
                binds[i].buffer = p
            case .uint(let v):
                let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                allocations.append(p)
                p.storeBytes(of: v, as: UInt64.self)
                binds[i].buffer_type = MYSQL_TYPE_LONGLONG
                binds[i].is_unsigned = 1
                binds[i].buffer = p
            case .double(let v):
                let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                allocations.append(p)
                p.storeBytes(of: v, as: Double.self)
                binds[i].buffer_type = MYSQL_TYPE_DOUBLE
                binds[i].buffer = p
            case .string(let s):
                let utf8 = Array(s.utf8)
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(utf8.count, 1), alignment: 1)
                allocations.append(p)
                utf8.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
                binds[i].buffer_type = MYSQL_TYPE_STRING
                binds[i].buffer = p
                binds[i].buffer_length = UInt(utf8.count)
                binds[i].length_value = UInt(utf8.count)
                // `length` NULL → Connector/C uses buffer_length for input parameters.
            case .dateTime(let ms):
                let p = UnsafeMutableRawPointer.allocate(
                    byteCount: MemoryLayout<MYSQL_TIME>.size, alignment: MemoryLayout<MYSQL_TIME>.alignment)
                allocations.append(p)
                let t = p.bindMemory(to: MYSQL_TIME.self, capacity: 1)
                t.initialize(to: MYSQL_TIME())
                t.pointee.set(millisecondsSinceEpoch: ms)
                binds[i].buffer_type = MYSQL_TYPE_DATETIME
                binds[i].buffer = p
            }
        }
        if parameterCount > 0, mysql_stmt_bind_param(h, binds) != 0 {
            throw MariaDBError(statement: h, operation: .bind, statement: sql)
        }
        if mysql_stmt_execute(h) != 0 {
            throw MariaDBError(statement: h, operation: .execute, statement: sql)
        }
        if mysql_stmt_field_count(h) > 0 {
            // A statement with a result set: read and discard it, or the connection stays busy.
            _ = mysql_stmt_store_result(h)
            _ = mysql_stmt_free_result(h)
            return 0
        }
        return mysql_stmt_affected_rows(h)
    }

    /// Binds column arrays for array binding (once; the arrays' memory is reused).
    func bind(_ arrays: ParameterArrays) throws {
        let h = try liveHandle(.bind)
        guard arrays.columnCount == parameterCount else {
            throw MariaDBError(
                code: .parameterCountMismatch,
                message: "statement has \(parameterCount) parameters, \(arrays.columnCount) columns bound",
                operation: .bind, statement: sql
            )
        }
        if mysql_stmt_bind_param(h, arrays.binds) != 0 {
            throw MariaDBError(statement: h, operation: .bind, statement: sql)
        }
        boundArrays = arrays
    }

    /// Executes the bound arrays for their first `rows` rows in one round trip
    /// (`STMT_ATTR_ARRAY_SIZE`, reset whenever `rows` changes). Returns the affected rows.
    func executeArrays(rows: Int) throws -> UInt64 {
        let h = try liveHandle(.execute)
        guard let arrays = boundArrays, rows > 0, rows <= arrays.capacity else {
            throw MariaDBError(
                code: .parameterCountMismatch,
                message: "array execute of \(rows) rows without bound arrays of that capacity",
                operation: .execute, statement: sql
            )
        }
        let size = UInt32(rows)
        if size != arraySize {
            if parklink_stmt_set_array_size(h, size) != 0 {
                throw MariaDBError(statement: h, operation: .bind, statement: sql)
            }
            arraySize = size
        }
        if mysql_stmt_execute(h) != 0 {
            throw MariaDBError(statement: h, operation: .execute, statement: sql)
        }
        return mysql_stmt_affected_rows(h)
    }
}

extension MariaDBError.Code {
    /// ParkLink's own: parameters given do not match the statement's (a programming error).
    public static let parameterCountMismatch = MariaDBError.Code(2034)  // CR_INVALID_PARAMETER_NO
}

// MARK: - Column arrays for array binding

/// Column-wise parameter arrays for MariaDB array binding, allocated once for `capacity`
/// rows and reused for every batch.
///
/// Layout, as Connector/C reads it (`ma_get_buffer_offset`): fixed-size numeric columns are
/// plain arrays (`values[row]`); DATETIME and string columns are arrays of POINTERS, one per
/// row (`((void **)buffer)[row]`). The DATETIME pointers are set once to a preallocated
/// `MYSQL_TIME` array; string pointers are set per row by the caller and must stay valid
/// until `executeArrays` returns. A nullable column has an indicator array
/// (`STMT_INDICATOR_NULL` marks a NULL row).
final class ParameterArrays {
    enum Kind {
        case uint8, uint16, uint32, int64, dateTime, string
    }

    let capacity: Int
    let columnCount: Int
    fileprivate let binds: UnsafeMutablePointer<MYSQL_BIND>
    private var allocations: [UnsafeMutableRawPointer] = []

    init(columns: [(kind: Kind, nullable: Bool)], capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max))
        self.capacity = capacity
        self.columnCount = columns.count
        binds = .allocate(capacity: max(columns.count, 1))
        binds.initialize(repeating: MYSQL_BIND(), count: max(columns.count, 1))
        for (i, column) in columns.enumerated() {
            switch column.kind {
            case .uint8:
                binds[i].buffer_type = MYSQL_TYPE_TINY
                binds[i].is_unsigned = 1
                binds[i].buffer = allocate(bytes: capacity, alignment: 1)
            case .uint16:
                binds[i].buffer_type = MYSQL_TYPE_SHORT
                binds[i].is_unsigned = 1
                binds[i].buffer = allocate(bytes: capacity * 2, alignment: 2)
            case .uint32:
                binds[i].buffer_type = MYSQL_TYPE_LONG
                binds[i].is_unsigned = 1
                binds[i].buffer = allocate(bytes: capacity * 4, alignment: 4)
            case .int64:
                binds[i].buffer_type = MYSQL_TYPE_LONGLONG
                binds[i].buffer = allocate(bytes: capacity * 8, alignment: 8)
            case .dateTime:
                let times = allocate(
                    bytes: capacity * MemoryLayout<MYSQL_TIME>.stride, alignment: MemoryLayout<MYSQL_TIME>.alignment
                ).bindMemory(to: MYSQL_TIME.self, capacity: capacity)
                times.initialize(repeating: MYSQL_TIME(), count: capacity)
                let pointers = allocate(
                    bytes: capacity * MemoryLayout<UnsafeMutableRawPointer>.stride,
                    alignment: MemoryLayout<UnsafeMutableRawPointer>.alignment
                ).bindMemory(to: UnsafeMutableRawPointer?.self, capacity: capacity)
                for row in 0..<capacity {
                    times[row].time_type = MYSQL_TIMESTAMP_DATETIME
                    pointers[row] = UnsafeMutableRawPointer(times + row)
                }
                binds[i].buffer_type = MYSQL_TYPE_DATETIME
                binds[i].buffer = UnsafeMutableRawPointer(pointers)
            case .string:
                let pointers = allocate(
                    bytes: capacity * MemoryLayout<UnsafeRawPointer>.stride,
                    alignment: MemoryLayout<UnsafeRawPointer>.alignment
                ).bindMemory(to: UnsafeRawPointer?.self, capacity: capacity)
                pointers.initialize(repeating: nil, count: capacity)
                let lengths = allocate(bytes: capacity * MemoryLayout<UInt>.stride, alignment: MemoryLayout<UInt>.alignment)
                    .bindMemory(to: UInt.self, capacity: capacity)
                lengths.initialize(repeating: 0, count: capacity)
                binds[i].buffer_type = MYSQL_TYPE_STRING
                binds[i].buffer = UnsafeMutableRawPointer(pointers)
                binds[i].length = lengths
            }
            if column.nullable {
                let indicators = allocate(bytes: capacity, alignment: 1).bindMemory(to: CChar.self, capacity: capacity)
                indicators.initialize(repeating: PARKLINK_INDICATOR_NONE, count: capacity)
                parklink_bind_set_indicator(binds + i, indicators)
            }
        }
    }

    deinit {
        binds.deinitialize(count: max(columnCount, 1))
        binds.deallocate()
        for a in allocations { a.deallocate() }
    }

    private func allocate(bytes: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: alignment)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
        allocations.append(p)
        return p
    }

    /// The value array of a numeric column (`T` must match the column's kind).
    func values<T>(_ column: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        binds[column].buffer.assumingMemoryBound(to: T.self)
    }

    /// The indicator array of a nullable column (`nullIndicator` / `valueIndicator` per row).
    func indicators(_ column: Int) -> UnsafeMutablePointer<CChar> {
        guard let p = binds[column].u.indicator else { preconditionFailure("column \(column) is not nullable") }
        return p
    }

    static var nullIndicator: CChar { PARKLINK_INDICATOR_NULL }
    static var valueIndicator: CChar { PARKLINK_INDICATOR_NONE }

    /// Writer for a DATETIME column.
    func dateTimes(_ column: Int) -> DateTimeColumn {
        let pointers = binds[column].buffer.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        return DateTimeColumn(times: pointers[0]!.assumingMemoryBound(to: MYSQL_TIME.self))
    }

    /// Writer for a string column.
    func strings(_ column: Int) -> StringColumn {
        StringColumn(
            pointers: binds[column].buffer.assumingMemoryBound(to: UnsafeRawPointer?.self),
            lengths: binds[column].length
        )
    }

    struct DateTimeColumn {
        fileprivate let times: UnsafeMutablePointer<MYSQL_TIME>
        @inline(__always)
        func set(_ row: Int, millisecondsSinceEpoch ms: Int64) {
            times[row].set(millisecondsSinceEpoch: ms)
        }
    }

    struct StringColumn {
        fileprivate let pointers: UnsafeMutablePointer<UnsafeRawPointer?>
        fileprivate let lengths: UnsafeMutablePointer<UInt>
        /// `bytes` must stay valid until the statement has executed.
        @inline(__always)
        func set(_ row: Int, bytes: UnsafeRawPointer, count: Int) {
            pointers[row] = bytes
            lengths[row] = UInt(count)
        }
    }
}

extension MYSQL_TIME {
    /// Fills a DATETIME (UTC) from milliseconds since the Unix epoch.
    @inline(__always)
    fileprivate mutating func set(millisecondsSinceEpoch ms: Int64) {
        let t = CivilTime(millisecondsSinceEpoch: ms)
        year = UInt32(t.year)
        month = UInt32(t.month)
        day = UInt32(t.day)
        hour = UInt32(t.hour)
        minute = UInt32(t.minute)
        second = UInt32(t.second)
        second_part = UInt(t.millisecond) * 1000
        neg = 0
        time_type = MYSQL_TIMESTAMP_DATETIME
    }
}
