import ArgumentParser
import Foundation
import ParkLinkReports
import ParkLinkSystem

extension ReportText.Format: ExpressibleByArgument {}

/// `parklink report`: a day or a period of the garage, from the database.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report a day or a period from the database: hourly usage against targets, efficiency, garage figures, sensors, forecast error.",
        discussion: """
            Dates are local (YYYY-MM-DD) in the time zone of --tz, else the config file's [sampler] \
            timezone, else TZ, else the system's; the database keeps UTC. Without --date or \
            --from/--to: today. Zones, capacities and targets come from --config; without it, zones \
            are those the data names and have no targets. Works whether or not the daemon runs. \
            Exit status: 0 done, 1 the database could not be read, 2 the config file, the DSN or the \
            password file is refused.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var reading: ReadingOptions
    @Option(name: .long, help: "One local date (YYYY-MM-DD).")
    var date: String?
    @Option(name: .long, help: "First local date of a period (with --to).")
    var from: String?
    @Option(name: .long, help: "Last local date of a period, included (with --from).")
    var to: String?
    @Option(name: .long, help: "Only this zone (a configured zone, or a gateway's).")
    var zone: String?
    @Option(name: .long, help: "table (default), csv (the hours) or json (everything).")
    var format: ReportText.Format = .table
    @Option(name: .long, help: "Time zone of the dates shown and taken, e.g. Europe/London.")
    var tz: String?

    func validate() throws {
        if date != nil && (from != nil || to != nil) { throw ValidationError("give --date, or --from and --to, not both") }
        if (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
        for d in [date, from, to].compactMap({ $0 }) where LocalCalendar(timeZone: TimeZone(identifier: "UTC")!).startOfDay(d) == nil {
            throw ValidationError("`\(d)` is not a date: use YYYY-MM-DD")
        }
        if let zone, zone.isEmpty { throw ValidationError("--zone needs a zone id") }
    }

    func run() throws {
        let config = reading.loadConfig()
        let state = global.state(config: config)
        let calendar = try localCalendar(tz, config: config)
        let now = Clock.wallMilliseconds()
        let first = date ?? from ?? calendar.today(nowMs: now)
        let request = ReportBuilder.Request(from: first, to: date ?? to ?? first, zone: zone, nowMs: now)
        let builder = ReportBuilder(calendar: calendar, config: config)
        do {
            _ = try builder.bounds(request)
        } catch {
            throw ValidationError("\(error)")
        }
        let report = withStoredData(reading, config: config, state: state) { c, _ in
            try ReadSource.requireSchema(c, atLeast: 5, for: "report")
            return try builder.build(c, request)
        }
        do {
            print(try ReportText.render(report, format: format), terminator: format == .csv ? "" : "\n")
        } catch {
            fail("cannot print the report: \(error)")
        }
    }
}
