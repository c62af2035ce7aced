import Foundation
import Logging
import ParkLinkAnalytics
import ParkLinkIngest
import ParkLinkProtocol
import ParkLinkSampler
import ParkLinkStore
import ParkLinkSystem

/// `parklink run`, minus the argument parsing: resolves the configuration, the
/// database (a DSN, or the private server in the state directory), runs the pipeline
/// until SIGTERM/SIGINT, and drains it.
public enum ApplianceRunner {
    public struct Overrides: Sendable {
        public var device: String?
        public var dsn: String?
        public var passwordFile: String?
        public var framing: FrameEncoding?
        public var baud: UInt32?
        public var stateDirectory: String?
        public var insertMethod: ApplianceConfig.InsertMethod?
        public var metricsListen: TCPAddress?
        public init() {}
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// The effective configuration: file first, then command-line overrides. Every path
    /// comes out absolute: those in the file against the file's directory, those on the
    /// command line against the current directory (where the person typing it is).
    public static func configuration(file: String?, overrides o: Overrides) throws -> ApplianceConfig {
        var c = try file.map { try ApplianceConfig.load(path: $0) } ?? ApplianceConfig()
        if let v = o.device { c.device = FileSystem.absolutePath(v) }
        if let v = o.dsn { c.dsn = v }
        if let v = o.passwordFile { c.passwordFile = v }
        if let v = o.framing { c.framing = v }
        if let v = o.baud { c.baud = v }
        if let v = o.stateDirectory { c.stateDirectory = FileSystem.absolutePath(v) }
        if let v = o.insertMethod { c.insertMethod = v }
        if let v = o.metricsListen { c.metricsListen = v }
        return c
    }

    /// The DSN to use: the configured one, or the private server (started on demand).
    public static func database(for c: ApplianceConfig, state: StateDirectory, logger: Logger) throws -> DSN {
        if let text = c.dsn {
            return try DSN.resolve(text, passwordFile: c.passwordFile, environment: ProcessInfo.processInfo.environment)
        }
        if let file = c.passwordFile {
            throw Failure("a database password file (\(file)) but no DSN: the private server needs no password; give --db DSN, or drop the password file")
        }
        logger.info("no --db given: using the private MariaDB in the state directory", metadata: ["state.dir": "\(state.path)"])
        try state.create()
        return try PrivateMariaDBServer(stateDirectory: state.path).start()
    }

    /// Gives the pipeline its sampler (health, alerts, zones, forecasts), the alert and
    /// override commands of the status socket, the live desk's overrides and history, and
    /// the notifier (when `[notify]` asks for one).
    public static func attachSampler(to pipeline: Pipeline, config c: ApplianceConfig, state: StateDirectory,
                                     dsn: DSN, logger: Logger, configure: (inout SamplerConfig) -> Void = { _ in }) {
        var sc = SamplerConfig(appliance: c, state: state)
        configure(&sc)
        let overrides = OverrideBook()
        var hooks = SamplerHooks()
        hooks.overrides = overrides
        hooks.bayChangesLastMinute = { [live = pipeline.live] now in live.changesLastMinute(nowMs: now) }
        hooks.alertTransitions = { [weak pipeline] t in
            pipeline?.live.alerts(t)
            pipeline?.notifier?.alerts(t)
        }
        hooks.bays = { [live = pipeline.live] bays in live.sampled(bays, atMs: Clock.wallMilliseconds()) }
        guard let sampler = try? Sampler(config: sc, dsn: dsn, sensors: pipeline.sensorStates,
                                         counters: { [weak pipeline] in
                                             pipeline?.alertCounters() ?? PipelineCounters(linkUp: false, framesLost: 0, ringCount: 0, ringCapacity: 1, spoolPending: 0, databaseUp: false)
                                         }, logger: logger, hooks: hooks) else {
            logger.error("sampler not started: cannot create its wake pipe")
            return
        }
        pipeline.sampler = sampler
        pipeline.alertDesk = AlertDesk(sampler: sampler, dsn: dsn)
        pipeline.overrideDesk = OverrideDesk(book: overrides, dsn: dsn, appliance: sc.applianceId, zones: sc.zones)
        pipeline.live.attach(overrides: overrides, history: LiveDesk.History(dsn: dsn, appliance: sc.applianceId))
        if c.notify.isEnabled {
            do {
                pipeline.notifier = try Notifier(config: c.notify, appliance: sc.applianceId, commandLog: state.path + "/notify.log",
                                                 logger: logger, openAlerts: { [weak sampler] in sampler?.activeAlerts() ?? [] })
            } catch {
                logger.error("notifier not started: cannot create its wake pipe", metadata: ["notify.error": "\(error)"])
            }
        }
    }

    /// The Prometheus endpoint over `pipeline`'s counters (`PipelineMetrics`), bound and not yet started.
    public static func metricsServer(for pipeline: Pipeline, at address: TCPAddress, logger: Logger) throws -> MetricsServer {
        let metrics = PipelineMetrics()
        return try MetricsServer(address: address, logger: logger) { [weak pipeline] in
            guard let pipeline else { return [] }
            return metrics.render(.init(snapshot: pipeline.snapshot(), latency: pipeline.storeCounters.latency,
                                        lastCommitAtMs: pipeline.storeCounters.lastCommitAtMs.load(ordering: .relaxed)))
        }
    }

    /// Runs until a termination signal; returns the process exit code.
    /// `Signals.blockTermination()` must have been called before any thread started.
    public static func run(config c: ApplianceConfig, logger: Logger, until stop: () -> Void = { _ = Signals.waitForTermination() }) throws -> Int32 {
        guard let device = c.device else {
            throw Failure("no device: give --device PATH (e.g. /dev/ttyACM0) or set `device` under [link] in the config file")
        }
        let state = StateDirectory.resolve(explicit: c.stateDirectory)
        try state.create()
        if StatusClient.isAnswering(socket: state.statusSocket) {
            throw Failure("another parklink daemon is already running with state directory \(state.path); stop it first or use another --state-dir")
        }
        let dsn = try database(for: c, state: state, logger: logger)
        MariaDB.initializeLibrary()
        let pipeline = try Pipeline.overMariaDB(
            options: .init(config: c, device: device, state: state, databaseLabel: dsn.description),
            dsn: dsn, logger: logger)
        attachSampler(to: pipeline, config: c, state: state, dsn: dsn, logger: logger)
        // Bound before the pipeline starts: a port in use stops `run` before it reads anything.
        let metrics = try c.metricsListen.map { try metricsServer(for: pipeline, at: $0, logger: logger) }
        try pipeline.start()
        metrics?.start()
        stop()
        let abandoned = pipeline.stop()
        metrics?.stop()
        if c.dsn == nil, ProcessInfo.processInfo.environment["INVOCATION_ID"] != nil {
            // Under systemd (KillMode=mixed) the private server outlives the drain above and
            // would then be SIGKILLed with the rest of the unit: shut it down cleanly now.
            try? PrivateMariaDBServer(stateDirectory: state.path).stop()
        }
        return abandoned == 0 ? 0 : 3
    }
}
