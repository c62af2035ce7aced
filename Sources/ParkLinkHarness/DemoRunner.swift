import ParkLinkDaemon
import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkSimulator
import ParkLinkStore
import ParkLinkSystem

/// `parklink demo`: the whole appliance on one machine, with nothing to plug in.
///
/// The private MariaDB in the state directory, a simulated gateway on a pty (symlinked
/// at `STATE/demo-gateway`, so `parklink run --device` could be pointed at it too), and
/// the pipeline, showing live status until SIGINT/SIGTERM or the duration. At the end
/// it compares what the gateway emitted with what the database holds.
public enum DemoRunner {
    public struct Options: Sendable {
        public var sensors = 500
        public var ratePerSensor = 2.0
        public var framing: ParkLinkProtocol.FrameEncoding = .text
        public var durationSeconds: Double?
        public var refreshSeconds = 1.0
        public var timeScale = 60.0
        public var misbehaving = true
        public var liveScreen = true
        public init() {}
    }

    /// Runs the demo; returns the process exit code. `Signals.blockTermination()` must
    /// have been called before any thread started.
    public static func run(_ o: Options, config: ApplianceConfig, logger: Logger, output: (String) -> Void) throws -> Int32 {
        var c = config
        let state = StateDirectory.resolve(explicit: c.stateDirectory)
        try state.create()
        if StatusClient.isAnswering(socket: state.statusSocket) {
            throw ApplianceRunner.Failure("a parklink daemon is already running with state directory \(state.path); stop it first or use another --state-dir")
        }
        output("Starting the private MariaDB in \(state.path)/mariadb …")
        let dsn = try ApplianceRunner.database(for: c, state: state, logger: logger)
        MariaDB.initializeLibrary()

        var sc = GatewaySimulator.Config(sensors: o.sensors, ratePerSensor: o.ratePerSensor)
        sc.encoding = o.framing
        sc.gatewayId = "DEMO-GW"
        sc.seed = UInt64(Clock.wallMilliseconds())
        sc.timeScale = o.timeScale
        sc.misbehaving = o.misbehaving
        sc.linkPath = state.path + "/demo-gateway"
        let sim = try GatewaySimulator(config: sc)
        c.framing = o.framing
        c.device = sim.devicePath
        if c.hourlyRateCents == 0 { c.hourlyRateCents = 250 }
        if c.zones.isEmpty {
            // Four zones of a quarter of the bays each, so the demo shows zone figures.
            var demoZones: [Zone] = []
            let perZone = max(1, (o.sensors + 3) / 4)
            for (i, name) in ["A", "B", "C", "D"].enumerated() where i * perZone < o.sensors {
                let first = Int(sc.firstSensor) + i * perZone
                let last = min(Int(sc.firstSensor) + o.sensors - 1, first + perZone - 1)
                demoZones.append(Zone(id: name, facility: "Demo garage", capacity: last - first + 1,
                                      dailyTarget: (last - first + 1) * 3, sensors: (first...last).map { UInt16($0) }))
            }
            c.zones = (try? ZoneMap(zones: demoZones)) ?? c.zones
        }
        let pipeline = try Pipeline.overMariaDB(
            options: .init(config: c, device: sim.devicePath, state: state, databaseLabel: dsn.description),
            dsn: dsn, logger: logger)
        ApplianceRunner.attachSampler(to: pipeline, config: c, state: state, dsn: dsn, logger: logger) { s in
            s.intervalMs = 2_000
        }
        try pipeline.start()
        sim.start()
        output("Simulated gateway \(sc.gatewayId): \(o.sensors) sensors × \(o.ratePerSensor) Hz = \(Int(sc.totalRate)) readings/s on \(sim.devicePath)")
        output("Status socket \(state.statusSocket): try `parklink status --state-dir \(state.path)` in another terminal. Ctrl-C stops.")

        let started = Clock.monotonicNanoseconds()
        while true {
            let elapsed = Double(Clock.monotonicNanoseconds() - started) / 1e9
            if let d = o.durationSeconds, elapsed >= d { break }
            let wait = o.durationSeconds.map { min(o.refreshSeconds, max(0.05, $0 - elapsed)) } ?? o.refreshSeconds
            if Signals.waitForTermination(timeoutMs: Int(wait * 1000)) != nil { break }
            let screen = StatusReport.render(pipeline.snapshot())
            output(o.liveScreen ? "\u{1B}[2J\u{1B}[H" + screen : screen + "\n")
        }

        output("Stopping: the gateway first, then the pipeline drains and commits …")
        sim.stop()
        let abandoned = pipeline.stop()
        sim.close()
        let ledger = sim.ledger
        let snap = pipeline.snapshot()
        output(StatusReport.render(snap))
        output("")
        output("Gateway emitted \(ledger.emitted) readings (\(ledger.txDropped) dropped at the gateway, \(ledger.corrupted) corrupted on purpose); database stored \(snap.store.rows_committed) new rows.")
        output("The private MariaDB keeps running for the next run (\(dsn)); `parklink db down --state-dir \(state.path)` stops it.")
        return abandoned == 0 ? 0 : 3
    }
}
