// Part of the Connector/C boundary (see MariaDB.swift): the column arrays that array
// binding reads, laid out as Connector/C expects them.

internal import CMariaDB

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
    let binds: UnsafeMutablePointer<MYSQL_BIND>
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
                // Sent as binary, not as text in the connection's utf8mb4: the server then
                // copies the bytes into the column instead of converting them character by
                // character, row by row (the gateway id into `ascii`). The bytes are already
                // the column's: UTF-8 from Swift strings, gateway ids ASCII by validation.
                // Server CPU per reading at 250,000/s offered: 4.83 → 4.30 µs (median of
                // 6 alternating runs; benchmarks/README.md, "Strings bound as binary").
                binds[i].buffer_type = MYSQL_TYPE_BLOB
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
