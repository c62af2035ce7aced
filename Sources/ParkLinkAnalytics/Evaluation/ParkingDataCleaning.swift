/// What cleaning removed, so a report can say exactly what was scored.
public struct CleaningSummary: Sendable, Equatable, Codable {
    public var rawRows = 0
    public var droppedNonPositiveCapacity = 0
    public var droppedNegativeOccupancy = 0
    public var droppedOverCapacity = 0
    public var duplicatesRemoved = 0
    public var keptRows = 0
    public var parks = 0
}

/// One car park's cleaned readings, in time order.
public struct ParkSeries: Sendable, Equatable {
    public var park: String
    /// The largest capacity any kept row gives (it never changes within a car park in
    /// the Birmingham file).
    public var capacity: Int
    public var times: [Int64]
    public var occupancy: [Double]
}

/// The cleaning of Alfarouk/ParkPulse, whose published figures this evaluation
/// reproduces, in this order:
///
/// 1. drop rows with capacity ≤ 0 or occupancy < 0 (12 rows of NIA North);
/// 2. drop rows with occupancy > capacity (373 rows; not clipped: clipping would keep
///    readings the sensor got wrong);
/// 3. de-duplicate on (car park, timestamp), keeping the last such row in file order
///    (216 rows: all exact copies in this file);
/// 4. sort each car park's rows by time.
///
/// On the Birmingham file: 35,717 rows → 35,116 rows in 30 car parks.
public enum ParkingDataCleaning {
    public static func clean(_ rows: [ParkingRow]) -> (series: [ParkSeries], summary: CleaningSummary) {
        var summary = CleaningSummary()
        summary.rawRows = rows.count
        var valid: [ParkingRow] = []
        valid.reserveCapacity(rows.count)
        for row in rows {
            if row.capacity <= 0 {
                summary.droppedNonPositiveCapacity += 1
            } else if row.occupancy < 0 {
                summary.droppedNegativeOccupancy += 1
            } else if row.occupancy > row.capacity {
                summary.droppedOverCapacity += 1
            } else {
                valid.append(row)
            }
        }

        struct Key: Hashable { var park: String; var time: Int64 }
        var lastIndex: [Key: Int] = [:]
        for (i, row) in valid.enumerated() { lastIndex[Key(park: row.park, time: row.time)] = i }

        var order: [String] = []
        var byPark: [String: [ParkingRow]] = [:]
        for (i, row) in valid.enumerated() {
            guard lastIndex[Key(park: row.park, time: row.time)] == i else {
                summary.duplicatesRemoved += 1
                continue
            }
            if byPark[row.park] == nil { order.append(row.park) }
            byPark[row.park, default: []].append(row)
        }

        let series = order.map { park -> ParkSeries in
            let sorted = byPark[park]!.enumerated()
                .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
                .map(\.element)
            return ParkSeries(
                park: park,
                capacity: sorted.map(\.capacity).max()!,
                times: sorted.map(\.time),
                occupancy: sorted.map { Double($0.occupancy) }
            )
        }
        summary.keptRows = series.reduce(0) { $0 + $1.times.count }
        summary.parks = series.count
        return (series, summary)
    }
}
