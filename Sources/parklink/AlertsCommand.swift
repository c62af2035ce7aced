import ArgumentParser
import Foundation
import ParkLinkSampler
import ParkLinkDaemon

/// `parklink alerts`: what needs a technician's attention, and acknowledging it.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List open alerts (or all with --all), or acknowledge them.",
        subcommands: [List.self, Ack.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open alerts; --all adds acknowledged and resolved ones.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .long, help: "Include acknowledged and resolved alerts (from the database).")
        var all = false
        @Flag(name: .long, help: "Print a JSON array.")
        var json = false

        func run() throws {
            let rows = ask(global) { try StatusClient.alerts(all: all, socket: $0) }
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
        @Argument(help: "The alert's id (see `parklink alerts`).")
        var id: UInt64?
        @Flag(name: .long, help: "Acknowledge every open alert.")
        var all = false

        func validate() throws {
            if (id == nil) == !all { throw ValidationError("give an alert id or --all (not both)") }
        }

        func run() throws {
            let target: StatusRequest.AlertTarget = all ? .all : .id(id!)
            printJSON(ask(global) { try StatusClient.acknowledge(target, socket: $0) })
        }
    }
}

/// One request to the daemon; any failure (not running, an `error` reply, a version
/// mismatch) is printed and exits 1.
private func ask<T>(_ global: GlobalOptions, _ request: (_ socket: String) throws -> T) -> T {
    global.askDaemon(request)
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
