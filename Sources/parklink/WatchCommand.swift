import ArgumentParser
import Foundation
import ParkLinkDaemon

/// `parklink watch`: what happens, as it happens.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow bay changes, alerts raised and resolved, and overrides, one line each, live.",
        discussion: """
            With --since, what happened from then on is read back from the database first, then the stream \
            goes on live. Each line is written as it comes (it works through `| head` and `| grep`). Exits 1 \
            when the daemon ends the stream (it stopped, or this reader was too slow for it).
            """
    )

    @OptionGroup var global: GlobalOptions
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
        let sinceMs = try since.map { try TimeText.instant($0, nowMs: Int64(Date().timeIntervalSince1970 * 1000)) }
        let end: StatusClient.WatchEnd
        do {
            end = try StatusClient.watch(zone: zone, sinceMs: sinceMs, socket: global.state().statusSocket) { event in
                if json {
                    guard let line = try? StatusProtocol.json(event) else { return true }
                    emit(line + "\n")
                } else {
                    emit(event.line + "\n")
                }
                return true
            }
        } catch {
            fail("\(error)")
        }
        switch end {
        case .stopped: return
        case .closed: fail("the daemon closed the stream (it is stopping, or went away)")
        case .problem(let p): fail(p.message)
        }
    }
}
