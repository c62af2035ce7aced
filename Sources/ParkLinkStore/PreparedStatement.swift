// Part of the Connector/C boundary (see MariaDB.swift): server-side prepared statements,
// executed with one row of values or with bound column arrays.

internal import CMariaDB

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
