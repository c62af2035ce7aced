import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkReports
import ParkLinkSystem

/// `parklink status`: what the running daemon is doing, from its status socket; with the
/// daemon down, the last state stored in the database.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running daemon's link, ring and store counters; with the daemon down, the last stored state.",
        discussion: """
            Without --state-dir it asks the daemon in your default state directory, else the one the \
            directory in /etc/parklink/parklink.toml names, else the one in /var/lib/parklink (the service's), \
            and says on stderr which one answered. \
            Exit status: 0 the daemon answered; 3 no daemon answers, and the last state stored in the \
            database is shown (how old it is, per zone occupancy, sensors, open alerts, last reading); \
            1 no daemon answers and no database could be read either; 2 the config file, the DSN or the \
            password file is refused.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var reading: ReadingOptions
    @Flag(name: .long, help: "Print the snapshot as one JSON object.")
    var json = false
    @Option(name: .long, help: "Refresh every N seconds until Ctrl-C.")
    var watch: Double?

    /// No daemon answered; the stored state was shown.
    static let storedExitCode: Int32 = 3

    func validate() throws {
        if let w = watch, !(w >= 0.2) { throw ValidationError("--watch must be at least 0.2 seconds") }
    }

    func run() throws {
        let config = reading.loadConfig()
        // Found once (see `GlobalOptions.findDaemon`); a watch stays with that daemon.
        var socket: String?
        // Full screen only on a terminal; into a pipe or a file, plain snapshots one after another.
        let screen = watch != nil && !json && Terminal.isTerminal(STDOUT_FILENO)
        repeat {
            let snap: StatusSnapshot
            if let socket {
                do {
                    snap = try StatusClient.status(socket: socket)
                } catch {
                    fail("\(error)")
                }
            } else {
                switch global.findDaemon(config: config, { try (snapshot: StatusClient.status(socket: $0), socket: $0) }) {
                case .answered(let found):
                    snap = found.snapshot
                    socket = found.socket
                case .away(let state, let reason):
                    try showStored(config: config, state: state, reason: reason)
                    throw ExitCode(Self.storedExitCode)
                }
            }
            if json {
                do {
                    emit(try snap.json() + "\n")
                } catch {
                    fail("cannot print the snapshot as JSON: \(error)")
                }
            } else if screen, let w = watch {
                let size = Terminal.size(STDOUT_FILENO) ?? (rows: 24, columns: 80)
                // Home, clear, then the screen: one write, so it does not flicker.
                emit("\u{1B}[H\u{1B}[2J" + StatusScreen.render(snap, columns: size.columns, rows: size.rows, everySeconds: w,
                                                               nowMs: Int64(Date().timeIntervalSince1970 * 1000)))
            } else {
                // Each snapshot leaves at once, whatever stdout is (`status --watch 2 | head`).
                emit(StatusReport.render(snap) + (watch != nil ? "\n\n" : "\n"))
            }
            if let w = watch { Thread.sleep(forTimeInterval: w) }
        } while watch != nil
    }

    static func reason(_ error: any Error, socket: String) -> String {
        if case .notRunning? = error as? StatusClient.Failure { return "no daemon answers at \(socket)" }
        return "\(error)"
    }

    /// The last stored state, in the same keys as the live snapshot.
    private func showStored(config: ApplianceConfig?, state: StateDirectory, reason: String) throws {
        note("the daemon is not running (\(reason)): reading the last stored state from the database")
        let calendar = try localCalendar(nil, config: config)
        let snapshot = withStoredData(reading, config: config, state: state) { c, _ in
            try ReadSource.requireSchema(c, atLeast: 2, for: "status")
            return try StoredStatus.build(c, .init(config: config, state: state, calendar: calendar, reason: reason,
                                                   nowMs: Clock.wallMilliseconds()))
        }
        if json {
            do {
                print(try snapshot.json())
            } catch {
                fail("cannot print the stored state as JSON: \(error)")
            }
        } else {
            print(StoredStatusReport.render(snapshot))
        }
    }
}
