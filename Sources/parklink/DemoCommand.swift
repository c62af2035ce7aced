import ArgumentParser
import Foundation
import Logging
import ParkLinkDaemon
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkSystem

/// `parklink demo`: the main job on this machine, with nothing to plug in.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a private MariaDB, a simulated gateway on a pty, and the pipeline, with live status.",
        discussion: "Stops on Ctrl-C or after --duration, then compares what the gateway emitted with what was stored."
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, parsing: .unconditional, help: "Simulated sensors.")
    var sensors = 500
    @Option(name: .long, parsing: .unconditional, help: "Readings per second per sensor.")
    var rate = 2.0
    @Option(name: .long, help: "Wire framing: text or binary.")
    var framing: FrameEncoding = .text
    @Option(name: .long, parsing: .unconditional, help: "Stop after this many seconds.")
    var duration: Double?
    @Option(name: .customLong("time-scale"), parsing: .unconditional, help: "How much faster than real life cars come and go.")
    var timeScale = 60.0
    @Flag(name: .customLong("no-misbehave"), help: "No sensors that misbehave on purpose.")
    var noMisbehave = false
    @Flag(name: .long, help: "Print logs at info level (default: warnings only, so the screen stays readable).")
    var verbose = false

    func validate() throws {
        guard (1...65_535).contains(sensors) else { throw ValidationError("--sensors must be between 1 and 65535") }
        guard rate > 0, rate <= 10_000 else { throw ValidationError("--rate must be above 0 and at most 10000 (per sensor)") }
        if let d = duration, !(d > 0) { throw ValidationError("--duration must be positive") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive") }
    }

    func run() throws {
        Signals.blockTermination()
        var g = global
        if !verbose && g.logLevel == "info" { g.logLevel = "warning" }
        let logger = g.makeLogger()
        var o = DemoRunner.Options()
        o.sensors = sensors
        o.ratePerSensor = rate
        o.framing = framing
        o.durationSeconds = duration
        o.timeScale = timeScale
        o.misbehaving = !noMisbehave
        o.liveScreen = isatty(STDOUT_FILENO) == 1
        var c = ApplianceConfig()
        c.stateDirectory = global.stateDirectory
        do {
            let code = try DemoRunner.run(o, config: c, logger: logger) { line in
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
            if code != 0 { throw ExitCode(code) }
        } catch let e as ExitCode {
            throw e
        } catch {
            fail("\(error)", code: 2)
        }
    }
}
