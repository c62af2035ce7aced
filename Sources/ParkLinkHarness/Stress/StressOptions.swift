import ParkLinkDaemon
import ParkLinkProtocol

/// What `parklink stress` is asked to do: the load, the wire framing, one fault, and
/// where the database and the state live.
public struct StressOptions: Sendable {
    /// The one fault a run injects, at a fixed point of the sending time, so two runs of
    /// the same fault are comparable.
    public enum Fault: String, Sendable, CaseIterable {
        /// Nothing goes wrong: every emitted reading must be stored.
        case none
        /// 1% of frames with a bad CRC and 1% preceded by noise bytes, all run long.
        case noise
        /// At 1/3 of the duration the MariaDB server is killed (SIGKILL) and restarted
        /// ~3 s later on the same datadir and socket.
        case dbRestart = "db-restart"
        /// At 1/3 of the duration a separate connection holds
        /// `FLUSH TABLES WITH READ LOCK` for `stallSeconds`, so every commit waits.
        case dbStall = "db-stall"
        /// At 1/2 of the duration the gateway's cable comes out for 2 s.
        case unplug

        /// Whether the fault needs a server this process started and can kill.
        public var needsPrivateServer: Bool { self == .dbRestart }
    }

    public var sensors = 500
    /// Readings per second per sensor, as in `simulate` and `demo`.
    public var ratePerSensor = 100.0
    public var durationSeconds = 60.0
    public var framing: FrameEncoding = .text
    public var fault: Fault = .none
    /// An existing database instead of a private server (then no db-restart).
    public var dsn: String?
    /// The file holding the password for `dsn` (see `PasswordFile`).
    public var passwordFile: String?
    /// A state directory to use and keep (a private server in it is kept too);
    /// nil: a fresh temporary one, removed at the end.
    public var stateDirectory: String?
    /// Show a one-line progress bar on stderr while sending.
    public var progress = false
    /// How long the db-stall fault holds the global read lock.
    public var stallSeconds = 20.0
    /// How long the db-restart fault leaves the server down before restarting it.
    public var restartDownSeconds = 3.0
    /// How long the unplug fault keeps the cable out.
    public var unplugSeconds = 2.0
    /// How many times the unplug fault pulls the cable (each out `unplugSeconds`, then in
    /// as long again), from 1/2 of the run, or from 1/10 when there are several.
    public var unplugs = 1
    /// The simulated gateway's transmit buffer (the firmware's is small; 64 KiB is the
    /// simulator's default and about 20 ms of the headline load in text framing).
    /// How the daemon writes batches (its `--insert-method`).
    public var insertMethod: ApplianceConfig.InsertMethod = .arrayBinding
    public var txBufferBytes = 64 * 1024

    public init() {}

    /// Readings per second over all sensors.
    public var totalRate: Double { Double(sensors) * ratePerSensor }

    /// The first problem with these options, in the words of the command line; nil if
    /// they can run.
    public func problem() -> String? {
        if !(4...65_535).contains(sensors) {
            return "--sensors must be between 4 and 65535 (three sensors misbehave on purpose, one at least must not)"
        }
        if !(ratePerSensor > 0) || ratePerSensor > 10_000 { return "--rate must be above 0 and at most 10000 (per sensor)" }
        if !(durationSeconds >= 1) || durationSeconds > 86_400 { return "--duration must be between 1 and 86400 seconds" }
        if passwordFile != nil && dsn == nil {
            return "--db-password-file goes with --db: the private server needs no password"
        }
        if fault == .dbRestart && dsn != nil {
            return "--fault db-restart kills and restarts the database server: it needs the private server, so drop --db"
        }
        if fault == .dbStall && durationSeconds <= stallSeconds {
            return "--fault db-stall holds the lock for \(Int(stallSeconds)) s from 1/3 of the run: give --duration above \(Int(stallSeconds)) (e.g. 60)"
        }
        if txBufferBytes < 1024 { return "--tx-buffer-kib must be at least 1" }
        if !(restartDownSeconds >= 0) || restartDownSeconds > 3_600 { return "--down-seconds must be between 0 and 3600" }
        if !(stallSeconds > 0) || stallSeconds > 3_600 { return "--stall-seconds must be above 0 and at most 3600" }
        if !(1...10_000).contains(unplugs) { return "--unplugs must be between 1 and 10000" }
        if !(unplugSeconds > 0) || unplugSeconds > 3_600 { return "--unplug-seconds must be above 0 and at most 3600" }
        if fault == .unplug && unplugs > 1 && durationSeconds * 0.1 + Double(unplugs) * 2 * unplugSeconds >= durationSeconds {
            return "--unplugs \(unplugs) × 2 × --unplug-seconds \(unplugSeconds) does not fit in --duration from 1/10 of it: give a longer --duration"
        }
        if fault == .dbRestart && durationSeconds / 3 + restartDownSeconds >= durationSeconds {
            return "--fault db-restart keeps the server down \(Int(restartDownSeconds)) s from 1/3 of the run: give a longer --duration"
        }
        return nil
    }
}
