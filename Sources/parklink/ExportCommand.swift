import ArgumentParser
import Foundation
import ParkLinkReports
import ParkLinkStore
import ParkLinkSystem

extension ExportRepository.Kind: ExpressibleByArgument {}
extension Exporter.Format: ExpressibleByArgument {}

/// `parklink export`: a table over a period, streamed to stdout or a file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export readings, events, alerts or stays over a period as CSV or JSON lines, streamed in constant memory.",
        discussion: """
            --from and --to take a local date (YYYY-MM-DD: --from from its midnight, --to through its \
            end) or a date and time (2025-01-05T10:00, local; or with Z or an offset; --to excluded). \
            Times in the output are UTC (ISO 8601, Z). csv: RFC 4180 with a header line; json: one \
            object per line (JSON Lines). Rows: readings by received_at (in key order: gateway, boot, \
            seq), events by at, alerts by created_at, stays by left_at. Works whether or not the daemon \
            runs. Exit status: 0 done, 1 the database could not be read or the output written, 2 the \
            config file, the DSN or the password file is refused.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var reading: ReadingOptions
    @Argument(help: "readings, events, alerts or stays.")
    var kind: ExportRepository.Kind
    @Option(name: .long, help: "Start of the period (a local date, or a date and time).")
    var from: String
    @Option(name: .long, help: "End of the period (a local date, included; or a date and time, excluded).")
    var to: String
    @Option(name: .long, help: "Only this zone (a configured zone, or a gateway's).")
    var zone: String?
    @Option(name: .long, help: "csv (default) or json (JSON lines).")
    var format: Exporter.Format = .csv
    @Option(name: .long, help: "Write to this file (replaced once complete) instead of standard output.")
    var output: String?
    @Option(name: .long, help: "Time zone of --from and --to, e.g. Europe/London.")
    var tz: String?

    func run() throws {
        let config = reading.loadConfig()
        let state = global.state(config: config)
        let calendar = try localCalendar(tz, config: config)
        guard let fromMs = calendar.instant(from) else { throw ValidationError("--from `\(from)` is not a date or a date and time") }
        guard let toStart = calendar.instant(to) else { throw ValidationError("--to `\(to)` is not a date or a date and time") }
        // A date names a whole day: through its end.
        let toMs = calendar.startOfDay(to) != nil ? calendar.nextDay(toStart) : toStart
        guard toMs > fromMs else { throw ValidationError("--to must come after --from") }
        let rows = withStoredData(reading, config: config, state: state) { c, _ in
            try ReadSource.requireSchema(c, atLeast: kind == .stays ? 5 : 2, for: "export \(kind.rawValue)")
            // Opened here, inside the read: whatever fails, the temporary file is removed.
            let sink: ByteSink
            do {
                sink = try output.map(ByteSink.file) ?? ByteSink.standardOutput()
            } catch {
                throw ReadSource.Failure(description: "cannot write \(output ?? "standard output"): \(error)", exitCode: 1)
            }
            do {
                let n = try Exporter.run(c, kind: kind, fromMs: fromMs, toMs: toMs, zone: zone, format: format, to: sink)
                try sink.finish()
                return n
            } catch {
                sink.abandon()
                throw error
            }
        }
        note("exported \(rows) \(kind.rawValue) rows" + (output.map { " to \($0)" } ?? ""))
    }
}
