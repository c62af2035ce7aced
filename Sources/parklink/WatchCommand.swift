import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkReports

/// `parklink watch`: what happens, as it happens.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow bay changes, alerts raised and resolved, and overrides, one line each, live.",
        discussion: """
            With --since, what happened from then on is read back from the database first, then the stream \
            goes on live. Each line is written as it comes (it works through `| head` and `| grep`). Exits 1 \
            when the daemon ends the stream (it stopped, or this reader was too slow for it). \
            With no daemon answering, --since reads what happened up to now from the database (--db, the \
            config's dsn, else the private database) and exits 3; without --since it exits 1.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var reading: ReadingOptions
    @Flag(name: .long, help: "One JSON object per line (every key present, null when it does not apply).")
    var json = false
    @Option(name: .long, help: "Only this zone's bays, alerts and overrides.")
    var zone: String?
    @Option(name: .long, help: ArgumentHelp("Replay from this time first: 15m, 2h, 1d (ago), 2025-03-01T08:00:00Z, or local '2025-03-01 08:00'.", valueName: "time"))
    var since: String?

    func validate() throws {
        if let since {
            do {
                _ = try TimeText.instant(since, nowMs: 0)
            } catch {
                throw ValidationError("--since: \(error)")
            }
        }
        if let zone, zone.isEmpty || zone.count > 64 { throw ValidationError("--zone must be 1–64 characters") }
    }

    func run() throws {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let sinceMs = try since.map { try TimeText.instant($0, nowMs: nowMs) }
        let config = reading.loadConfig()
        let show: (WatchEvent) -> Void = { event in
            if json {
                guard let line = try? StatusProtocol.json(event) else { return }
                emit(line + "\n")
            } else {
                emit(event.line + "\n")
            }
        }
        let answer = global.findDaemon(config: config) { socket in
            try StatusClient.watch(zone: zone, sinceMs: sinceMs, socket: socket) { event in
                show(event)
                return true
            }
        }
        switch answer {
        case .answered(.stopped):
            return
        case .answered(.closed):
            fail("the daemon closed the stream (it is stopping, or went away)")
        case .answered(.problem(let p)):
            fail(p.message)
        case .away(let state, let reason):
            guard let sinceMs else {
                fail("the daemon is not running (\(reason)): there is nothing to follow live. "
                     + "Give --since (e.g. --since 1h) to read what happened from the database")
            }
            note("the daemon is not running (\(reason)): what happened up to now, from the database")
            let zones = (config ?? ApplianceConfig()).zones
            withStoredData(reading, config: config, state: state) { c, _ in
                try ReadSource.requireSchema(c, atLeast: 4, for: "watch --since")
                try StoredWatch.replay(c, appliance: StoredAlerts.appliance(state: state), sinceMs: sinceMs, untilMs: nowMs,
                                       zone: zone, zones: zones, show)
            }
            throw ExitCode(StatusCommand.storedExitCode)
        }
    }
}
