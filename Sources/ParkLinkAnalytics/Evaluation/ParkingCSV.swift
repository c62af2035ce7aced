import Foundation
import ParkLinkProtocol

/// One row of the Birmingham car-park CSV
/// (`SystemCodeNumber,Capacity,Occupancy,LastUpdated`).
public struct ParkingRow: Sendable, Equatable {
    public var park: String
    public var capacity: Int
    public var occupancy: Int
    /// Naive local time as seconds since 1970-01-01 00:00 (see `CivilTime`).
    public var time: Int64

    public init(park: String, capacity: Int, occupancy: Int, time: Int64) {
        self.park = park
        self.capacity = capacity
        self.occupancy = occupancy
        self.time = time
    }
}

public struct ParkingCSVError: Error, Equatable, CustomStringConvertible {
    /// The first bad line.
    public var line: Int
    public var reason: String
    public var fix: String
    /// The other bad lines (up to 20 of them are named), so one run shows the whole damage.
    public var moreLines: [Int] = []
    public var moreCount = 0

    public init(line: Int, reason: String, fix: String = ParkingCSV.lineFix) {
        self.line = line
        self.reason = reason
        self.fix = fix
    }

    public var description: String { "line \(line): \(reason)" + more + ". Fix: \(fix)" }

    /// `FILE:LINE: …`, as a technician needs it.
    public func description(file: String) -> String { "\(file):\(line): \(reason)" + more + ". Fix: \(fix)" }

    private var more: String {
        guard moreCount > 0 else { return "" }
        let named = moreLines.map(String.init).joined(separator: ", ")
        return " (and \(moreCount) more bad line\(moreCount == 1 ? "" : "s"): \(named)\(moreCount > moreLines.count ? ", …" : ""))"
    }
}

/// Reads the CSV strictly: a header, then four comma-separated fields per line, LF or
/// CRLF endings. A malformed line is an error naming the line, never a silent skip, so
/// a truncated or foreign file cannot pass for the data set; the whole file is read
/// first, so the error also names the other bad lines.
public enum ParkingCSV {
    static let header = "SystemCodeNumber,Capacity,Occupancy,LastUpdated"
    public static let lineFix = "each line is CAR_PARK,CAPACITY,OCCUPANCY,YYYY-MM-DD HH:MM:SS (whole numbers; no quotes or extra commas)"

    public static func read(path: String) throws -> [ParkingRow] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try parse(Array(data))
    }

    public static func parse(_ text: String) throws -> [ParkingRow] {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws -> [ParkingRow] {
        var rows: [ParkingRow] = []
        rows.reserveCapacity(bytes.count / 40)
        var lineNumber = 0
        var start = 0
        var parkNames: [ArraySlice<UInt8>: String] = [:]
        var first: ParkingCSVError?
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            lineNumber += 1
            let line = bytes[start..<lineEnd]
            start = end + 1
            if lineNumber == 1 {
                guard String(decoding: line, as: UTF8.self) == header
                else { throw ParkingCSVError(line: 1, reason: "unexpected header", fix: "the first line must be \(header)") }
                continue
            }
            if line.isEmpty { continue }
            do {
                rows.append(try row(line, lineNumber: lineNumber, names: &parkNames))
            } catch let e as ParkingCSVError {
                if first == nil { first = e } else {
                    first!.moreCount += 1
                    if first!.moreLines.count < 20 { first!.moreLines.append(e.line) }
                }
            }
        }
        if let first { throw first }
        guard lineNumber >= 1 else { throw ParkingCSVError(line: 1, reason: "empty file", fix: "the first line must be \(header)") }
        return rows
    }

    private static func row(_ line: ArraySlice<UInt8>, lineNumber: Int, names: inout [ArraySlice<UInt8>: String]) throws -> ParkingRow {
        let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            throw ParkingCSVError(line: lineNumber, reason: "expected 4 fields, found \(fields.count)")
        }
        guard !fields[0].isEmpty else { throw ParkingCSVError(line: lineNumber, reason: "empty car park id") }
        guard let capacity = integer(fields[1]) else {
            throw ParkingCSVError(line: lineNumber, reason: "capacity `\(String(decoding: fields[1].prefix(40), as: UTF8.self))` is not an integer")
        }
        guard let occupancy = integer(fields[2]) else {
            throw ParkingCSVError(line: lineNumber, reason: "occupancy `\(String(decoding: fields[2].prefix(40), as: UTF8.self))` is not an integer")
        }
        guard let time = CivilTime.seconds(parsing: fields[3]) else {
            throw ParkingCSVError(line: lineNumber, reason: "timestamp `\(String(decoding: fields[3].prefix(40), as: UTF8.self))` is not YYYY-MM-DD HH:MM:SS")
        }
        let park: String
        if let known = names[fields[0]] {
            park = known
        } else {
            park = String(decoding: fields[0], as: UTF8.self)
            names[fields[0]] = park
        }
        return ParkingRow(park: park, capacity: capacity, occupancy: occupancy, time: time)
    }

    private static func integer(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var negative = false
        var sawDigit = false
        for (i, byte) in field.enumerated() {
            if i == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), value < Int.max / 10 - 10 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            sawDigit = true
        }
        return sawDigit ? (negative ? -value : value) : nil
    }
}
