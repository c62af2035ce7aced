import ArgumentParser
import Foundation
import ParkLinkDaemon

extension OverrideRequest.State: ExpressibleByArgument {}

/// `parklink override`: a bay's state set by hand (a coned-off bay, a dead sensor), or
/// given back to its sensor.
struct OverrideCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "override",
        abstract: "Set a bay's state by hand (occupied or free), or give it back to its sensor (auto).",
        discussion: """
            The bay counts as told in occupancy and status, and its LED shows BLUE, until it is set back \
            with --state auto or --for runs out. Recorded with who gave it (from the status socket), when \
            and why in the `overrides` table. Only root, the daemon's user and members of group `parklink` \
            may override.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The bay's sensor: its number, or GATEWAY/NUMBER when several gateways report it.", valueName: "sensor"))
    var sensor: String
    @Option(name: .long, help: "occupied, free, or auto (follow the sensor again).")
    var state: OverrideRequest.State
    @Option(name: .long, help: "Why (kept with the override, at most 255 characters).")
    var reason: String?
    @Option(name: .customLong("for"), help: ArgumentHelp("How long it lasts: 90s, 15m, 2h, 1h30m, 1d (default: until --state auto).", valueName: "duration"))
    var duration: String?
    @Flag(name: .long, help: "Print the daemon's answer as one JSON object.")
    var json = false

    func validate() throws {
        guard OverrideRequest.bay(sensor) != nil else {
            throw ValidationError("the sensor must be a number 0–65535 or GATEWAY/NUMBER (e.g. 12 or GW-01/12), not '\(sensor)'")
        }
        if let duration {
            if state == .auto { throw ValidationError("--for makes no sense with --state auto") }
            do {
                let seconds = try TimeText.seconds(duration)
                guard seconds <= OverrideRequest.maxSeconds else { throw ValidationError("--for is at most a year") }
            } catch let e as TimeText.Invalid {
                throw ValidationError("--for: \(e)")
            }
        }
        if let r = reason, r.count > OverrideRequest.maxReasonCharacters {
            throw ValidationError("--reason is \(r.count) characters, at most \(OverrideRequest.maxReasonCharacters)")
        }
    }

    func run() throws {
        let bay = OverrideRequest.bay(sensor)!
        let request = OverrideRequest(gateway: bay.gateway, sensor: bay.sensor, state: state, reason: reason,
                                      seconds: try duration.map { try TimeText.seconds($0) })
        let reply: OverrideReply
        do {
            reply = try StatusClient.override(request, socket: global.state().statusSocket)
        } catch {
            fail("\(error)")
        }
        if json {
            do {
                print(try StatusProtocol.json(reply))
            } catch {
                fail("cannot print the reply as JSON: \(error)")
            }
            return
        }
        print(OverrideReport.render(reply))
    }
}
