import ArgumentParser
import Foundation
import ParkLinkSampler
import ParkLinkDaemon
import ParkLinkReports
import ParkLinkStore
import ParkLinkSystem

/// `parklink alerts`: what needs a technician's attention, and acknowledging it.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List open alerts (or all with --all), or acknowledge them.",
        discussion: """
            From the daemon when it runs; when it does not answer, from the database (--db, the config \
            file's dsn, or the private database in the state directory), with a note on stderr. Exit \
            status: 0 answered (by either), 1 neither could answer or the alert is not open, 2 the \
            config file, the DSN or the password file is refused.
            """,
        subcommands: [List.self, Ack.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open alerts; --all adds acknowledged and resolved ones.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var reading: ReadingOptions
        @Flag(name: .long, help: "Include acknowledged and resolved alerts (from the database).")
        var all = false
        @Flag(name: .long, help: "Print a JSON array.")
        var json = false

        func run() throws {
            let rows = ask(global, reading, live: { try StatusClient.alerts(all: all, socket: $0) },
                           stored: { c, appliance in try StoredAlerts.list(c, appliance: appliance, all: all) })
            if json {
                printJSON(rows)
                return
            }
            if rows.isEmpty {
                print(all ? "no alerts recorded" : "no open alerts")
                return
            }
            print("ID      SEVERITY  TYPE            SUBJECT            CREATED                   STATE")
            for r in rows {
                let state = r.resolved_at != nil ? "resolved" : r.acknowledged ? "acknowledged" : "OPEN"
                print("\(pad(String(r.id), 7)) \(pad(r.severity, 9)) \(pad(r.type, 15)) \(pad(r.subject, 18)) \(pad(r.created_at, 25)) \(state)  \(r.message)")
            }
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an alert by id, or all open alerts with --all.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var reading: ReadingOptions
        @Argument(help: "The alert's id (see `parklink alerts`).")
        var id: UInt64?
        @Flag(name: .long, help: "Acknowledge every open alert.")
        var all = false

        func validate() throws {
            if (id == nil) == !all { throw ValidationError("give an alert id or --all (not both)") }
        }

        func run() throws {
            let target: StatusRequest.AlertTarget = all ? .all : .id(id!)
            printJSON(ask(global, reading, live: { try StatusClient.acknowledge(target, socket: $0) },
                          stored: { c, appliance in
                              try StoredAlerts.acknowledge(c, appliance: appliance, target: target, nowMs: Clock.wallMilliseconds())
                          }))
        }
    }
}

/// One request to the daemon (found as `status` finds it); when no daemon answers, the same
/// from the database (the alerts that state directory's daemon raised). Any other failure
/// (an `error` reply, a version mismatch, no database either) is printed and exits non-zero.
private func ask<T>(_ global: GlobalOptions, _ reading: ReadingOptions, live: (_ socket: String) throws -> T,
                    stored: (MariaDBConnection, _ appliance: String) throws -> T) -> T {
    let config = reading.loadConfig()
    switch global.findDaemon(config: config, live) {
    case .answered(let value):
        return value
    case .away(let state, let reason):
        note("the daemon is not running (\(reason)): answering from the database")
        return withStoredData(reading, config: config, state: state) { c, _ in
            try ReadSource.requireSchema(c, atLeast: 2, for: "alerts")
            return try stored(c, StoredAlerts.appliance(state: state))
        }
    }
}

private func printJSON<T: Encodable>(_ value: T) {
    do {
        print(try StatusProtocol.json(value))
    } catch {
        fail("cannot print the reply as JSON: \(error)")
    }
}

private func pad(_ s: String, _ n: Int) -> String {
    s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
}
