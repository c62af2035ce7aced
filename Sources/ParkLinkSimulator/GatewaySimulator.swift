import ParkLinkProtocol
import ParkLinkSystem

/// A simulated sensor gateway on a new pseudo-terminal that behaves like the hardware:
/// it boots with `HELLO` once a host is there, sends readings at a wall-clock pace with
/// seqs from 0, a heartbeat every second, answers `PING`, obeys `LED`, and when the host
/// falls behind it drops readings from its own bounded buffer (counted in `tx_dropped`)
/// instead of ever blocking, exactly as the firmware does. So a downstream "zero loss"
/// means the host kept up, not that the simulator waited for it.
///
/// Everything it did is in `ledger`, for a test or the stress harness to check the
/// database against. It runs on its own thread; the fault methods and `stop` queue a
/// command that the thread applies within one tick.
///
///     let sim = try GatewaySimulator(config: .init(sensors: 48, ratePerSensor: 2))
///     sim.start()              // the host opens sim.devicePath and sends PING
///     ...
///     sim.stop()               // drains, sends a last HB; the pty stays open
///     sim.close()              // hangs up
public final class GatewaySimulator: @unchecked Sendable {
    // @unchecked: the engine is owned by the thread while it runs and by the caller of
    // `close()` after `waitUntilFinished()` (handed over through `Locked`); everything
    // else shared is behind `Locked`, immutable, or the `ServiceThread`.

    public enum State: Sendable, Equatable {
        /// Made, not started.
        case created
        /// Started, waiting for the host before booting (or, after an unplug, before sending).
        case waitingForHost
        case running
        /// The pty is gone for the unplug's duration.
        case unplugged
        /// Stopped or the duration is over: draining what is queued.
        case finishing
        case finished
    }

    public let config: Config
    /// The sensors that misbehave on purpose (empty unless `config.misbehaving`).
    public let misbehaviors: [Misbehavior]

    let shared: SimulatorShared
    private let engine: Locked<SimulatorEngine?>

    /// Creates the pty (and the link, if `config.linkPath` is set); nothing is sent until
    /// `start()`.
    public init(config: Config) throws {
        try config.validate()
        self.config = config
        misbehaviors = Misbehavior.assign(config)
        let link = try PtyLink(linkPath: config.linkPath)
        shared = try SimulatorShared(devicePath: link.devicePath)
        engine = Locked(SimulatorEngine(config: config, misbehaviors: misbehaviors, link: link, shared: shared))
    }

    deinit {
        requestStop()
        shared.thread.join()
        engine.withLock { $0?.close() }
    }

    /// What the host opens: `config.linkPath` if set, else the current pty (which an
    /// unplug replaces with another).
    public var devicePath: String { shared.devicePath.withLock { $0 } }

    /// A snapshot of what was sent so far (it is updated once per tick).
    public var ledger: EmissionLedger { shared.ledger.withLock { $0 } }

    /// What the host sent so far.
    public var downlink: DownlinkStats { shared.downlink.withLock { $0 } }

    public var state: State { shared.state.withLock { $0 } }

    /// For each replug so far, the milliseconds from the new port appearing to the host's
    /// first frame on it (its PING): how fast the appliance finds a replugged gateway.
    public var reopenDelaysMs: [Double] { shared.reopenDelaysMs.withLock { $0 } }

    /// The sensor ids, `config.firstSensor ..< config.firstSensor + config.sensors`.
    public var sensorIds: ClosedRange<UInt16> {
        config.firstSensor...UInt16(Int(config.firstSensor) + config.sensors - 1)
    }

    /// Sensors that send no distance (no ultrasonic ranger).
    public var sensorsWithoutRanger: [UInt16] {
        sensorIds.filter { s in
            let i = Int(s - config.firstSensor)
            return BayModel.lacksRanger(index: i) && !misbehaviors.contains { $0.sensor == s }
        }
    }

    /// Sensors that send no voltage, current or power factor (no metering).
    public var sensorsWithoutMeter: [UInt16] {
        sensorIds.filter { s in
            let i = Int(s - config.firstSensor)
            return BayModel.lacksMeter(index: i) && !misbehaviors.contains { $0.sensor == s }
        }
    }

    /// Starts the simulator's thread. Call once.
    public func start() {
        let engine = self.engine
        shared.thread.start {
            guard var e = engine.withLock({ box -> SimulatorEngine? in defer { box = nil }; return box }) else { return }
            e.run()
            engine.withLock { $0 = e }
        }
    }

    /// Asks the thread to stop and returns at once (safe from a signal-handling thread).
    public func requestStop() {
        shared.send(.stop)
    }

    /// Stops sending, waits (at most `config.drainTimeoutSeconds`) for the host to read
    /// what was queued, sends a last `HB`, and returns when the thread has finished. The
    /// pty stays open, so a host can still read the tail, until `close()`.
    public func stop() {
        requestStop()
        waitUntilFinished()
    }

    /// Waits for the thread: for a run with `durationSeconds`, until it is over.
    public func waitUntilFinished() {
        shared.thread.join()
    }

    /// Hangs up the pty for good (stopping first if needed). Readings the host had not
    /// read by then are recorded in the ledger as `uncertain`.
    public func close() {
        stop()
        engine.withLock { $0?.close() }
    }

    // MARK: Faults

    /// Skips the next `count` seqs: frames "lost on the wire". Recorded in `skipped`.
    public func injectGap(count: Int) {
        precondition(count > 0, "injectGap(count:) needs a positive count")
        shared.send(.gap(count))
    }

    /// Reboots: a new boot id, seq back to 0, `tx_dropped` back to 0, the transmit
    /// buffer's content lost (`lost`); sends `HELLO` only if `announced`.
    public func reboot(announced: Bool) {
        shared.send(.reboot(announced: announced))
    }

    /// Pulls the cable for `seconds`: the pty (and the link) vanish, readings due
    /// meanwhile are `tx_dropped`, then a new pty appears at the same `linkPath`.
    ///
    /// By default the unplug is orderly: the gateway stops sending and the cable comes
    /// out once the host has read what was already queued (at most
    /// `config.drainTimeoutSeconds`), so the ledger stays exact. `abrupt` pulls it at
    /// once: the queue is `lost`, and what the kernel still held is `uncertain`.
    public func unplug(forSeconds seconds: Double, abrupt: Bool = false) {
        precondition(seconds >= 0, "unplug(forSeconds:) needs a non-negative duration")
        shared.send(.unplug(seconds: seconds, abrupt: abrupt))
    }
}

/// What the simulator's thread shares with everyone else.
///
/// The thread is a `ServiceThread` for its name, its wake pipe and a join that is safe
/// from any thread, but it is never stopped through the service's stop flag: stopping a
/// gateway means "stop sending, let the host read the queue, send a last HB", a command
/// that must take its turn in `commands` after the faults queued before it (an unplug,
/// then a stop). So `requestStop()` queues `.stop` and wakes the thread, and `stop()`
/// then joins it.
final class SimulatorShared: Sendable {
    enum Command: Sendable {
        case stop
        case gap(Int)
        case reboot(announced: Bool)
        case unplug(seconds: Double, abrupt: Bool)
    }

    let ledger = Locked(EmissionLedger())
    let downlink = Locked(DownlinkStats())
    let state = Locked(GatewaySimulator.State.created)
    let devicePath: Locked<String>
    /// After each replug, how long the host took to open the new port and speak (ms).
    let reopenDelaysMs = Locked<[Double]>([])
    let commands = Locked<[Command]>([])
    let thread: ServiceThread

    init(devicePath: String) throws(SystemError) {
        self.devicePath = Locked(devicePath)
        thread = try ServiceThread(name: "pl-simulator")
    }

    func send(_ command: Command) {
        commands.withLock { $0.append(command) }
        thread.wake()
    }

    func takeCommands() -> [Command] {
        commands.withLock { q in
            defer { q.removeAll() }
            return q
        }
    }
}
