import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import ParkLinkProtocol
import ParkLinkSimulator

/// `parklink simulate`: a simulated gateway on a new pseudo-terminal, for trying the
/// appliance without hardware. Prints the device path on the first line of stdout, runs
/// until `--duration` or Ctrl-C, then prints what it sent.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a simulated sensor gateway on a new pseudo-terminal.",
        discussion: """
            The first line of output is the device to read (e.g. /dev/pts/7, or --link). \
            The gateway boots when the host opens the device and sends PING (as \
            `parklink run` does), then sends readings at the given rate until --duration \
            or Ctrl-C, and prints a summary: emitted, tx_dropped (readings the gateway \
            itself dropped because the host did not keep up), corrupted, and so on.
            """
    )

    // `.unconditional`: `--sensors -3` is a value to refuse with a reason, not a missing one.
    @Option(parsing: .unconditional, help: "Number of sensors.")
    var sensors: Int = 48

    @Option(parsing: .unconditional, help: "Readings per second per sensor.")
    var rate: Double = 1

    @Option(help: "Frame encoding: text or binary.")
    var framing: String = "text"

    @Option(parsing: .unconditional, help: "Stop after this many seconds from boot (default: until Ctrl-C).")
    var duration: Double?

    @Option(name: .customLong("gateway-id"), help: "Gateway id, 1–32 characters of [A-Za-z0-9_-].")
    var gatewayId: String = "SIM-01"

    @Option(help: "Keep a symlink at this path pointing at the pty.")
    var link: String?

    @Option(parsing: .unconditional, help: "Seed for the simulated values.")
    var seed: UInt64 = 1

    @Flag(help: "Three sensors misbehave: voltage out of range, high power, silence.")
    var misbehave = false

    @Option(parsing: .unconditional, help: "Fraction of readings sent with a bad CRC (e.g. 0.01).")
    var corrupt: Double = 0

    @Option(parsing: .unconditional, help: "Fraction of readings preceded by noise bytes (e.g. 0.01).")
    var garbage: Double = 0

    @Option(name: .customLong("time-scale"), parsing: .unconditional, help: "Bay time runs this many times faster (60: a 45-minute stay lasts 45 s).")
    var timeScale: Double = 1

    @Option(name: .customLong("host-timeout"), parsing: .unconditional, help: "Boot after this many seconds even if no host has sent PING (default: wait).")
    var hostTimeout: Double?

    func validate() throws {
        do {
            try makeConfig().validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let simulator = try GatewaySimulator(config: makeConfig())
        _ = SimulationRun.run(
            simulator,
            announce: { path in
                print(path)
                fflush(nil)  // all streams: `stdout` is a global Swift 6 will not touch
            },
            report: { summary in
                print(summary)
                fflush(nil)  // all streams: `stdout` is a global Swift 6 will not touch
            }
        )
    }

    private func makeConfig() throws(GatewaySimulator.ConfigError) -> GatewaySimulator.Config {
        guard let encoding = FrameEncoding(rawValue: framing) else {
            throw GatewaySimulator.ConfigError(message: "framing must be text or binary, got \"\(framing)\"")
        }
        var config = GatewaySimulator.Config(sensors: sensors, ratePerSensor: rate)
        config.encoding = encoding
        config.durationSeconds = duration
        config.gatewayId = gatewayId
        config.linkPath = link
        config.seed = seed
        config.misbehaving = misbehave
        config.corruptFraction = corrupt
        config.garbageFraction = garbage
        config.timeScale = timeScale
        config.hostWaitTimeoutSeconds = hostTimeout
        return config
    }
}
