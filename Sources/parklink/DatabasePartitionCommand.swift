import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkStore

extension DatabaseCommand {
    /// `parklink db partition`: moves an unpartitioned `readings` to the daily partitions
    /// while the appliance keeps writing (see `ReadingsUpgrade`).
    struct Partition: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move readings of a database from before schema version 6 to daily partitions, while the appliance runs.",
            discussion: """
                Copies readings into a partitioned table in chunks of the primary key, catches up \
                with what the appliance stored meanwhile, then swaps the tables in one RENAME (the \
                writer waits for it, not for the copy). Interrupted (Ctrl-C, a lost connection), it \
                resumes where it stopped when run again. The old table stays as \
                readings_unpartitioned: drop it once satisfied. Exit 0: done (or nothing to do); \
                1: the database failed or another upgrade runs (run again: it resumes); 2: the \
                config file, DSN or password file is refused; 64: a bad argument.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var reading: ReadingOptions
        @Option(name: .customLong("chunk-rows"), help: "Rows copied per transaction.")
        var chunkRows = 10_000

        func validate() throws {
            guard (100...1_000_000).contains(chunkRows) else {
                throw ValidationError("--chunk-rows must be 100…1000000 (got \(chunkRows))")
            }
        }

        func run() throws {
            let config = reading.loadConfig()
            let state = global.state(config: config)
            let storage = config?.storage ?? ApplianceConfig().storage
            let started = ContinuousClock.now
            let outcome = withStoredData(reading, config: config, state: state) { c, source in
                try Connections.migrate(source.dsn)
                var lastNote = started
                return try ReadingsUpgrade(connection: c, settings: storage.partitions, chunkRows: chunkRows)
                    .run(nowMs: Int64(Date().timeIntervalSince1970 * 1000)) {
                        if ContinuousClock.now - lastNote > .seconds(10) {
                            lastNote = ContinuousClock.now
                            note("copying readings… (\(ContinuousClock.now - started))")
                        }
                        return true
                    }
            }
            if outcome.alreadyPartitioned {
                print("readings is already partitioned by day: nothing to do")
            } else {
                let swap = Double(outcome.swap.components.attoseconds) / 1e18 + Double(outcome.swap.components.seconds)
                print("readings is partitioned by day: \(outcome.copiedRows) rows copied, \(outcome.caughtUpRows) caught up"
                      + String(format: ", the swap took %.3f s", swap)
                      + "; the old table is readings_unpartitioned (DROP TABLE it once satisfied); \(ContinuousClock.now - started) in all")
            }
        }
    }
}
