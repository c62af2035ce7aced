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
            let reply = ask(all ? "alerts all" : "alerts", global: global)
            guard let rows = try? JSONDecoder().decode([AlertDesk.Row].self, from: Data(reply.utf8)) else {
                fail(errorText(reply))
            }
            if json {
                print(reply.trimmingCharacters(in: .whitespacesAndNewlines))
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
            let reply = ask(all ? "ack all" : "ack \(id!)", global: global)
            guard reply.contains("\"ok\":true") else { fail(errorText(reply)) }
            print(reply.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

private func ask(_ request: String, global: GlobalOptions) -> String {
    do {
        return try StatusClient.request(request, socket: global.state().statusSocket)
    } catch {
        fail("\(error)")
    }
}

private func errorText(_ reply: String) -> String {
    if let data = reply.data(using: .utf8),
       let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let e = obj["error"] as? String {
        return e
    }
    return "unexpected reply from the daemon: \(reply.prefix(200))"
}

private func pad(_ s: String, _ n: Int) -> String {
    s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
}
