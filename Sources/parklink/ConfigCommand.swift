import ArgumentParser
import Foundation
import ParkLinkProtocol
import ParkLinkReports
import ParkLinkSystem

/// `parklink config init`: a commented sample config from the sensors the database has seen.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Configuration file tools.",
        subcommands: [Init.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a commented sample config (zones, bays, rates, targets) from the sensors seen in the database.",
            discussion: """
                One [[zone]] per gateway with every sensor it reported, its capacity, a daily target \
                from the last 7 days' arrivals, the rate, and commented [[bay]] and [[target]] \
                examples. It loads as written (`parklink run --config FILE`); edit it into the real \
                zones. To stdout, or --output FILE (never over an existing file without --force).
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var reading: ReadingOptions
        @Option(name: .long, help: "Only this gateway's sensors (one appliance reads one gateway).")
        var gateway: String?
        @Option(name: .customLong("hourly-rate-cents"), help: "The default parking rate, integer cents per started hour.")
        var hourlyRateCents = 0
        @Option(name: .long, help: "Write to this file instead of standard output.")
        var output: String?
        @Flag(name: .long, help: "Replace --output if it exists.")
        var force = false
        @Option(name: .long, help: "The time zone to write (default: TZ, else the system's).")
        var tz: String?

        func validate() throws {
            guard (0...1_000_000).contains(hourlyRateCents) else { throw ValidationError("--hourly-rate-cents must be 0…1000000") }
            if let output, !force, FileManager.default.fileExists(atPath: output) {
                throw ValidationError("\(output) exists: choose another --output, or add --force to replace it")
            }
        }

        func run() throws {
            let config = reading.loadConfig()
            let state = global.state(config: config)
            let calendar = try localCalendar(tz, config: config)
            let now = Clock.wallMilliseconds()
            let seen = withStoredData(reading, config: config, state: state) { c, _ in
                try ReadSource.requireSchema(c, atLeast: 2, for: "config init")
                return try ConfigTemplate.seen(c, nowMs: now)
            }
            if let gateway, seen.sensors[gateway] == nil {
                fail("no sensors of gateway \(gateway) in \(seen.database); it has: \(seen.sensors.keys.sorted().joined(separator: ", "))")
            }
            if seen.sensors.isEmpty { fail("no sensors in \(seen.database) yet: run the daemon with the gateway first, then try again") }
            let text = ConfigTemplate.render(seen, gateway: gateway, timeZone: calendar.name, hourlyRateCents: hourlyRateCents,
                                             generatedAt: Timestamps.iso(ms: now) ?? "")
            guard let output else { return print(text, terminator: "") }
            do {
                let sink = try ByteSink.file(output)
                try sink.append(text)
                try sink.finish()
            } catch {
                fail("cannot write \(output): \(error)")
            }
            note("wrote \(output)")
        }
    }
}
