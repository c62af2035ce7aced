// Part of the Connector/C boundary (see MariaDB.swift): results streamed row by row.

internal import CMariaDB

extension MariaDBConnection {
    /// Runs a statement and hands each row to `body` as it arrives from the server, one
    /// row in memory at a time however large the result: for exports of millions of rows.
    /// `columns` gets the column names first. Returns the number of rows.
    ///
    /// The connection can run nothing else until this returns. If `body` throws, the rest
    /// of the result is read and discarded (the protocol has no way to stop the server
    /// half-way) and the error is rethrown.
    ///
    /// The corresponding C functions are `mysql_real_query`, `mysql_use_result` and
    /// `mysql_fetch_row`.
    @discardableResult
    public func stream(_ sql: String, columns: ([StreamedColumn]) throws -> Void = { _ in },
                       _ body: (StreamedRow) throws -> Void) throws -> Int {
        let h = try liveHandle(.query, sql)
        if mysql_real_query(h, sql, UInt(sql.utf8.count)) != 0 {
            throw MariaDBError(handle: h, operation: .query, statement: sql)
        }
        guard let result = mysql_use_result(h) else {
            if mysql_field_count(h) == 0 { return 0 }
            throw MariaDBError(handle: h, operation: .query, statement: sql)
        }
        defer { mysql_free_result(result) }
        let count = Int(mysql_num_fields(result))
        var described: [StreamedColumn] = []
        if let fields = mysql_fetch_fields(result) {
            let numeric: Set<UInt32> = [MYSQL_TYPE_DECIMAL, MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_LONG,
                                        MYSQL_TYPE_INT24, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE, MYSQL_TYPE_YEAR]
                .map(\.rawValue).reduce(into: []) { $0.insert($1) }
            for i in 0..<count {
                described.append(StreamedColumn(name: fields[i].name.map { String(cString: $0) } ?? "",
                                                isNumeric: numeric.contains(fields[i].type.rawValue)))
            }
        }
        try columns(described)
        var rows = 0
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            try body(StreamedRow(values: row, lengths: lengths, count: count))
            rows += 1
        }
        // A NULL row is the end, or a failure half-way (the connection dropped).
        if mysql_errno(h) != 0 {
            throw MariaDBError(handle: h, operation: .query, statement: sql)
        }
        return rows
    }
}

/// A column of `MariaDBConnection.stream`'s result.
public struct StreamedColumn: Sendable, Equatable {
    public var name: String
    /// An integer, decimal or floating-point column: its text is a number.
    public var isNumeric: Bool
}

/// One row of `MariaDBConnection.stream`: its values as the server sent them (text), valid
/// only inside the call that received it.
public struct StreamedRow {
    fileprivate let values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    fileprivate let lengths: UnsafeMutablePointer<UInt>
    public let count: Int

    /// Column `i`'s bytes, nil for SQL NULL.
    public func bytes(_ i: Int) -> UnsafeRawBufferPointer? {
        guard let p = values[i] else { return nil }
        return UnsafeRawBufferPointer(start: p, count: Int(lengths[i]))
    }

    /// Column `i` as a string, nil for SQL NULL.
    public func string(_ i: Int) -> String? {
        bytes(i).map { String(decoding: $0, as: UTF8.self) }
    }
}
