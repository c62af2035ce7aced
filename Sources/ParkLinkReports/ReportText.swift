import Foundation
import ParkLinkDaemon

/// The forms of a `GarageReport`: a table with bar charts for a terminal, CSV of the hours
/// for a spreadsheet, JSON of everything for a program.
public enum ReportText {
    public enum Format: String, CaseIterable, Sendable {
        case table, csv, json
    }

    public static func render(_ r: GarageReport, format: Format, columns: Int = 80) throws -> String {
        switch format {
        case .table: return table(r, columns: columns)
        case .csv: return csv(r)
        case .json: return try StatusProtocol.json(r, pretty: true)
        }
    }

    /// The hours, garage first (zone `*`), then each zone: RFC 4180 with CRLF line ends.
    public static func csv(_ r: GarageReport) -> String {
        var lines = ["date,hour,start,zone,arrivals,departures,average_occupied,peak_occupied,hourly_target,percent_of_hourly_target,arrivals_week_earlier"]
        func add(_ zone: String, _ hours: [GarageReport.Hour]) {
            for h in hours {
                let fields = [h.date, h.hour, h.start, zone, "\(h.arrivals)", "\(h.departures)", h.average_occupied.map { "\($0)" } ?? "",
                              "\(h.peak_occupied)", h.hourly_target.map { "\($0)" } ?? "", h.percent_of_hourly_target.map { "\($0)" } ?? "",
                              "\(h.arrivals_week_earlier)"]
                lines.append(fields.map(quoted).joined(separator: ","))
            }
        }
        add("*", r.garage_hours)
        for z in r.zones { add(z.id, z.hours) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func quoted(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func money(_ cents: Int) -> String { String(format: "%d.%02d", cents / 100, cents % 100) }
    static func num(_ d: Double?, _ places: Int = 1) -> String { d.map { String(format: "%.\(places)f", $0) } ?? "-" }
    static func pad(_ s: String, _ n: Int, right: Bool = true) -> String {
        s.count >= n ? s : right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count)
    }

    public static func table(_ r: GarageReport, columns: Int = 80) -> String {
        var out: [String] = []
        let p = r.period
        out.append("PARKLINK REPORT \(p.from == p.to ? p.from : "\(p.from) to \(p.to)") (\(p.timezone))\(p.zone.map { ", zone \($0)" } ?? ", all zones")")
        out.append("")
        out += figures("GARAGE", r.garage)
        let hourly = r.garage_days.count <= 7
        if hourly { out += hours(r.garage_hours, columns: columns) }
        for z in r.zones {
            out.append("")
            let rate = z.hourly_rate_cents.map { ", rate \(money($0)) per started hour" } ?? ""
            out += figures("ZONE \(z.id)" + (z.configured ? "" : " (named after its gateway)") + rate, z.figures)
            out.append("  date        arrivals  departures  target  efficiency")
            for d in z.days {
                out.append("  \(d.date)  \(pad("\(d.arrivals)", 8))  \(pad("\(d.departures)", 10))  \(pad(d.daily_target.map(String.init) ?? "-", 6))  "
                    + pad(d.efficiency_percent.map { num($0) + "%" } ?? "-", 10))
            }
            if hourly { out += hours(z.hours, columns: columns) }
        }
        if !hourly { out.append("(hourly rows: over 7 days they are in --format csv or json)") }
        out.append("")
        out.append("SENSORS most alerts: " + (r.sensors_most_alerts.isEmpty ? "none"
            : r.sensors_most_alerts.map { "\($0.sensor) (\($0.alerts))" }.joined(separator: ", ")))
        out.append("        lowest health: " + (r.sensors_lowest_health.isEmpty ? "no health history in the period"
            : r.sensors_lowest_health.map { "\($0.sensor) \(num($0.mean_score)) (min \(num($0.min_score)))" }.joined(separator: ", ")))
        let fe = r.forecast_error
        out.append("FORECAST error on \(fe.date): " + (fe.horizons.isEmpty ? "no scored forecasts"
            : fe.horizons.map { "\($0.horizon_minutes) min MAE \(num($0.mae, 2)), RMSE \(num($0.rmse, 2)), bias \(num($0.bias, 2)) (n \($0.forecasts))" }
                .joined(separator: "; ")))
        for n in r.notes { out.append("NOTE   \(n)") }
        return out.joined(separator: "\n")
    }

    private static func figures(_ title: String, _ f: GarageReport.Figures) -> [String] {
        let revenue = f.revenue_cents.map { "\(money($0)) (\($0) cents)" } ?? "unknown (no rate recorded)"
        var lines = [
            title,
            "  capacity \(f.capacity), occupied \(f.occupied) (\(num(f.occupied_percent))%), available \(f.available); "
                + "average occupied \(num(f.average_occupied_percent))%, peak \(f.peak_occupied)",
            "  vehicles processed \(f.vehicles_processed), departures \(f.departures), stays \(f.stays) "
                + "(average \(num(f.average_stay_minutes)) min), revenue \(revenue)",
        ]
        if let t = f.daily_target_total {
            lines.append("  efficiency \(num(f.efficiency_percent))% of the daily targets (\(t) arrivals)")
        }
        return lines
    }

    /// One line per hour with a bar of arrivals; `|` marks the hourly target, `.` the same
    /// hour a week earlier.
    private static func hours(_ hours: [GarageReport.Hour], columns: Int) -> [String] {
        let width = max(10, columns - 62)
        let top = max(1, hours.map { max($0.arrivals, $0.arrivals_week_earlier, Int(($0.hourly_target ?? 0).rounded(.up))) }.max() ?? 1)
        var out = ["  date        hour   arr  dep  avg occ  peak  target  week-1  arrivals (| target, . week earlier)"]
        for h in hours {
            var bar = Array(repeating: Character(" "), count: width + 1)
            let n = Int((Double(h.arrivals) / Double(top) * Double(width)).rounded())
            for i in 0..<n { bar[i] = "#" }
            let w = Int((Double(h.arrivals_week_earlier) / Double(top) * Double(width)).rounded())
            if h.arrivals_week_earlier > 0 && bar[w] == " " { bar[w] = "." }
            if let t = h.hourly_target { bar[min(width, Int((t / Double(top) * Double(width)).rounded()))] = "|" }
            let cells = "  \(h.date)  \(h.hour)  \(pad("\(h.arrivals)", 4)) \(pad("\(h.departures)", 4))  \(pad(num(h.average_occupied, 2), 7))  "
                + "\(pad("\(h.peak_occupied)", 4))  \(pad(num(h.hourly_target), 6))  \(pad("\(h.arrivals_week_earlier)", 6))  "
            out.append((cells + String(bar)).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        return out
    }
}
