import Foundation
import ParkLinkAnalytics
import ParkLinkDaemon
import ParkLinkProtocol
import ParkLinkStore

/// Builds a `GarageReport` from the database, by the seed rules (DESIGN.md): efficiency %
/// = a zone's arrivals on a day ÷ its daily target for that day × 100, hourly usage against
/// the target (÷ 24) and the same hour a week earlier; garage figures from occupancy:
/// capacity, occupied, available, arrivals (vehicles processed), average stay, revenue at
/// the zone's hourly rate per started hour in integer cents.
public struct ReportBuilder {
    public struct Request: Sendable {
        /// First and last local date (`YYYY-MM-DD`), both included.
        public var from: String
        public var to: String
        public var zone: String?
        public var nowMs: Int64

        public init(from: String, to: String, zone: String?, nowMs: Int64) {
            self.from = from
            self.to = to
            self.zone = zone
            self.nowMs = nowMs
        }
    }

    public struct BadRequest: Error, CustomStringConvertible {
        public var description: String
    }

    public let calendar: LocalCalendar
    /// The config file, if given: zones, capacities and targets. Without one, zones come
    /// from the data and have no targets.
    public let config: ApplianceConfig?

    public init(calendar: LocalCalendar, config: ApplianceConfig?) {
        self.calendar = calendar
        self.config = config
    }

    /// The UTC bounds of a request: `[midnight starting from, midnight after to)`.
    public func bounds(_ r: Request) throws -> (fromMs: Int64, toMs: Int64) {
        guard let from = calendar.startOfDay(r.from) else { throw BadRequest(description: "`\(r.from)` is not a date (YYYY-MM-DD)") }
        guard let last = calendar.startOfDay(r.to) else { throw BadRequest(description: "`\(r.to)` is not a date (YYYY-MM-DD)") }
        guard last >= from else { throw BadRequest(description: "--to \(r.to) is before --from \(r.from)") }
        guard last - from <= 366 * 86_400_000 else { throw BadRequest(description: "a report covers at most 366 days; split the period") }
        return (from, calendar.nextDay(last))
    }

    public func build(_ c: MariaDBConnection, _ r: Request) throws -> GarageReport {
        let (fromMs, toMs) = try bounds(r)
        let observed = min(toMs, max(fromMs, r.nowMs))
        let grid = calendar.hours(fromMs: fromMs, toMs: toMs)
        let week = calendar.weekEarlier(grid)
        let repo = ReportRepository(connection: c)
        let configured = (config?.zones.zones ?? []).filter { r.zone == nil || $0.id == r.zone }
        var usage = HourlyUsage(grid: grid, observedUntilMs: observed, zones: configured.map(\.id))
        var garage = HourlyUsage(grid: grid, observedUntilMs: observed, zones: [Self.garageKey])
        var gatewayZones = Set<String>()
        for e in try repo.lastEvents(before: fromMs, zone: r.zone) {
            if !e.configured { gatewayZones.insert(e.zone) }
            usage.begin(bay: e.key, zone: e.zone, occupied: e.arrival)
            garage.begin(bay: e.key, zone: Self.garageKey, occupied: e.arrival)
        }
        try repo.forEachEvent(fromMs: fromMs, toMs: toMs, zone: r.zone) { e in
            if !e.configured { gatewayZones.insert(e.zone) }
            usage.add(bay: e.key, zone: e.zone, arrival: e.arrival, atMs: e.atMs)
            garage.add(bay: e.key, zone: Self.garageKey, arrival: e.arrival, atMs: e.atMs)
        }
        var weekArrivals: [String: [Int]] = [:]
        try repo.forEachEvent(fromMs: week.starts[0], toMs: week.endMs, zone: r.zone) { e in
            guard e.arrival, let h = week.hour(of: e.atMs) else { return }
            weekArrivals[e.zone, default: Array(repeating: 0, count: grid.count)][h] += 1
            weekArrivals[Self.garageKey, default: Array(repeating: 0, count: grid.count)][h] += 1
        }
        let hours = usage.finish()
        let garageHours = garage.finish()[Self.garageKey]!
        let stays = try repo.stays(fromMs: fromMs, toMs: toMs, zone: r.zone)
        let sensorCounts = try repo.sensorCounts()
        let tariffs = try repo.tariffs()

        let ids = configured.map(\.id) + Set(hours.keys).union(stays.keys).subtracting(configured.map(\.id)).sorted()
        var zones: [GarageReport.ZoneReport] = []
        for id in ids where r.zone == nil || id == r.zone {
            let zone = configured.first { $0.id == id }
            let capacity = zone?.capacity ?? sensorCounts[id] ?? usage.baysSeen[id] ?? 0
            let figuresByHour = hours[id] ?? Array(repeating: HourFigures(), count: grid.count)
            let target: (String) -> Int? = { date in self.config?.dailyTarget(zone: id, date: date) }
            let hourRows = rows(figuresByHour, grid: grid, target: target, weekEarlier: weekArrivals[id])
            let days = dayRows(hourRows, target: target)
            zones.append(GarageReport.ZoneReport(
                id: id, configured: zone != nil || !gatewayZones.contains(id), hourly_rate_cents: tariffs[id] ?? tariffs[""],
                figures: figures(capacity: capacity, occupied: usage.occupied[id] ?? 0, hours: figuresByHour, days: days,
                                 stays: stays[id] ?? .init()),
                days: days, hours: hourRows))
        }
        let garageHourRows = rows(garageHours, grid: grid, target: { _ in nil }, weekEarlier: weekArrivals[Self.garageKey])
        var garageDays = dayRows(garageHourRows, target: { _ in nil })
        // The garage's targets: the sum over its zones that have one that day.
        for i in garageDays.indices {
            let targets = zones.compactMap { z in z.days.first { $0.date == garageDays[i].date }?.daily_target }
            garageDays[i].daily_target = targets.isEmpty ? nil : targets.reduce(0, +)
            let arrivals = zones.filter { z in z.days.first { $0.date == garageDays[i].date }?.daily_target != nil }
                .map { z in z.days.first { $0.date == garageDays[i].date }!.arrivals }.reduce(0, +)
            garageDays[i].efficiency_percent = garageDays[i].daily_target.map { Self.percent(arrivals, $0) }
        }
        var totals = ReportRepository.StayTotals()
        for t in stays.values {
            totals.stays += t.stays
            totals.totalSeconds += t.totalSeconds
            totals.amountCents += t.amountCents
            totals.unpriced += t.unpriced
        }
        var garageFigures = figures(capacity: zones.map(\.figures.capacity).reduce(0, +), occupied: garage.occupied[Self.garageKey] ?? 0,
                                    hours: garageHours, days: [], stays: totals)
        let withTargets = zones.compactMap { z -> (arrivals: Int, target: Int)? in
            z.figures.daily_target_total.map { t in (z.days.filter { $0.daily_target != nil }.map(\.arrivals).reduce(0, +), t) }
        }
        if !withTargets.isEmpty {
            let t = withTargets.map(\.target).reduce(0, +)
            garageFigures.daily_target_total = t
            garageFigures.efficiency_percent = Self.percent(withTargets.map(\.arrivals).reduce(0, +), t)
        }

        let lastDay = calendar.startOfDay(r.to)!
        let forecast = try repo.forecastErrors(fromMs: lastDay, toMs: toMs, zone: r.zone).map {
            GarageReport.ForecastError(horizon_minutes: $0.horizonMinutes, forecasts: $0.count, mae: Self.round($0.meanAbsolute, 2),
                                       rmse: Self.round($0.rootMeanSquare, 2), bias: Self.round($0.bias, 2))
        }
        var notes: [String] = []
        if let z = r.zone, zones.isEmpty {
            notes.append("no zone `\(z)` in the config file or in the period's data (zones are configured ones, or named after a gateway)")
        }
        if observed < toMs { notes.append("the period is not over: figures run until \(calendar.iso(observed))") }
        if totals.unpriced > 0 {
            notes.append("\(totals.unpriced) stays have no rate recorded (table `tariffs`, written when the daemon starts): their revenue is not counted")
        }
        if zones.contains(where: { $0.figures.daily_target_total == nil }) {
            notes.append("zones without a daily target (config file: [[zone]] daily_target, [[target]]) have no efficiency")
        }
        if zones.contains(where: { !$0.configured }) {
            notes.append("zones named after a gateway hold its sensors that are in no configured zone (`parklink config init` writes a sample zone map)")
        }
        return GarageReport(
            period: .init(from: r.from, to: r.to, timezone: calendar.name, from_utc: Timestamps.iso(ms: fromMs) ?? "",
                          to_utc: Timestamps.iso(ms: toMs) ?? "", observed_until_utc: Timestamps.iso(ms: observed) ?? "", zone: r.zone),
            garage: garageFigures, garage_hours: garageHourRows, garage_days: garageDays, zones: zones,
            sensors_most_alerts: try repo.mostAlerts(fromMs: fromMs, toMs: toMs, zone: r.zone, limit: 5)
                .map { .init(sensor: $0.key.description, alerts: Int($0.value)) },
            sensors_lowest_health: try repo.lowestHealth(fromMs: fromMs, toMs: toMs, zone: r.zone, limit: 5)
                .map { .init(sensor: $0.key.description, mean_score: Self.round($0.value, 1), min_score: $0.minimum) },
            forecast_error: .init(date: r.to, horizons: forecast), notes: notes)
    }

    /// The garage as one pseudo-zone (no zone id can be empty).
    static let garageKey = ""

    private func rows(_ figures: [HourFigures], grid: HourGrid, target: (String) -> Int?, weekEarlier: [Int]?) -> [GarageReport.Hour] {
        grid.starts.indices.map { h in
            let start = grid.starts[h]
            let date = calendar.date(of: start)
            let hourly = target(date).map { Double($0) / 24 }
            let f = figures[h]
            return GarageReport.Hour(
                date: date, hour: calendar.clock(of: start), start: calendar.iso(start), arrivals: f.arrivals,
                departures: f.departures, average_occupied: f.averageOccupied.map { Self.round($0, 2) }, peak_occupied: f.peakOccupied,
                hourly_target: hourly.map { Self.round($0, 2) },
                percent_of_hourly_target: hourly.map { Self.round(Double(f.arrivals) / $0 * 100, 1) },
                arrivals_week_earlier: weekEarlier?[h] ?? 0)
        }
    }

    private func dayRows(_ hours: [GarageReport.Hour], target: (String) -> Int?) -> [GarageReport.Day] {
        var out: [GarageReport.Day] = []
        for h in hours {
            if out.last?.date != h.date {
                let t = target(h.date)
                out.append(GarageReport.Day(date: h.date, arrivals: 0, departures: 0, daily_target: t, efficiency_percent: nil))
            }
            out[out.count - 1].arrivals += h.arrivals
            out[out.count - 1].departures += h.departures
        }
        for i in out.indices { out[i].efficiency_percent = out[i].daily_target.map { Self.percent(out[i].arrivals, $0) } }
        return out
    }

    private func figures(capacity: Int, occupied: Int, hours: [HourFigures], days: [GarageReport.Day],
                         stays: ReportRepository.StayTotals) -> GarageReport.Figures {
        let observed = hours.map(\.observedMs).reduce(0, +)
        let bayMs = hours.map(\.occupiedBayMs).reduce(0, +)
        let average = observed > 0 && capacity > 0 ? Self.round(bayMs / Double(observed) / Double(capacity) * 100, 1) : nil
        let targeted = days.filter { $0.daily_target != nil }
        let targetTotal = targeted.isEmpty ? nil : targeted.compactMap(\.daily_target).reduce(0, +)
        return GarageReport.Figures(
            capacity: capacity, occupied: occupied, occupied_percent: capacity > 0 ? Self.round(Double(occupied) / Double(capacity) * 100, 1) : nil,
            available: max(0, capacity - occupied), average_occupied_percent: average,
            peak_occupied: hours.map(\.peakOccupied).max() ?? 0, vehicles_processed: hours.map(\.arrivals).reduce(0, +),
            departures: hours.map(\.departures).reduce(0, +), stays: stays.stays,
            average_stay_minutes: stays.stays > 0 ? Self.round(stays.totalSeconds / Double(stays.stays) / 60, 1) : nil,
            revenue_cents: stays.stays > 0 && stays.unpriced == stays.stays ? nil : stays.amountCents, unpriced_stays: stays.unpriced,
            daily_target_total: targetTotal,
            efficiency_percent: targetTotal.map { Self.percent(targeted.map(\.arrivals).reduce(0, +), $0) })
    }

    static func percent(_ n: Int, _ of: Int) -> Double { round(Double(n) / Double(of) * 100, 1) }
    static func round(_ x: Double, _ places: Int) -> Double {
        let f = pow(10, Double(places))
        return (x * f).rounded() / f
    }
}

extension ReportRepository.Event {
    /// The bay, as one string.
    var key: String { "\(gatewayId)/\(sensor)" }
}
