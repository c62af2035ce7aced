import ArgumentParser
import Foundation
import ParkLinkDaemon

/// `parklink status`: what the running daemon is doing, from its status socket.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running daemon's link, ring and store counters.",
        discussion: """
            Without --state-dir it asks the daemon in your default state directory, else the one the \
            directory in /etc/parklink/parklink.toml names, else the one in /var/lib/parklink (the service's), \
            and says on stderr which one answered. Exits 1 when no daemon is running.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print the snapshot as one JSON object.")
    var json = false
    @Option(name: .long, help: "Refresh every N seconds until Ctrl-C.")
    var watch: Double?

    func validate() throws {
        if let w = watch, !(w >= 0.2) { throw ValidationError("--watch must be at least 0.2 seconds") }
    }

    func run() throws {
        // Found once (see `GlobalOptions.askDaemon`); a watch stays with that daemon.
        var socket: String?
        repeat {
            let snap: StatusSnapshot
            if let socket {
                do {
                    snap = try StatusClient.status(socket: socket)
                } catch {
                    fail("\(error)")
                }
            } else {
                let found = global.askDaemon { try (snapshot: StatusClient.status(socket: $0), socket: $0) }
                snap = found.snapshot
                socket = found.socket
            }
            if json {
                do {
                    print(try snap.json())
                } catch {
                    fail("cannot print the snapshot as JSON: \(error)")
                }
            } else {
                if watch != nil { print("\u{1B}[2J\u{1B}[H", terminator: "") }
                print(StatusReport.render(snap))
            }
            if let w = watch { Thread.sleep(forTimeInterval: w) }
        } while watch != nil
    }
}
