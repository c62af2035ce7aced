import ParkLinkStore

/// `parklink export`: one table (or the `stays` view) over a period, streamed from the
/// server to the output as it arrives, in constant memory.
///
/// - `csv`: RFC 4180, a header line of column names, CRLF line ends, NULL as an empty field.
/// - `json`: JSON Lines, one object per row (keys are the column names; numbers as numbers,
///   NULL as `null`). Lines rather than one array: a consumer can stream them too, and an
///   export cut short is still every row up to the cut.
public enum Exporter {
    public enum Format: String, CaseIterable, Sendable {
        case csv, json
    }

    /// Writes the rows; returns how many. The sink is flushed, not finished.
    @discardableResult
    public static func run(_ c: MariaDBConnection, kind: ExportRepository.Kind, fromMs: Int64, toMs: Int64, zone: String?,
                           format: Format, to out: ByteSink) throws -> Int {
        var keys: [[UInt8]] = []
        var numeric: [Bool] = []
        let n = try ExportRepository(connection: c).export(kind, fromMs: fromMs, toMs: toMs, zone: zone, columns: { columns in
            numeric = columns.map(\.isNumeric)
            switch format {
            case .csv:
                for (i, col) in columns.enumerated() {
                    if i > 0 { try out.append(0x2C) }
                    try CSVText.append(field: col.name, to: out)
                }
                try CSVText.endRecord(out)
            case .json:
                // Column names are the statement's own identifiers: nothing to escape.
                keys = columns.enumerated().map { i, col in Array(((i == 0 ? "{" : ",") + "\"" + col.name + "\":").utf8) }
            }
        }, row: { row in
            switch format {
            case .csv:
                for i in 0..<row.count {
                    if i > 0 { try out.append(0x2C) }
                    try CSVText.append(field: row.bytes(i), to: out)
                }
                try CSVText.endRecord(out)
            case .json:
                for i in 0..<row.count {
                    try keys[i].withUnsafeBytes { try out.append($0) }
                    if let v = row.bytes(i) {
                        if numeric[i] { try out.append(v) } else { try JSONText.append(string: v, to: out) }
                    } else {
                        try out.append("null")
                    }
                }
                try out.append("}\n")
            }
        })
        try out.flush()
        return n
    }
}
