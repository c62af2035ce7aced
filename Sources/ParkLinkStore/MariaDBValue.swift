// Part of the Connector/C boundary (see MariaDB.swift): the parameter values of ordinary
// prepared statements, and the C form of a DATETIME that both kinds of binding fill.

internal import CMariaDB
import ParkLinkProtocol

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

extension MYSQL_TIME {
    /// Fills a DATETIME (UTC) from milliseconds since the Unix epoch.
    @inline(__always)
    mutating func set(millisecondsSinceEpoch ms: Int64) {
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
