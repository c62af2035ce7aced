/// Hours of a report: consecutive intervals `[starts[i], starts[i+1])`, the last ending at
/// `endMs`. Local hours are not always 60 minutes apart in UTC terms only across a daylight
/// saving change, and there the caller's calendar decides; here they are just intervals.
public struct HourGrid: Sendable, Equatable {
    public let starts: [Int64]
    public let endMs: Int64

    public init(starts: [Int64], endMs: Int64) {
        precondition(!starts.isEmpty && zip(starts, starts.dropFirst()).allSatisfy { $0 < $1 } && starts.last! < endMs)
        self.starts = starts
        self.endMs = endMs
    }

    public var count: Int { starts.count }
    public func end(of hour: Int) -> Int64 { hour + 1 < starts.count ? starts[hour + 1] : endMs }

    /// The hour holding `ms`, nil outside the grid.
    public func hour(of ms: Int64) -> Int? {
        guard ms >= starts[0], ms < endMs else { return nil }
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= ms { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}

/// One zone's figures for one hour.
public struct HourFigures: Sendable, Equatable {
    public var arrivals = 0
    public var departures = 0
    /// Occupied bays integrated over the observed part of the hour (bay-milliseconds).
    public var occupiedBayMs = 0.0
    /// The observed part of the hour (ms): all of it, less what lies after "now".
    public var observedMs: Int64 = 0
    /// The most bays occupied at once during the observed part.
    public var peakOccupied = 0

    public init() {}

    /// The time-weighted mean of occupied bays; nil for an hour not yet begun.
    public var averageOccupied: Double? { observedMs > 0 ? occupiedBayMs / Double(observedMs) : nil }
}

/// Turns a period's occupancy events into hourly figures per zone: arrivals, departures,
/// the time-weighted average of occupied bays and the peak.
///
/// Feed each bay's state when the period begins (`begin`), then the period's events in
/// time order (`add`), then `finish`. A bay counts in the zone of the event that made it
/// occupied until it is freed; an arrival at an occupied bay or a departure from a free
/// one changes no count (the events say what changed, but a lost one must not make the
/// count drift). Time after `observedUntilMs` (now, for a period not yet over) is not
/// counted as occupied or free: its hours have no average.
public struct HourlyUsage {
    public let grid: HourGrid
    public let observedUntilMs: Int64
    private var occupiedIn: [String: String] = [:]
    private var count: [String: Int] = [:]
    private var lastMs: [String: Int64] = [:]
    private var figures: [String: [HourFigures]] = [:]

    public init(grid: HourGrid, observedUntilMs: Int64, zones: [String] = []) {
        self.grid = grid
        self.observedUntilMs = min(max(observedUntilMs, grid.starts[0]), grid.endMs)
        for z in zones { touch(z) }
    }

    private mutating func touch(_ zone: String) {
        if figures[zone] == nil {
            figures[zone] = Array(repeating: HourFigures(), count: grid.count)
            count[zone] = 0
            lastMs[zone] = grid.starts[0]
        }
    }

    /// A bay's state at the start of the period (its last event before it).
    public mutating func begin(bay: String, zone: String, occupied: Bool) {
        touch(zone)
        knownBays[zone, default: []].insert(bay)
        guard occupied, occupiedIn[bay] == nil else { return }
        occupiedIn[bay] = zone
        count[zone, default: 0] += 1
        figures[zone]![0].peakOccupied = max(figures[zone]![0].peakOccupied, count[zone]!)
    }

    /// An event of the period, in time order.
    public mutating func add(bay: String, zone: String, arrival: Bool, atMs: Int64) {
        guard let h = grid.hour(of: atMs), atMs <= observedUntilMs else { return }
        touch(zone)
        knownBays[zone, default: []].insert(bay)
        if arrival { figures[zone]![h].arrivals += 1 } else { figures[zone]![h].departures += 1 }
        if arrival {
            guard occupiedIn[bay] == nil else { return }
            accrue(zone, until: atMs)
            occupiedIn[bay] = zone
            count[zone]! += 1
            figures[zone]![h].peakOccupied = max(figures[zone]![h].peakOccupied, count[zone]!)
        } else {
            guard let was = occupiedIn.removeValue(forKey: bay) else { return }
            accrue(was, until: atMs)
            count[was]! -= 1
        }
    }

    /// Integrates `zone`'s count from where it stopped to `t`, hour by hour.
    private mutating func accrue(_ zone: String, until t: Int64) {
        var from = lastMs[zone]!
        let n = count[zone]!
        while from < t, let h = grid.hour(of: from) {
            let end = min(t, grid.end(of: h))
            figures[zone]![h].occupiedBayMs += Double(n) * Double(end - from)
            figures[zone]![h].observedMs += end - from
            figures[zone]![h].peakOccupied = max(figures[zone]![h].peakOccupied, n)
            from = end
        }
        lastMs[zone] = max(from, lastMs[zone]!)
    }

    /// Bays occupied now (at `observedUntilMs` once `finish` has run), by zone.
    public var occupied: [String: Int] { count }

    /// How many distinct bays each zone's events name, up to the period's end.
    public var baysSeen: [String: Int] { knownBays.mapValues(\.count) }
    private var knownBays: [String: Set<String>] = [:]

    /// Every zone's figures, hour by hour.
    public mutating func finish() -> [String: [HourFigures]] {
        for zone in figures.keys.sorted() { accrue(zone, until: observedUntilMs) }
        return figures
    }
}
