import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkHarness
import ParkLinkStore

extension DatabaseCommand {
    /// `parklink db year-scale`: builds a year of simulated data in a database made for it
    /// and times the manager's questions on it. Hidden: a benchmark (README "Storage").
    struct YearScale: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "year-scale",
            abstract: "Fill a scratch database with a year of simulated rollups and time the manager's questions (a benchmark).",
            shouldDisplay: false)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "A scratch database (a DSN): its readings, rollups, alerts and sensors are REPLACED.")
        var db: String
        @Option(name: .customLong("db-password-file"), help: passwordFileHelp)
        var dbPasswordFile: String?
        @Flag(name: .customLong("queries-only"), help: "Keep the data; only run the rollup job and time the questions.")
        var queriesOnly = false
        @Option(name: .long, help: "Runs of each question (the median and the slowest are shown).")
        var runs = 5

        func run() throws {
            let dsn = resolveDSNOrExit(db, passwordFile: dbPasswordFile)
            MariaDB.initializeLibrary()
            do {
                try Connections.migrate(dsn)
                let c = try Connections.open(dsn, profile: .tool)
                defer { c.close() }
                try c.execute("SET SESSION max_statement_time = 0")
                let day: Int64 = 86_400_000
                let endMs = Int64(Date().timeIntervalSince1970 * 1000) / day * day
                if !queriesOnly { try generate(c, endMs: endMs) }
                try rollUp(c)
                try time(c, endMs: endMs)
            } catch {
                fail("\(error)")
            }
        }

        private func seconds(_ d: Duration) -> String {
            String(format: "%.3f s", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }

        private func generate(_ c: MariaDBConnection, endMs: Int64) throws {
            let clock = ContinuousClock()
            let all = clock.now
            for step in YearScaleGenerator(connection: c, endMs: endMs).steps() {
                let t = clock.now
                let rows = try step.run()
                print("generate: \(step.name): \(rows) rows in \(seconds(clock.now - t))")
            }
            print("generate: all in \(seconds(clock.now - all))")
        }

        /// The real rollup job over what is not rolled up yet (the generated raw hour).
        private func rollUp(_ c: MariaDBConnection) throws {
            let clock = ContinuousClock()
            var refreshes = 0
            let t = clock.now
            while try ReadingRollups(connection: c).refresh().sessions > 0 { refreshes += 1 }
            print("rollup job over the raw hour: \(refreshes) refreshes in \(seconds(clock.now - t))")
            for table in ["readings", "rollup_sensor_5m", "rollup_sensor_hour", "rollup_zone_5m", "rollup_zone_hour", "alerts"] {
                let row = try c.query("""
                    SELECT TABLE_ROWS, ROUND((DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM information_schema.TABLES
                    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '\(table)'
                    """).first ?? []
                print("size: \(table): ~\(row.first.flatMap { $0 } ?? "?") rows, \(row.last.flatMap { $0 } ?? "?") MiB")
            }
        }

        private func time(_ c: MariaDBConnection, endMs: Int64) throws {
            let month: Int64 = 30 * 86_400_000
            let queries = RollupQueries(connection: c)
            let clock = ContinuousClock()
            for q in RollupQueries.questions(fromMs: endMs - month, toMs: endMs) {
                var times: [Duration] = []
                var rows = 0
                for _ in 0..<max(1, runs) {
                    let t = clock.now
                    rows = try queries.answer(q).count
                    times.append(clock.now - t)
                }
                times.sort()
                print("\n## \(q.name): \(rows) rows, median \(seconds(times[times.count / 2])), slowest \(seconds(times.last!))")
                print(q.sql)
                for line in try queries.plan(q) { print("  plan: \(line)") }
            }
        }
    }
}
