import ArgumentParser
import Foundation
import ParkLinkDaemon
import ParkLinkHarness
import ParkLinkProtocol
import ParkLinkSystem

extension StressOptions.Fault: ExpressibleByArgument {}

/// `parklink stress`: proves (or disproves) zero loss at a given load, from the database.
struct StressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Drive parklink run with a simulated gateway at full rate, inject one fault, and check every reading in the database.",
        discussion: """
            Starts a private MariaDB (in a temporary directory, removed at the end, unless --db or \
            --state-dir), a simulated gateway on a pty (three sensors misbehave on purpose), and \
            `parklink run` as a separate process; sends sensors × rate readings/s for --duration \
            seconds; then compares the database with what the gateway sent, seq by seq. \
            emitted = every reading the sensors produced, including those the gateway dropped \
            before giving them a seq (tx_dropped); lost = emitted − stored, broken down by reason. \
            Faults: noise (1% bad CRC + 1% noise bursts), db-restart (SIGKILL the server at 1/3, \
            restart --down-seconds later, 3 by default), db-stall (FLUSH TABLES WITH READ LOCK for \
            --stall-seconds, 20 by default, at 1/3), unplug \
            (the cable out for 2 s at 1/2). Exit 0 when no reading sent intact is missing, the \
            daemon exited 0, and (with --fault none) nothing at all was lost. With --json the \
            last line of stdout is one JSON object.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, parsing: .unconditional, help: "Simulated sensors (at least 4).")
    var sensors = 500
    @Option(name: .long, parsing: .unconditional, help: "Readings per second per sensor.")
    var rate = 100.0
    @Option(name: .long, parsing: .unconditional, help: "Seconds the gateway sends.")
    var duration = 60.0
    @Option(name: .long, help: "Wire framing: text or binary.")
    var framing: FrameEncoding = .text
    @Option(name: .long, help: "none, noise, db-restart, db-stall or unplug.")
    var fault: StressOptions.Fault = .none
    @Option(name: .long, help: "An existing database (DSN) instead of a private server.")
    var db: String?
    @Option(name: .customLong("db-password-file"), help: passwordFileHelp)
    var dbPasswordFile: String?
    @Option(name: .customLong("insert-method"), help: "How the daemon writes: array-binding (default) or multi-row.")
    var insertMethod: ApplianceConfig.InsertMethod = .arrayBinding
    @Option(name: .customLong("tx-buffer-kib"), parsing: .unconditional, help: "The simulated gateway's transmit buffer, KiB.")
    var txBufferKiB = 64
    @Option(name: .customLong("down-seconds"), parsing: .unconditional, help: "db-restart: how long the server stays down (default 3).")
    var downSeconds = 3.0
    @Option(name: .customLong("stall-seconds"), parsing: .unconditional, help: "db-stall: how long the read lock is held (default 20).")
    var stallSeconds = 20.0
    @Option(name: .customLong("unplugs"), parsing: .unconditional, help: "unplug: how many times the cable is pulled (default 1).")
    var unplugs = 1
    @Option(name: .customLong("unplug-seconds"), parsing: .unconditional, help: "unplug: how long the cable stays out each time (default 2).")
    var unplugSeconds = 2.0
    @Flag(name: .long, help: "Print the report as one JSON object on the last line of stdout.")
    var json = false

    func validate() throws {
        if let p = options().problem() { throw ValidationError(p) }
    }

    func run() throws {
        warnIfPasswordInArguments(db)
        Signals.blockTermination()
        var g = global
        if g.logLevel == "info" { g.logLevel = "warning" }
        let logger = g.makeLogger()
        let interactive = isatty(STDERR_FILENO) == 1
        let err = FileHandle.standardError
        do {
            let report = try StressRunner.run(
                options(), logger: logger,
                note: { err.write(Data(("stress: " + $0 + "\n").utf8)) },
                progress: interactive ? { err.write(Data($0.utf8)) } : nil)
            print(report.render())
            if json { print(report.json()) }
            if !report.passed {
                fail("stress FAILED: " + report.failures.joined(separator: "; "))
            }
        } catch {
            fail("stress: \(error)", code: 2)
        }
    }

    private func options() -> StressOptions {
        var o = StressOptions()
        o.sensors = sensors
        o.ratePerSensor = rate
        o.durationSeconds = duration
        o.framing = framing
        o.fault = fault
        o.dsn = db
        o.passwordFile = dbPasswordFile
        o.stateDirectory = global.stateDirectory
        o.txBufferBytes = txBufferKiB * 1024
        o.insertMethod = insertMethod
        o.restartDownSeconds = downSeconds
        o.stallSeconds = stallSeconds
        o.unplugs = unplugs
        o.unplugSeconds = unplugSeconds
        return o
    }
}
